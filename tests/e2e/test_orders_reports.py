"""SPEC 3 ExecutionReport content: the tags every report carries, unique ExecIDs, 60's precision."""

from __future__ import annotations

from tests.e2e.fixclient import tag
from tests.e2e.orders_helpers import (
    FILL_TAGS,
    MS_TIME,
    NS_TIME,
    REPORT_TAGS,
    Msg,
    exec_ids,
    order_session,
    participant,
    reports_of,
    session,
    symbol,
    venue,
)


def _missing(report: Msg) -> list[int]:
    wanted = REPORT_TAGS + (FILL_TAGS if tag(report, 150) in ("1", "2") else ())
    return [t for t in wanted if not tag(report, t)]


async def test_every_report_carries_the_contract_tags_and_unique_exec_ids(gateway) -> None:  # type: ignore[no-untyped-def]
    gp = gateway(venue(
        participant("ACME", broker_dealer=True), participant("BETA"),
        order_session("ACME1", "ACME"), order_session("BETA1", "BETA", timestamp_precision="ns"),
        symbol("AAPL"),
    ))
    md, acme, beta = [await session(gp, s) for s in ("MD1", "ACME1", "BETA1")]
    await md.nbbo("10.00", "10.10")
    await acme.ack("B0", "1", 400, "10.05")  # New
    await acme.replace("B1", "B0", "1", 300, "10.05")
    assert tag(await acme.expect("8"), 150) == "5"
    for clid in ("S1", "S2"):  # each fills 100 of B1 and is filled itself
        await beta.send_order(clid, "2", 100, "10.05")
        await beta.drain()
    await acme.drain()
    await acme.cancelled("C1", "B1", "1")  # cancel of the remaining 100
    await acme.rejected("R1", "1", 100, "10.001")
    await beta.rejected("R2", "1", 100, "10.001")
    await acme.drain()
    got = {"ACME1": reports_of(acme.received), "BETA1": reports_of(beta.received)}
    kinds = {name: [tag(r, 150) for r in reports] for name, reports in got.items()}
    assert kinds == {"ACME1": ["0", "5", "1", "1", "4", "8"], "BETA1": ["0", "2", "0", "2", "8"]}
    for name, reports in got.items():
        pattern = MS_TIME if name == "ACME1" else NS_TIME
        for r in reports:
            assert _missing(r) == [], f"{name}: {r}"
            assert pattern.match(tag(r, 60) or ""), f"{name}: 60={tag(r, 60)}"
    ids = exec_ids(got["ACME1"] + got["BETA1"])
    assert len(ids) == len(set(ids)) == 11
    last = got["ACME1"][4]  # the cancel: the order's final state
    assert (tag(last, 39), tag(last, 14), tag(last, 151), tag(last, 6)) == ("4", "200", "0",
                                                                            "10.05")
