"""What goes out on one connection goes out in MsgSeqNum order, resends included."""

from __future__ import annotations

import asyncio
import re

from tests.e2e.conftest import GatewayProcess
from tests.e2e.fixclient import FixClient, utc_now

_SEQ = re.compile(rb"\x0135=([^\x01]+)\x0134=(\d+)\x01")


def _types_and_seqs(data: bytes) -> list[tuple[str, int]]:
    return [(m.group(1).decode(), int(m.group(2))) for m in _SEQ.finditer(data)]


async def test_a_report_and_a_heartbeat_from_one_read_go_out_in_seq_order(gateway) -> None:  # type: ignore[no-untyped-def]
    gp: GatewayProcess = gateway()
    acme = FixClient("ACME1", "ATS")
    await acme.connect(gp.port)
    await acme.logon(reset=True)
    order = acme.build("D", (11, "O1"), (21, "1"), (55, "AAPL"), (54, "1"), (38, "100"),
                       (40, "2"), (44, "10.00"), (60, utc_now()))
    test_request = acme.build("1", (112, "AFTER-D"))
    await acme.send_raw(order + test_request)  # 34=2 and 34=3 in one TCP write
    assert acme.reader is not None
    wire = b""
    while b"112=AFTER-D\x01" not in wire:
        chunk = await asyncio.wait_for(acme.reader.read(65536), 5)
        assert chunk, "the gateway closed the connection"
        wire += chunk
    sent = _types_and_seqs(wire)
    assert sorted(t for t, _ in sent) == ["0", "8"], sent
    seqs = [s for _, s in sent]
    assert seqs == sorted(seqs) and len(set(seqs)) == len(seqs), f"out of order: {sent}"
    await acme.close()
