"""The MOC session over FIX (SPEC 5.2): the cutoff, the closing cross, kill -9 in between.

The venue runs on UTC with a cutoff a few seconds after the gateway starts, so the test can
enter orders before it and see what happens from it on; the wait is for the wall clock to
pass the cutoff, never an assertion on time.
"""

from __future__ import annotations

import asyncio
import signal
import time

from tests.e2e.fixclient import tag, utc_now
from tests.e2e.orders_helpers import (
    Peer,
    _show,
    connect,
    drop_copy_session,
    logged,
    order_session,
    participant,
    session,
    symbol,
    venue,
)

MOC = "5"
LEAD = 15  # seconds from the config's writing to the cutoff: start, orders, a kill -9 restart


def moc_venue(cutoff: str, *, timezone: str = "UTC") -> str:
    """ACME and ACME2 (one broker group), BETA (not a broker-dealer), GAMMA and DELTA opted
    in to the MOC session; NOPE is not. DELTA1 cancels on disconnect."""
    text = venue(
        participant("ACME", broker_dealer=True, broker_group="GA", moc_opt_in=True),
        participant("ACME2", broker_dealer=True, broker_group="GA", moc_opt_in=True),
        participant("BETA", moc_opt_in=True),
        participant("GAMMA", broker_dealer=True, moc_opt_in=True),
        participant("DELTA", broker_dealer=True, moc_opt_in=True),
        participant("NOPE", broker_dealer=True),
        order_session("ACME1", "ACME"), order_session("ACMEB", "ACME2"),
        order_session("BETA1", "BETA"), order_session("GAMMA1", "GAMMA"),
        order_session("DELTA1", "DELTA", cancel_on_disconnect=True),
        order_session("NOPE1", "NOPE"),
        drop_copy_session("DC1", timestamp_precision="ns"),
        symbol("AAPL"), symbol("MSFT"))
    return text.replace('fsync = "batch"\n',
                        f'fsync = "batch"\ntimezone = "{timezone}"\nmoc_cutoff = "{cutoff}"\n')


def _soon() -> tuple[str, float]:
    """A UTC cutoff LEAD seconds ahead (after midnight when that is close) and its epoch."""
    now = time.time()
    if now % 86400 > 86400 - 3 * LEAD:
        time.sleep(86400 - now % 86400 + 1)
        now = time.time()
    at = int(now) + LEAD
    return time.strftime("%H:%M:%S", time.gmtime(at)), float(at)


async def _wait_until(epoch: float) -> None:
    while time.time() < epoch + 0.05:
        await asyncio.sleep(0.05)


async def _closing_price(md: Peer, price: str, sym: str = "AAPL") -> None:
    await md.fix.send("W", (55, sym), (268, "1"), (269, "5"), (270, price))


async def _moc(peer: Peer, clid: str, side: str, qty: int, *extra: tuple[int, str]) -> None:
    await peer.fix.send("D", (11, clid), (21, "1"), (55, "AAPL"), (54, side), (38, str(qty)),
                        (40, MOC), *extra, (60, utc_now()))


async def _moc_ack(peer: Peer, clid: str, side: str, qty: int,
                   *extra: tuple[int, str]) -> str:
    await _moc(peer, clid, side, qty, *extra)
    report = await peer.expect("8")
    assert (tag(report, 150), tag(report, 11)) == ("0", clid), _show(report)
    return tag(report, 37) or ""


async def _moc_replace(peer: Peer, clid: str, orig: str, side: str, qty: int) -> None:
    await peer.fix.send("G", (41, orig), (11, clid), (21, "1"), (55, "AAPL"), (54, side),
                        (38, str(qty)), (40, MOC), (60, utc_now()))


async def test_moc_cutoff_restart_and_the_closing_cross(gateway) -> None:  # type: ignore[no-untyped-def]
    cutoff, cutoff_at = _soon()
    config = moc_venue(cutoff)
    gp = gateway(config)
    md, acme, acme2, beta, gamma, nope = [
        await session(gp, s) for s in ("MD1", "ACME1", "ACMEB", "BETA1", "GAMMA1", "NOPE1")]

    # before the cutoff: new orders, a replace (a decrease) and a cancel are taken
    b1 = await _moc_ack(acme, "B1", "1", 350, (59, "7"))  # 59=7 At the Close
    await _moc_replace(acme, "B1r", "B1", "1", 300)
    replaced = await acme.expect("8")
    assert (tag(replaced, 150), tag(replaced, 38), tag(replaced, 37)) == ("5", "300", b1)
    b2 = await _moc_ack(gamma, "B2", "1", 500)
    s1 = await _moc_ack(beta, "S1", "2", 200, (59, "0"))
    s2 = await _moc_ack(acme2, "S2", "2", 150)
    await _moc_ack(beta, "X1", "2", 100)
    assert (await beta.cancelled("X1c", "X1", "2")) is not None
    # SPEC 5.2 rejects
    await nope.rejected("N1", "1", 100, ord_type=MOC)
    short = await acme.rejected("SS1", "5", 100, ord_type=MOC, extra=((114, "N"),))
    assert tag(short, 58) == "MOC orders may not be short sales"
    ioc = await acme.rejected("I1", "1", 100, ord_type=MOC, extra=((59, "3"),))
    assert "TimeInForce" in (tag(ioc, 58) or "")
    # a closing price before the cutoff is refused; the orders wait for the real one
    await _closing_price(md, "187.00")
    bmr = await md.expect("j")
    assert (tag(bmr, 372), tag(bmr, 380)) == ("W", "0")
    assert f"before the MOC cutoff ({cutoff} UTC)" in (tag(bmr, 58) or "")
    for p in (acme, acme2, beta, gamma, nope):
        await p.quiet()
    assert time.time() < cutoff_at, "the machine was too slow to enter the orders in time"

    # kill -9: the MOC orders rest across the restart
    gp.stop(signal.SIGKILL)
    gp = gateway(config)
    peers = {}
    for p in (md, acme, acme2, beta, gamma):
        peers[p.fix.sender], _ = await connect(gp, p.fix.sender, reset=False,
                                               next_seq=p.fix.next_seq)
    md, acme, acme2, beta, gamma = peers.values()
    delta = await session(gp, "DELTA1")
    s3 = await _moc_ack(delta, "S3", "2", 600)
    dc = await session(gp, "DC1")
    await dc.drain()  # the copies so far (resent from before the crash too)

    await _wait_until(cutoff_at)
    # from the cutoff on: new orders, cancels and replaces are rejected ...
    late = await acme.rejected("L1", "1", 100, ord_type=MOC)
    assert (tag(late, 58), tag(late, 103)) == ("MOC cutoff passed", "4")
    await acme.cancel("B1c", "B1r", "1")
    await _moc_replace(beta, "S1r", "S1", "2", 100)
    for peer, orig in ((acme, "B1r"), (beta, "S1")):
        cxl = await peer.expect("9")
        assert (tag(cxl, 41), tag(cxl, 102), tag(cxl, 58)) == (orig, "0", "MOC cutoff passed")
    await dc.drain()  # the reject's copy
    # ... and a disconnect no longer cancels (DELTA1 has cancel_on_disconnect)
    await delta.logout()
    await logged(gp, "disconnect", 1, session="ATS-DELTA1")
    await dc.quiet()

    # the closing price runs the cross: all at 187.43, Broker | Size
    await _closing_price(md, "187.43")
    await md.quiet()
    got = {p.fix.sender: [r for r in await p.drain() if tag(r, 35) == "8"]
           for p in (acme, acme2, beta, gamma)}

    def rows(reports: list) -> list[tuple[str | None, ...]]:  # type: ignore[type-arg]
        return [(tag(r, 37), tag(r, 150), tag(r, 32), tag(r, 31), tag(r, 851), tag(r, 14),
                 tag(r, 151), tag(r, 58)) for r in reports]

    px = "187.43"
    # buys 800 < sells 950: the buys are allocated, B2 (500) first, against the largest sell
    # S3; then B1 (300) against its broker group's S2 (150) first, then the largest left, S1
    assert rows(got["GAMMA1"]) == [(b2, "2", "500", px, "1", "500", "0", None)]
    assert rows(got["ACME1"]) == [(b1, "1", "150", px, "1", "150", "150", None),
                                  (b1, "2", "150", px, "1", "300", "0", None)]
    assert rows(got["ACMEB"]) == [(s2, "2", "150", px, "2", "150", "0", None)]
    assert rows(got["BETA1"]) == [(s1, "1", "150", px, "2", "150", "50", None),
                                  (s1, "4", None, None, None, "150", "0",
                                   "MOC cross complete")]
    copies = [r for r in await dc.drain() if tag(r, 35) == "8"]
    delta_copies = [r for r in copies if tag(r, 115) == "DELTA1"]
    assert rows(delta_copies) == [(s3, "1", "500", px, "2", "500", "100", None),
                                  (s3, "4", None, None, None, "500", "0",
                                   "MOC cross complete")]
    sent = {tag(r, 17) for reports in got.values() for r in reports}
    assert sent | {tag(r, 17) for r in delta_copies} == {tag(r, 17) for r in copies}
    await _closing_price(md, "187.43")  # again: nothing left to cross
    await md.quiet()
    await acme.quiet()


async def test_moc_orders_rest_across_a_disconnect_and_a_close_needs_the_cutoff(gateway) -> None:  # type: ignore[no-untyped-def]
    """Cutoff 23:59:59: orders are taken and rest across a logout; any closing price (but in
    the day's last second) comes before the cutoff and is refused. Cutoff 00:00:00: every MOC
    order comes too late."""
    gp = gateway(moc_venue("23:59:59"))
    md, acme = await session(gp, "MD1"), await session(gp, "ACME1")
    b1 = await _moc_ack(acme, "B1", "1", 100)
    await acme.logout()
    acme, _ = await connect(gp, "ACME1", reset=False, next_seq=acme.fix.next_seq)
    await _moc_replace(acme, "B1r", "B1", "1", 80)
    replaced = await acme.expect("8")
    assert (tag(replaced, 150), tag(replaced, 37), tag(replaced, 151)) == ("5", b1, "80")
    if time.gmtime().tm_hour * 3600 + time.gmtime().tm_min * 60 + time.gmtime().tm_sec < 86398:
        await _closing_price(md, "10.00")
        assert "before the MOC cutoff" in (tag(await md.expect("j"), 58) or "")
    gp.stop()

    gp = gateway(moc_venue("00:00:00", timezone="Europe/London").replace(
        'data_dir = "data"', 'data_dir = "data2"'))
    acme = await session(gp, "ACME1")
    late = await acme.rejected("L1", "1", 100, ord_type=MOC)
    assert (tag(late, 150), tag(late, 58), tag(late, 103)) == ("8", "MOC cutoff passed", "4")
