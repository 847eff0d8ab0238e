"""A real full filesystem while a drop copy is being resent to and a feed streams quotes.

The real gateway process on a small tmpfs (skipped where one cannot be mounted): the disk
fills while a drop copy that logged on behind asks for everything and reads nothing yet, the
market-data feed streams quotes and an order session enters orders. The gateway must stop with
one `storage_failed` and exit 74; after space is back and a restart, nothing any counterparty
was told is lost or contradicted.
"""

from __future__ import annotations

import asyncio
import subprocess
from pathlib import Path

import pytest

from gateway.storage import EXIT_STORAGE_FAILED
from tests.e2e.conftest import GatewayProcess, start_gateway
from tests.e2e.fixclient import tag, utc_now
from tests.e2e.orders_helpers import drop_copy_session, two_party_venue
from tests.e2e.test_storage_faults import (
    Wire,
    _fill,
    _mount_tmpfs,
    assert_no_id_reused,
    cancel_every,
)

CONFIG = two_party_venue(drop_copy_session("DC1"))
BEHIND = 600  # orders whose copies the drop copy has not received when it logs on again


async def _orders(acme: Wire, first: int, n: int, price: str = "10.01") -> bool:
    """`n` pipelined resting buys, 20 at a time; False once the gateway stopped."""
    for start in range(first, first + n, 20):
        for i in range(start, min(start + 20, first + n)):
            await acme.fix.send("D", (11, f"O{i}"), (21, "1"), (55, "AAPL"), (54, "1"),
                                (38, "100"), (40, "2"), (44, price), (60, utc_now()))
        answered = 0
        while answered < min(20, first + n - start):
            msg = await acme.next()
            if msg is None:
                return False
            if tag(msg, 35) == "8":
                assert tag(msg, 150) == "0", msg
                answered += 1
    return True


async def _quotes(md: Wire, stop: asyncio.Event) -> None:
    """Quotes as fast as the gateway takes them, until it closes the feed's connection."""
    n = 0
    while not stop.is_set():
        bid = f"10.{n % 50:02d}"
        ask = f"10.{n % 50 + 10:02d}"
        try:
            await md.fix.send("W", (55, "AAPL"), (268, "2"), (269, "0"), (270, bid),
                              (271, "500"), (269, "1"), (270, ask), (271, "500"))
        except (ConnectionError, OSError):
            return
        n += 1
        await asyncio.sleep(0.001)


async def _read_all(wire: Wire) -> None:
    while await wire.next(timeout=20) is not None:
        pass


@pytest.mark.parametrize("fsync", ["batch", "always"])
async def test_full_tmpfs_during_a_resend_and_a_quote_stream_loses_nothing(
    tmp_path: Path, fsync: str
) -> None:
    config = CONFIG.replace('fsync = "batch"', f'fsync = "{fsync}"')
    assert f'fsync = "{fsync}"' in config
    data = tmp_path / "data"
    _mount_tmpfs(data, "3m")
    procs: list[GatewayProcess] = []
    acme, dc, md = Wire("ACME1"), Wire("DC1"), Wire("MD1")
    try:
        gp = start_gateway(tmp_path, config)
        procs.append(gp)
        for wire in (acme, dc, md):
            await wire.logon(gp.port, reset=True)
        await md.fix.send("W", (55, "AAPL"), (268, "2"), (269, "0"), (270, "10.00"),
                          (271, "500"), (269, "1"), (270, "10.10"), (271, "500"))
        await dc.fix.close()  # the drop copy goes away; its copies are stored
        assert await _orders(acme, 0, BEHIND)
        await dc.logon(gp.port, reset=False)
        await dc.fix.send("2", (7, "1"), (16, "0"))  # everything, but read nothing yet
        stop = asyncio.Event()
        streaming = asyncio.create_task(_quotes(md, stop))
        filler = _fill(data, leave=96 * 1024)
        assert not await _orders(acme, BEHIND, 5000), "the full disk did not stop the gateway"
        stop.set()
        await streaming
        assert "gateway storage failure" in (tag(acme.logouts[-1], 58) or "")
        await asyncio.gather(_read_all(dc), _read_all(md))  # checked as they are read
        rc = await asyncio.to_thread(gp.proc.wait, 15)
        assert rc == EXIT_STORAGE_FAILED
        assert gp.reader is not None
        gp.reader.join(5)
        assert len(gp.events("storage_failed")) == 1, gp.events("storage_failed")
        assert not [e for e in gp.log_lines if "Traceback" in str(e.get("line", ""))]
        filler.unlink()

        # space is back: every number means what it meant, every ack is an order
        gp = start_gateway(tmp_path, config)
        procs.append(gp)
        for wire in (acme, dc, md):
            through = await wire.logon(gp.port, reset=False) - 1
            if wire is not md:
                await wire.resend_all(through)
        acked = {tag(r, 11) or "" for r in acme.reports if tag(r, 150) == "0"}
        assert len(acked) >= BEHIND
        await cancel_every(acme, acked)
        await dc.fix.send("1", (112, "END"))
        while True:
            msg = await dc.next()
            assert msg is not None
            if tag(msg, 35) == "0" and tag(msg, 112) == "END":
                break
        assert_no_id_reused(acme.reports, dc.reports)
        assert {tag(r, 17) for r in acme.reports} <= {tag(r, 17) for r in dc.reports}
        assert gp.stop() == 0
    finally:
        for p in procs:
            if p.proc.poll() is None:
                p.proc.kill()
                p.proc.wait(10)
        subprocess.run(["umount", "-l", str(data)], check=False)
