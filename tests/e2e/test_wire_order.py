"""What goes out on one connection goes out in MsgSeqNum order, resends included."""

from __future__ import annotations

import asyncio
import re
import time
from pathlib import Path

from gateway.fix import FileStore, Session, SessionSettings
from tests.e2e.conftest import GatewayProcess
from tests.e2e.fixclient import FixClient, tag, utc_now
from tests.e2e.orders_helpers import drop_copy_session, two_party_venue

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
    # the order's report, then the answer to the TestRequest sent after it, numbered in turn
    assert [t for t, _ in sent] == ["8", "0"], sent
    assert sent[1][1] == sent[0][1] + 1, f"out of order: {sent}"
    await acme.close()


# -- a long resend ---------------------------------------------------------------------------

BEHIND = 10_000  # stored reports the drop copy has not seen
TEXT = b"x" * 8000  # ~80 MB in all: more than a connection may have unsent (64 MiB)


def _store_reports(data_dir: Path) -> None:
    """The drop copy's store as a gateway left it: BEHIND copies it never received."""
    store = FileStore(data_dir / "sessions", "ATS-DC1")
    session = Session(SessionSettings(sender_comp_id="ATS", target_comp_id="DC1"), store)
    for i in range(BEHIND):
        body = b"37=%d\x0111=C%d\x0117=%d\x0120=0\x01150=0\x0139=0\x0155=AAPL\x0154=1\x01" \
               b"38=100\x01151=100\x0114=0\x016=0\x0158=%s\x01" % (i + 1, i, i + 1, TEXT)
        assert session.send_app("8", body, time.time_ns(), b"115=ACME1\x01") is None
    store.close()


class _RawReader:
    """Frames FIX messages off a stream without keeping what was read."""

    def __init__(self, reader: asyncio.StreamReader) -> None:
        self.reader = reader
        self.buf = b""
        self.pos = 0

    async def next(self, timeout: float = 30.0) -> tuple[str, int, bytes]:
        """(MsgType, MsgSeqNum, the header fields) of the next message."""
        while True:
            head = _HEAD.match(self.buf, self.pos)
            if head is not None:
                end = head.end() + int(head.group(1)) + 7
                if len(self.buf) >= end:
                    start, self.pos = self.pos, end
                    found = _SEQ.search(self.buf, start, start + 60)
                    assert found is not None, self.buf[start : start + 80]
                    return found.group(1).decode(), int(found.group(2)), self.buf[start:start + 200]
            chunk = await asyncio.wait_for(self.reader.read(1 << 20), timeout)
            assert chunk, "the gateway closed the drop copy's connection"
            self.buf = self.buf[self.pos :] + chunk
            self.pos = 0


_HEAD = re.compile(rb"8=FIX\.4\.2\x019=(\d+)\x01")


async def test_a_drop_copy_far_behind_gets_everything_while_others_are_served(
    gateway, tmp_path: Path  # type: ignore[no-untyped-def]
) -> None:
    _store_reports(tmp_path / "data")
    gp: GatewayProcess = gateway(two_party_venue(drop_copy_session("DC1", message_log=False)))
    dc = FixClient("DC1", "ATS")
    await dc.connect(gp.port)
    assert dc.reader is not None
    reader = _RawReader(dc.reader)
    await dc.send("A", (98, "0"), (108, "30"))  # 34=1: no reset
    assert (await reader.next())[:2] == ("A", BEHIND + 1)
    await dc.send("2", (7, "1"), (16, "0"))
    # While the drop copy has read none of it, another session is answered.
    acme = FixClient("ACME1", "ATS")
    await acme.connect(gp.port)
    await acme.logon(reset=True)
    await acme.send("1", (112, "STILL-SERVED"))
    assert tag(await acme.expect("0", timeout=30), 112) == "STILL-SERVED"

    expected = 1
    while expected <= BEHIND:
        mtype, seq, head = await reader.next()
        assert (mtype, seq) == ("8", expected), f"expected {expected}, got {mtype} {seq}"
        assert b"\x0143=Y\x01" in head
        expected += 1
    mtype, seq, head = await reader.next()  # our Logon: gap-filled
    assert (mtype, seq) == ("4", BEHIND + 1) and b"\x0136=%d\x01" % (BEHIND + 2) in head
    await dc.send("1", (112, "IN-SYNC"))
    mtype, seq, head = await reader.next()
    assert (mtype, seq) == ("0", BEHIND + 2), "the drop copy is in sync: no gap, no resend"
    assert not gp.events("slow_consumer_disconnected")
    await acme.close()
    await dc.close()
    assert gp.stop() == 0
