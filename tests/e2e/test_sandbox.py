"""The sandbox's processes without Docker: the gateway on the Docker venue, ats-feed replaying the
sample NBBO, the two demo clients, and a drop-copy watcher, as `docker compose --profile demo up`
runs them (only the host and port differ)."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
import tempfile
from pathlib import Path

import pytest

from tests.e2e.conftest import GatewayProcess, start_gateway

REPO = Path(__file__).resolve().parents[2]
CONFIG = REPO / "config"


def start(
    module: str, args: list[str], cwd: Path, as_user: list[str] | None = None,
    env: dict[str, str] | None = None,
) -> subprocess.Popen[str]:
    env = dict(os.environ, PYTHONPATH=str(REPO), **(env or {}))
    return subprocess.Popen([*(as_user or []), sys.executable, "-m", module, *args], cwd=cwd,
                            env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)


def finish(proc: subprocess.Popen[str]) -> subprocess.CompletedProcess[str]:
    out, err = proc.communicate(timeout=60)
    return subprocess.CompletedProcess(proc.args, proc.returncode, out, err)


def tool(
    module: str, args: list[str], cwd: Path, as_user: list[str] | None = None,
    env: dict[str, str] | None = None,
) -> subprocess.CompletedProcess[str]:
    return finish(start(module, args, cwd, as_user, env))


def test_sandbox_processes_trade_and_copy(tmp_path: Path) -> None:
    venue = (CONFIG / "docker.toml").read_text()
    venue = venue.replace('host = "0.0.0.0"', 'host = "127.0.0.1"')
    venue = venue.replace("port = 9878", "port = 0").replace("port = 9879", "port = 0")
    venue = venue.replace('data_dir = "/data"', 'data_dir = "data"')
    gp: GatewayProcess = start_gateway(tmp_path, venue)
    try:
        where = ["--config", str(tmp_path / "venue.toml"), "--host", "127.0.0.1",
                 "--port", str(gp.port)]
        feed = tool("ats_tools.feed", [*where, str(CONFIG / "sample_nbbo.csv"), "--speed", "0"],
                    tmp_path)
        assert feed.returncode == 0, feed.stderr
        assert "0 rejected" in feed.stdout

        # both demo clients at once, as compose starts them (with --auto-firmup)
        acme_proc = start("ats_tools.client", [*where, "--session", "ACME1", "--linger", "3",
                                             "--auto-firmup",
                                             "--script", str(CONFIG / "demo_orders.txt")],
                          tmp_path)
        buy_proc = start("ats_tools.client", [*where, "--session", "BUY1", "--linger", "1",
                                            "--auto-firmup",
                                            "--script", str(CONFIG / "demo_orders_buyside.txt")],
                         tmp_path)
        acme, buy = finish(acme_proc), finish(buy_proc)
        assert acme.returncode == 0 and buy.returncode == 0, acme.stderr + buy.stderr
        # ACME's mid-peg buy meets BUYSIDE's mid-peg sell at the last AAPL midpoint of the
        # sample (190.18 x 190.20): 190.19.
        assert "NEW        DEMO-1" in acme.stdout
        assert any(line.startswith("CANCELED") and "(was DEMO-2)" in line
                   for line in acme.stdout.splitlines())
        acme_aapl = [line for line in acme.stdout.splitlines() if line.startswith("PARTIAL")]
        buy_aapl = [line for line in buy.stdout.splitlines()
                    if line.startswith("FILL") and "AAPL" in line]
        assert len(acme_aapl) == 1 and "last=60@190.19" in acme_aapl[0]
        assert len(buy_aapl) == 1 and "last=60@190.19" in buy_aapl[0]

        # the conditional pair (MSFT, ACME buys 200, BUYSIDE sells 150): each side is invited
        # for 150, firms up at once, its CO is cancelled, and the firm-ups trade at the last
        # MSFT midpoint (414.79 x 414.82)
        for out, co in ((acme.stdout, "DEMO-C1"), (buy.stdout, "DEMO-C2")):
            lines = out.splitlines()
            invited_lines = [line for line in lines if line.startswith("INVITED")]
            assert len(invited_lines) == 1, out + acme.stderr + buy.stderr
            [invited] = invited_lines
            assert f"CO={co}" in invited and "MSFT" in invited and "qty=150" in invited
            [firmed] = [line for line in lines
                        if line.startswith("CANCELED") and f" {co} " in line]
            firm_up = firmed.split("text='firmed up by ")[1].split("'")[0]
            [fill] = [line for line in lines if line.startswith("FILL") and firm_up in line]
            assert "MSFT" in fill and "last=150@414.805" in fill, out

        watch = tool("ats_tools.client", [*where, "--session", "DC1", "--watch",
                                        "--duration", "2"], tmp_path)
        assert watch.returncode == 0, watch.stderr
        copies = [line for line in watch.stdout.splitlines() if line.startswith("[")]
        # every report of both sessions, with the order session named (115); invitations
        # are no ExecutionReports: drop copies do not get them
        reports = [line for line in (acme.stdout + buy.stdout).splitlines()
                   if "order=" in line and not line.startswith("INVITED")]
        assert len(copies) == len(reports)
        assert {c.split("]")[0] for c in copies} == {"[ACME1", "[BUY1"}
    finally:
        assert gp.stop() == 0


IMAGE_UID = 10001  # the Dockerfile's `ats` user


def image_user(probe_dir: Path) -> list[str]:
    """A command prefix that runs as the image's user, or skip where this machine cannot.

    Plain `setpriv` to uid 10001; where the interpreter lives somewhere that user cannot read
    (e.g. under /root), the prefix also keeps CAP_DAC_READ_SEARCH: the process may then read
    any file but still writes only where uid 10001 may, which is what the image is about.
    """
    if os.geteuid() != 0 or shutil.which("setpriv") is None:
        pytest.skip("switching to the image's user needs root and setpriv")
    ids = [f"--reuid={IMAGE_UID}", f"--regid={IMAGE_UID}", "--clear-groups"]
    caps = ["--inh-caps=+dac_read_search", "--ambient-caps=+dac_read_search"]
    for prefix in (["setpriv", *ids], ["setpriv", *ids, *caps]):
        probe = subprocess.run([*prefix, sys.executable, "-c", "import ats_tools.client"],
                               cwd=probe_dir, env=dict(os.environ, PYTHONPATH=str(REPO)),
                               capture_output=True, timeout=60, check=False)
        if probe.returncode == 0:
            return prefix
    pytest.skip(f"cannot run the tools as uid {IMAGE_UID} here: {probe.stderr[-300:]!r}")


def test_demo_clients_trade_as_the_images_user_and_resume_after_a_restart(
    tmp_path: Path,
) -> None:
    # As in the image: the working directory (/app) is root's and not writable by the user;
    # client state goes to ATS_CLIENT_STATE_DIR (/state, the compose volume), the user's.
    app = Path(tempfile.mkdtemp(prefix="ats-app-"))
    try:
        app.chmod(0o755)
        state = app / "state"
        state.mkdir()
        os.chown(state, IMAGE_UID, IMAGE_UID)
        as_ats = image_user(app)
        env = {"ATS_CLIENT_STATE_DIR": str(state), "HOME": str(app)}
        venue = (CONFIG / "docker.toml").read_text()
        venue = venue.replace('host = "0.0.0.0"', 'host = "127.0.0.1"')
        venue = venue.replace("port = 9878", "port = 0").replace("port = 9879", "port = 0")
        venue = venue.replace('data_dir = "/data"', 'data_dir = "data"')
        gp = start_gateway(tmp_path, venue)
        (app / "venue.toml").write_text((tmp_path / "venue.toml").read_text())
        where = ["--config", str(app / "venue.toml"), "--host", "127.0.0.1",
                 "--port", str(gp.port)]
        try:
            feed = tool("ats_tools.feed", [*where, str(CONFIG / "sample_nbbo.csv"),
                                           "--speed", "0"], app, as_ats, env)
            assert feed.returncode == 0, feed.stderr
            acme_proc = start("ats_tools.client", [*where, "--session", "ACME1", "--linger",
                                                   "3", "--auto-firmup", "--script",
                                                   str(CONFIG / "demo_orders.txt")],
                              app, as_ats, env)
            buy_proc = start("ats_tools.client", [*where, "--session", "BUY1", "--linger",
                                                  "1", "--auto-firmup", "--script",
                                                  str(CONFIG / "demo_orders_buyside.txt")],
                             app, as_ats, env)
            acme, buy = finish(acme_proc), finish(buy_proc)
            assert acme.returncode == 0 and buy.returncode == 0, acme.stderr + buy.stderr
            assert any(line.startswith("FILL") for line in buy.stdout.splitlines()), buy.stdout
            assert "firmed up by" in acme.stdout and "firmed up by" in buy.stdout
            assert not (app / ".ats-client").exists()
            kept = sorted(p.name for p in state.iterdir())
            assert any("ACME1" in name for name in kept), kept
            assert all(p.stat().st_uid == IMAGE_UID for p in state.iterdir())

            # `docker compose down` / `up`: the gateway remembers the session, and so does the
            # client (its state is on the volume): it logs on where it left off and trades on
            again = tool("ats_tools.client", [*where, "--session", "ACME1", "--linger", "1",
                                              "new buy AAPL 10 peg=mid id=AGAIN-1"],
                         app, as_ats, env)
            assert again.returncode == 0, again.stderr
            assert "NEW        AGAIN-1" in again.stdout
        finally:
            assert gp.stop() == 0
    finally:
        shutil.rmtree(app, ignore_errors=True)
