"""Shared by the build tests: run code in a fresh interpreter that imports a given tree."""

from __future__ import annotations

import os
import subprocess
import sys
from collections.abc import Callable
from pathlib import Path

import pytest

FreshPython = Callable[[str, Path, Path], "subprocess.CompletedProcess[str]"]


def _run_fresh(code: str, pythonpath: Path, cwd: Path) -> subprocess.CompletedProcess[str]:
    """``python -c code`` with only ``pythonpath`` added to the import path and without
    ``ATS_PURE`` (the tree decides which build is imported), 60 s at most; not checked."""
    env = {k: v for k, v in os.environ.items() if k != "ATS_PURE"}
    env["PYTHONPATH"] = str(pythonpath)
    return subprocess.run([sys.executable, "-c", code], cwd=cwd, env=env,
                          capture_output=True, text=True, timeout=60, check=False)


@pytest.fixture
def fresh_python() -> FreshPython:
    return _run_fresh
