"""A drop copy that stops reading must not hold up anyone else, and loses nothing."""

from __future__ import annotations

import asyncio
import socket

from tests.e2e.conftest import GatewayProcess
from tests.e2e.fixclient import FixClient, tag
from tests.e2e.orders_helpers import drop_copy_session, two_party_venue

ORDERS = 1000


async def test_stalled_drop_copy_does_not_block_order_entry(gateway) -> None:  # type: ignore[no-untyped-def]
    gp: GatewayProcess = gateway(two_party_venue(drop_copy_session("DC1")))
    # The drop copy connects with a tiny receive buffer and then reads nothing for a while.
    sock = socket.socket()
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 2048)
    sock.setblocking(False)
    await asyncio.get_running_loop().sock_connect(sock, ("127.0.0.1", gp.port))
    dc = FixClient("DC1", "ATS")
    dc.reader, dc.writer = await asyncio.open_connection(sock=sock, limit=2048)
    await dc.logon(reset=True)
    dc.writer.transport.pause_reading()  # stop reading: the kernel buffers fill up

    acme = FixClient("ACME1", "ATS")
    await acme.connect(gp.port)
    await acme.logon(reset=True)
    for i in range(ORDERS):
        await acme.send("D", (11, f"O{i}"), (21, "1"), (55, "AAPL"), (54, "1"), (38, "100"),
                        (40, "2"), (44, "1.00"), (60, "20260101-00:00:00.000"))
    acks = [await acme.expect("8", timeout=20) for _ in range(ORDERS)]
    assert [tag(a, 11) for a in acks] == [f"O{i}" for i in range(ORDERS)]

    # Now the drop copy reads again and gets every copy, in order, once.
    dc.writer.transport.resume_reading()
    copies = [await dc.expect("8", timeout=20) for _ in range(ORDERS)]
    assert [tag(c, 11) for c in copies] == [f"O{i}" for i in range(ORDERS)]
    assert {tag(c, 115) for c in copies} == {"ACME1"}
    seqs = [int(tag(c, 34) or 0) for c in copies]
    assert seqs == list(range(seqs[0], seqs[0] + ORDERS))
    await acme.close()
    await dc.close()
    assert gp.stop() == 0
