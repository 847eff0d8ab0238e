"""The data dir's disk: a start-up check, and a reserve of space given up when the disk fills.

The gateway is fail-stop on storage (as PostgreSQL is on a failed fsync): when a store or
journal write or fsync fails, nothing of that loop turn is sent, the connected sessions get a
Logout that was stored durably first (the reserve file is deleted to make room for it when the
disk is full), and the process exits with `EXIT_STORAGE_FAILED` for its supervisor to restart
it. At start the data dir must be writable and keep `MIN_FREE_BYTES` free besides the reserve,
else the gateway refuses to start with one message naming the data dir.
"""

from __future__ import annotations

import contextlib
import errno
import fcntl
import os
from pathlib import Path

#: exit status after a storage failure, and when the data dir is unusable at start (EX_IOERR)
EXIT_STORAGE_FAILED = 74
#: preallocated in the data dir at start; deleted on a full disk to store the Logouts
RESERVE_NAME = "space-reserve"
RESERVE_BYTES = 256 * 1024
#: free space the data dir must have at start, besides the reserve
MIN_FREE_BYTES = 256 * 1024
#: held (flock) by the gateway that serves the data dir, for as long as its process lives
LOCK_NAME = "lock"
#: errno values that mean "no room": the reserve is given up for them
NO_SPACE = frozenset({errno.ENOSPC, errno.EDQUOT})


class StorageUnavailable(Exception):
    """The data dir cannot be used: the message says why and names it."""


def prepare_data_dir(data_dir: Path) -> None:
    """Create the data dir and its reserve; raise `StorageUnavailable` when it is not writable
    or has less than `MIN_FREE_BYTES` free besides the reserve."""
    reserve = data_dir / RESERVE_NAME
    try:
        data_dir.mkdir(parents=True, exist_ok=True)
        fd = os.open(reserve, os.O_WRONLY | os.O_CREAT, 0o600)
        try:
            os.posix_fallocate(fd, 0, RESERVE_BYTES)
            os.fsync(fd)
        finally:
            os.close(fd)
        st = os.statvfs(data_dir)
    except OSError as exc:
        if exc.errno in NO_SPACE:
            raise StorageUnavailable(
                f"data dir {data_dir}: no room for the {RESERVE_BYTES // 1024} KiB space "
                f"reserve ({exc.strerror}); free some space"
            ) from exc
        raise StorageUnavailable(f"data dir {data_dir} is not usable: {exc}") from exc
    free = st.f_bavail * st.f_frsize
    if free < MIN_FREE_BYTES:
        raise StorageUnavailable(
            f"data dir {data_dir}: only {free // 1024} KiB free, the gateway needs at least "
            f"{MIN_FREE_BYTES // 1024} KiB besides its space reserve; free some space"
        )


def lock_data_dir(data_dir: Path) -> int:
    """Take the data dir for this process: an exclusive lock on `DATA_DIR/lock` (holding our
    pid), released when the process ends, `kill -9` included. Returns the lock's descriptor,
    to keep open. Raises `StorageUnavailable` when another gateway holds it: two gateways on
    one journal and one set of stores would hand out the same ExecIDs and OrderIDs."""
    path = data_dir / LOCK_NAME
    try:
        data_dir.mkdir(parents=True, exist_ok=True)
        fd = os.open(path, os.O_RDWR | os.O_CREAT, 0o644)
    except OSError as exc:
        raise StorageUnavailable(f"data dir {data_dir} is not usable: {exc}") from exc
    try:
        fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
    except OSError as exc:
        holder = os.pread(fd, 32, 0).decode("ascii", "replace").strip() or "unknown"
        os.close(fd)
        if exc.errno in (errno.EWOULDBLOCK, errno.EACCES):
            raise StorageUnavailable(
                f"data dir {data_dir} is in use by another gateway (pid {holder}): one data "
                "dir serves one gateway; stop that one first"
            ) from exc
        raise StorageUnavailable(f"data dir {data_dir} cannot be locked: {exc}") from exc
    with contextlib.suppress(OSError):  # the pid is for the message above only
        os.ftruncate(fd, 0)
        os.pwrite(fd, b"%d\n" % os.getpid(), 0)
    return fd


def release_reserve(data_dir: Path) -> bool:
    """Delete the reserve file to free its space; True if there was one."""
    try:
        os.unlink(data_dir / RESERVE_NAME)
    except OSError:
        return False
    return True


def describe(exc: OSError) -> dict[str, object]:
    """Log fields of a failed write or fsync (`StoreError`, `JournalError` or a plain OSError)."""
    code = exc.errno or errno.EIO
    return {
        "path": str(exc.filename) if exc.filename is not None else None,
        "op": getattr(exc, "op", "write"),
        "errno": errno.errorcode.get(code, str(code)),
        "error": exc.strerror or os.strerror(code),
    }
