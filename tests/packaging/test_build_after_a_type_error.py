"""A rebuild whose mypyc step fails leaves the pure build running, not the last compiled one.

mypyc stops on a type error; the modules compiled by the previous build are still beside the
sources (an editable install builds in place). Those were built from other sources, so they must
not be imported: the build manifest that vouches for them is removed, and the packages import the
``.py`` files. A real in-place build of a copy of the project, with a type error put into one
compiled module.
"""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from pathlib import Path
from typing import TYPE_CHECKING

import pytest

if TYPE_CHECKING:  # (the fixture's type; conftest is not imported at run time)
    from conftest import FreshPython

ROOT = Path(__file__).parents[2]
SKIP = {".git", ".venv", "build", "dist", "var", ".hypothesis", ".mypy_cache", ".ruff_cache",
        ".pytest_cache", "__pycache__", "tests", "docs"}


def test_a_failed_mypyc_rebuild_does_not_vouch_for_the_old_compiled_modules(
        tmp_path: Path, fresh_python: FreshPython) -> None:
    pytest.importorskip("mypyc")
    if os.environ.get("ATS_PURE"):
        pytest.skip("a build test: run once, in the compiled suite")
    from matcher._pure import compiled_modules, stale_modules

    if not compiled_modules(ROOT) or stale_modules(ROOT):
        pytest.skip("needs a current compiled build in the checkout to start from")
    src = tmp_path / "src"
    shutil.copytree(ROOT, src, ignore=lambda d, names: [n for n in names if n in SKIP])
    assert (src / "matcher" / "_compiled.sha256").exists()
    with open(src / "matcher" / "prices.py", "a") as f:
        f.write('\n_TYPE_ERROR: int = "not an int"\n')
    build = subprocess.run(
        [sys.executable, "setup.py", "-q", "build_ext", "--inplace"], cwd=src,
        capture_output=True, text=True, timeout=600, check=False)
    assert build.returncode == 0, build.stderr[-2000:]
    assert "mypyc failed" in build.stderr, build.stderr[-2000:]
    assert not (src / "matcher" / "_compiled.sha256").exists()
    code = (
        "import matcher.engine, matcher.prices\n"
        "from gateway.fix._build import BUILD\n"
        "print(BUILD, matcher.engine.__file__.endswith('.py'), matcher.prices._TYPE_ERROR,"
        " sep='|')\n"
    )
    out = fresh_python(code, src, tmp_path)
    assert out.returncode == 0, out.stderr[-2000:]
    build_name, from_source, value = out.stdout.strip().split("|")
    # the C codec was rebuilt in place (it has no type check): "partial (C codec only)"
    assert build_name in ("pure", "partial (C codec only)"), out.stdout
    assert (from_source, value) == ("True", "not an int"), out.stdout
