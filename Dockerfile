# The sandbox image: the gateway, ats-feed and ats-client, run as a non-root user.
FROM python:3.11-slim

ENV PYTHONDONTWRITEBYTECODE=1 \
    PYTHONUNBUFFERED=1 \
    PIP_NO_CACHE_DIR=1 \
    PIP_DISABLE_PIP_VERSION_CHECK=1

WORKDIR /app
COPY . /app
# A regular (non-editable) install puts the ats-* commands on PATH; the build leftovers go.
RUN pip install . && rm -rf build *.egg-info

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
