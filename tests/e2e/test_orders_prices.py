"""SPEC 4 execution prices as a FIX client sees them: the midpoint and fifth-decimal rounding."""

from __future__ import annotations

from tests.e2e.fixclient import tag
from tests.e2e.orders_helpers import session, two_party_venue

MID = ((18, "M"),)  # with OrdType P: a mid-price peg


async def test_limit_buy_and_sell_straddling_the_mid_fill_at_the_mid(gateway) -> None:  # type: ignore[no-untyped-def]
    gp = gateway(two_party_venue())
    md, acme, beta = [await session(gp, s) for s in ("MD1", "ACME1", "BETA1")]
    await md.nbbo("10.00", "10.10")
    await acme.ack("B1", "1", 100, "10.08")
    await beta.ack("S1", "2", 100, "10.02")
    taker = await beta.fill("S1")
    maker = await acme.fill("B1")
    for report, liquidity in ((maker, "1"), (taker, "2")):
        assert tag(report, 31) == "10.05" and tag(report, 32) == "100"
        assert (tag(report, 150), tag(report, 39)) == ("2", "2")
        assert (tag(report, 14), tag(report, 151), tag(report, 6)) == ("100", "0", "10.05")
        assert tag(report, 851) == liquidity


async def test_limits_below_the_mid_fill_at_the_price_closest_to_it(gateway) -> None:  # type: ignore[no-untyped-def]
    gp = gateway(two_party_venue())
    md, acme, beta = [await session(gp, s) for s in ("MD1", "ACME1", "BETA1")]
    await md.nbbo("10.00", "10.10")
    await acme.ack("B1", "1", 100, "10.03")
    await beta.ack("S1", "2", 100, "10.01")
    assert tag(await beta.fill("S1"), 31) == "10.03"  # within [10.01, 10.03], nearest 10.05
    assert tag(await acme.fill("B1"), 31) == "10.03"


async def test_mid_peg_fills_at_the_mid_and_follows_the_nbbo(gateway) -> None:  # type: ignore[no-untyped-def]
    gp = gateway(two_party_venue())
    md, acme, beta = [await session(gp, s) for s in ("MD1", "ACME1", "BETA1")]
    await md.nbbo("10.00", "10.10")
    await acme.ack("P1", "1", 100, ord_type="P", extra=MID)
    await md.nbbo("10.20", "10.30")  # the peg moves with the NBBO: mid now 10.25
    await beta.ack("S1", "2", 100, "10.20")
    assert tag(await beta.fill("S1"), 31) == "10.25"
    assert tag(await acme.fill("P1"), 31) == "10.25"


async def test_half_penny_mid_is_a_valid_price_above_one_dollar(gateway) -> None:  # type: ignore[no-untyped-def]
    gp = gateway(two_party_venue())
    md, acme, beta = [await session(gp, s) for s in ("MD1", "ACME1", "BETA1")]
    await md.nbbo("10.00", "10.01")
    await acme.ack("P1", "1", 100, ord_type="P", extra=MID)
    await beta.ack("P2", "2", 100, ord_type="P", extra=MID)
    assert tag(await beta.fill("P2"), 31) == "10.005"
    assert tag(await acme.fill("P1"), 31) == "10.005"


async def test_fifth_decimal_rounds_down_for_a_resting_buy(gateway) -> None:  # type: ignore[no-untyped-def]
    """SPEC's example: NBBO 0.5001 x 0.5002, resting mid-peg buy, incoming mid-peg sell."""
    gp = gateway(two_party_venue())
    md, acme, beta = [await session(gp, s) for s in ("MD1", "ACME1", "BETA1")]
    await md.nbbo("0.5001", "0.5002")
    await acme.ack("B1", "1", 100, ord_type="P", extra=MID)
    await beta.ack("S1", "2", 100, ord_type="P", extra=MID)
    assert tag(await beta.fill("S1"), 31) == "0.5001"
    assert tag(await acme.fill("B1"), 31) == "0.5001"


async def test_fifth_decimal_rounds_up_for_a_resting_sell(gateway) -> None:  # type: ignore[no-untyped-def]
    gp = gateway(two_party_venue())
    md, acme, beta = [await session(gp, s) for s in ("MD1", "ACME1", "BETA1")]
    await md.nbbo("0.5001", "0.5002")
    await beta.ack("S1", "2", 100, ord_type="P", extra=MID)
    await acme.ack("B1", "1", 100, ord_type="P", extra=MID)
    assert tag(await acme.fill("B1"), 31) == "0.5002"
    assert tag(await beta.fill("S1"), 31) == "0.5002"
