"""Per-session FIX message log (what QuickFIX's FileLog gives): every message in and out.

Lines are appended to an in-memory buffer on the hot path and written to the file once per event
loop turn by `flush()`, so logging costs one list append per message there.
"""

from __future__ import annotations

import time
from pathlib import Path
from typing import BinaryIO

_last_second = -1
_last_prefix = b""


def _stamp(ns: int) -> bytes:
    """UTC `YYYYMMDD-HH:MM:SS.nnnnnnnnn`; the seconds part is formatted once per second."""
    global _last_second, _last_prefix
    secs, frac = divmod(ns, 1_000_000_000)
    if secs != _last_second:
        _last_prefix = time.strftime("%Y%m%d-%H:%M:%S", time.gmtime(secs)).encode()
        _last_second = secs
    return b"%s.%09d" % (_last_prefix, frac)


class MessageLog:
    """Append-only log of raw FIX messages, one per line: `<utc ns> IN|OUT <message>`."""

    def __init__(self, path: Path) -> None:
        path.parent.mkdir(parents=True, exist_ok=True)
        self.path = path
        self._file: BinaryIO | None = open(path, "ab")  # noqa: SIM115 - kept open for the session
        self._buf: list[bytes] = []

    def incoming(self, raw: bytes, now_ns: int) -> None:
        self._buf.append(b"%s IN  %s\n" % (_stamp(now_ns), raw))

    def outgoing(self, raw: bytes, now_ns: int) -> None:
        self._buf.append(b"%s OUT %s\n" % (_stamp(now_ns), raw))

    def flush(self) -> None:
        if self._buf and self._file is not None:
            self._file.write(b"".join(self._buf))
            self._file.flush()
            self._buf.clear()

    def close(self) -> None:
        self.flush()
        if self._file is not None:
            self._file.close()
            self._file = None
