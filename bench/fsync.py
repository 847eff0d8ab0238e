"""What one group commit's fdatasync costs on this disk: records appended to a growing file
(as the session stores and the journal wrote them before 2026-12-04) against records written
inside a file zero-filled ahead, the zeros written in the loop as `zero_fill` does it for the
stores and the journal (``zero-filled``: the zeros' own writes are in the figure), and against
a file zero-filled and synced before the loop (``prefilled``: the commits alone).

Each round writes ``--bytes`` (default 20 KB: about 80 ExecutionReports) and fdatasyncs, ``--count``
times (default 400) per file; the three layouts twice, alternating. Prints wall time and the
process's kernel and user CPU per commit. Speed is only measured here, never asserted.

    python bench/fsync.py [--dir DIR] [--count N] [--bytes B]

``--dir`` defaults to a new directory under the current one: the disk the data dir is on
(``/tmp`` is often a tmpfs, whose fdatasync does nothing).
"""

from __future__ import annotations

import argparse
import os
import resource
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
from matcher.files import zero_fill  # noqa: E402


def commit_cost(directory: str, layout: str, count: int, size: int) -> tuple[float, float, float]:
    """(wall ms, kernel us, user us) per commit of ``size`` bytes in ``layout``."""
    path = os.path.join(directory, layout)
    flags = os.O_RDWR | os.O_CREAT | (os.O_APPEND if layout == "append" else 0)
    fd = os.open(path, flags, 0o644)
    try:
        if layout == "prefilled":
            os.pwrite(fd, bytes(count * size), 0)
            os.fsync(fd)
        record = b"x" * size
        allocated = 0
        r0 = resource.getrusage(resource.RUSAGE_SELF)
        t0 = time.perf_counter()
        for i in range(count):
            if layout == "append":
                os.write(fd, record)
            else:
                if layout == "zero-filled" and (i + 1) * size > allocated:
                    # as the stores and the journal do it: zeros ahead, STEP at a time, in
                    # the loop (the next fdatasync writes them out too)
                    allocated = zero_fill(fd, allocated, (i + 1) * size)
                os.pwrite(fd, record, i * size)
            os.fdatasync(fd)
        wall = time.perf_counter() - t0
        r1 = resource.getrusage(resource.RUSAGE_SELF)
    finally:
        os.close(fd)
        os.unlink(path)
    return (wall / count * 1e3, (r1.ru_stime - r0.ru_stime) / count * 1e6,
            (r1.ru_utime - r0.ru_utime) / count * 1e6)


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--dir", help="where to write (default: a new directory under .)")
    ap.add_argument("--count", type=int, default=400, help="commits per file (1..100000)")
    ap.add_argument("--bytes", type=int, default=20_000, help="bytes per commit (1..1048576)")
    args = ap.parse_args()
    if not 1 <= args.count <= 100_000 or not 1 <= args.bytes <= 1 << 20:
        ap.error("--count is 1..100000 and --bytes 1..1048576")
    with tempfile.TemporaryDirectory(prefix="fsync-bench-", dir=args.dir or ".") as directory:
        print(f"fdatasync per commit of {args.bytes} bytes, {args.count} commits per file, "
              f"in {directory}, load {os.getloadavg()[0]:.2f}")
        for layout in ("append", "zero-filled", "prefilled", "append", "zero-filled", "prefilled"):
            wall, kernel, user = commit_cost(directory, layout, args.count, args.bytes)
            print(f"  {layout:<12} wall {wall:6.3f} ms  kernel {kernel:6.0f} us  "
                  f"user {user:4.0f} us")


if __name__ == "__main__":
    main()
