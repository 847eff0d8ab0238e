"""SPEC 4 interaction constraints through FIX: SMP, DNCP, MinQty and post only."""

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


async def test_self_match_prevention_between_two_sessions_of_a_participant(gateway) -> None:  # type: ignore[no-untyped-def]
    gp = gateway(venue(
        participant("ACME", broker_dealer=True),
        order_session("ACME1", "ACME"), order_session("ACME2", "ACME"),
        order_session("ACME3", "ACME", self_match_prevention=False),
        order_session("ACME4", "ACME", self_match_prevention=False),
        symbol("AAPL"),
    ))
    md, a1, a2, a3, a4 = [await session(gp, s) for s in ("MD1", "ACME1", "ACME2", "ACME3",
                                                          "ACME4")]
    await md.nbbo("10.00", "10.10")
    await a1.ack("B1", "1", 100, "10.05")
    await a2.ack("S2", "2", 100, "10.05")
    await a1.quiet()
    await a2.quiet()
    # the resting buy's session has SMP on: a session without it still may not meet it
    await a3.ack("S3", "2", 100, "10.05")
    await a1.quiet()
    await a3.quiet()
    # both sessions without SMP: they match
    await a4.ack("B4", "1", 100, "10.06")
    assert tag(await a4.fill("B4"), 32) == "100"
    assert tag(await a3.fill("S3"), 851) == "1"


DNCP_VENUE = venue(
    participant("OPS", broker_dealer=True, operator=True), participant("BETA"),
    participant("BANK", operator_affiliate=True),
    order_session("OPS1", "OPS"), order_session("BETA1", "BETA"),
    order_session("BETAD", "BETA", dncp=True), order_session("BANK1", "BANK"), symbol("AAPL"),
)


async def test_dncp_session_cannot_be_overridden_by_the_order(gateway) -> None:  # type: ignore[no-untyped-def]
    gp = gateway(DNCP_VENUE)
    md, ops, betad = [await session(gp, s) for s in ("MD1", "OPS1", "BETAD")]
    await md.nbbo("10.00", "10.10")
    await ops.ack("S-P", "2", 100, "10.05", extra=((47, "P"),))
    await betad.ack("B1", "1", 100, "10.05", extra=((7010, "N"),))
    await betad.quiet()
    await ops.quiet()


async def test_dncp_on_the_order_decides_without_the_session_setting(gateway) -> None:  # type: ignore[no-untyped-def]
    gp = gateway(DNCP_VENUE)
    md, ops, beta = [await session(gp, s) for s in ("MD1", "OPS1", "BETA1")]
    await md.nbbo("10.00", "10.10")
    await ops.ack("S-P", "2", 100, "10.05", extra=((47, "P"),))
    await beta.ack("B-Y", "1", 100, "10.05", extra=((7010, "Y"),))
    await beta.quiet()
    await ops.quiet()
    await beta.ack("B-N", "1", 100, "10.05", extra=((7010, "N"),))
    assert tag(await beta.fill("B-N"), 32) == "100"
    assert tag(await ops.fill("S-P"), 32) == "100"


async def test_dncp_blocks_operator_affiliate_principal_but_not_its_agency_orders(gateway) -> None:  # type: ignore[no-untyped-def]
    gp = gateway(DNCP_VENUE)
    md, bank, betad = [await session(gp, s) for s in ("MD1", "BANK1", "BETAD")]
    await md.nbbo("10.00", "10.10")
    await bank.ack("S-P", "2", 100, "10.05", extra=((47, "P"),))
    await betad.ack("B1", "1", 100, "10.05")
    await bank.quiet()
    await bank.ack("S-A", "2", 100, "10.05", extra=((47, "A"),))
    assert tag(await bank.fill("S-A"), 851) == "2"
    assert tag(await betad.fill("B1"), 851) == "1"


async def test_min_qty_needs_one_contra_big_enough(gateway) -> None:  # type: ignore[no-untyped-def]
    gp = gateway(two_party_venue())
    md, acme, beta = [await session(gp, s) for s in ("MD1", "ACME1", "BETA1")]
    await md.nbbo("10.00", "10.10")
    await beta.ack("S-A", "2", 100, "10.05")
    await beta.ack("S-B", "2", 100, "10.05")
    # 200 shares rest, but no single order reaches MinQty 150: contras are not aggregated
    await acme.ack("B1", "1", 300, "10.05", extra=((110, "150"),))
    await acme.quiet()
    await beta.quiet()
    await beta.ack("S-C", "2", 200, "10.05")
    taker = await beta.fill("S-C")
    maker = await acme.fill("B1")
    assert tag(taker, 32) == tag(maker, 32) == "200"
    assert (tag(maker, 14), tag(maker, 151)) == ("200", "100")
    await beta.quiet()  # S-A and S-B untouched


async def test_min_qty_larger_than_the_contra_does_not_fill(gateway) -> None:  # type: ignore[no-untyped-def]
    gp = gateway(two_party_venue())
    md, acme, beta = [await session(gp, s) for s in ("MD1", "ACME1", "BETA1")]
    await md.nbbo("10.00", "10.10")
    await acme.ack("B1", "1", 500, "10.05", extra=((110, "300"),))
    await beta.ack("S1", "2", 200, "10.05")
    await beta.quiet()
    await acme.quiet()


async def test_post_only_rests_instead_of_taking_and_fills_as_the_resting_side(gateway) -> None:  # type: ignore[no-untyped-def]
    gp = gateway(venue(
        participant("ACME", broker_dealer=True), participant("BETA"), participant("GAMMA"),
        order_session("ACME1", "ACME"), order_session("BETA1", "BETA"),
        order_session("GAMMA1", "GAMMA"), symbol("AAPL"),
    ))
    md, acme, beta, gamma = [await session(gp, s) for s in ("MD1", "ACME1", "BETA1", "GAMMA1")]
    await md.nbbo("10.00", "10.10")
    await beta.ack("S-REST", "2", 100, "10.05")
    await acme.ack("B-PO", "1", 100, "10.05", extra=((18, "6"),))  # would cross: rests
    await acme.quiet()
    await beta.quiet()
    await md.nbbo("10.01", "10.11")  # a re-evaluation must not make it the taker either
    await acme.quiet()
    await beta.quiet()
    await gamma.ack("S-NEW", "2", 100, "10.05")
    assert tag(await acme.fill("B-PO"), 851) == "1"
    assert tag(await gamma.fill("S-NEW"), 851) == "2"
    await beta.quiet()
