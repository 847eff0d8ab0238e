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


def test_one_image_built_once_and_client_state_on_a_volume_the_user_owns() -> None:
    compose = (ROOT / "docker-compose.yml").read_text(encoding="utf-8")
    dockerfile = (ROOT / "Dockerfile").read_text(encoding="utf-8")
    # one service builds the image; the others run it (compose skips pulling an image that a
    # service of the project builds)
    assert len(re.findall(r"^\s+build:", compose, re.M)) == 1
    # every ats-client service keeps its state on the named volume, at the image's state dir
    state = re.search(r"^ENV ATS_CLIENT_STATE_DIR=(\S+)", dockerfile, re.M)
    assert state is not None
    clients = compose.count("- ats-client\n")
    assert clients == 2
    assert compose.count(f"- ats-client:{state.group(1)}\n") == clients
    assert re.search(rf"chown ats:ats [^\n]*{re.escape(state.group(1))}", dockerfile)
    assert re.search(r"^volumes:\n(  \S+:\n)*  ats-client:", compose, re.M)


def test_client_state_is_ignored_by_git_and_docker() -> None:
    assert ".ats-client/" in (ROOT / ".gitignore").read_text(encoding="utf-8").split()
    assert ".ats-client" in (ROOT / ".dockerignore").read_text(encoding="utf-8").split()
