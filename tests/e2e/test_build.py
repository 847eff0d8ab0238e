"""The gateway says which build of its hot path runs, and it is the one that was installed."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

from gateway.fix._build import thp_enabled
from tests.e2e.conftest import GatewayProcess
from tests.e2e.fixclient import FixClient, tag

REPO = Path(__file__).resolve().parents[2]


def _built() -> bool:
    """Whether both compiled parts were built here (asked without the gateway's import logic:
    the C extension imports, and the matcher's compiled modules are on disk)."""
    code = "import gateway.fix._speedups"
    c_ext = subprocess.run([sys.executable, "-c", code], cwd=REPO, check=False,
                           capture_output=True).returncode == 0
    mypyc = bool(sorted(REPO.glob("matcher/engine.cpython-*.so")))
    return c_ext and mypyc


async def test_listening_line_names_the_build_that_answers(gateway) -> None:  # type: ignore[no-untyped-def]
    gp: GatewayProcess = gateway()
    [line] = gp.events("listening")
    pure = os.environ.get("ATS_PURE", "") not in ("", "0")
    assert line["build"] == ("compiled" if _built() and not pure else "pure")
    c = FixClient("TW42", "ISLD")
    await c.connect(gp.port)
    await c.logon(reset=True)
    await c.send("1", (112, "WHICH-BUILD"))
    hb = await c.expect("0")
    assert tag(hb, 112) == "WHICH-BUILD"
    await c.close()
    assert gp.stop() == 0


def _anon_huge_kb(pid: int) -> int:
    for row in Path(f"/proc/{pid}/smaps_rollup").read_text().splitlines():
        if row.startswith("AnonHugePages:"):
            return int(row.split()[1])
    return 0


async def test_listening_line_names_the_memory_the_objects_live_on(gateway) -> None:  # type: ignore[no-untyped-def]
    """The compiled build puts Python's object memory on transparent huge pages where the kernel
    grants them; the line says so, and the running process really has huge pages."""
    gp: GatewayProcess = gateway()
    [line] = gp.events("listening")
    pure = os.environ.get("ATS_PURE", "") not in ("", "0")
    huge = _built() and not pure and thp_enabled()
    assert line["memory"] == ("huge-page arenas" if huge else "default")
    if huge:
        assert _anon_huge_kb(gp.proc.pid) >= 2048  # at least one 2 MiB page
    assert gp.stop() == 0


async def test_huge_pages_can_be_turned_off(gateway, monkeypatch) -> None:  # type: ignore[no-untyped-def]
    monkeypatch.setenv("ATS_HUGE_PAGES", "0")
    gp: GatewayProcess = gateway()
    [line] = gp.events("listening")
    assert line["memory"] == "default"
    assert gp.stop() == 0
