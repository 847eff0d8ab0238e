"""Exact prices, Assigned Limit Prices and the execution price (SPEC 4, Part III Item 11)."""

import pytest
from matcher_harness import Harness, P, fills, trades

from matcher import Rejected, format_price, parse_price


def test_parse_and_format_are_exact() -> None:
    """Prices are exact decimals (never binary floats)."""
    for text in ("10.005", "0.5001", "10", "0.50015", "123.456789"):
        assert format_price(parse_price(text)) == text
    assert parse_price("10.10") == parse_price("10.1")
    for bad in ("abc", "", ".", "1.0000001", "-1", "1e3"):
        with pytest.raises(ValueError):
            parse_price(bad)


def test_rule_612_limit_increments(h: Harness) -> None:
    """A limit price must be a multiple of 0.01 at or above $1.00 and of 0.0001 below."""
    ev = h.new("buy", 100, "10.001")
    assert isinstance(ev[0], Rejected)
    assert ev[0].text == "price 10.001 is not a multiple of 0.01 (Rule 612)"
    ev = h.new("buy", 100, "0.50015", sym="SUB")
    assert isinstance(ev[0], Rejected) and "0.0001" in ev[0].text
    assert not isinstance(h.new("buy", 100, "0.5001", sym="SUB")[0], Rejected)


@pytest.mark.parametrize("side,px,peg,expect", [
    ("buy", "10.05", None, "10.02"),     # limit buy: min(limit, NBO)
    ("buy", "10.01", None, "10.01"),
    ("sell", "9.95", None, "10"),        # limit sell: max(limit, NBB)
    ("sell", "10.01", None, "10.01"),
    ("buy", None, None, "10.02"),        # market buy: NBO
    ("sell", None, None, "10"),          # market sell: NBB
    ("buy", None, "primary", "10"),      # primary peg buy: NBB
    ("sell", None, "primary", "10.02"),  # primary peg sell: NBO
    ("buy", "9.99", "primary", "9.99"),  # ... capped by the limit
    ("buy", None, "market", "10.02"),    # market peg buy: NBO
    ("sell", None, "market", "10"),
    ("buy", None, "mid", "10.01"),       # mid-price peg: mid
    ("sell", None, "mid", "10.01"),
    ("buy", "10.00", "mid", "10"),       # mid peg capped at its limit
    ("sell", "10.02", "mid", "10.02"),
])
def test_assigned_limit_price_table(side: str, px: str | None, peg: str | None,
                                    expect: str) -> None:
    """Participant orders in Citi-ONE are given an Assigned Limit Price (Part III Item 7)."""
    h = Harness()
    h.quote("10.00", "10.02")
    ev = h.new(side, 100, px, peg)
    assert format_price(h.alp(ev) or 0) == expect


def test_alp_is_recomputed_on_every_nbbo_move(h: Harness) -> None:
    """The ALP is recomputed whenever the NBBO moves, including across an order's limit."""
    h.quote("10.00", "10.02")
    mid = h.new("buy", 100, None, "mid")
    capped = h.new("buy", 100, "10.02", "mid")
    lim = h.new("buy", 100, "10.01")
    h.quote("10.10", "10.20")
    assert h.alp(mid) == P("10.15") and h.alp(capped) == P("10.02")
    assert h.alp(lim) == P("10.01")
    h.quote("9.00", "9.02")
    assert h.alp(mid) == P("9.01") and h.alp(capped) == P("9.01")
    assert h.alp(lim) == P("9.02")
    h.quote("10.00", "10.04")
    assert h.alp(capped) == P("10.02") and h.alp(lim) == P("10.01")


def test_price_closest_to_mid_within_both_alps(h: Harness) -> None:
    """The execution price for a match will be that price closest to the midpoint of the NBBO
    that is compatible with both orders."""
    h.quote("10.00", "10.10")
    h.new("sell", 100, "10.07", part="B")
    ev = h.new("buy", 100, "10.09")
    assert trades(ev)[0][3] == P("10.07")
    h.new("buy", 100, "10.02", part="B")
    ev = h.new("sell", 100, "10.01")
    assert trades(ev)[0][3] == P("10.02")


def test_mid_when_alps_straddle_or_touch_the_mid(h: Harness) -> None:
    """If the Assigned Limit Price of one or both matching orders resides at the midpoint of
    the NBBO, or if both straddle the midpoint, the execution price will be the midpoint."""
    h.quote("10.00", "10.10")
    h.new("sell", 100, None, part="B")  # market sell, ALP = NBB
    ev = h.new("buy", 100, None)  # market buy, ALP = NBO
    assert trades(ev)[0][3] == P("10.05")
    h.new("sell", 100, None, "mid", part="B")
    ev = h.new("buy", 100, "10.08")
    assert trades(ev)[0][3] == P("10.05")


def test_half_penny_mid_above_a_dollar(h: Harness) -> None:
    """At or above $1.00 a half-penny mid (10.005) is a valid price."""
    h.quote("10.00", "10.01")
    h.new("buy", 100, None, "mid", part="B")
    ev = h.new("sell", 100, None, "mid")
    assert trades(ev)[0][3] == P("10.005")


@pytest.mark.parametrize("resting,price", [("buy", "0.5001"), ("sell", "0.5002")])
def test_fifth_decimal_rounds_toward_resting_order(resting: str, price: str) -> None:
    """When the buy and sell order Assigned Limit Prices straddle a five-decimal midpoint
    price, the matching price will be rounded based on the side of the earlier (resting)
    order to the nearest four-digit price."""
    h = Harness()
    h.quote("0.5001", "0.5002", "SUB")
    h.new(resting, 100, None, "mid", part="B", sym="SUB")
    ev = h.new("sell" if resting == "buy" else "buy", 100, None, "mid", sym="SUB")
    assert trades(ev)[0][3] == P(price)


def test_nothing_prints_outside_the_nbbo(h: Harness) -> None:
    """All matches will be at, or within, the NBBO."""
    h.quote("10.00", "10.02")
    h.new("sell", 100, "9.50", part="B")  # aggressive limit: ALP = NBB
    ev = h.new("buy", 100, "11.00")
    px = trades(ev)[0][3]
    assert P("10.00") <= px <= P("10.02")


def test_fill_reports_carry_liquidity_and_average(h: Harness) -> None:
    """The liquidity-providing order is always the first-in-time order."""
    h.quote("10.00", "10.02")
    rest = h.new("sell", 100, "10.01", part="B")
    ev = h.new("buy", 150, "10.02")
    f = fills(ev)
    assert [x.liquidity.value for x in f] == [1, 2]
    assert f[0].order_id == rest[0].order_id and f[1].contra_order_id == rest[0].order_id
    assert f[1].cum_qty == 100 and f[1].leaves_qty == 50 and f[1].avg_px == P("10.01")
    assert len({x.exec_id for x in ev}) == len(ev)
