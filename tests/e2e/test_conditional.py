"""Conditional orders and firm-ups through FIX (SPEC 5.1): the real gateway over TCP.

Firm-ups that must arrive in time run with a long window; the expiry tests with a short one.
No timing is asserted: the tests wait for the messages the deadline causes.
"""

from __future__ import annotations

import asyncio
import signal

from tests.e2e.fixclient import tag
from tests.e2e.orders_helpers import (
    MS_TIME,
    Msg,
    Peer,
    connect,
    drop_copy_session,
    order_session,
    reports_of,
    session,
    two_party_venue,
)

CO = ((7001, "C"),)
MID = ((18, "M"),)


def _venue(window_ms: int, *extra: str) -> str:
    config = two_party_venue(drop_copy_session("DC1"), *extra)
    window = f'fsync = "batch"\nfirm_up_window_ms = {window_ms}\n'
    return config.replace('fsync = "batch"\n', window)


def _firm_up(ref: str) -> tuple[tuple[int, str], ...]:
    return ((7002, ref), (59, "3"))


def _report(msg: Msg) -> tuple[str | None, ...]:
    return tag(msg, 11), tag(msg, 150), tag(msg, 58)


async def _pair(md: Peer, acme: Peer, beta: Peer) -> tuple[Msg, Msg]:
    """A mid-peg CO buy 300 (ACME) and a CO sell 200 at 10.02 (BETA): both invited."""
    await md.nbbo("10.00", "10.10")
    await acme.ack("CB", "1", 300, ord_type="P", extra=CO + MID)
    await beta.ack("CS", "2", 200, "10.02", extra=CO)
    return await acme.expect("UF"), await beta.expect("UF")


async def test_co_pair_firmed_up_on_both_sides(gateway) -> None:  # type: ignore[no-untyped-def]
    gp = gateway(_venue(30_000))
    md, acme, beta, dc = [await session(gp, s) for s in ("MD1", "ACME1", "BETA1", "DC1")]
    uf_a, uf_b = await _pair(md, acme, beta)
    # FirmUpRequest: the CO's ids, the invited quantity (the smaller leaves), the deadline
    assert (tag(uf_a, 11), tag(uf_a, 55), tag(uf_a, 54), tag(uf_a, 38)) == ("CB", "AAPL", "1",
                                                                            "200")
    assert (tag(uf_b, 11), tag(uf_b, 54), tag(uf_b, 38)) == ("CS", "2", "200")
    for uf in (uf_a, uf_b):
        assert MS_TIME.match(tag(uf, 126) or "") and MS_TIME.match(tag(uf, 60) or "")
        assert (tag(uf, 126) or "") > (tag(uf, 60) or "")
        assert tag(uf, 44) is None and tag(uf, 31) is None  # nothing about the contra

    await beta.send_order("FS", "2", 150, "10.02", extra=_firm_up("CS"))
    got = reports_of(await beta.drain())
    assert [_report(r) for r in got] == [("FS", "0", None), ("CS", "4", "firmed up by FS")]
    await acme.send_order("FB", "1", 300, ord_type="P", extra=MID + _firm_up("CB"))
    got = reports_of(await acme.drain())
    assert [_report(r)[:2] for r in got] == [("FB", "0"), ("CB", "4"), ("FB", "1"), ("FB", "4")]
    assert tag(got[1], 58) == "firmed up by FB"
    fill = got[2]
    # the earlier-received CO's firm-up provides the liquidity, at the NBBO midpoint
    assert (tag(fill, 32), tag(fill, 31), tag(fill, 851)) == ("150", "10.05", "1")
    taker = await beta.fill("FS")
    assert (tag(taker, 32), tag(taker, 851), tag(taker, 39)) == ("150", "2", "2")

    copies = await dc.drain()
    assert all(tag(m, 35) == "8" for m in copies), "a FirmUpRequest went to a drop copy"
    assert {(tag(m, 115), tag(m, 11), tag(m, 150)) for m in copies} >= {
        ("ACME1", "CB", "0"), ("BETA1", "CS", "0"), ("BETA1", "CS", "4"), ("ACME1", "FB", "1"),
        ("BETA1", "FS", "2"), ("ACME1", "FB", "4")}


async def test_one_side_silent_until_the_deadline(gateway) -> None:  # type: ignore[no-untyped-def]
    gp = gateway(_venue(1000))
    md, acme, beta = [await session(gp, s) for s in ("MD1", "ACME1", "BETA1")]
    await _pair(md, acme, beta)
    await beta.send_order("FS", "2", 200, "10.02", extra=_firm_up("CS"))
    assert [_report(r)[:2] for r in reports_of(await beta.drain())] == [("FS", "0"), ("CS", "4")]
    # ACME stays silent: at the deadline its CO and BETA's waiting firm-up are cancelled
    expired = await acme.expect("8")
    assert _report(expired) == ("CB", "4", "firm-up not received within 1000 ms")
    dropped = await beta.expect("8")
    assert _report(dropped) == ("FS", "4", "contra did not firm up")
    assert tag(dropped, 14) == "0"


async def test_co_meets_an_eligible_frs_order(gateway) -> None:  # type: ignore[no-untyped-def]
    """BETA's session has conditional_interaction = true: its firm orders are Eligible."""
    config = _venue(30_000).replace('target_comp_id = "BETA1"\nrole = "order_entry"\n'
                                    'participant = "BETA"\n',
                                    'target_comp_id = "BETA1"\nrole = "order_entry"\n'
                                    'participant = "BETA"\nconditional_interaction = true\n')
    assert "conditional_interaction = true" in config
    gp = gateway(config)
    md, acme, beta = [await session(gp, s) for s in ("MD1", "ACME1", "BETA1")]
    await md.nbbo("10.00", "10.10")
    await beta.ack("F1", "2", 500, "10.02")
    await acme.ack("CB", "1", 100, "10.05", extra=CO)
    uf = await acme.expect("UF")
    assert (tag(uf, 11), tag(uf, 38)) == ("CB", "100")
    await beta.quiet()  # the firm order is not told
    await acme.send_order("FB", "1", 100, "10.05", extra=_firm_up("CB"))
    got = reports_of(await acme.drain())
    assert [_report(r)[:2] for r in got] == [("FB", "0"), ("CB", "4"), ("FB", "2")]
    assert (tag(got[2], 31), tag(got[2], 851)) == ("10.05", "2")
    maker = await beta.fill("F1")
    assert (tag(maker, 32), tag(maker, 151), tag(maker, 851)) == ("100", "400", "1")


async def test_late_firm_up_is_rejected(gateway) -> None:  # type: ignore[no-untyped-def]
    gp = gateway(_venue(300))
    md, acme, beta = [await session(gp, s) for s in ("MD1", "ACME1", "BETA1")]
    await _pair(md, acme, beta)
    assert _report(await acme.expect("8")) == ("CB", "4", "firm-up not received within 300 ms")
    assert _report(await beta.expect("8")) == ("CS", "4", "firm-up not received within 300 ms")
    rejected = await acme.rejected("FB", "1", 100, "10.05", extra=_firm_up("CB"))
    assert "after the deadline" in (tag(rejected, 58) or "")
    assert tag(rejected, 103) == "4"  # too late to enter


async def test_co_survives_kill_9_and_pairs_afterwards(gateway) -> None:  # type: ignore[no-untyped-def]
    config = _venue(30_000, order_session("GAMMA1", "BETA"))
    gp = gateway(config)
    md, acme = await session(gp, "MD1"), await session(gp, "ACME1")
    await md.nbbo("10.00", "10.10")
    ack = await acme.ack("CB", "1", 300, ord_type="P", extra=CO + MID)
    assert gp.stop(signal.SIGKILL) == -signal.SIGKILL

    gp2 = gateway(config)
    acme2, _ = await connect(gp2, "ACME1", reset=False, next_seq=acme.fix.next_seq)
    md2, beta = await session(gp2, "MD1"), await session(gp2, "BETA1")
    await md2.nbbo("10.00", "10.10")
    await beta.ack("CS", "2", 100, "10.02", extra=CO)
    uf = await acme2.expect("UF")
    assert (tag(uf, 11), tag(uf, 37), tag(uf, 38)) == ("CB", tag(ack, 37), "100")
    assert tag(await beta.expect("UF"), 11) == "CS"


async def test_deadline_that_passed_while_down_expires_on_start(gateway) -> None:  # type: ignore[no-untyped-def]
    """"a deadline that passed while the gateway was down expires on start"; the invitation
    made before the crash reaches the session through resend."""
    config = _venue(300)
    gp = gateway(config)
    md, acme, beta = [await session(gp, s) for s in ("MD1", "ACME1", "BETA1")]
    await md.nbbo("10.00", "10.10")
    await acme.ack("CB", "1", 300, ord_type="P", extra=CO + MID)
    await acme.fix.close()  # ACME is away when the pair is made
    await beta.ack("CS", "2", 200, "10.02", extra=CO)
    await beta.expect("UF")
    assert gp.stop(signal.SIGKILL) == -signal.SIGKILL
    await asyncio.sleep(0.4)  # past the deadline while down (no assertion on time)

    gp2 = gateway(config)
    acme2, logon = await connect(gp2, "ACME1", reset=False, next_seq=acme.fix.next_seq)
    missed = await acme2.resend(acme.last_in + 1, int(tag(logon, 34) or 0) - 1)
    assert [(tag(m, 35), tag(m, 11)) for m in missed][:1] == [("UF", "CB")]
    assert [_report(m) for m in missed if tag(m, 35) == "8"] == [
        ("CB", "4", "firm-up not received within 300 ms")]
