"""ats-client and ats-feed with the order classes of SPEC 5 against the real gateway process:
MOC orders sent by the client and crossed by the feed's closing-price row; a conditional pair
firmed up by two clients."""

from __future__ import annotations

import os
import subprocess
import sys
import time
from pathlib import Path

from tests.e2e.conftest import GatewayProcess, start_gateway
from tests.e2e.orders_helpers import order_session, participant, symbol, venue
from tests.e2e.test_orders_moc import _soon, moc_venue
from tests.e2e.test_sandbox import REPO, finish, start


def where(tmp_path: Path, gp: GatewayProcess) -> list[str]:
    return ["--config", str(tmp_path / "venue.toml"), "--host", "127.0.0.1",
            "--port", str(gp.port)]


def run_tool(module: str, args: list[str], cwd: Path, stdin: str = "",
             ) -> subprocess.CompletedProcess[str]:
    """A tool run to its end; stdin is a pipe (never the terminal: no prompt)."""
    return subprocess.run([sys.executable, "-m", module, *args], input=stdin, cwd=cwd,
                          env=dict(os.environ, PYTHONPATH=str(REPO)), capture_output=True,
                          text=True, timeout=60, check=False)


def lines(out: str, kind: str) -> list[str]:
    return [line for line in out.splitlines() if line.startswith(kind)]


def test_client_moc_orders_and_the_feeds_close_row_run_the_cross(tmp_path: Path) -> None:
    cutoff, cutoff_at = _soon()
    gp = start_gateway(tmp_path, moc_venue(cutoff))
    at = where(tmp_path, gp)
    nbbo = "ts,symbol,bid,bid_size,ask,ask_size,close\n"
    close_csv = tmp_path / "close.csv"
    close_csv.write_text(nbbo + "2026-12-02T20:59:00Z,AAPL,190.00,500,190.04,500,\n"
                                "2026-12-02T21:00:00Z,AAPL,,,,,190.01\n")
    try:
        acme = run_tool("ats_tools.client", [*at, "--session", "ACME1", "--linger", "1"], tmp_path,
                        "new buy AAPL 300 moc id=MB1\nnew buy AAPL 100 moc tif=close id=MB2\n")
        beta = run_tool("ats_tools.client", [*at, "--session", "BETA1", "--linger", "1",
                                             "new sell AAPL 250 moc id=MS1"], tmp_path)
        assert acme.returncode == 0 and beta.returncode == 0, acme.stderr + beta.stderr
        assert [line.split()[1] for line in lines(acme.stdout, "NEW")] == ["MB1", "MB2"]
        assert [line.split()[1] for line in lines(beta.stdout, "NEW")] == ["MS1"]

        # a closing price before the cutoff: the feed shows the gateway's refusal, exits 1
        early = run_tool("ats_tools.feed", [*at, str(close_csv), "--speed", "0"], tmp_path)
        assert early.returncode == 1, early.stdout + early.stderr
        assert "before the MOC cutoff" in early.stderr
        assert "sent 2 messages from 2 rows; 1 rejected" in early.stdout
        assert time.time() < cutoff_at, "the machine was too slow to enter the orders in time"

        while time.time() < cutoff_at + 0.05:
            time.sleep(0.05)
        feed = run_tool("ats_tools.feed", [*at, str(close_csv), "--speed", "0"], tmp_path)
        assert feed.returncode == 0, feed.stderr
        assert "sent 2 messages from 2 rows; 0 rejected" in feed.stdout

        # the clients log on again (their state is in .ats-client) and get what they missed
        acme = run_tool("ats_tools.client", [*at, "--session", "ACME1", "--linger", "2"],
                        tmp_path)
        beta = run_tool("ats_tools.client", [*at, "--session", "BETA1", "--linger", "2"],
                        tmp_path)
    finally:
        assert gp.stop() == 0
    assert acme.returncode == 0 and beta.returncode == 0, acme.stderr + beta.stderr
    # sells 250 < buys 400: MS1 meets the larger buy MB1, all at the closing price
    [sold] = lines(beta.stdout, "FILL")
    assert "MS1" in sold and "last=250@190.01" in sold and "(resent)" in sold
    [bought] = lines(acme.stdout, "PARTIAL")
    assert "MB1" in bought and "last=250@190.01" in bought
    cancelled = lines(acme.stdout, "CANCELED")
    assert sorted(line.split()[1] for line in cancelled) == ["MB1", "MB2"]
    assert all("text='MOC cross complete'" in line for line in cancelled)


def test_clients_firm_up_a_conditional_pair(tmp_path: Path) -> None:
    """ACME answers its invitation with --auto-firmup, BETA with a `firmup` line of its own
    (sent right after its CO: the invitation is made when the CO arrives)."""
    config = venue(participant("ACME", broker_dealer=True), participant("BETA"),
                   order_session("ACME1", "ACME"), order_session("BETA1", "BETA"),
                   symbol("AAPL", max_spread="0.50"))
    gp = start_gateway(tmp_path, config.replace('fsync = "batch"\n',
                                                'fsync = "batch"\nfirm_up_window_ms = 20000\n'))
    at = where(tmp_path, gp)
    quote = tmp_path / "nbbo.csv"
    quote.write_text("ts,symbol,bid,bid_size,ask,ask_size\n"
                     "2026-12-02T15:04:00Z,AAPL,10.00,500,10.10,500\n")
    try:
        feed = run_tool("ats_tools.feed", [*at, str(quote), "--speed", "0"], tmp_path)
        assert feed.returncode == 0, feed.stderr
        acme_proc = start("ats_tools.client", [*at, "--session", "ACME1", "--auto-firmup",
                                               "--linger", "6",
                                               "new buy AAPL 300 peg=mid class=C id=CB"],
                          tmp_path)
        assert acme_proc.stdout is not None
        first = acme_proc.stdout.readline()
        assert first.startswith("NEW        CB"), first
        beta = run_tool("ats_tools.client", [*at, "--session", "BETA1", "--linger", "2"],
                        tmp_path, "new sell AAPL 200 limit=10.02 class=C id=CS\n"
                                  "firmup CS qty=150 id=FS\n")
        acme = finish(acme_proc)
    finally:
        assert gp.stop() == 0
    assert acme.returncode == 0 and beta.returncode == 0, acme.stderr + beta.stderr
    acme_out, beta_out = first + acme.stdout, beta.stdout
    # each CO's own session is invited for the smaller leaves, 200
    for out, co, side in ((acme_out, "CB", "BUY"), (beta_out, "CS", "SELL")):
        [invited] = lines(out, "INVITED")
        assert f"CO={co}  {side} AAPL  qty=200 expires=" in invited, out
    # ACME's client firmed up by itself: the invited 200 on the CO's terms (mid-peg, IOC)
    auto = acme.stderr.split("--auto-firmup: sent ")[1].split()[0]
    assert f"text='firmed up by {auto}'" in lines(acme_out, "CANCELED   CB")[0]
    assert "text='firmed up by FS'" in lines(beta_out, "CANCELED   CS")[0]
    # the firm-ups trade at the midpoint, 150 (BETA's quantity); ACME's leaves are cancelled
    [sold] = lines(beta_out, "FILL       FS")
    assert "qty=150" in sold and "last=150@10.05" in sold
    [bought] = lines(acme_out, f"PARTIAL    {auto}")
    assert "qty=200" in bought and "last=150@10.05 added" in bought
    [rest] = lines(acme_out, f"CANCELED   {auto}")
    assert "cum=150 leaves=0" in rest


def test_auto_firmup_against_an_eligible_firm_order(tmp_path: Path) -> None:
    """`eligible` sends 7013=Y: BETA's resting firm sell is an Eligible FRS Order, ACME's CO
    pairs with it on arrival, and --auto-firmup fills against it at once."""
    config = venue(participant("ACME", broker_dealer=True), participant("BETA"),
                   order_session("ACME1", "ACME"), order_session("BETA1", "BETA"),
                   symbol("AAPL", max_spread="0.50"))
    gp = start_gateway(tmp_path, config)
    at = where(tmp_path, gp)
    quote = tmp_path / "nbbo.csv"
    quote.write_text("ts,symbol,bid,bid_size,ask,ask_size\n"
                     "2026-12-02T15:04:00Z,AAPL,10.00,500,10.10,500\n")
    try:
        feed = run_tool("ats_tools.feed", [*at, str(quote), "--speed", "0"], tmp_path)
        assert feed.returncode == 0, feed.stderr
        beta = run_tool("ats_tools.client", [*at, "--session", "BETA1", "--linger", "0.5",
                                             "new sell AAPL 100 limit=10.02 id=N1",
                                             "new sell AAPL 100 limit=10.02 eligible id=E1"],
                        tmp_path)
        acme = run_tool("ats_tools.client", [*at, "--session", "ACME1", "--auto-firmup",
                                             "--linger", "2",
                                             "new buy AAPL 300 peg=mid class=C id=CB"], tmp_path)
    finally:
        assert gp.stop() == 0
    assert acme.returncode == 0 and beta.returncode == 0, acme.stderr + beta.stderr
    # only E1 is a contra for the CO: the invitation is for its 100
    [invited] = lines(acme.stdout, "INVITED")
    assert "CO=CB  BUY AAPL  qty=100" in invited, acme.stdout
    auto = acme.stderr.split("--auto-firmup: sent ")[1].split()[0]
    [filled] = lines(acme.stdout, f"FILL       {auto}")
    assert "qty=100" in filled and "last=100@10.05 removed" in filled, acme.stdout
