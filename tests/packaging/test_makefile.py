"""`make run` installs once and again only when pyproject.toml changes (`make -n`, a dry run)."""

from __future__ import annotations

import os
import shutil
import subprocess
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[2]

pytestmark = pytest.mark.skipif(shutil.which("make") is None, reason="make is not installed")


def dry_run(target: str, venv: Path) -> list[str]:
    out = subprocess.run(["make", "-n", "-C", str(REPO), target, f"VENV={venv}"],
                         capture_output=True, text=True, check=True)
    return [line for line in out.stdout.splitlines() if not line.startswith("make")]


def fake_venv(tmp_path: Path) -> Path:
    venv = tmp_path / "venv"
    (venv / "bin").mkdir(parents=True)
    (venv / "bin" / "python").touch()
    return venv


def test_run_installs_on_first_start_then_starts_at_once(tmp_path: Path) -> None:
    venv = fake_venv(tmp_path)
    first = dry_run("run", venv)
    assert any("pip install" in line for line in first), first
    (venv / ".installed").touch()
    again = dry_run("run", venv)
    assert not any("pip install" in line for line in again), again
    assert again == [f"{venv}/bin/ats-gateway "]


def test_run_reinstalls_after_pyproject_changes(tmp_path: Path) -> None:
    venv = fake_venv(tmp_path)
    stamp = venv / ".installed"
    stamp.touch()
    older = (REPO / "pyproject.toml").stat().st_mtime - 60
    os.utime(stamp, (older, older))
    assert any("pip install --quiet -e ." in line for line in dry_run("run", venv))


def test_bench_installs_the_plotting_extra(tmp_path: Path) -> None:
    lines = dry_run("bench", fake_venv(tmp_path))
    assert any("pip install" in line and ".[bench]" in line for line in lines), lines
