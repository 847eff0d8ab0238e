"""SPEC 4 pauses, priority and taker level through FIX: who fills, and which side takes."""

from __future__ import annotations

from tests.e2e.fixclient import tag
from tests.e2e.orders_helpers import (
    order_session,
    participant,
    session,
    symbol,
    two_party_venue,
    venue,
)


async def test_locked_nbbo_pauses_matching_until_it_unlocks(gateway) -> None:  # type: ignore[no-untyped-def]
    gp = gateway(two_party_venue())
    md, acme, beta = [await session(gp, s) for s in ("MD1", "ACME1", "BETA1")]
    await md.nbbo("10.00", "10.00")
    await acme.ack("B1", "1", 100, "10.05")
    await beta.ack("S1", "2", 100, "9.95")
    await acme.quiet()
    await beta.quiet()
    await md.nbbo("10.00", "10.10")  # unlocked: the book is re-evaluated
    maker, taker = await acme.fill("B1"), await beta.fill("S1")
    assert tag(maker, 851) == "1" and tag(taker, 851) == "2"  # the later arrival takes
    assert tag(maker, 31) == tag(taker, 31) == "10.05"


async def test_crossed_then_halted_symbol_does_not_match(gateway) -> None:  # type: ignore[no-untyped-def]
    gp = gateway(two_party_venue())
    md, acme, beta = [await session(gp, s) for s in ("MD1", "ACME1", "BETA1")]
    await md.nbbo("10.10", "10.00")  # crossed
    await acme.ack("B1", "1", 100, "10.05")
    await beta.ack("S1", "2", 100, "10.05")
    await md.status(trading="2")  # halt
    await md.nbbo("10.00", "10.10")
    await acme.quiet()
    await beta.quiet()
    await md.status(trading="17")
    assert tag(await beta.fill("S1"), 851) == "2"
    assert tag(await acme.fill("B1"), 851) == "1"


BROKER_VENUE = venue(
    participant("ACME", broker_dealer=True, broker_group="ACMEGRP"),
    participant("ACMEAFF", broker_group="ACMEGRP"),  # an affiliate, not a broker-dealer
    participant("BETA"),
    order_session("ACME1", "ACME"), order_session("AFF1", "ACMEAFF"),
    order_session("BETA1", "BETA"), symbol("AAPL"),
)


async def test_broker_dealer_taker_meets_its_broker_group_first(gateway) -> None:  # type: ignore[no-untyped-def]
    gp = gateway(BROKER_VENUE)
    md, acme, aff, beta = [await session(gp, s) for s in ("MD1", "ACME1", "AFF1", "BETA1")]
    await md.nbbo("10.00", "10.10")
    await beta.ack("S-BETA", "2", 100, "10.05")  # first in time
    await aff.ack("S-AFF", "2", 100, "10.05")  # same price, same broker group as the taker
    await acme.ack("B1", "1", 100, "10.05")
    assert tag(await acme.fill("B1"), 32) == "100"
    assert tag(await aff.fill("S-AFF"), 851) == "1"
    await beta.quiet()


async def test_non_broker_dealer_taker_has_no_broker_priority(gateway) -> None:  # type: ignore[no-untyped-def]
    gp = gateway(BROKER_VENUE)
    md, acme, aff, beta = [await session(gp, s) for s in ("MD1", "ACME1", "AFF1", "BETA1")]
    await md.nbbo("10.00", "10.10")
    await beta.ack("S-BETA", "2", 100, "10.05")  # first in time
    await acme.ack("S-ACME", "2", 100, "10.05")  # same broker group as the taker
    await aff.ack("B1", "1", 100, "10.05")
    assert tag(await aff.fill("B1"), 32) == "100"
    assert tag(await beta.fill("S-BETA"), 851) == "1"
    await acme.quiet()


async def test_taker_level_skips_a_lower_inclusion_level(gateway) -> None:  # type: ignore[no-untyped-def]
    gp = gateway(venue(
        participant("ACME", broker_dealer=True), participant("BETA"),
        participant("TAKER", taker_level=3),
        order_session("ACME1", "ACME"), order_session("BETA1", "BETA"),
        order_session("TAKER1", "TAKER"), symbol("AAPL"),
    ))
    md, acme, beta, taker = [await session(gp, s) for s in ("MD1", "ACME1", "BETA1", "TAKER1")]
    await md.nbbo("10.00", "10.10")
    await acme.ack("S-L2", "2", 100, "10.02", extra=((7011, "2"),))  # better price, level 2
    await beta.ack("S-L5", "2", 100, "10.04", extra=((7011, "5"),))
    await taker.ack("B1", "1", 100, "10.05")
    assert tag(await taker.fill("B1"), 31) == "10.05"  # nearest the mid within [10.04, 10.05]
    assert tag(await beta.fill("S-L5"), 851) == "1"
    await acme.quiet()
