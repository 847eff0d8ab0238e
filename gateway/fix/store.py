"""Per-session message stores: sequence numbers and every sent message.

``FileStore`` is one append-only log per session. Each record is
``type(1) | value(8, big-endian) | payload length(4) | payload | crc32(4)`` where type is
``C`` creation time (ns), ``S`` next sender seq, ``T`` next target seq, ``M`` a sent message
(value = its MsgSeqNum). Writes are buffered and written with one ``write()`` per flush;
``sync()`` also fsyncs (the server calls it once per loop turn when fsync="batch"). On open
the log is replayed; a truncated or corrupt tail (a crash mid-write) is cut off and reported
in ``warnings``, never raised. ``reset()`` rewrites the log atomically (tmp file + rename).
"""

from __future__ import annotations

import os
import struct
import time
import zlib
from pathlib import Path
from typing import Protocol

_HEAD = struct.Struct(">cQI")
_CRC = struct.Struct(">I")
_HEAD_SIZE = _HEAD.size
_MAX_PAYLOAD = 16 << 20
FSYNC_MODES = ("batch", "always", "never")


class MessageStore(Protocol):
    """What a Session needs from a store."""

    @property
    def next_sender_seq(self) -> int: ...
    @property
    def next_target_seq(self) -> int: ...
    @property
    def creation_time_ns(self) -> int: ...
    def set_next_sender_seq(self, seq: int) -> None: ...
    def set_next_target_seq(self, seq: int) -> None: ...
    def save(self, seq: int, raw: bytes) -> None: ...
    def get(self, begin: int, end: int) -> list[tuple[int, bytes]]: ...
    def reset(self) -> None: ...
    def flush(self) -> None: ...
    def sync(self) -> None: ...
    def close(self) -> None: ...


class MemoryStore:
    """Volatile store (tests, tools)."""

    def __init__(self) -> None:
        self.next_sender_seq = 1
        self.next_target_seq = 1
        self.creation_time_ns = time.time_ns()
        self._messages: dict[int, bytes] = {}

    def set_next_sender_seq(self, seq: int) -> None:
        """Set the next MsgSeqNum we send."""
        self.next_sender_seq = seq

    def set_next_target_seq(self, seq: int) -> None:
        """Set the next MsgSeqNum we expect."""
        self.next_target_seq = seq

    def save(self, seq: int, raw: bytes) -> None:
        """Keep a sent message; the next sender seq becomes seq + 1 at least."""
        self._messages[seq] = raw
        if seq >= self.next_sender_seq:
            self.next_sender_seq = seq + 1

    def get(self, begin: int, end: int) -> list[tuple[int, bytes]]:
        """Stored messages with begin <= seq <= end, in order."""
        return [(s, self._messages[s]) for s in range(begin, end + 1) if s in self._messages]

    def reset(self) -> None:
        """Both sequence numbers back to 1, messages forgotten, new creation time."""
        self.next_sender_seq = 1
        self.next_target_seq = 1
        self.creation_time_ns = time.time_ns()
        self._messages.clear()

    def flush(self) -> None:
        """Nothing to write."""

    def sync(self) -> None:
        """Nothing to write."""

    def close(self) -> None:
        """Nothing to release."""


class FileStore:
    """Durable append-only store ``<directory>/<name>.store``.

    Stores used to be named ``<name>.log``, easy to confuse with the message logs; such a file
    is renamed on open so an existing data dir keeps its sequence numbers and messages.
    """

    def __init__(self, directory: Path, name: str, fsync: str = "batch") -> None:
        if fsync not in FSYNC_MODES:
            raise ValueError(f"fsync must be one of {FSYNC_MODES}, not {fsync!r}")
        self.path = Path(directory) / f"{name}.store"
        legacy = self.path.with_suffix(".log")
        if legacy.exists() and not self.path.exists():
            legacy.rename(self.path)
        self.fsync = fsync
        self.warnings: list[str] = []
        self.next_sender_seq = 1
        self.next_target_seq = 1
        self.creation_time_ns = 0
        self._index: dict[int, tuple[int, int]] = {}  # seq -> (payload offset, length)
        self._buf: list[bytes] = []
        self._target_dirty = False
        self._buf_len = 0
        self._size = 0  # bytes on disk + buffered
        self.path.parent.mkdir(parents=True, exist_ok=True)
        self._fd = os.open(self.path, os.O_RDWR | os.O_CREAT | os.O_APPEND, 0o644)
        self._recover()
        if self.creation_time_ns == 0:
            self.creation_time_ns = time.time_ns()
            self._append(b"C", self.creation_time_ns, b"")
            self._commit()

    # -- recovery ---------------------------------------------------------------------

    def _recover(self) -> None:
        data = self.path.read_bytes()
        pos, n = 0, len(data)
        while pos < n:
            if n - pos < _HEAD_SIZE:
                self._warn_tail(pos, n, "truncated record header")
                break
            kind, value, length = _HEAD.unpack_from(data, pos)
            end = pos + _HEAD_SIZE + length + 4
            if kind not in (b"C", b"S", b"T", b"M") or length > _MAX_PAYLOAD:
                self._warn_tail(pos, n, "corrupt record header")
                break
            if end > n:
                self._warn_tail(pos, n, "truncated record")
                break
            (crc,) = _CRC.unpack_from(data, end - 4)
            if zlib.crc32(data[pos : end - 4]) != crc:
                self._warn_tail(pos, n, "record checksum mismatch")
                break
            self._apply(kind, value, pos + _HEAD_SIZE, length)
            pos = end
        self._size = pos

    def _warn_tail(self, pos: int, n: int, why: str) -> None:
        self.warnings.append(
            f"{self.path}: {why} at byte {pos}; dropped the last {n - pos} bytes"
        )
        os.truncate(self.path, pos)

    def _apply(self, kind: bytes, value: int, offset: int, length: int) -> None:
        if kind == b"M":
            self._index[value] = (offset, length)
            if value >= self.next_sender_seq:
                self.next_sender_seq = value + 1
        elif kind == b"S":
            self.next_sender_seq = value
        elif kind == b"T":
            self.next_target_seq = value
        else:
            self.creation_time_ns = value

    # -- writing ----------------------------------------------------------------------

    def _append(self, kind: bytes, value: int, payload: bytes) -> int:
        head = _HEAD.pack(kind, value, len(payload))
        record = head + payload
        record += _CRC.pack(zlib.crc32(record))
        offset = self._size + _HEAD_SIZE
        self._buf.append(record)
        self._size += len(record)
        return offset

    def _commit(self) -> None:
        if self.fsync == "always":
            self.sync()

    def set_next_sender_seq(self, seq: int) -> None:
        """Set the next MsgSeqNum we send."""
        self.next_sender_seq = seq
        self._append(b"S", seq, b"")
        self._commit()

    def set_next_target_seq(self, seq: int) -> None:
        """Set the next MsgSeqNum we expect (recorded at the next flush: group commit)."""
        self.next_target_seq = seq
        self._target_dirty = True
        if self.fsync == "always":
            self.sync()

    def save(self, seq: int, raw: bytes) -> None:
        """Append a sent message; the next sender seq becomes seq + 1 at least."""
        self._index[seq] = (self._append(b"M", seq, raw), len(raw))
        if seq >= self.next_sender_seq:
            self.next_sender_seq = seq + 1
        self._commit()

    def get(self, begin: int, end: int) -> list[tuple[int, bytes]]:
        """Stored messages with begin <= seq <= end, in order (read back from the file)."""
        self.flush()
        out: list[tuple[int, bytes]] = []
        index = self._index
        seqs = range(begin, end + 1) if end - begin < len(index) else sorted(index)
        for seq in seqs:
            if begin <= seq <= end and seq in index:
                offset, length = index[seq]
                out.append((seq, os.pread(self._fd, length, offset)))
        return out

    def flush(self) -> None:
        """Hand buffered records to the OS with one write()."""
        if self._target_dirty:
            self._target_dirty = False
            self._append(b"T", self.next_target_seq, b"")
        if self._buf:
            data = b"".join(self._buf)
            self._buf.clear()
            view = memoryview(data)
            while view:
                written = os.write(self._fd, view)
                view = view[written:]

    def fileno(self) -> int:
        """The log's file descriptor (the server fsyncs it off the event loop)."""
        return self._fd

    def sync(self) -> None:
        """Flush, then fsync unless fsync="never"."""
        self.flush()
        if self.fsync != "never":
            os.fsync(self._fd)

    def reset(self) -> None:
        """Sequence numbers back to 1, messages dropped: rewrite the log atomically."""
        self._buf.clear()
        self._target_dirty = False
        self.next_sender_seq = 1
        self.next_target_seq = 1
        self.creation_time_ns = time.time_ns()
        self._index.clear()
        tmp = self.path.with_suffix(".store.tmp")
        records = []
        for kind, value in ((b"C", self.creation_time_ns), (b"S", 1), (b"T", 1)):
            head = _HEAD.pack(kind, value, 0)
            records.append(head + _CRC.pack(zlib.crc32(head)))
        data = b"".join(records)
        with open(tmp, "wb") as f:
            f.write(data)
            if self.fsync != "never":
                f.flush()
                os.fsync(f.fileno())
        os.replace(tmp, self.path)
        os.close(self._fd)
        self._fd = os.open(self.path, os.O_RDWR | os.O_APPEND)
        self._size = len(data)

    def close(self) -> None:
        """Flush, fsync (per mode) and close the file."""
        if self._fd >= 0:
            self.sync()
            os.close(self._fd)
            self._fd = -1
