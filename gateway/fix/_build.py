"""Which build of the hot path runs: "compiled" or "pure" Python.

Two compiled parts, both built at install where a C compiler exists (``setup.py``):
``gateway/fix/_speedups.c`` holds C twins of a few functions of ``codec`` and ``store`` (the
Python functions are the reference); mypyc compiles modules of ``matcher`` (and ``gateway``) from
their own ``.py`` files. The pure build runs where they were not built, or when ``ATS_PURE=1`` is
set (CI runs the whole suite both ways); ``matcher/_pure.py`` makes that choice for the mypyc
modules.
"""

from __future__ import annotations

from types import ModuleType

import matcher.engine
from matcher import _pure

speedups: ModuleType | None = None
if not _pure.pure_requested():
    try:
        from gateway.fix import _speedups as speedups
    except ImportError:  # not built: the pure-Python twins run
        speedups = None

#: the matcher (and the other mypyc modules) run compiled
MYPYC = _pure.is_compiled(matcher.engine)

#: "compiled", "pure", or "partial (...)" when only one part runs compiled: named in the
#: gateway's ``listening`` log line
BUILD = (
    "compiled" if speedups is not None and MYPYC
    else "pure" if speedups is None and not MYPYC
    else "partial (C codec only)" if speedups is not None
    else "partial (mypyc modules only)"
)

#: the reservation size of huge_arenas (MiB of address space; memory is touched 2 MiB at a time)
HUGE_ARENA_MIB = 64


def use_huge_arenas() -> str:
    """Put Python's small-object memory on transparent huge pages (``_speedups.huge_arenas``),
    for the rest of the process; returns what the ``listening`` line reports as ``memory``:
    "huge-page arenas", or "default" (pure build, ``ATS_HUGE_PAGES=0``, transparent huge pages
    set to "never", or a kernel that refuses MADV_HUGEPAGE). Measured in bench/matcher.py
    (README): fewer page faults and a lower latency tail. The object memory is then not returned
    to the OS: the process stays at its peak."""
    import os

    if speedups is not None and os.environ.get("ATS_HUGE_PAGES", "1") != "0" and thp_enabled():
        speedups.huge_arenas(HUGE_ARENA_MIB)
    return memory()


def memory() -> str:
    """What this process's Python objects live on: "huge-page arenas" once ``use_huge_arenas``
    installed them (they hold a reservation from then on), else "default"."""
    return "huge-page arenas" if huge_arena_bytes() else "default"


def thp_enabled() -> bool:
    """Whether the kernel grants transparent huge pages to memory advised MADV_HUGEPAGE (its
    setting is "always" or "madvise", not "never")."""
    try:
        with open("/sys/kernel/mm/transparent_hugepage/enabled") as f:
            return "[never]" not in f.read()
    except OSError:
        return False


def huge_arena_bytes() -> int:
    """Address space reserved for Python's objects on huge pages (0 without huge_arenas): the
    process's object memory at its peak, kept for reuse."""
    if speedups is None:
        return 0
    return int(speedups.huge_arena_stats()["reserved_bytes"])
