"""A long resend to a drop copy that reads slowly, asks again, or logs out half way through.

The drop copy is a strict FIX engine of our own over real TCP: it checks every MsgSeqNum it
gets against the one it expects, and the content of every number it gets twice.
"""

from __future__ import annotations

import asyncio
import re
import socket
import time
from pathlib import Path

from gateway.fix import FileStore, Session, SessionSettings
from tests.e2e.conftest import GatewayProcess
from tests.e2e.fixclient import FixClient
from tests.e2e.orders_helpers import connect, drop_copy_session, two_party_venue

BEHIND = 3000  # stored reports the drop copy never received (about 3 MB)
CONFIG = two_party_venue(drop_copy_session("DC1", message_log=False))
_HEAD = re.compile(rb"8=FIX\.4\.2\x019=(\d+)\x01")
_VOLATILE = {b"9", b"10", b"43", b"52", b"122"}


def _store_reports(data_dir: Path, text: int) -> None:
    """The drop copy's store as a gateway left it: BEHIND copies it never received."""
    store = FileStore(data_dir / "sessions", "ATS-DC1")
    session = Session(SessionSettings(sender_comp_id="ATS", target_comp_id="DC1"), store)
    for i in range(BEHIND):
        body = b"37=%d\x0111=C%d\x0117=%d\x0120=0\x01150=0\x0139=0\x0155=AAPL\x0154=1\x01" \
               b"38=100\x01151=100\x0114=0\x016=0\x0158=%s\x01" % (i + 1, i, i + 1, b"x" * text)
        assert session.send_app("8", body, time.time_ns(), b"115=ACME1\x01") is None
    store.close()


def _fields(raw: bytes) -> dict[bytes, bytes]:
    return dict(p.partition(b"=")[::2] for p in raw.split(b"\x01") if p)


class StrictDropCopy:
    """Reads `chunk` bytes at a time, `pause` seconds apart; checks order and content."""

    def __init__(self, fix: FixClient, chunk: int = 1 << 20, pause: float = 0.0) -> None:
        self.fix, self.chunk, self.pause = fix, chunk, pause
        self.expected = 1
        self.content: dict[int, bytes] = {}
        self.buf = b""

    async def next(self, timeout: float = 20.0) -> dict[bytes, bytes] | None:
        """The next message, checked (None when the gateway closed the connection)."""
        assert self.fix.reader is not None
        while True:
            head = _HEAD.match(self.buf)
            if head is not None and len(self.buf) >= head.end() + int(head.group(1)) + 7:
                end = head.end() + int(head.group(1)) + 7
                raw, self.buf = self.buf[:end], self.buf[end:]
                return self._check(raw)
            if self.pause:
                await asyncio.sleep(self.pause)
            data = await asyncio.wait_for(self.fix.reader.read(self.chunk), timeout)
            if not data:
                return None
            self.buf += data

    def _check(self, raw: bytes) -> dict[bytes, bytes]:
        f = _fields(raw)
        seq = int(f[b"34"])
        content = b"|".join(p for p in raw.split(b"\x01") if p.partition(b"=")[0] not in
                            _VOLATILE)
        if not (f[b"35"] == b"4" and f.get(b"123") == b"Y"):
            before = self.content.setdefault(seq, content)
            assert before == content, f"MsgSeqNum {seq} carried {before!r}, now {content!r}"
        if f[b"35"] == b"A" or f[b"35"] == b"5":
            return f  # a Logon or Logout may come above a gap: the test decides
        assert seq <= self.expected, f"MsgSeqNum {seq} while expecting {self.expected}"
        if seq < self.expected:
            assert f.get(b"43") == b"Y", f"MsgSeqNum {seq} again without PossDupFlag"
        elif f[b"35"] == b"4" and f.get(b"123") == b"Y":
            self.expected = int(f[b"36"])
        else:
            self.expected = seq + 1
        return f

    async def until(self, test_req_id: bytes) -> list[dict[bytes, bytes]]:
        got = []
        while True:
            f = await self.next()
            assert f is not None, "the gateway closed the drop copy's connection"
            if f[b"35"] == b"0" and f.get(b"112") == test_req_id:
                return got
            got.append(f)


async def _small_window(fix: FixClient, port: int) -> None:
    """Connect with a small receive buffer, so the resend is still under way while the
    drop copy reads: the gateway's flow control, not the kernel's buffers, holds it back."""
    sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 32 * 1024)
    sock.setblocking(False)
    await asyncio.get_running_loop().sock_connect(sock, ("127.0.0.1", port))
    fix.reader, fix.writer = await asyncio.open_connection(sock=sock)


async def _behind(gateway, tmp_path: Path, text: int, **reading: float) -> tuple[  # type: ignore[no-untyped-def]
        GatewayProcess, StrictDropCopy]:
    """A drop copy BEHIND reports of about `text` bytes behind, logged on (no reset)."""
    _store_reports(tmp_path / "data", text)
    gp: GatewayProcess = gateway(CONFIG)
    fix = FixClient("DC1", "ATS")
    await _small_window(fix, gp.port)
    dc = StrictDropCopy(fix, **reading)  # type: ignore[arg-type]
    await fix.send("A", (98, "0"), (108, "30"))
    logon = await dc.next()
    assert logon is not None and int(logon[b"34"]) == BEHIND + 1
    return gp, dc


async def _live_copies(gp: GatewayProcess, n: int) -> None:
    """ACME enters `n` orders: their copies are made while the drop copy's resend goes on."""
    acme, _ = await connect(gp, "ACME1")
    md, _ = await connect(gp, "MD1")
    await md.nbbo("10.00", "10.10")
    for i in range(n):
        await acme.ack(f"LIVE{i}", "1", 100, "10.01")


async def test_a_slow_reader_asking_again_mid_resend_gets_everything_in_order(  # type: ignore[no-untyped-def]
    gateway, tmp_path: Path
) -> None:
    # 24 MB: more than the kernel's socket buffers take, so the resend is under way
    gp, dc = await _behind(gateway, tmp_path, 8000, chunk=64 * 1024, pause=0.002)
    await dc.fix.send("2", (7, "1"), (16, "0"))
    while dc.expected < 300:  # part of the resend read, slowly
        assert await dc.next() is not None
    await _live_copies(gp, 5)
    await dc.fix.send("2", (7, "1"), (16, "5"))  # asks again for a few: replaces the first
    await dc.fix.send("1", (112, "DONE"))
    got = await dc.until(b"DONE")
    live = [f[b"11"] for f in got if f[b"35"] == b"8" and f.get(b"43") != b"Y"]
    assert live == [b"LIVE%d" % i for i in range(5)]
    assert dc.expected > BEHIND + 6, "the resend was cut short"
    assert not gp.events("slow_consumer_disconnected")
    assert gp.stop() == 0


async def test_a_logout_mid_resend_then_a_logon_gets_the_rest_in_order(  # type: ignore[no-untyped-def]
    gateway, tmp_path: Path
) -> None:
    # 24 MB: more than the kernel's socket buffers take, so the resend is under way
    gp, dc = await _behind(gateway, tmp_path, 8000, chunk=64 * 1024, pause=0.002)
    await dc.fix.send("2", (7, "1"), (16, "0"))
    while dc.expected < 300:
        assert await dc.next() is not None
    await _live_copies(gp, 3)
    await dc.fix.send("5")
    while True:  # the rest of what was already written, then the Logout answer
        f = await dc.next()
        assert f is not None, "closed without answering the Logout"
        if f[b"35"] == b"5":
            break
    assert await dc.next() is None
    assert dc.expected < BEHIND, "the test needs the Logout to cut the resend"
    # the next Logon (no reset): the gateway's Logon is above what the drop copy has,
    # it asks for the rest and gets it, in order, the live copies included
    fix = FixClient("DC1", "ATS", next_seq=dc.fix.next_seq)
    await fix.connect(gp.port)
    dc.fix, dc.buf, dc.chunk, dc.pause = fix, b"", 1 << 20, 0.0
    await fix.send("A", (98, "0"), (108, "30"))
    logon = await dc.next()
    assert logon is not None and logon[b"35"] == b"A"
    await fix.send("2", (7, str(dc.expected)), (16, "0"))
    await fix.send("1", (112, "DONE"))
    got = await dc.until(b"DONE")
    assert [f[b"11"] for f in got if f[b"35"] == b"8" and f[b"11"].startswith(b"LIVE")] == [
        b"LIVE0", b"LIVE1", b"LIVE2"]
    assert dc.expected == int(logon[b"34"]) + 2  # everything through the Heartbeat
    assert gp.stop() == 0


async def test_a_burst_of_resend_requests_is_answered_once(  # type: ignore[no-untyped-def]
    gateway, tmp_path: Path
) -> None:
    gp, dc = await _behind(gateway, tmp_path, 900)
    # 2,000 ResendRequests for everything in one write (165 kB): each used to build a chunk
    # of up to 256 KiB at once (110 MB more memory, every session stalled for seconds)
    burst = b"".join(dc.fix.build("2", (7, "1"), (16, "0")) for _ in range(2000))
    await dc.fix.send_raw(burst)
    acme, _ = await connect(gp, "ACME1")
    await acme.quiet()  # another session is served meanwhile
    await dc.fix.send("1", (112, "DONE"))
    got = await dc.until(b"DONE")
    assert dc.expected == BEHIND + 3  # in sync: the reports, our Logon, the Heartbeat
    assert len(got) < 2 * BEHIND, f"{len(got)} messages for {BEHIND} asked 2,000 times"
    assert gp.stop() == 0


async def test_a_reply_made_before_a_resend_is_not_sent_in_the_middle_of_it(  # type: ignore[no-untyped-def]
    gateway, tmp_path: Path
) -> None:
    gp, dc = await _behind(gateway, tmp_path, 900)
    # a TestRequest, then a ResendRequest, in one write: the Heartbeat is made first
    await dc.fix.send_raw(dc.fix.build("1", (112, "FIRST")) + dc.fix.build("2", (7, "1"),
                                                                          (16, "0")))
    dc.expected = BEHIND + 2  # after our Logon: what a FIX engine expects next
    first = await dc.next()
    assert first is not None and (first[b"35"], first.get(b"112")) == (b"0", b"FIRST")
    dc.expected = 1  # then the resend, from 1, with nothing else in the middle of it
    await dc.fix.send("1", (112, "DONE"))
    got = await dc.until(b"DONE")
    assert len(got) == BEHIND + 1  # the reports, then one gap fill over our Logon and Heartbeat
    assert dc.expected == BEHIND + 4
    assert gp.stop() == 0
