"""SPEC 3 rejects through FIX: 150=8 39=8 with OrdRejReason (103) and a Text (58) saying why."""

from __future__ import annotations

from typing import Any

import pytest

from tests.e2e.fixclient import tag
from tests.e2e.orders_helpers import order_session, participant, session, symbol, venue

REJECT_VENUE = venue(
    participant("ACME", broker_dealer=True), participant("BETA"),
    order_session("ACME1", "ACME"), order_session("BETA1", "BETA"),
    symbol("AAPL"), symbol("RSTR", restricted=True), symbol("ADRX", adr_ftt=True),
    symbol("PTPX", ptp=True), symbol("NCNS", cns_eligible=False),
)

# case: (session, Side, OrderQty, Price, other Peer.send_order keywords, OrdRejReason or None
#        when FIX has no specific code, words the Text (58) must contain)
CASES: dict[str, tuple[str, str, str, str | None, dict[str, Any], str | None, str]] = {
    "unknown symbol": ("ACME1", "1", "100", "10.05", {"sym": "ZZZZ"}, "1",
                       "unknown symbol ZZZZ"),
    "restricted": ("ACME1", "1", "100", "10.05", {"sym": "RSTR"}, None, "restricted"),
    "ADR FTT": ("ACME1", "1", "100", "10.05", {"sym": "ADRX"}, None,
                "Financial Transaction Tax"),
    "PTP": ("ACME1", "1", "100", "10.05", {"sym": "PTPX"}, None, "publicly traded partnership"),
    "not CNS eligible": ("ACME1", "1", "100", "10.05", {"sym": "NCNS"}, None,
                         "not eligible for CNS"),
    "zero quantity": ("ACME1", "1", "0", "10.05", {}, None, "OrderQty (38) must be a positive"),
    "fractional quantity": ("ACME1", "1", "10.5", "10.05", {}, None,
                            "OrderQty (38) must be a positive"),
    "sub-penny at or above $1": ("ACME1", "1", "100", "10.001", {}, None,
                                 "not a multiple of 0.01 (Rule 612)"),
    "fifth decimal below $1": ("ACME1", "1", "100", "0.50005", {}, None,
                               "not a multiple of 0.0001 (Rule 612)"),
    "limit without Price": ("ACME1", "1", "100", None, {"ord_type": "2"}, None,
                            "Price (44) is required"),
    "short sale without locate, broker-dealer": (
        "ACME1", "5", "100", "10.05", {}, None, "LocateReqd (114)=N or a LocateBroker (5700)"),
    "short sale with 114=N only, not a broker-dealer": (
        "BETA1", "5", "100", "10.05", {"extra": ((114, "N"),)}, None, "LocateBroker (5700)"),
    "MOC short sale": ("ACME1", "5", "100", None, {"ord_type": "5", "extra": ((5700, "LOCB"),)},
                       None, "MOC orders may not be short sales"),
    "MOC not opted in": ("BETA1", "1", "100", None, {"ord_type": "5"}, None,
                         "BETA has not opted in to the MOC session"),
    "Inclusion Level 6": ("ACME1", "1", "100", "10.05", {"extra": ((7011, "6"),)}, None,
                          "Inclusion Level 6 is outside 1..5"),
    "quantity above the limit": (
        "ACME1", "1", "100000000000000000000", "10.05", {}, "3",
        "OrderQty (38) 100000000000000000000 is above the limit of 1000000000 shares"),
    "price above the limit": (
        "ACME1", "1", "100", "100000000000000000000.00", {}, None,
        "Price (44) 100000000000000000000.00 is above the limit of 1000000.00"),
}


@pytest.mark.parametrize("case", list(CASES))
async def test_order_reject_says_why(gateway, case: str) -> None:  # type: ignore[no-untyped-def]
    who, side, qty, price, kw, reason, text = CASES[case]
    gp = gateway(REJECT_VENUE)
    peer = await session(gp, who)
    report = await peer.rejected("X1", side, qty, price, **kw)
    assert text in (tag(report, 58) or ""), tag(report, 58)
    assert (tag(report, 103) or "").isdigit()
    if reason is not None:
        assert tag(report, 103) == reason
    await peer.quiet()


async def test_short_sale_with_the_right_locate_is_accepted(gateway) -> None:  # type: ignore[no-untyped-def]
    gp = gateway(REJECT_VENUE)
    acme, beta = await session(gp, "ACME1"), await session(gp, "BETA1")
    await acme.ack("SS1", "5", 100, "10.05", extra=((114, "N"),))
    await acme.ack("SS2", "5", 100, "10.05", extra=((5700, "LOCB"),))
    await beta.ack("SS3", "5", 100, "10.05", extra=((5700, "LOCB"),))


async def test_duplicate_cl_ord_id_is_rejected(gateway) -> None:  # type: ignore[no-untyped-def]
    gp = gateway(REJECT_VENUE)
    acme = await session(gp, "ACME1")
    await acme.ack("DUP", "1", 100, "10.05")
    report = await acme.rejected("DUP", "1", 200, "10.04")
    assert tag(report, 103) == "6" and "duplicate ClOrdID DUP" in (tag(report, 58) or "")


async def test_cancel_of_an_unknown_order_gets_cancel_reject(gateway) -> None:  # type: ignore[no-untyped-def]
    gp = gateway(REJECT_VENUE)
    acme = await session(gp, "ACME1")
    await acme.cancel("C1", "NOPE", "1")
    rej = await acme.expect("9")
    assert (tag(rej, 11), tag(rej, 41), tag(rej, 434)) == ("C1", "NOPE", "1")
    assert tag(rej, 102) == "1" and "unknown order" in (tag(rej, 58) or "")


async def test_a_huge_cl_ord_id_is_rejected_and_not_echoed_whole(gateway) -> None:  # type: ignore[no-untyped-def]
    gp = gateway(REJECT_VENUE)
    acme = await session(gp, "ACME1")
    huge = "H" * 100_000
    await acme.send_order(huge, "1", 100, "10.05")
    report = await acme.expect("8")
    assert (tag(report, 150), tag(report, 39)) == ("8", "8")
    assert tag(report, 58) == "ClOrdID (11) is 100000 characters long; the limit is 64"
    assert tag(report, 11) == "H" * 64
    await acme.quiet()
