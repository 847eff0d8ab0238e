"""Which build of the project's own modules is imported: the mypyc-compiled one or the source.

``setup.py`` compiles some modules of ``matcher`` (and of ``gateway``) with mypyc from the same
``.py`` files; the compiled extension sits beside each ``.py`` and Python's import system prefers
it. The source runs instead, for every module of both packages, when

- ``ATS_PURE=1`` is set (CI runs the whole suite both ways), or
- a compiled module's ``.py`` is not the source it was built from (``matcher/_compiled.sha256``,
  written by ``setup.py``): it was edited after the install, so the compiled code would be stale
  and none of it is used until ``make install`` rebuilds it (the modules call each other
  natively, so it is all or nothing). Hashes, not mtimes: a wheel install may write the ``.py``
  after the ``.so``.

``install()`` runs first thing in ``matcher/__init__.py`` and ``gateway/__init__.py``, before
any module that may be compiled is imported. This module itself is never compiled.
"""

from __future__ import annotations

import hashlib
import importlib.abc
import importlib.machinery
import importlib.util
import os
import sys
from collections.abc import Sequence
from pathlib import Path
from types import ModuleType

PACKAGES = ("matcher", "gateway")
_ROOT = Path(__file__).resolve().parent.parent
_EXT = tuple(importlib.machinery.EXTENSION_SUFFIXES)
#: the mypyc group's shared library (not a module of its own source)
_GROUP_LIB = "hot__mypyc"


def pure_requested() -> bool:
    return os.environ.get("ATS_PURE", "") not in ("", "0")


def compiled_modules(root: Path = _ROOT) -> dict[str, Path]:
    """module name -> compiled file, for every mypyc-compiled module present on disk."""
    out: dict[str, Path] = {}
    for pkg in PACKAGES:
        for d in (root / pkg, root / pkg / "fix"):
            if not d.is_dir():
                continue
            for p in d.iterdir():
                if not p.name.endswith(_EXT):
                    continue
                stem = p.name.split(".", 1)[0]
                if (d / (stem + ".py")).is_file():
                    name = ".".join(d.relative_to(root).parts + (stem,))
                    out[name] = p
    return out


MANIFEST = "matcher/_compiled.sha256"


def built_from(root: Path = _ROOT) -> dict[str, str]:
    """source path (relative, /-separated) -> sha256 it had when the compiled build was made."""
    try:
        lines = (root / MANIFEST).read_text().splitlines()
    except OSError:
        return {}
    return {path: digest for digest, _, path in (line.partition("  ") for line in lines)}


def stale_modules(root: Path = _ROOT) -> list[str]:
    """Compiled modules whose ``.py`` is not the source they were built from."""
    manifest = built_from(root)
    stale = []
    for name, so in compiled_modules(root).items():
        src = so.with_name(so.name.split(".", 1)[0] + ".py")
        rel = src.relative_to(root).as_posix()
        if manifest.get(rel) != hashlib.sha256(src.read_bytes()).hexdigest():
            stale.append(name)
    return sorted(stale)


class _SourceOnly(importlib.abc.MetaPathFinder):
    """Finds the modules of PACKAGES from their ``.py`` files only."""

    def find_spec(self, fullname: str, path: Sequence[str] | None,
                  target: ModuleType | None = None) -> importlib.machinery.ModuleSpec | None:
        if path is None or fullname.split(".", 1)[0] not in PACKAGES:
            return None
        name = fullname.rpartition(".")[2]
        for entry in path:
            src = Path(entry) / (name + ".py")
            if src.is_file():
                return importlib.util.spec_from_file_location(fullname, src)
        return None  # packages, the C extension: the normal finders


#: why the source runs instead of compiled modules ("" when it does not)
REASON = ""


def install() -> None:
    """Make the source the one imported where asked or where compiled modules are stale."""
    global REASON
    if any(isinstance(f, _SourceOnly) for f in sys.meta_path):
        return
    if pure_requested():
        REASON = "ATS_PURE=1"
    else:
        stale = stale_modules()
        if stale:
            REASON = "compiled modules older than their source (run make install): " + \
                ", ".join(stale)
            print(f"warning: {REASON}; running the source", file=sys.stderr)
    if REASON:
        sys.meta_path.insert(0, _SourceOnly())


def is_compiled(module: ModuleType) -> bool:
    """True when ``module`` was loaded from a compiled extension."""
    return str(getattr(module, "__file__", "") or "").endswith(_EXT)
