"""One data dir, one gateway: a second one started on it refuses and writes nothing."""

from __future__ import annotations

import hashlib
import json
import os
import signal
import subprocess
import sys
from pathlib import Path

from gateway.storage import EXIT_STORAGE_FAILED
from tests.e2e.conftest import GatewayProcess
from tests.e2e.fixclient import tag
from tests.e2e.orders_helpers import connect, exec_ids, two_party_venue

CONFIG = two_party_venue()


def _second_gateway(tmp_path: Path) -> subprocess.CompletedProcess[str]:
    """`ats-gateway` on the same config and data dir (the config has port 0: it could listen)."""
    return subprocess.run(
        [sys.executable, "-m", "gateway", "--config", str(tmp_path / "venue.toml"),
         "--data-dir", str(tmp_path / "data")],
        capture_output=True, text=True, timeout=15, check=False, cwd=tmp_path,
        env=dict(os.environ, PYTHONPATH=str(Path(__file__).resolve().parents[2])),
    )


def _digest(data_dir: Path) -> dict[str, str]:
    return {str(p.relative_to(data_dir)): hashlib.sha256(p.read_bytes()).hexdigest()
            for p in sorted(data_dir.rglob("*")) if p.is_file() and p.name != "lock"}


async def test_a_second_gateway_on_a_data_dir_in_use_refuses_and_writes_nothing(  # type: ignore[no-untyped-def]
    gateway, tmp_path: Path
) -> None:
    gp: GatewayProcess = gateway(CONFIG)
    md, _ = await connect(gp, "MD1")
    await md.nbbo("10.00", "10.10")
    acme, _ = await connect(gp, "ACME1")
    first = await acme.ack("A1", "1", 100, "10.01")
    before = _digest(tmp_path / "data")

    done = _second_gateway(tmp_path)
    assert done.returncode == EXIT_STORAGE_FAILED
    [line] = [json.loads(x) for x in done.stderr.splitlines()]
    assert line["event"] == "storage_unavailable"
    assert "in use by another gateway" in line["error"] and str(gp.proc.pid) in line["error"]
    assert _digest(tmp_path / "data") == before  # no replay written, no store touched

    # the first one goes on with its numbers; once it is gone (kill -9) the data dir is free
    second = await acme.ack("A2", "1", 100, "10.01")
    assert int(tag(second, 17) or 0) > int(tag(first, 17) or 0)
    assert gp.stop(signal.SIGKILL) == -signal.SIGKILL
    again: GatewayProcess = gateway(CONFIG)
    acme2, _ = await connect(again, "ACME1", reset=False, next_seq=acme.fix.next_seq)
    third = await acme2.ack("A3", "1", 100, "10.01")
    assert exec_ids([third])[0] not in exec_ids([first, second])
    assert again.stop() == 0
