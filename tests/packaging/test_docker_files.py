"""The Docker sandbox files: compose validity and the paths they rely on."""

from __future__ import annotations

import re
import shutil
import subprocess
import tomllib
from pathlib import Path

import pytest

ROOT = Path(__file__).parents[2]


def test_docker_config_is_the_demo_venue_on_all_interfaces() -> None:
    demo = tomllib.loads((ROOT / "config" / "ats.toml").read_text(encoding="utf-8"))
    docker = tomllib.loads((ROOT / "config" / "docker.toml").read_text(encoding="utf-8"))
    assert docker["gateway"]["host"] == "0.0.0.0"
    assert docker["gateway"]["data_dir"] == "/data"
    assert docker["admin"]["host"] == "0.0.0.0"
    for key in ("host", "data_dir"):
        del demo["gateway"][key], docker["gateway"][key]
    del demo["admin"]["host"], docker["admin"]["host"]
    assert docker == demo


def test_files_named_in_image_commands_exist() -> None:
    text = (ROOT / "docker-compose.yml").read_text(encoding="utf-8")
    text += (ROOT / "Dockerfile").read_text(encoding="utf-8")
    named = set(re.findall(r"/app/config/([\w.-]+)", text))
    assert {"docker.toml", "sample_nbbo.csv", "demo_orders.txt"} <= named
    assert all((ROOT / "config" / name).is_file() for name in named)


def test_build_context_leaves_out_local_state() -> None:
    ignored = set((ROOT / ".dockerignore").read_text(encoding="utf-8").split())
    assert {".git", ".venv", "var", "__pycache__"} <= ignored


@pytest.mark.skipif(shutil.which("docker-compose") is None, reason="docker-compose not on PATH")
def test_compose_file_is_valid() -> None:
    result = subprocess.run(
        ["docker-compose", "-f", str(ROOT / "docker-compose.yml"), "config", "-q"],
        cwd=ROOT, capture_output=True, text=True, timeout=60, check=False,
    )
    assert result.returncode == 0, result.stderr
