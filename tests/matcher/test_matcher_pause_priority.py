"""When matching pauses, re-evaluation, and Class | Price | Broker | Inclusion | Time."""

import pytest
from matcher_harness import Harness, P, fills, trades

from matcher import Accepted, Liquidity, Replace, Side


@pytest.mark.parametrize("bid,ask", [("10.02", "10.02"), ("10.03", "10.01"), (None, "10.02"),
                                     ("10.00", None), ("10.00", "10.60")])
def test_no_matching_on_locked_crossed_missing_or_wide_nbbo(bid: str | None,
                                                            ask: str | None) -> None:
    """During the RTS, Citi-ONE will prevent matching in NMS Stocks with an NBBO that is locked
    or crossed. Citi-ONE will not match orders when the price of an NMS Stock is outside of a
    valid NBBO spread width."""
    h = Harness()
    h.quote(bid, ask)
    h.new("sell", 100, None, "mid", part="B")
    ev = h.new("buy", 100, None, "mid")
    assert isinstance(ev[0], Accepted) and not fills(ev)
    ev = h.quote("10.00", "10.02")  # matching possible again: the book is re-evaluated
    assert trades(ev)[0][2:] == (100, P("10.01"))


@pytest.mark.parametrize("status", [{"halted": True}, {"luld_state": 1}, {"luld_state": 2}])
def test_no_matching_while_halted_or_in_luld_state(status: dict[str, object]) -> None:
    """Citi-ONE will automatically pause matching during LULD Limit States and Straddle
    States."""
    h = Harness()
    h.quote("10.00", "10.02")
    h.status(**status)
    h.new("sell", 100, None, "mid", part="B")
    assert not fills(h.new("buy", 100, None, "mid"))
    ev = h.status(halted=False, luld_state=0)
    assert len(trades(ev)) == 1


def test_nbbo_move_makes_resting_orders_cross() -> None:
    """Re-evaluation after an NBBO change can make two resting orders cross: the later-arrived
    one is the taker."""
    h = Harness()
    h.quote("10.00", "10.10")
    buy = h.new("buy", 100, "10.02")  # ALP 10.02
    sell = h.new("sell", 100, None, "primary", part="B")  # ALP NBO 10.10
    assert not fills(sell)
    ev = h.quote("9.98", "10.02")  # sell ALP -> 10.02, meets the buy
    f = fills(ev)
    assert f[0].order_id == buy[0].order_id and f[0].liquidity is Liquidity.ADDED
    assert f[1].order_id == sell[0].order_id and f[1].liquidity is Liquidity.REMOVED


def test_price_priority_better_alp_first(h: Harness) -> None:
    """FRS Orders ... on the same side of the market, in the same NMS Stock, are prioritized
    according to the Assigned Limit Prices."""
    h.quote("10.00", "10.10")
    h.new("sell", 100, "10.08", part="B")
    better = h.new("sell", 100, "10.06", part="D")
    ev = h.new("buy", 100, "10.09", part="C")
    assert trades(ev)[0][0] == better[0].order_id


def test_broker_priority_for_broker_dealer_taker(h: Harness) -> None:
    """Broker - Allows for two contra-side orders that originated from a U.S.-registered
    broker-dealer ... to have priority over orders from other Participants."""
    h.quote("10.00", "10.10")
    other = h.new("sell", 100, "10.05", part="B")
    own_group = h.new("sell", 100, "10.05", part="A2")  # same broker group GA, later
    ev = h.new("buy", 100, "10.05", part="A", smp=False)
    assert trades(ev)[0][0] == own_group[0].order_id
    # a non-broker-dealer taker has no broker priority: time decides
    h.new("sell", 100, "10.05", part="A2")
    ev = h.new("buy", 100, "10.05", part="C")
    assert trades(ev)[0][0] == other[0].order_id


def test_inclusion_level_priority(h: Harness) -> None:
    """FRS Orders with Inclusion Level 5 will receive matches before FRS Orders with Inclusion
    Levels 1 through 4."""
    h.quote("10.00", "10.10")
    h.new("sell", 100, "10.05", part="B", inclusion_level=4)
    five = h.new("sell", 100, "10.05", part="D", inclusion_level=5)
    ev = h.new("buy", 100, "10.05", part="C")
    assert trades(ev)[0][0] == five[0].order_id


def test_time_priority(h: Harness) -> None:
    """If all previous matching priority parameters are equal, the FRS Order ... that is first
    to arrive will match with a resting order."""
    h.quote("10.00", "10.10")
    first = h.new("sell", 100, None, "mid", part="B")
    h.new("sell", 100, None, "mid", part="D")
    ev = h.new("buy", 100, None, "mid", part="C")
    assert trades(ev)[0][0] == first[0].order_id


def _replace(h: Harness, ev: list, **kw: object) -> None:  # type: ignore[type-arg]
    o = ev[0]
    info = h.engine.order(o.session, o.cl_ord_id)
    assert info is not None
    args = {"qty": info.order_qty, "ord_type": info.ord_type, "side": info.side,
            "limit": info.limit, "peg": info.peg, "locate_broker": "LOC"}
    args.update(kw)
    h.engine.apply(Replace(o.session, f"r{next(h.ids)}", info.cl_ord_id, **args))  # type: ignore


@pytest.mark.parametrize("change,keeps", [
    ({"qty": 50}, True),                               # (i) decrease in quantity
    ({"side": Side.SELL_SHORT}, True),                 # (ii) a short sale change
    ({"qty": 200}, False),                             # increase resets
    ({"limit": P("10.06")}, False),                    # price change resets
])
def test_replace_resets_receipt_time_except(change: dict[str, object], keeps: bool) -> None:
    """Any change to the FRS Order ... will reset the Receipt Time ... except where such change
    ... is (i) decrease in quantity, (ii) a short sale change ... or (iii) a change to the
    Assigned Limit Price due to a change in the NBBO."""
    h = Harness()
    h.quote("10.00", "10.10")
    first = h.new("sell", 100, "10.05", part="B")
    second = h.new("sell", 100, "10.05", part="D")
    if "limit" in change:  # a price change and back: same price, new receipt time
        _replace(h, first, limit=P("10.06"))
        change = {"limit": P("10.05")}
    _replace(h, first, **change)
    ev = h.new("buy", 50, "10.09", part="C")
    expect = first if keeps else second
    assert trades(ev)[0][0] == expect[0].order_id


def test_nbbo_repricing_keeps_receipt_time(h: Harness) -> None:
    """(iii) a change to the Assigned Limit Price due to a change in the NBBO does not reset
    the Receipt Time."""
    h.quote("10.00", "10.10")
    first = h.new("sell", 100, "10.03", "mid", part="B")  # limit 10.03 below the mid: ALP = mid
    second = h.new("sell", 100, None, "mid", part="D")
    h.quote("9.90", "10.00")   # ALPs now 10.03 (its limit) and 9.95: the first is behind
    h.quote("10.00", "10.10")  # back: both at the mid 10.05 again
    ev = h.new("buy", 100, None, "mid", part="C")
    assert trades(ev)[0][0] == first[0].order_id
    assert second
