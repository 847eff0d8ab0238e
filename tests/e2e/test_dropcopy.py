"""SPEC 2 drop copy: a copy of every ExecutionReport, nothing lost while disconnected."""

from __future__ import annotations

import signal

from tests.e2e.fixclient import tag
from tests.e2e.orders_helpers import (
    MS_TIME,
    NS_TIME,
    Msg,
    connect,
    drop_copy_session,
    exec_ids,
    reports_of,
    session,
    two_party_venue,
)

DC_VENUE = two_party_venue(drop_copy_session("DC1", timestamp_precision="ns"))
SAME = (37, 11, 17, 150, 39, 55, 54, 38, 151, 14, 6, 32, 31, 851, 58)


def _by_exec_id(reports: list[Msg]) -> dict[str, Msg]:
    return {tag(r, 17) or "": r for r in reports}


async def test_drop_copy_gets_every_missed_report_on_reconnect(gateway) -> None:  # type: ignore[no-untyped-def]
    gp = gateway(DC_VENUE)
    md, acme, beta, dc = [await session(gp, s) for s in ("MD1", "ACME1", "BETA1", "DC1")]
    await md.nbbo("10.00", "10.10")
    await acme.ack("B1", "1", 400, "10.05")
    live = reports_of(await dc.drain())
    assert [(tag(m, 115), tag(m, 11)) for m in live] == [("ACME1", "B1")]
    await dc.logout()
    seen_acme, seen_beta = len(acme.received), len(beta.received)

    for clid in ("S1", "S2"):  # fills while the drop copy is away
        await beta.send_order(clid, "2", 100, "10.05")
        await beta.drain()
    await acme.drain()
    await acme.cancelled("C1", "B1", "1")
    await acme.rejected("R1", "1", 100, "10.001")  # Rule 612, rejected by the matcher
    missed = {"ACME1": reports_of(acme.received[seen_acme:]),
              "BETA1": reports_of(beta.received[seen_beta:])}
    assert (len(missed["ACME1"]), len(missed["BETA1"])) == (4, 4)

    dc2, logon = await connect(gp, "DC1", reset=False, next_seq=dc.fix.next_seq)
    logon_seq = int(tag(logon, 34) or 0)
    assert logon_seq > dc.last_in + 1, "the gateway's sequence shows the gap"
    copies = await dc2.resend(dc.last_in + 1, logon_seq)
    copied = _by_exec_id(copies)
    assert len(copies) == len(copied) == 8
    for session_id, reports in missed.items():
        for original in reports:
            copy = copied[tag(original, 17) or ""]
            assert tag(copy, 115) == session_id and tag(copy, 43) == "Y"
            assert [tag(copy, t) for t in SAME] == [tag(original, t) for t in SAME]
            assert MS_TIME.match(tag(original, 60) or "") and NS_TIME.match(tag(copy, 60) or "")


async def test_drop_copy_misses_nothing_across_a_kill_9(gateway) -> None:  # type: ignore[no-untyped-def]
    gp = gateway(DC_VENUE)
    md, acme, dc = [await session(gp, s) for s in ("MD1", "ACME1", "DC1")]
    await dc.logout()
    await md.nbbo("10.00", "10.10")
    await acme.ack("B1", "1", 100, "10.05")
    await acme.rejected("R1", "1", 100, "10.001")
    gp.stop(signal.SIGKILL)

    gp2 = gateway(DC_VENUE)
    md2, beta = await session(gp2, "MD1"), await session(gp2, "BETA1")
    acme2, _ = await connect(gp2, "ACME1", reset=False, next_seq=acme.fix.next_seq)
    await md2.nbbo("10.00", "10.10")
    await beta.send_order("S1", "2", 100, "10.05")
    await beta.drain()
    await acme2.drain()
    dc2, logon = await connect(gp2, "DC1", reset=False, next_seq=dc.fix.next_seq)
    copies = await dc2.resend(dc.last_in + 1, int(tag(logon, 34) or 0))
    sent = acme.received + acme2.received + beta.received
    assert sorted(exec_ids(copies)) == sorted(exec_ids(sent))
    assert len(copies) == 5  # New, reject, and the fill on each side after the restart


async def test_drop_copy_gets_rejects_of_orders_that_never_reached_the_matcher(gateway) -> None:  # type: ignore[no-untyped-def]
    gp = gateway(DC_VENUE)
    acme, dc = await session(gp, "ACME1"), await session(gp, "DC1")
    report = await acme.rejected("R0", "1", "0", "10.05")  # OrderQty 0
    copies = reports_of(await dc.drain())
    assert [(tag(m, 115), tag(m, 17), tag(m, 150)) for m in copies] == [
        ("ACME1", tag(report, 17), "8")]
