"""The operator's surface over real HTTP: metrics, health and status of the real gateway process."""

from __future__ import annotations

import asyncio
import errno
import json
import os
import shutil
import urllib.error
import urllib.request
from dataclasses import replace
from pathlib import Path
from typing import Any

import pytest
from prometheus_client.parser import text_string_to_metric_families

from gateway.admin import AdminServer
from gateway.app import build_application
from gateway.config import loads_config
from gateway.server import Gateway
from tests.e2e.conftest import BASE_CONFIG, GatewayProcess
from tests.e2e.fixclient import tag
from tests.e2e.orders_helpers import logged, order_session, session, two_party_venue

VENUE = two_party_venue(order_session("ACME2", "ACME"))


def get(gp: GatewayProcess, path: str) -> tuple[int, str, str]:
    """(status, content type, body) of GET http://127.0.0.1:<admin port><path>."""
    url = f"http://127.0.0.1:{gp.admin_port}{path}"
    try:
        with urllib.request.urlopen(url, timeout=5) as resp:
            return resp.status, resp.headers["Content-Type"], resp.read().decode()
    except urllib.error.HTTPError as err:
        return err.code, err.headers["Content-Type"], err.read().decode()


def get_json(gp: GatewayProcess, path: str, status: int = 200) -> Any:
    code, ctype, body = get(gp, path)
    assert (code, ctype) == (status, "application/json"), body
    return json.loads(body)


def scrape(gp: GatewayProcess) -> dict[tuple[str, tuple[tuple[str, str], ...]], float]:
    """Every sample of /metrics by (name, sorted labels)."""
    code, ctype, body = get(gp, "/metrics")
    assert code == 200 and ctype.startswith("text/plain"), body
    return {(s.name, tuple(sorted(s.labels.items()))): s.value
            for family in text_string_to_metric_families(body) for s in family.samples}


def sess(key: str) -> tuple[tuple[str, str], ...]:
    return (("session", key),)


async def test_metrics_count_the_orders_fills_and_rejects_sent(gateway) -> None:  # type: ignore[no-untyped-def]
    gp = gateway(VENUE)
    md = await session(gp, "MD1")
    await md.nbbo("10.00", "10.10")
    acme, beta = await session(gp, "ACME1"), await session(gp, "BETA1")
    for i in range(5):
        await acme.ack(f"B{i}", "1", 100, "10.05")
    for i in range(3):  # each fills against a resting buy: 3 fills for each side
        await beta.send_order(f"S{i}", "2", 100, "10.05")
        assert tag(await beta.expect("8"), 150) == "0"
        await beta.fill(f"S{i}")
        await acme.fill(f"B{i}")
    await acme.rejected("X1", "1", 100, "10.05", sym="ZZZZ")  # the matcher: unknown symbol
    await acme.rejected("X2", "1", 100, "10.001")  # Rule 612
    await acme.quiet()
    await beta.quiet()

    m = scrape(gp)
    assert m[("ats_orders_received_total", sess("ATS-ACME1"))] == 7
    assert m[("ats_orders_received_total", sess("ATS-BETA1"))] == 3
    assert m[("ats_orders_received_total", sess("ATS-ACME2"))] == 0
    assert m[("ats_fills_total", sess("ATS-ACME1"))] == 3
    assert m[("ats_fills_total", sess("ATS-BETA1"))] == 3
    rejects = {labels: v for (name, labels), v in m.items() if name == "ats_order_rejects_total"}
    assert rejects == {
        (("reason", "unknown_symbol"), ("session", "ATS-ACME1")): 1,
        (("reason", "other"), ("session", "ATS-ACME1")): 1,
    }
    assert m[("ats_sessions_connected", ())] == 3
    assert m[("ats_session_logged_on", sess("ATS-ACME2"))] == 0
    # ACME1 sent Logon, 7 orders and a TestRequest (quiet); it got Logon, 7 reports for its
    # orders, 3 fills and the Heartbeat
    assert m[("ats_messages_received_total", sess("ATS-ACME1"))] == 1 + 7 + 1
    assert m[("ats_messages_sent_total", sess("ATS-ACME1"))] == 1 + 7 + 3 + 1
    assert m[("ats_ack_latency_seconds_count", ())] == 10
    assert m[("ats_ack_latency_seconds_bucket", (("le", "+Inf"),))] == 10
    assert m[("ats_commit_seconds_count", ())] >= 1
    assert m[("ats_resting_orders", (("symbol", "AAPL"),))] == 2  # B3 and B4
    assert m[("ats_storage_ok", ())] == 1

    # the reject decided by the matcher is in the log, with its reason
    await logged(gp, "order_rejected", 1, session="ATS-ACME1", cl_ord_id="X1",
                 reason="unknown_symbol")

    sessions = {s["session"]: s for s in get_json(gp, "/sessions")}
    acme1 = sessions["ATS-ACME1"]
    assert (acme1["state"], acme1["role"], acme1["participant"]) == (
        "logged_on", "order_entry", "ACME")
    assert (acme1["next_target_seq"], acme1["next_sender_seq"]) == (10, 13)
    assert acme1["open_orders"] == 2 and acme1["last_received"].endswith("+00:00")
    assert acme1["peer"].startswith("127.0.0.1:")
    assert sessions["ATS-ACME2"]["state"] == "disconnected"
    assert sessions["ATS-MD1"]["role"] == "market_data"

    [aapl] = get_json(gp, "/symbols")
    assert (aapl["symbol"], aapl["nbb"], aapl["nbo"], aapl["matching"]) == (
        "AAPL", "10.00", "10.10", True)
    assert aapl["bids"] == {"orders": 2, "qty": 200}
    assert aapl["offers"] == {"orders": 0, "qty": 0}


async def test_health_fails_while_the_journal_cannot_be_written(gateway) -> None:  # type: ignore[no-untyped-def]
    gp = gateway(VENUE)
    assert get_json(gp, "/health")["status"] == "ok"
    assert get_json(gp, "/ready")["listening"]["port"] == gp.port

    shutil.rmtree(gp.directory / "data" / "journal")  # the journal's directory is gone
    health = get_json(gp, "/health", status=503)
    assert health["status"] == "failing"
    assert "is gone" in health["checks"]["journal_file"]
    assert "cannot write in" in health["checks"]["journal_dir"]
    assert health["checks"]["sessions_dir"] == "ok"
    assert get_json(gp, "/ready", status=503)["status"] == "not ready"
    assert scrape(gp)[("ats_storage_ok", ())] == 0


async def test_admin_paths_and_methods(gateway) -> None:  # type: ignore[no-untyped-def]
    gp = gateway(VENUE)
    assert get(gp, "/nope")[0] == 404
    request = urllib.request.Request(f"http://127.0.0.1:{gp.admin_port}/metrics", method="POST")
    try:
        urllib.request.urlopen(request, timeout=5)
        raise AssertionError("POST was answered")
    except urllib.error.HTTPError as err:
        assert err.code == 405
    status = get_json(gp, "/status")
    assert set(status) == {"time", "health", "sessions", "symbols"}
    # the listening line names every session with its role
    [listening] = gp.events("listening")
    assert listening["sessions"] == {"ATS-MD1": "market_data", "ATS-ACME1": "order_entry",
                                     "ATS-BETA1": "order_entry", "ATS-ACME2": "order_entry"}


async def test_metrics_name_the_build_and_the_memory_held(gateway) -> None:  # type: ignore[no-untyped-def]
    gp = gateway(VENUE)
    [listening] = gp.events("listening")
    got = scrape(gp)
    assert got[("ats_build_info", (("build", listening["build"]),
                                   ("memory", listening["memory"])))] == 1
    held = got[("ats_memory_huge_reserved_bytes", ())]
    if listening["memory"] == "huge-page arenas":
        assert held >= 64 << 20 and held % (64 << 20) == 0  # whole reservations
    else:
        assert held == 0


async def http_get(port: int, path: str) -> tuple[int, Any]:
    """GET over a raw socket: the admin server runs on this test's own event loop."""
    reader, writer = await asyncio.open_connection("127.0.0.1", port)
    writer.write(f"GET {path} HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n".encode())
    raw = await asyncio.wait_for(reader.read(), timeout=5)
    writer.close()
    head, _, body = raw.partition(b"\r\n\r\n")
    return int(head.split()[1]), json.loads(body)


async def test_health_fails_after_a_journal_fsync_error(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    cfg = loads_config(BASE_CONFIG, base=tmp_path)
    gw = Gateway(cfg, tmp_path / "data")
    gw.app = build_application(cfg, gw)
    admin = AdminServer(gw, replace(cfg.admin, port=0))
    port = await admin.start()
    await gw.start(port=0)
    try:
        assert await http_get(port, "/health") == (200, {"status": "ok", "checks": {
            "storage": "ok", "journal_file": "ok", "sessions_dir": "ok", "journal_dir": "ok"}})

        def failing_fdatasync(fd: int) -> None:
            raise OSError(errno.EIO, "Input/output error")

        # the disk fails under the journal: the group commit's fdatasync reports an error
        monkeypatch.setattr(os, "fdatasync", failing_fdatasync)
        monkeypatch.setattr(os, "fsync", failing_fdatasync)
        gw.flush()
        monkeypatch.undo()
        status, health = await http_get(port, "/health")
        assert status == 503 and health["status"] == "failing"
        assert "Input/output error" in health["checks"]["storage"]
        assert (await http_get(port, "/ready"))[0] == 503
    finally:
        await gw.shutdown(grace=0.2)
        await admin.close()
