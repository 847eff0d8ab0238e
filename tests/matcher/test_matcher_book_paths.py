"""Book paths the speed work relies on: capped pools at the NBBO reference, the Inclusion
Level cut inside a level, the crossed-region re-evaluation and per-session ClOrdIDs."""

from matcher_harness import Harness, P, trades

from matcher import Accepted, Cancel, Cancelled, TimeInForce

IOC = TimeInForce.IOC


def oid(events: list) -> int:  # type: ignore[type-arg]
    assert isinstance(events[0], Accepted)
    return events[0].order_id


def test_capped_orders_share_the_reference_and_keep_time_priority(h: Harness) -> None:
    """limit order: sell max(limit, NBB). Sells whose limit the NBB passes all sit at the NBB,
    where Time decides; when the NBB falls back each returns to its own limit price."""
    h.quote("10.00", "10.02")
    a = oid(h.new("sell", 100, "10.05", part="A"))
    b = oid(h.new("sell", 100, "10.03", part="B"))
    for bid, ask in (("10.06", "10.08"), ("10.00", "10.02"), ("10.06", "10.08")):
        h.quote(bid, ask)  # the NBBO moves back and forth across both limits
    assert h.engine.assigned_limit_price("A-s", "o1") == P("10.06")
    first = trades(h.new("buy", 100, part="C", tif=IOC))
    assert [t[0] for t in first] == [a]  # equal ALP: the earlier order, not the lower limit
    h.quote("10.02", "10.05")
    x = oid(h.new("sell", 100, "10.04", part="D"))
    assert h.engine.assigned_limit_price("B-s", "o2") == P("10.03")
    second = trades(h.new("buy", 200, part="C", tif=IOC))
    assert [t[0] for t in second] == [b, x]  # uncapped again: price priority


def test_inclusion_cut_moves_on_to_the_next_price(h: Harness) -> None:
    """Inclusion Level N admits takers whose Taker Level <= N; a contra that fails is skipped,
    and the taker goes on to worse prices."""
    h.quote("10.00", "10.10")
    low = oid(h.new("sell", 100, "10.02", part="A", inclusion_level=2))
    high = oid(h.new("sell", 100, "10.02", part="B"))  # Inclusion 5: ahead of `low`
    next_px = oid(h.new("sell", 100, "10.03", part="D"))
    got = trades(h.new("buy", 300, part="T3", tif=IOC))
    assert [t[0] for t in got] == [high, next_px]
    assert h.engine.order("A-s", "o1").open  # type: ignore[union-attr]
    assert [t[0] for t in trades(h.new("buy", 100, part="T1", tif=IOC))] == [low]


def test_reeval_pairs_only_later_takers_with_earlier_contras(h: Harness) -> None:
    """Re-evaluation after an NBBO change can make two resting orders cross: the later-arrived
    one is the taker. An old order on one side is not a taker against newer contras."""
    h.quote("10.00", "10.02")
    old_buy = oid(h.new("buy", 100, "10.01", part="A"))
    sells = [oid(h.new("sell", 100, "10.04", part=p)) for p in ("B", "D")]
    ev = h.quote("10.04", "10.06")  # buy ALP min(10.01, NBO) < sells at NBB: no cross
    assert trades(ev) == []
    ev = h.quote("9.98", "10.00")  # buy ALP 10.00 < sells' 10.04: still none
    assert trades(ev) == []
    late_buy = oid(h.new("buy", 100, "10.04", part="C"))  # rests: sells ALP 10.04 > NBO 10.00
    ev = h.quote("10.02", "10.04")  # late buy ALP 10.04 meets the sells at 10.04
    got = trades(ev)
    assert [(t[0], t[1]) for t in got] == [(sells[0], late_buy)]
    assert h.engine.order("A-s", "o1").open  # type: ignore[union-attr]  # old_buy untouched
    assert old_buy not in [t[1] for t in got]


def test_same_cl_ord_id_on_two_sessions_are_two_orders(h: Harness) -> None:
    """Orders are identified by (session, ClOrdID): the same ClOrdID on another session is
    another order, and a cancel on one session does not touch the other."""
    h.quote("10.00", "10.10")
    a = oid(h.new("buy", 100, "9.99", part="A", cl="X1"))
    b = oid(h.new("buy", 100, "9.98", part="B", cl="X1"))
    assert a != b
    ev = h.engine.apply(Cancel("A-s", "X2", "X1"))
    assert isinstance(ev[0], Cancelled) and ev[0].order_id == a
    assert h.engine.order("B-s", "X1").open  # type: ignore[union-attr]
    assert not h.engine.order("A-s", "X1").open  # type: ignore[union-attr]


def test_contra_skipped_for_min_qty_fills_once_leaves_are_all_or_none(h: Harness) -> None:
    """MinQty: a fill with a single contra order must be >= the MinQty ...; when leaves fall
    below MinQty they become all-or-none (7012=A). A 50-share contra too small for a MinQty
    100 taker becomes eligible once the taker's leaves are down to 50."""
    h.quote("10.00", "10.10")
    small = oid(h.new("sell", 50, "10.01", part="B"))
    big = oid(h.new("sell", 250, "10.02", part="D"))
    got = trades(h.new("buy", 300, "10.05", part="C", min_qty=100, tif=IOC))
    assert [(t[0], t[2]) for t in got] == [(big, 250), (small, 50)]


def test_order_joining_a_level_while_uncapped_is_in_the_pool_when_capped_again(
        h: Harness) -> None:
    """limit order: sell max(limit, NBB). An order that rests at a limit while the NBB is
    below it is at the NBB with the others once the NBB passes that limit again."""
    h.quote("10.00", "10.02")
    h.new("sell", 100, "10.03", part="A", inclusion_level=2)
    h.new("sell", 100, "10.04", part="B", inclusion_level=2)
    h.quote("10.05", "10.07")  # both capped at the NBB
    assert not trades(h.new("buy", 100, part="T3", tif=IOC))  # Inclusion 2 < Taker Level 3
    h.quote("10.00", "10.02")  # uncapped again
    late = oid(h.new("sell", 100, "10.04", part="D"))
    h.quote("10.05", "10.07")
    got = trades(h.new("buy", 100, part="T3", tif=IOC))
    assert [(t[0], t[3]) for t in got] == [(late, P("10.06"))]


def test_reeval_taker_reaches_an_older_contra_behind_younger_ones_of_a_higher_inclusion(
        h: Harness) -> None:
    """A level runs Inclusion Level then Time. After an NBBO move the later-arrived order of a
    crossing pair is the taker: a resting buy meets the one sell older than itself, although
    two younger sells of a higher Inclusion Level stand ahead of it at the same price."""
    h.quote("10.00", "10.02")
    old_sell = oid(h.new("sell", 100, "10.04", part="A", inclusion_level=3))
    buy = oid(h.new("buy", 100, "10.04", part="T3"))  # ALP min(10.04, NBO 10.02): rests
    young = [oid(h.new("sell", 100, "10.04", part=p)) for p in ("B", "D")]  # Inclusion 5
    got = trades(h.quote("10.02", "10.04"))  # the buy's ALP reaches the sells' 10.04
    assert [(t[0], t[1]) for t in got] == [(old_sell, buy)]
    assert [o.order_id for o in h.engine.book("X")[1]] == young  # still resting, in turn


def test_broker_priority_inside_a_pool_follows_orders_joining_and_leaving_it(h: Harness) -> None:
    """limit order: sell max(limit, NBB). Sells of three limits capped at the NBB are one
    price: a broker-dealer taker meets its own broker group's sells there first, and an order
    that joins the pool (or leaves it) while takers come and go counts at once."""
    h.quote("10.00", "10.02")
    b1 = oid(h.new("sell", 100, "10.05", part="B"))
    a1 = oid(h.new("sell", 100, "10.04", part="A"))  # broker group GA
    d1 = oid(h.new("sell", 100, "10.03", part="D"))
    h.quote("10.06", "10.08")  # all three at the NBB 10.06
    assert [t[0] for t in trades(h.new("buy", 100, part="A2", tif=IOC))] == [a1]  # GA first
    h.new("sell", 100, "10.03", part="A", cl="a3")  # joins the pool...
    h.engine.apply(Cancel("A-s", "x3", "a3"))  # ...and leaves it
    a2 = oid(h.new("sell", 100, "10.05", part="A"))  # joins B's level, in the pool
    assert [t[0] for t in trades(h.new("buy", 100, part="A2", tif=IOC))] == [a2]
    assert [t[0] for t in trades(h.new("buy", 300, part="C", tif=IOC))] == [b1, d1]
