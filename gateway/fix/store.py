"""Per-session message stores: sequence numbers and every sent message.

``FileStore`` is one append-only log per session. Each record is ``type(1) | value(8,
big-endian) | payload length(4) | payload | crc32(4)`` where type is ``C`` creation time (ns),
``S`` next sender seq, ``T`` next target seq, ``M`` a sent message (value = its MsgSeqNum). The
file is zero-filled ahead of the records, ``PREALLOCATE`` bytes at a time (less on a nearly full
disk), so records are written inside the file and their fdatasync need not record a new file
size (`bench/fsync.py`: on ext4 about 0.6 of the time and of the kernel CPU of an appended
commit); a zero-filled tail is the log's clean end. Records are buffered in memory and only
``flush()`` / ``sync()`` touch the file (``get`` serves buffered messages from memory);
``sync()`` also fsyncs (the server calls it once per loop turn when fsync="batch"). A write that
fails part way keeps exactly the bytes the OS did not take, so a later flush resumes where it
stopped and never writes a byte twice; every failed write or fsync raises `StoreError`, and
after a failed fsync the store refuses to sync again (the kernel may have dropped the unwritten
pages, so a later "successful" fsync would lie). On open the log is replayed; a truncated or
corrupt tail (a crash or a full disk mid-write) is cut off and reported in ``warnings``, never
raised. ``reset()`` rewrites the log atomically (tmp file + rename) at the next flush.
"""

from __future__ import annotations

import contextlib
import os
import struct
import time
import zlib
from array import array
from pathlib import Path
from typing import Protocol

from gateway.fix._build import speedups
from gateway.fix._errors import StoreError as StoreError  # re-exported: its home was here

# the zero-filled file the matcher journal writes too (PREALLOCATE at a time, at most 1/64 of
# the disk's free space), and its write loop: plain file I/O, no orders
from matcher.files import PREALLOCATE as PREALLOCATE
from matcher.files import write_records

_HEAD = struct.Struct(">cQI")
_CRC = struct.Struct(">I")
_HEAD_SIZE = _HEAD.size
_MAX_PAYLOAD = 16 << 20
#: a message saved this far past the dense index's end starts a new dense run (the messages
#: before it move to the sparse map) instead of zero-filling the gap
_MAX_GAP = 4096
#: the index's item type: unsigned long where it is 8 bytes (its append converts an int
#: faster than "Q"'s), else unsigned long long
_INDEX_TYPE = "L" if array("L").itemsize == 8 else "Q"
FSYNC_MODES = ("batch", "always", "never")


def _record_py(kind: bytes, value: int, payload: bytes) -> bytes:
    """One record: header, payload and the CRC-32 of both (``_speedups.record`` is the
    compiled twin)."""
    record = _HEAD.pack(kind, value, len(payload)) + payload
    return record + _CRC.pack(zlib.crc32(record))


_record = speedups.record if speedups is not None else _record_py


def _append_record_py(pending: bytearray, kind: bytes, value: int, payload: bytes) -> int:
    """Append ``_record_py(kind, value, payload)`` to ``pending``; return where its payload
    starts in ``pending`` (``_speedups.append_record`` is the compiled twin: in place, no
    intermediate bytes)."""
    offset = len(pending) + _HEAD_SIZE
    pending += _record_py(kind, value, payload)
    return offset


_append_record = speedups.append_record if speedups is not None else _append_record_py


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
        self.path.parent.mkdir(parents=True, exist_ok=True)
        self._fd = os.open(self.path, os.O_RDWR | os.O_CREAT, 0o644)
        self._sync_error: StoreError | None = None
        self._load()

    def _load(self) -> None:
        """State from the file alone: anything buffered is forgotten."""
        self.next_sender_seq = 1
        self.next_target_seq = 1
        self.creation_time_ns = 0
        # seq -> payload offset << 32 | length (0: no message), one entry per message sent,
        # kept for resends: 8 bytes each in an array indexed by seq - _base (a dict of boxed
        # ints took about 116 bytes a message, four messages an order); the few seqs that do
        # not fit the dense run (a MsgSeqNum set back, or far ahead) go to _sparse
        self._index: array[int] = array(_INDEX_TYPE)
        self._base = 1
        self._sparse: dict[int, int] = {}
        self._pending = bytearray()  # records the OS has not taken yet
        self._target_dirty = False
        self._rewrite = False  # reset(): the next flush replaces the file
        self._written = 0  # bytes in the file; _pending starts at this offset
        self._allocated = 0  # the file's size: zeros from _written on
        self._recover()
        os.lseek(self._fd, self._written, os.SEEK_SET)  # records are written from there on
        if self.creation_time_ns == 0:
            self.creation_time_ns = time.time_ns()
            self._append(b"C", self.creation_time_ns, b"")
            self._commit()

    def reload(self) -> None:
        """Drop everything not yet written and re-read the file (after a failed commit)."""
        self._load()

    # -- recovery ---------------------------------------------------------------------

    def _recover(self) -> None:
        data = self.path.read_bytes()
        pos, n = 0, len(data)
        self._allocated = n
        while pos < n:
            if data[pos] == 0 and not data[pos:].strip(b"\0"):
                break  # the zero-filled tail: the clean end
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
        self._written = pos

    def _warn_tail(self, pos: int, n: int, why: str) -> None:
        self.warnings.append(
            f"{self.path}: {why} at byte {pos}; dropped the last {n - pos} bytes"
        )
        os.truncate(self.path, pos)
        self._allocated = pos

    def _apply(self, kind: bytes, value: int, offset: int, length: int) -> None:
        if kind == b"M":
            self._put(value, offset << 32 | length)
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
        return self._written + _append_record(self._pending, kind, value, payload)

    def _commit(self) -> None:
        if self.fsync == "always":
            # a failure here surfaces again at the server's sync() of this loop turn, which
            # happens before anything is sent; a write that fails is resumed exactly
            try:
                self.sync()
            except StoreError:
                pass

    def set_next_sender_seq(self, seq: int) -> None:
        """Set the next MsgSeqNum we send."""
        self.next_sender_seq = seq
        self._append(b"S", seq, b"")
        self._commit()

    def set_next_target_seq(self, seq: int) -> None:
        """Set the next MsgSeqNum we expect (recorded at the next flush: group commit)."""
        self.next_target_seq = seq
        self._target_dirty = True
        self._commit()

    def save(self, seq: int, raw: bytes) -> None:
        """Append a sent message; the next sender seq becomes seq + 1 at least."""
        # _append, inlined: this runs for every message sent
        offset = self._written + _append_record(self._pending, b"M", seq, raw)
        entry = offset << 32 | len(raw)
        index = self._index
        if seq - self._base == len(index):  # the next seq: the common case
            index.append(entry)
        else:
            self._put(seq, entry)
        if seq >= self.next_sender_seq:
            self.next_sender_seq = seq + 1
        if self.fsync == "always":
            self._commit()

    def _put(self, seq: int, entry: int) -> None:
        """Index a message saved out of the dense run's order."""
        index = self._index
        i = seq - self._base
        n = len(index)
        if 0 <= i < n:
            index[i] = entry
            return
        if n == 0 or n <= i <= n + _MAX_GAP:
            if n == 0:
                self._base = seq
            elif i > n:
                index.extend(array(_INDEX_TYPE, bytes(8 * (i - n))))  # the seqs skipped: no message
            index.append(entry)
            self._sparse.pop(seq, None)
            return
        if i > n:  # far ahead: the dense run so far moves to the sparse map
            base = self._base
            for j in range(n):
                if index[j]:
                    self._sparse[base + j] = index[j]
            self._index = array(_INDEX_TYPE, [entry])
            self._base = seq
            self._sparse.pop(seq, None)
            return
        self._sparse[seq] = entry  # before the dense run

    def _entry(self, seq: int) -> int:
        """The index entry of ``seq`` (0: no message stored)."""
        i = seq - self._base
        if 0 <= i < len(self._index):
            return int(self._index[i])
        return self._sparse.get(seq, 0)

    def get(self, begin: int, end: int) -> list[tuple[int, bytes]]:
        """Stored messages with begin <= seq <= end, in order (buffered ones from memory)."""
        out: list[tuple[int, bytes]] = []
        base, n, sparse = self._base, len(self._index), self._sparse
        lo = max(begin, base)
        hi = min(end, base + n - 1)
        seqs: list[int] | range = range(lo, hi + 1)  # the dense run's part of [begin, end]
        if sparse:
            seqs = sorted([s for s in sparse if begin <= s <= end] + list(seqs))
        for seq in seqs:
            entry = self._entry(seq)
            if entry:
                out.append((seq, self._read(entry >> 32, entry & 0xFFFFFFFF)))
        return out

    def _read(self, offset: int, length: int) -> bytes:
        written = self._written
        if offset >= written:
            return bytes(self._pending[offset - written : offset - written + length])
        head = os.pread(self._fd, min(length, written - offset), offset)
        if offset + length <= written:
            return head
        return head + bytes(self._pending[: offset + length - written])

    def flush(self) -> None:
        """Hand buffered records to the OS; raises `StoreError` if a write fails (what the OS
        did take stays written, the rest stays buffered for the next flush)."""
        if self._target_dirty:
            self._target_dirty = False
            self._append(b"T", self.next_target_seq, b"")
        if self._rewrite:
            self._replace_file()
        self._written, self._allocated, failed = write_records(
            self._fd, self._pending, self._written, self._allocated)
        if failed is not None:
            raise StoreError("write", self.path, failed) from failed

    @property
    def size(self) -> int:
        """The length of the records in the file (zeros follow, up to the file's size)."""
        return self._written

    def fileno(self) -> int:
        """The log's file descriptor."""
        return self._fd

    def sync(self) -> None:
        """Flush, then fsync unless fsync="never"; a failed fsync fails every later sync."""
        self.flush()
        if self.fsync == "never":
            return
        if self._sync_error is not None:
            raise self._sync_error
        try:
            os.fdatasync(self._fd)
        except OSError as exc:
            self._sync_error = StoreError("fsync", self.path, exc)
            raise self._sync_error from exc

    def reset(self) -> None:
        """Sequence numbers back to 1, messages dropped; the next flush rewrites the log
        atomically (tmp file + rename), so a failed rewrite leaves the old log whole."""
        self._pending.clear()
        self._target_dirty = False
        self._rewrite = True
        self._written = 0
        self.next_sender_seq = 1
        self.next_target_seq = 1
        self.creation_time_ns = time.time_ns()
        self._index = array(_INDEX_TYPE)
        self._base = 1
        self._sparse.clear()
        for kind, value in ((b"C", self.creation_time_ns), (b"S", 1), (b"T", 1)):
            self._append(kind, value, b"")
        self._commit()

    def _replace_file(self) -> None:
        tmp = self.path.with_suffix(".store.tmp")
        data = bytes(self._pending)
        try:
            fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o644)
            try:
                view = memoryview(data)
                while view:
                    # bound to a local first: mypyc 2.4.1 evaluates a slice bound that is an
                    # expression twice (two writes, a corrupt store)
                    taken = os.write(fd, view)
                    view = view[taken:]
                if self.fsync != "never":
                    os.fdatasync(fd)
            finally:
                os.close(fd)
            os.replace(tmp, self.path)
        except OSError as exc:
            with contextlib.suppress(OSError):
                os.unlink(tmp)
            raise StoreError("write", self.path, exc) from exc
        self._rewrite = False
        os.close(self._fd)
        self._fd = os.open(self.path, os.O_RDWR)
        os.lseek(self._fd, len(data), os.SEEK_SET)
        self._pending.clear()
        self._written = self._allocated = len(data)
        if self.fsync != "never":
            _sync_directory(self.path.parent)

    def close(self) -> None:
        """Flush, fsync (per mode) and close the file; the file is closed even if that fails."""
        if self._fd >= 0:
            try:
                self.sync()
            finally:
                os.close(self._fd)
                self._fd = -1


def _sync_directory(directory: Path) -> None:
    """Make a rename in `directory` durable (best effort: not every platform allows it)."""
    with contextlib.suppress(OSError):
        fd = os.open(directory, os.O_RDONLY)
        try:
            os.fsync(fd)
        finally:
            os.close(fd)
