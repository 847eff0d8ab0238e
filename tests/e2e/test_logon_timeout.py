"""A connection that never logs on is closed, and does not hold up a session that does."""

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
