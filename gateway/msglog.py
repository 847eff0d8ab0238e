"""Per-session FIX message log (what QuickFIX's FileLog gives): every message in and out.

Lines are appended to an in-memory buffer on the hot path and written to the file once per event
loop turn by `flush()`, so logging costs one list append per message there. The log is a
convenience, not a record the venue depends on: when a write to it fails (a full disk), one
warning is logged and the log is switched off for the rest of the process; the sessions go on.
"""

from __future__ import annotations

import contextlib
import os
import time
from pathlib import Path

import structlog

log = structlog.get_logger("gateway")

_last_second = -1
_last_prefix = b""
_last_ns = -1
_last_stamp = b""


def _stamp(ns: int) -> bytes:
    """UTC `YYYYMMDD-HH:MM:SS.nnnnnnnnn`; the seconds part is formatted once per second, and
    the messages of one read (one clock reading) share one stamp."""
    global _last_second, _last_prefix, _last_ns, _last_stamp
    if ns == _last_ns:
        return _last_stamp
    secs, frac = divmod(ns, 1_000_000_000)
    if secs != _last_second:
        _last_prefix = time.strftime("%Y%m%d-%H:%M:%S", time.gmtime(secs)).encode()
        _last_second = secs
    _last_ns = ns
    _last_stamp = b"%s.%09d" % (_last_prefix, frac)
    return _last_stamp


class MessageLog:
    """Append-only log of raw FIX messages, one per line: `<utc ns> IN|OUT <message>`."""

    def __init__(self, path: Path) -> None:
        path.parent.mkdir(parents=True, exist_ok=True)
        self.path = path
        self._fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_APPEND, 0o644)
        self._buf: list[bytes] = []  # the pieces of the lines not yet written
        self._out_ns = -1
        self._out_head = b""

    def incoming(self, raw: bytes, now_ns: int) -> None:
        self._buf.append(b"%s IN  %s\n" % (_stamp(now_ns), raw))

    def incoming_many(self, raws: list[bytes], now_ns: int) -> None:
        """The messages of one read, received at ``now_ns``: one stamp for all, their lines
        in one piece."""
        if not raws:
            return
        head = _stamp(now_ns) + b" IN  "
        self._buf.append(head + (b"\n" + head).join(raws) + b"\n")

    def outgoing(self, raw: bytes, now_ns: int) -> None:
        if now_ns != self._out_ns:  # the replies to one read share one clock reading
            self._out_ns = now_ns
            self._out_head = _stamp(now_ns) + b" OUT "
        self._buf += (self._out_head, raw, b"\n")

    def outgoing_many(self, raws: list[bytes], now_ns: int) -> None:
        """A turn's output of the session, logged at ``now_ns``: its lines in one piece."""
        if not raws:
            return
        if now_ns != self._out_ns:
            self._out_ns = now_ns
            self._out_head = _stamp(now_ns) + b" OUT "
        head = self._out_head
        self._buf.append(head + (b"\n" + head).join(raws) + b"\n")

    def flush(self) -> bool:
        """Write the buffered lines; False (and the log is off) when the write failed."""
        if self._fd < 0:
            self._buf.clear()
            return False
        if self._buf:
            view = memoryview(b"".join(self._buf))
            self._buf.clear()
            try:
                while view:
                    view = view[os.write(self._fd, view) :]
            except OSError as exc:
                log.warning(
                    "message_log_failed",
                    path=str(self.path),
                    error=exc.strerror or str(exc),
                    next="this session's message log is off until the gateway restarts",
                )
                fd, self._fd = self._fd, -1
                with contextlib.suppress(OSError):
                    os.close(fd)
                return False
        return True

    def close(self) -> None:
        if self.flush():
            fd, self._fd = self._fd, -1
            with contextlib.suppress(OSError):
                os.close(fd)
