"""Crash recovery through FIX: kill -9, restart on the same data dir, and PossDup resends."""

from __future__ import annotations

import signal

from tests.e2e.fixclient import tag, utc_now
from tests.e2e.orders_helpers import (
    Peer,
    connect,
    exec_ids,
    logged,
    order_session,
    reports_of,
    session,
    two_party_venue,
)


async def _back(gp, peer: Peer) -> tuple[Peer, int]:  # type: ignore[no-untyped-def]
    """Log `peer` on again without a reset; the gateway's Logon MsgSeqNum."""
    again, logon = await connect(gp, peer.fix.sender, reset=False, next_seq=peer.fix.next_seq)
    return again, int(tag(logon, 34) or 0)


async def test_kill_9_keeps_the_book_the_sequence_and_the_exec_ids(gateway) -> None:  # type: ignore[no-untyped-def]
    config = two_party_venue()
    gp = gateway(config)
    md, acme, beta = [await session(gp, s) for s in ("MD1", "ACME1", "BETA1")]
    await md.nbbo("10.00", "10.10")
    ack = await acme.ack("B1", "1", 300, "10.05")
    await beta.send_order("S1", "2", 100, "10.05")
    await beta.drain()
    await acme.fill("B1")
    before = exec_ids(acme.received + beta.received)
    assert gp.stop(signal.SIGKILL) == -signal.SIGKILL

    gp2 = gateway(config)
    acme2, logon_seq = await _back(gp2, acme)
    assert logon_seq == acme.last_in + 1, "the gateway's MsgSeqNum continues"
    beta2, _ = await _back(gp2, beta)
    md2 = await session(gp2, "MD1")
    await md2.nbbo("10.00", "10.10")
    await beta2.send_order("S2", "2", 300, "10.05")
    taker = reports_of(await beta2.drain())
    maker = await acme2.fill("B1")  # the pre-crash order is still in the book
    assert tag(maker, 37) == tag(ack, 37)
    assert (tag(maker, 32), tag(maker, 14), tag(maker, 151)) == ("200", "300", "0")
    assert [tag(r, 150) for r in taker] == ["0", "1"]
    after = exec_ids(taker + [maker])
    assert not set(before) & set(after), "an ExecID was reused after the restart"

    sent_live = exec_ids(acme.received + acme2.received)
    resent = await acme2.resend(1, acme2.last_in)  # before and after the crash
    assert exec_ids(resent) == sent_live


async def test_cancel_on_disconnect_cancels_on_restart(gateway) -> None:  # type: ignore[no-untyped-def]
    config = two_party_venue(order_session("ACMEC", "ACME", cancel_on_disconnect=True))
    gp = gateway(config)
    md, acmec = await session(gp, "MD1"), await session(gp, "ACMEC")
    await md.nbbo("10.00", "10.10")
    ack = await acmec.ack("B1", "1", 100, "10.05")
    gp.stop(signal.SIGKILL)

    gp2 = gateway(config)
    acmec2, logon_seq = await _back(gp2, acmec)
    missed = await acmec2.resend(acmec.last_in + 1, logon_seq)
    assert [(tag(r, 11), tag(r, 37), tag(r, 150), tag(r, 39)) for r in missed] == [
        ("B1", tag(ack, 37), "4", "4")]
    assert "cancel_on_disconnect" in (tag(missed[0], 58) or "")
    md2, beta = await session(gp2, "MD1"), await session(gp2, "BETA1")
    await md2.nbbo("10.00", "10.10")
    await beta.ack("S1", "2", 100, "10.05")
    await beta.quiet()


async def test_possdup_resend_of_an_order_is_not_entered_twice(gateway) -> None:  # type: ignore[no-untyped-def]
    gp = gateway(two_party_venue())
    md, acme, beta = [await session(gp, s) for s in ("MD1", "ACME1", "BETA1")]
    await md.nbbo("10.00", "10.10")
    orig_time, seq = utc_now(), acme.fix.next_seq
    await acme.ack("B1", "1", 100, "10.05")
    possdup = ((43, "Y"), (122, orig_time))
    # the same message again (its own MsgSeqNum), then re-sent under a new MsgSeqNum
    await acme.send_order("B1", "1", 100, "10.05", header=possdup, seq=seq)
    await acme.send_order("B1", "1", 100, "10.05", header=possdup)
    await acme.quiet()  # no second New, no duplicate-ClOrdID reject
    await beta.send_order("S1", "2", 300, "10.05")
    taker = reports_of(await beta.drain())
    assert [(tag(r, 150), tag(r, 32), tag(r, 151)) for r in taker] == [
        ("0", None, "300"), ("1", "100", "200")]
    assert tag(await acme.fill("B1"), 150) == "2"


async def test_cancel_on_disconnect_cancels_on_logout_and_on_a_dropped_connection(gateway) -> None:  # type: ignore[no-untyped-def]
    gp = gateway(two_party_venue(order_session("ACMEC", "ACME", cancel_on_disconnect=True)))
    md, acmec, beta = [await session(gp, s) for s in ("MD1", "ACMEC", "BETA1")]
    await md.nbbo("10.00", "10.10")
    await acmec.ack("B1", "1", 100, "10.05")
    await acmec.logout()
    acmec2, logon_seq = await _back(gp, acmec)
    missed = await acmec2.resend(acmec.last_in + 1, logon_seq)
    assert [(tag(r, 11), tag(r, 150)) for r in missed] == [("B1", "4")]
    await acmec2.ack("B2", "1", 100, "10.05")
    await acmec2.fix.close()  # TCP gone without a Logout
    await logged(gp, "disconnect", 2, session="ATS-ACMEC")
    await beta.ack("S1", "2", 100, "10.05")
    await beta.quiet()
    acmec3, logon_seq = await _back(gp, acmec2)
    missed = await acmec3.resend(acmec2.last_in + 1, logon_seq)
    assert [(tag(r, 11), tag(r, 150)) for r in missed] == [("B2", "4")]
