"""The sandbox's processes without Docker: the gateway on the Docker venue, ats-feed replaying the
sample NBBO, the two demo clients, and a drop-copy watcher, as `docker compose --profile demo up`
runs them (only the host and port differ)."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

from tests.e2e.conftest import GatewayProcess, start_gateway

REPO = Path(__file__).resolve().parents[2]
CONFIG = REPO / "config"


def start(module: str, args: list[str], cwd: Path) -> subprocess.Popen[str]:
    env = dict(os.environ, PYTHONPATH=str(REPO))
    return subprocess.Popen([sys.executable, "-m", module, *args], cwd=cwd, env=env,
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)


def finish(proc: subprocess.Popen[str]) -> subprocess.CompletedProcess[str]:
    out, err = proc.communicate(timeout=60)
    return subprocess.CompletedProcess(proc.args, proc.returncode, out, err)


def tool(module: str, args: list[str], cwd: Path) -> subprocess.CompletedProcess[str]:
    return finish(start(module, args, cwd))


def test_sandbox_processes_trade_and_copy(tmp_path: Path) -> None:
    venue = (CONFIG / "docker.toml").read_text()
    venue = venue.replace('host = "0.0.0.0"', 'host = "127.0.0.1"')
    venue = venue.replace("port = 9878", "port = 0")
    venue = venue.replace('data_dir = "/data"', 'data_dir = "data"')
    gp: GatewayProcess = start_gateway(tmp_path, venue)
    try:
        where = ["--config", str(tmp_path / "venue.toml"), "--host", "127.0.0.1",
                 "--port", str(gp.port)]
        feed = tool("ats_tools.feed", [*where, str(CONFIG / "sample_nbbo.csv"), "--speed", "0"],
                    tmp_path)
        assert feed.returncode == 0, feed.stderr
        assert "0 rejected" in feed.stdout

        # both demo clients at once, as compose starts them
        acme_proc = start("ats_tools.client", [*where, "--session", "ACME1", "--linger", "3",
                                             "--script", str(CONFIG / "demo_orders.txt")],
                          tmp_path)
        buy_proc = start("ats_tools.client", [*where, "--session", "BUY1", "--linger", "1",
                                            "--script", str(CONFIG / "demo_orders_buyside.txt")],
                         tmp_path)
        acme, buy = finish(acme_proc), finish(buy_proc)
        assert acme.returncode == 0 and buy.returncode == 0, acme.stderr + buy.stderr
        # ACME's mid-peg buy meets BUYSIDE's mid-peg sell at the last AAPL midpoint of the
        # sample (190.18 x 190.20): 190.19.
        assert "NEW        DEMO-1" in acme.stdout
        assert any(line.startswith("CANCELED") and "(was DEMO-2)" in line
                   for line in acme.stdout.splitlines())
        acme_fill = [line for line in acme.stdout.splitlines() if line.startswith("PARTIAL")]
        buy_fill = [line for line in buy.stdout.splitlines() if line.startswith("FILL")]
        assert len(acme_fill) == 1 and "last=60@190.19" in acme_fill[0]
        assert len(buy_fill) == 1 and "last=60@190.19" in buy_fill[0]

        watch = tool("ats_tools.client", [*where, "--session", "DC1", "--watch",
                                        "--duration", "2"], tmp_path)
        assert watch.returncode == 0, watch.stderr
        copies = [line for line in watch.stdout.splitlines() if line.startswith("[")]
        # every report of both sessions, with the order session named (115)
        assert len(copies) == acme.stdout.count("order=") + buy.stdout.count("order=")
        assert {c.split("]")[0] for c in copies} == {"[ACME1", "[BUY1"}
    finally:
        assert gp.stop() == 0
