"""The venue under hostile input over real TCP: one bad connection harms no other session."""

from __future__ import annotations

import asyncio

from tests.e2e.conftest import GatewayProcess
from tests.e2e.fixclient import FixClient, tag
from tests.e2e.orders_helpers import (
    drop_copy_session,
    reports_of,
    session,
    two_party_venue,
)

CHUNK = b"x" * 65536


async def _closed_by_gateway(client: FixClient, timeout: float = 10.0) -> bool:
    """True once the gateway closed the connection (a reset counts: it may close unread)."""
    try:
        return await client.closed(timeout)
    except ConnectionError:
        return True


async def _logged(gp: GatewayProcess, event: str, needle: str, timeout: float = 10.0) -> str:
    """The `reason` of the first `event` log line whose reason contains `needle`."""
    loop = asyncio.get_running_loop()
    deadline = loop.time() + timeout
    while loop.time() < deadline:
        for e in gp.events(event):
            if needle in str(e.get("reason", "")):
                return str(e["reason"])
        await asyncio.sleep(0.02)
    raise AssertionError(f"no {event} log line mentioning {needle!r}")


async def test_endless_frame_is_closed_and_other_sessions_are_answered_meanwhile(gateway) -> None:  # type: ignore[no-untyped-def]
    gp = gateway()
    good = FixClient("ACME1", "ATS")
    await good.connect(gp.port)
    await good.logon(reset=True)
    flood = FixClient("TW42", "ISLD")
    await flood.connect(gp.port)
    await flood.logon(heartbeat=0, reset=True)  # no heartbeats: no timeout would ever end it

    await flood.send_raw(b"8=FIX.4.2\x019=5\x0135=0\x01")
    for _ in range(8):  # 512 KiB of a frame that never ends: under the bound, still pending
        await flood.send_raw(CHUNK)
    await good.send("1", (112, "DURING"))
    assert tag(await good.expect("0"), 112) == "DURING"

    try:
        for _ in range(56):  # up to 4 MiB in all, far past the maximum message size
            await flood.send_raw(CHUNK)
    except ConnectionError:
        pass  # the gateway closed it
    assert await _closed_by_gateway(flood)
    reason = await _logged(gp, "disconnecting", "CheckSum")
    assert reason.startswith("garbled")
    await good.send("1", (112, "AFTER"))
    assert tag(await good.expect("0"), 112) == "AFTER"
    await good.close()
    await flood.close()


async def test_1d_logon_with_wrong_body_length_is_disconnected_at_once(gateway) -> None:  # type: ignore[no-untyped-def]
    gp = gateway()
    client = FixClient("ACME1", "ATS")
    await client.connect(gp.port)
    raw = client.build("A", (98, "0"), (108, "30"))
    head, _, rest = raw.split(b"\x01", 2)
    await client.send_raw(head + b"\x019=40\x01" + rest)  # QuickFIX 1d_InvalidLogonLengthInvalid
    # closed at once: well before the 10 s logon timeout, and without a word
    assert await client.recv(timeout=5) is None
    await _logged(gp, "connection_refused", "Logon")
    await client.close()


async def test_sequence_reset_to_2_pow_64_is_rejected_and_fills_still_go_out(gateway) -> None:  # type: ignore[no-untyped-def]
    gp = gateway(two_party_venue(drop_copy_session("DC1")))
    md, acme, beta, dc = [await session(gp, s) for s in ("MD1", "ACME1", "BETA1", "DC1")]
    await md.nbbo("10.00", "10.10")
    await acme.ack("B1", "1", 100, "10.05")

    # SequenceReset-Reset ignores its own MsgSeqNum: sent with the next one, not consuming it
    await acme.fix.send("4", (36, str(2**64)), seq=acme.fix.next_seq)
    reject = await acme.expect("3")
    assert (tag(reject, 373), tag(reject, 371)) == ("6", "36")

    await beta.send_order("S1", "2", 100, "10.05")
    await beta.drain()
    fill = await acme.fill("B1")
    assert (tag(fill, 32), tag(fill, 31)) == ("100", "10.05")
    copies = reports_of(await dc.drain())
    fills = [(tag(r, 115), tag(r, 11)) for r in copies if tag(r, 150) in ("1", "2")]
    assert sorted(fills) == [("ACME1", "B1"), ("BETA1", "S1")]
    await acme.quiet()  # and the order session goes on as normal


async def test_megabyte_compid_is_refused_and_logged_cut(gateway) -> None:  # type: ignore[no-untyped-def]
    gp = gateway()
    client = FixClient("C" * 1_000_000, "ATS")
    await client.connect(gp.port)
    await client.send("A", (98, "0"), (108, "30"))
    assert await _closed_by_gateway(client)
    reason = await _logged(gp, "connection_refused", "unknown CompID")
    assert len(reason) < 300 and "1000000 chars" in reason
    await client.close()


async def test_an_http_probe_on_the_fix_port_is_refused_at_once(gateway) -> None:  # type: ignore[no-untyped-def]
    """A connection whose first bytes cannot begin a FIX message (an HTTP health probe sent
    to the FIX port by mistake) is closed at once, not held until the 10 s logon timeout."""
    gp = gateway()
    reader, writer = await asyncio.open_connection("127.0.0.1", gp.port)
    writer.write(b"GET /health HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n")
    await writer.drain()
    assert await asyncio.wait_for(reader.read(), timeout=5) == b""  # closed, nothing answered
    writer.close()
    reason = await _logged(gp, "connection_refused", "not a FIX stream")
    assert "GET /" in reason
    # a real counterparty whose Logon arrives a byte at a time still logs on
    client = FixClient("ACME1", "ATS")
    await client.connect(gp.port)
    logon = client.build("A", (98, "0"), (108, "30"), (141, "Y"))
    for i in range(len(logon)):
        await client.send_raw(logon[i : i + 1])
    assert (await client.expect("A")) is not None
