"""SPEC 4 market state through the market-data session: LULD, max_spread, Rule 201, and the
time priority a replace keeps or loses."""

from __future__ import annotations

from collections.abc import Callable

from tests.e2e.conftest import GatewayProcess
from tests.e2e.fixclient import tag
from tests.e2e.orders_helpers import (
    Peer,
    order_session,
    participant,
    session,
    symbol,
    two_party_venue,
    venue,
)


async def test_luld_limit_state_pauses_matching(gateway) -> None:  # type: ignore[no-untyped-def]
    gp = gateway(two_party_venue())
    md, acme, beta = [await session(gp, s) for s in ("MD1", "ACME1", "BETA1")]
    await md.nbbo("10.00", "10.10")
    await md.status(luld="1")
    await acme.ack("B1", "1", 100, "10.05")
    await beta.ack("S1", "2", 100, "10.05")
    await acme.quiet()
    await md.status(luld="0")
    assert tag(await beta.fill("S1"), 851) == "2"
    assert tag(await acme.fill("B1"), 851) == "1"


async def test_nbbo_wider_than_max_spread_pauses_matching(gateway) -> None:  # type: ignore[no-untyped-def]
    gp = gateway(venue(
        participant("ACME", broker_dealer=True), participant("BETA"),
        order_session("ACME1", "ACME"), order_session("BETA1", "BETA"),
        symbol("AAPL", max_spread="0.05"),
    ))
    md, acme, beta = [await session(gp, s) for s in ("MD1", "ACME1", "BETA1")]
    await md.nbbo("10.00", "10.10")
    await acme.ack("B1", "1", 100, "10.03")
    await beta.ack("S1", "2", 100, "10.01")
    await acme.quiet()
    await md.nbbo("10.00", "10.04")
    assert tag(await beta.fill("S1"), 31) == "10.02"
    assert tag(await acme.fill("B1"), 31) == "10.02"


async def test_rule_201_keeps_a_short_sale_above_the_nbb(gateway) -> None:  # type: ignore[no-untyped-def]
    gp = gateway(two_party_venue())
    md, acme, beta = [await session(gp, s) for s in ("MD1", "ACME1", "BETA1")]
    await md.nbbo("10.00", "10.10")
    await md.status(ssr="Y")
    await acme.ack("B1", "1", 100, "10.00")
    await beta.ack("SS1", "5", 100, "9.90", extra=((5700, "LOCB"),))  # floor 10.0001
    await acme.quiet()
    await beta.quiet()
    await md.status(ssr="N")
    assert tag(await beta.fill("SS1"), 31) == "10"
    assert tag(await acme.fill("B1"), 31) == "10"


async def _two_sellers(gateway: Callable[..., GatewayProcess]) -> tuple[Peer, Peer, Peer]:
    """BETA then GAMMA rest a 200 sell at 10.05; ACME (session ACME1) is the buyer."""
    gp = gateway(venue(
        participant("ACME", broker_dealer=True), participant("BETA"), participant("GAMMA"),
        order_session("ACME1", "ACME"), order_session("BETA1", "BETA"),
        order_session("GAMMA1", "GAMMA"), symbol("AAPL"),
    ))
    md, acme, beta, gamma = [await session(gp, s) for s in ("MD1", "ACME1", "BETA1", "GAMMA1")]
    await md.nbbo("10.00", "10.10")
    await beta.ack("S1", "2", 200, "10.05")
    await gamma.ack("S2", "2", 200, "10.05")
    return acme, beta, gamma


async def test_replace_decreasing_quantity_keeps_time_priority(gateway) -> None:  # type: ignore[no-untyped-def]
    acme, beta, gamma = await _two_sellers(gateway)
    await beta.replace("S1R", "S1", "2", 150, "10.05")
    assert tag(await beta.expect("8"), 150) == "5"
    await acme.ack("B1", "1", 100, "10.05")
    assert tag(await beta.fill("S1R"), 151) == "50"
    await gamma.quiet()


async def test_replace_increasing_quantity_loses_time_priority(gateway) -> None:  # type: ignore[no-untyped-def]
    acme, beta, gamma = await _two_sellers(gateway)
    await beta.replace("S1R", "S1", "2", 300, "10.05")
    assert tag(await beta.expect("8"), 150) == "5"
    await acme.ack("B1", "1", 100, "10.05")
    assert tag(await gamma.fill("S2"), 151) == "100"
    await beta.quiet()
