"""Durable record files written inside a zero-filled file: the matcher journal's and the
gateway's session stores' one zero-filling and one write loop. Plain file I/O: this module
knows no commands, orders or FIX messages, so both layers can call it.

An fdatasync after an append must also record the file's new size; after a write inside the
file it need not (`bench/fsync.py`). So each file is zero-filled ahead of its records, and a
zero-filled tail is its clean end (each reader checks that no record starts with zeros).
"""

from __future__ import annotations

import errno
import os
from typing import Final

#: how far a file (the journal, a session store) is zero-filled ahead of its records, at a time
PREALLOCATE: Final = 512 << 10
_ZEROS: Final = bytes(PREALLOCATE)
#: at most this fraction (1/n) of the disk's free space is zero-filled at a time: a small or
#: nearly full disk keeps its room for the records themselves
FREE_SHARE: Final = 64


def zero_fill(fd: int, allocated: int, end: int) -> int:
    """Zero-fill the file ``fd`` from ``allocated`` (its size) to past ``end``, ``PREALLOCATE``
    at a time, or 1/64 of the disk's free space where that is less (nothing under 4 KiB);
    return the file's size after. Where the disk has no room for that, it stops (the records
    are written anyway: their write extends the file as an append does, and a full disk fails
    on them, not on the zeros)."""
    try:
        fs = os.fstatvfs(fd)
        step = min(PREALLOCATE, fs.f_bavail * fs.f_frsize // FREE_SHARE) & ~4095
    except OSError:
        return allocated
    zeros = memoryview(_ZEROS)[:step]
    while step and allocated < end:
        try:
            taken = os.pwrite(fd, zeros, allocated)
        except OSError:
            return allocated
        if taken <= 0:
            return allocated
        allocated += taken
    return allocated


def write_records(fd: int, pending: bytearray, written: int, allocated: int
                  ) -> tuple[int, int, OSError | None]:
    """Write ``pending`` to the file ``fd`` at its position, ``written`` (its records' end),
    zero-filling ahead first (`zero_fill`; ``allocated`` is the file's size), and take out of
    ``pending`` what the OS takes; stop at the first failed write (one that takes nothing
    counts as ENOSPC). Return the records' new end, the file's new size and the failure (None
    when everything was written). What the OS did not take stays in ``pending`` for the next
    call, which resumes exactly there: no byte is written twice. The journal and the session
    stores write through this."""
    if pending and written + len(pending) > allocated:
        allocated = zero_fill(fd, allocated, written + len(pending))
    while pending:
        try:
            taken = os.write(fd, pending)
        except OSError as exc:
            return written, allocated, exc
        if taken <= 0:
            return written, allocated, OSError(errno.ENOSPC, "short write")
        del pending[:taken]
        written += taken
        if written > allocated:  # (written past the zeros: see zero_fill)
            allocated = written
    return written, allocated, None
