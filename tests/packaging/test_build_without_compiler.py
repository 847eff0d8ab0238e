"""Where no C compiler exists the install goes on and the project runs the pure build.

A real wheel build of the project's source with ``CC`` pointing at ``false`` (so both compiled
parts fail to build, as on a machine without a compiler), then the wheel's package imported in a
fresh process: it must say ``pure`` and match an order. The build runs without isolation, with
this environment's setuptools and mypy (no network).
"""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
import zipfile
from pathlib import Path
from typing import TYPE_CHECKING

import pytest

if TYPE_CHECKING:  # (the fixture's type; conftest is not imported at run time)
    from conftest import FreshPython

ROOT = Path(__file__).parents[2]
SKIP = {".git", ".venv", "build", "dist", "var", ".hypothesis", ".mypy_cache", ".ruff_cache",
        ".pytest_cache", "__pycache__", "tests", "docs"}


def test_install_without_a_c_compiler_runs_the_pure_build(tmp_path: Path,
                                                          fresh_python: FreshPython) -> None:
    pytest.importorskip("mypyc")
    src = tmp_path / "src"
    shutil.copytree(ROOT, src, ignore=lambda d, names: [
        n for n in names if n in SKIP or n.endswith((".so", ".egg-info"))
        or n == "_compiled.sha256"])
    env = dict(os.environ, CC="false", LDSHARED="false", PIP_DISABLE_PIP_VERSION_CHECK="1")
    build = subprocess.run(
        [sys.executable, "-m", "pip", "wheel", "--no-deps", "--no-build-isolation", "-q",
         "-w", str(tmp_path / "wheels"), str(src)],
        env=env, capture_output=True, text=True, timeout=600, check=False)
    assert build.returncode == 0, build.stderr[-2000:]
    [wheel] = (tmp_path / "wheels").glob("ats_gateway-*.whl")
    names = zipfile.ZipFile(wheel).namelist()
    assert not [n for n in names if n.endswith(".so")], names
    site = tmp_path / "site"
    zipfile.ZipFile(wheel).extractall(site)
    code = (
        "import matcher, matcher.engine\n"
        "from gateway.fix._build import BUILD\n"
        "from matcher import Engine, NewOrder, Participant, Side, SymbolConfig, OrdType, Peg\n"
        "print(BUILD, matcher.engine.__file__.endswith('.py'))\n"
    )
    out = fresh_python(code, site, tmp_path)
    assert out.returncode == 0, out.stderr[-2000:]
    assert out.stdout.split() == ["pure", "True"], out.stderr
