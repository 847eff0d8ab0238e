"""Market data after a crash: never applied twice, never older than what the venue had."""

from __future__ import annotations

import asyncio
import signal
from dataclasses import dataclass

from tests.e2e.conftest import GatewayProcess
from tests.e2e.fixclient import tag
from tests.e2e.orders_helpers import Msg, Peer, connect, session, two_party_venue

CONFIG = two_party_venue()


def _quote(bid: str, ask: str) -> tuple[tuple[int, str], ...]:
    return ((55, "AAPL"), (268, "2"), (269, "0"), (270, bid), (271, "500"),
            (269, "1"), (270, ask), (271, "500"))


@dataclass
class Before:
    """What the counterparties saw before the gateway was killed."""

    md: Peer
    acme: Peer
    beta: Peer
    quotes: dict[int, bytes]  # MsgSeqNum -> the W as the feed first sent it


async def _two_orders_resting_then_kill_9(gateway) -> Before:  # type: ignore[no-untyped-def]
    """The issue's steps: W 100.00 x 100.10, W 100.20 x 100.30, a buy and a sell at 100.05
    resting (they do not cross under 100.20 x 100.30), then kill -9."""
    gp: GatewayProcess = gateway(CONFIG)
    md, acme, beta = [await session(gp, s) for s in ("MD1", "ACME1", "BETA1")]
    first = md.fix.build("W", *_quote("100.00", "100.10"))
    await asyncio.sleep(0.002)  # the second quote is sent in a later millisecond (52)
    quotes = {2: first, 3: md.fix.build("W", *_quote("100.20", "100.30"))}
    await md.fix.send_raw(quotes[2] + quotes[3])  # no TestRequest: the feed only gets heartbeats
    await _until_applied(acme, beta)
    await acme.ack("B1", "1", 100, "100.05")
    await beta.ack("S1", "2", 100, "100.05")
    await acme.quiet()
    await beta.quiet()
    assert gp.stop(signal.SIGKILL) == -signal.SIGKILL
    return Before(md, acme, beta, quotes)


async def _until_applied(acme: Peer, beta: Peer) -> None:
    """Wait until the venue has 100.20 x 100.30: only then does a market buy meet a sell at
    100.25 (under 100.00 x 100.10, or with no NBBO, the IOC buy is cancelled)."""
    await beta.ack("PROBE-S", "2", 100, "100.25")
    for i in range(200):
        await acme.ack(f"PROBE-B{i}", "1", 100, None, extra=((59, "3"),))
        report = await acme.expect("8")
        if tag(report, 150) == "2":
            assert tag(report, 31) == "100.25"
            await beta.fill("PROBE-S")
            return
        assert tag(report, 150) == "4", report
    raise AssertionError("the quotes were never applied")


def _copy(before: Before, seq: int, new_seq: int | None = None) -> bytes:
    """The feed's W again, PossDupFlag=Y with its original SendingTime."""
    original = before.quotes[seq]
    sent = original.split(b"\x0152=")[1].split(b"\x01")[0].decode()
    bid_ask = [v.decode() for v in original.split(b"\x01270=")[1:]]
    return before.md.fix.build(
        "W", *_quote(bid_ask[0].split("\x01")[0], bid_ask[1].split("\x01")[0]),
        seq=seq if new_seq is None else new_seq, header=((43, "Y"), (122, sent)))


async def _no_fill_at_100_05(gp: GatewayProcess, before: Before) -> None:
    """The order sessions come back: nothing traded while they were away, and both orders
    are still open with nothing filled."""
    for peer, clid, side in ((before.acme, "B1", "1"), (before.beta, "S1", "2")):
        again, logon = await connect(gp, peer.fix.sender, reset=False, next_seq=peer.fix.next_seq)
        missed = await again.resend(peer.last_in + 1, int(tag(logon, 34) or 0))
        assert [_fills(m) for m in missed] == [None] * len(missed), "traded at a stale NBBO"
        cancelled = await again.cancelled(f"C-{clid}", clid, side)
        assert (tag(cancelled, 14), tag(cancelled, 151)) == ("0", "0")


def _fills(report: Msg) -> str | None:
    return tag(report, 31) if tag(report, 150) in ("1", "2") else None


async def test_kill_9_does_not_make_the_gateway_reapply_market_data(gateway) -> None:  # type: ignore[no-untyped-def]
    before = await _two_orders_resting_then_kill_9(gateway)
    gp: GatewayProcess = gateway(CONFIG)
    md, _ = await connect(gp, "MD1", reset=False, next_seq=before.md.fix.next_seq)
    # Whatever the gateway asks for again, the feed answers as a FIX engine does: PossDup
    # copies of its W messages, its Logon gap-filled. The TestRequest is answered once the
    # gateway has everything before it.
    await md.fix.send("1", (112, "SYNC"))
    while True:
        msg = await md.recv()
        if tag(msg, 35) == "0" and tag(msg, 112) == "SYNC":
            break
        if tag(msg, 35) == "2":
            begin = int(tag(msg, 7) or 0)
            if begin == 1:
                await md.fix.send("4", (123, "Y"), (36, "2"), seq=1,
                                  header=((43, "Y"), (122, "20260101-00:00:00.000")))
            for seq in range(max(begin, 2), 4):
                await md.fix.send_raw(_copy(before, seq))
    await md.quiet()
    await _no_fill_at_100_05(gp, before)
    assert gp.stop() == 0


async def test_a_late_possdup_quote_is_not_applied_after_a_restart(gateway) -> None:  # type: ignore[no-untyped-def]
    before = await _two_orders_resting_then_kill_9(gateway)
    gp: GatewayProcess = gateway(CONFIG)
    md, _ = await connect(gp, "MD1", reset=False, next_seq=before.md.fix.next_seq)
    await md.quiet()  # in sync: nothing to resend
    # The feed sends its first W again under a new MsgSeqNum, flagged PossDup with its
    # original SendingTime: older than the 100.20 x 100.30 the venue has, so not applied.
    await md.fix.send_raw(_copy(before, 2, new_seq=md.fix.next_seq))
    md.fix.next_seq += 1
    await md.quiet()
    await _no_fill_at_100_05(gp, before)
    assert gp.stop() == 0
    assert gp.events("stale_market_data_ignored")
