"""Which build of the hot path runs: "compiled" (gateway/fix/_speedups.c) or "pure" Python.

The C module holds compiled twins of a few functions of ``codec`` and ``store``; the Python
functions are the reference and run when the module was not built (no C compiler at install)
or when ``ATS_PURE=1`` is set (CI runs the whole suite both ways).
"""

from __future__ import annotations

import os
from types import ModuleType

speedups: ModuleType | None = None
if os.environ.get("ATS_PURE", "") in ("", "0"):
    try:
        from gateway.fix import _speedups as speedups
    except ImportError:  # not built: the pure-Python twins run
        speedups = None

#: "compiled" or "pure": named in the gateway's ``listening`` log line
BUILD = "compiled" if speedups is not None else "pure"
