# The sandbox image: the gateway, ats-feed and ats-client, run as a non-root user.

# Build stage: a C compiler and the Python headers compile the hot path (gateway/fix/_speedups.c,
# and the modules setup.py compiles with mypyc) into the package's wheel; the check fails the
# build if either is missing.
FROM python:3.11 AS build
ENV PIP_NO_CACHE_DIR=1 PIP_DISABLE_PIP_VERSION_CHECK=1
WORKDIR /src
COPY . /src
RUN pip wheel --no-deps --wheel-dir /wheels . \
    && python -c "import glob, zipfile; \
names = zipfile.ZipFile(glob.glob('/wheels/ats_gateway-*.whl')[0]).namelist(); \
assert any(n.startswith('gateway/fix/_speedups.') and n.endswith('.so') for n in names), names; \
assert any(n.startswith('matcher/engine.') and n.endswith('.so') for n in names), names; \
assert 'matcher/_compiled.sha256' in names, names"

FROM python:3.11-slim

ENV PYTHONDONTWRITEBYTECODE=1 \
    PYTHONUNBUFFERED=1 \
    PIP_NO_CACHE_DIR=1 \
    PIP_DISABLE_PIP_VERSION_CHECK=1

WORKDIR /app
COPY . /app
# A regular (non-editable) install of the built wheel puts the ats-* commands on PATH.
COPY --from=build /wheels /wheels
RUN pip install /wheels/*.whl && rm -rf /wheels \
    && cd / && python -c 'from gateway.fix._build import BUILD; assert BUILD == "compiled", BUILD'

# /data (the gateway's) and /state (ats-client's sequence numbers) are created and owned
# before use, so a new named volume mounted there inherits the owner; /app stays root's.
RUN useradd --system --uid 10001 --no-create-home --home-dir /app ats \
    && mkdir -p /data /state \
    && chown ats:ats /data /state
VOLUME ["/data"]
ENV ATS_CLIENT_STATE_DIR=/state
USER ats

EXPOSE 9878 9879
CMD ["ats-gateway", "--config", "/app/config/docker.toml"]
