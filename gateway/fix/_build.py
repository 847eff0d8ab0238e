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
