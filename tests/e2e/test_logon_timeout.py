"""Connections that must not become sessions: silent ones, and ones from outside allowed_ips."""

from __future__ import annotations

import asyncio
from pathlib import Path

from gateway.config import loads_config
from gateway.server import Gateway
from tests.e2e.conftest import BASE_CONFIG
from tests.e2e.fixclient import FixClient, tag


async def test_silent_connection_is_closed_after_the_logon_timeout(tmp_path: Path) -> None:
    gateway = Gateway(loads_config(BASE_CONFIG, base=tmp_path), tmp_path / "data")
    gateway.logon_timeout_ns = 300_000_000  # 0.3 s instead of 10 s, to keep the test short
    port = await gateway.start(port=0)
    try:
        reader, writer = await asyncio.open_connection("127.0.0.1", port)
        good = FixClient("ACME1", "ATS")
        await good.connect(port)
        assert tag(await good.logon(reset=True), 35) == "A"
        # the silent one is closed by the gateway (EOF) within a few ticks, without a word
        assert await asyncio.wait_for(reader.read(100), timeout=5) == b""
        await good.send("1", (112, "STILL-HERE"))
        assert tag(await good.expect("0"), 112) == "STILL-HERE"
        writer.close()
        await good.close()
    finally:
        await gateway.shutdown(grace=0.5)


async def test_logon_from_an_address_outside_allowed_ips_gets_no_answer(tmp_path: Path) -> None:
    venue = BASE_CONFIG.replace('target_comp_id = "ACME1"',
                                'target_comp_id = "ACME1"\nallowed_ips = ["10.0.0.0/8"]')
    venue = venue.replace('target_comp_id = "TW42"',
                          'target_comp_id = "TW42"\nallowed_ips = ["127.0.0.1"]')
    gateway = Gateway(loads_config(venue, base=tmp_path), tmp_path / "data")
    port = await gateway.start(port=0)
    try:
        outsider = FixClient("ACME1", "ATS")
        await outsider.connect(port)
        await outsider.send("A", (98, "0"), (108, "30"), (141, "Y"))
        assert await outsider.recv(timeout=5) is None  # closed without a Logon or Logout
        allowed = FixClient("TW42", "ISLD")
        await allowed.connect(port)
        assert tag(await allowed.logon(reset=True), 35) == "A"
        await outsider.close()
        await allowed.close()
    finally:
        await gateway.shutdown(grace=0.5)
