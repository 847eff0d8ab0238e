"""The raw ceiling: a bare uvloop server that answers each ~180-byte FIX message with ~250 bytes.

It frames by the trailer, copies ClOrdID (11) into a templated ExecutionReport-shaped reply and
writes every reply of one read in one call: what any Python server on this loop must at least do.

    python bench/echo_server.py [--port 0]     # prints {"port": N} on stdout, runs until killed
"""

from __future__ import annotations

import argparse
import asyncio
import json
import sys
from pathlib import Path

import uvloop

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from bench.fixwire import TRAILERS, split  # noqa: E402

_HEAD = b"35=8\x0149=ATS\x0156=BENCH\x0134=1\x0152=20240101-00:00:00.000\x0137=1\x0111="
_TAIL = (b"\x0120=0\x01150=0\x0139=0\x0155=AAPL\x0154=1\x0138=100\x01151=100\x0114=0\x016=0"
         b"\x0160=20240101-00:00:00.000\x011=BENCHACCT\x0158=ECHO-REPLY-PADDED-TO-THE-SIZE-OF-AN-EXECUTION-REPORT-WITH-FILL\x01")


def reply(cl_ord_id: bytes, exec_id: int) -> bytes:
    """An ~250-byte reply carrying the ClOrdID and an ExecID, with a correct checksum."""
    body = b"%s%s\x0117=%d%s" % (_HEAD, cl_ord_id, exec_id, _TAIL)
    msg = b"8=FIX.4.2\x019=%d\x01%s" % (len(body), body)
    return msg + TRAILERS[sum(msg) & 255]


class Echo(asyncio.Protocol):
    """Answers every whole message of each read, in one write."""

    def __init__(self) -> None:
        self.buf = b""
        self.transport: asyncio.Transport | None = None
        self.exec_id = 0

    def connection_made(self, transport: asyncio.BaseTransport) -> None:
        self.transport = transport  # type: ignore[assignment]

    def data_received(self, data: bytes) -> None:
        buf = self.buf + data if self.buf else data
        spans, rest = split(buf)
        self.buf = buf[rest:]
        out = []
        for a, b in spans:
            i = buf.find(b"\x0111=", a, b)
            cl = buf[i + 4:buf.find(b"\x01", i + 4, b)] if i >= 0 else b"0"
            self.exec_id += 1
            out.append(reply(cl, self.exec_id))
        if out and self.transport is not None:
            self.transport.write(b"".join(out))


async def serve(port: int) -> None:
    loop = asyncio.get_running_loop()
    server = await loop.create_server(Echo, "127.0.0.1", port)
    print(json.dumps({"port": server.sockets[0].getsockname()[1]}), flush=True)
    await server.serve_forever()


def main() -> None:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--port", type=int, default=0)
    uvloop.run(serve(p.parse_args().port))


if __name__ == "__main__":
    main()
