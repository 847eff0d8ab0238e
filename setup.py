"""The compiled hot path, built at install where a C compiler exists.

Two parts, both optional (where they cannot be built the install goes on and the same Python
source runs, slower; the gateway's ``listening`` line says which build runs):

- ``gateway/fix/_speedups.c``: hand-written C twins of the codec's framing, parse, build and
  validation values and of the store's record + CRC (the Python functions are the reference).
- the modules in ``MYPYC_MODULES``, compiled by mypyc from the very same ``.py`` files (one
  source: nothing to drift). ``ATS_PURE=1`` makes the packages import the ``.py`` files instead
  (``matcher/_pure.py``); CI runs the whole suite both ways.

Everything else is in pyproject.toml. ``ATS_NO_MYPYC=1`` at install skips the mypyc part.
"""

from __future__ import annotations

import hashlib
import os
import sys

from setuptools import Extension, setup
from setuptools.command.build_ext import build_ext

#: compiled by mypyc, in one group (calls between them are native C calls)
MYPYC_MODULES = [
    "matcher/prices.py",
    "matcher/types.py",
    "matcher/book.py",
    "matcher/conditional.py",
    "matcher/moc.py",
    "matcher/validate.py",
    "matcher/engine.py",
    "gateway/fix/codec.py",
    "gateway/fix/validate.py",
    "gateway/fix/store.py",
    "gateway/fix/session.py",
    "matcher/files.py",
    "matcher/journal.py",
    "gateway/application.py",
    "gateway/stats.py",
    "gateway/reports.py",
    "gateway/orders.py",
    "gateway/app.py",
]


class OptionalBuildExt(build_ext):
    """Build what can be built; if any mypyc module fails, remove all of them (a shim without
    its group's shared library would not import), so the pure modules run."""

    def run(self) -> None:
        try:
            super().run()
        except Exception as exc:  # noqa: BLE001 - any build failure means "run the pure build"
            print(f"warning: compiled hot path not built ({exc}); the pure build runs",
                  file=sys.stderr)
            self._remove_mypyc_outputs()

    def build_extension(self, ext: Extension) -> None:
        try:
            super().build_extension(ext)
        except Exception as exc:  # noqa: BLE001
            if ext.name == "gateway.fix._speedups":
                print(f"warning: {ext.name} not built ({exc})", file=sys.stderr)
                return
            raise

    def _remove_mypyc_outputs(self) -> None:
        for ext in self.extensions:
            if ext.name == "gateway.fix._speedups":
                continue
            for path in (self.get_ext_fullpath(ext.name),
                         os.path.join(*ext.name.split(".")) + self._suffix()):
                if os.path.exists(path):
                    os.remove(path)

    @staticmethod
    def _suffix() -> str:
        import importlib.machinery

        return importlib.machinery.EXTENSION_SUFFIXES[0]


#: what the compiled modules were built from (sha256 per source), read by matcher/_pure.py:
#: a compiled module whose .py no longer matches is never imported
MANIFEST = "matcher/_compiled.sha256"


def write_manifest() -> None:
    with open(MANIFEST, "w") as out:
        for path in MYPYC_MODULES:
            with open(path, "rb") as src:
                out.write(f"{hashlib.sha256(src.read()).hexdigest()}  {path}\n")


def mypyc_extensions() -> list[Extension]:
    if os.environ.get("ATS_NO_MYPYC", "") not in ("", "0"):
        return []
    try:
        from mypyc.build import mypycify
    except ImportError:
        print("warning: mypyc not available; the matcher runs as Python", file=sys.stderr)
        return []
    try:
        extensions = list(mypycify(MYPYC_MODULES, opt_level="3", group_name="matcher.hot"))
    except (Exception, SystemExit) as exc:  # noqa: BLE001 - mypy exits on a type error
        print(f"warning: mypyc failed ({exc!r}); the pure build runs", file=sys.stderr)
        # compiled modules left from an earlier build are of other sources: with no manifest
        # matcher/_pure.py counts every one of them stale and imports the .py files
        if os.path.exists(MANIFEST):
            os.remove(MANIFEST)
        return []
    write_manifest()  # only for sources mypyc accepted
    return extensions


setup(
    ext_modules=[
        Extension(
            "gateway.fix._speedups",
            ["gateway/fix/_speedups.c"],
            extra_compile_args=["-O2"],
        ),
        *mypyc_extensions(),
    ],
    cmdclass={"build_ext": OptionalBuildExt},
)
