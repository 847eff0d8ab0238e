"""Interaction constraints: inclusion, MinQty, self-match prevention, DNCP, post only."""

import pytest
from matcher_harness import Harness, fills, trades

from matcher import Cancelled, CancelReason, Capacity, MinQtyInstruction, Rejected, TimeInForce

IOC = TimeInForce.IOC


def test_inclusion_level_admits_taker_levels(h: Harness) -> None:
    """Inclusion Level 5 results in the most inclusive interaction, allowing interaction with
    FRS Orders at all Taker Levels; and Inclusion Level 1 results in the most exclusive
    interaction, permitting interaction only with Taker Level 1."""
    h.quote("10.00", "10.10")
    h.new("sell", 100, None, "mid", part="B", inclusion_level=1)
    assert not fills(h.new("buy", 100, None, "mid", part="T3", tif=IOC))
    assert fills(h.new("buy", 100, None, "mid", part="T1"))
    h.new("sell", 100, None, "mid", part="B", inclusion_level=3)
    assert fills(h.new("buy", 100, None, "mid", part="T3"))


def test_inclusion_level_must_be_1_to_5(h: Harness) -> None:
    """Participants ... may select one of five Inclusion Levels."""
    ev = h.new("buy", 100, "10.00", inclusion_level=6)
    assert isinstance(ev[0], Rejected) and "Inclusion Level 6" in ev[0].text


def test_session_default_inclusion_level(h: Harness) -> None:
    """Inclusion Level default: the session's default_inclusion_level."""
    h.quote("10.00", "10.10")
    h.new("sell", 100, None, "mid", part="B", default_inclusion_level=2)
    assert not fills(h.new("buy", 100, None, "mid", part="T3"))


def test_min_qty_single_contra_no_aggregation(h: Harness) -> None:
    """Citi-ONE does not aggregate contra-side orders to meet the MinQty; the MinQty specified
    on an order can only be filled by a single contra-side order."""
    h.quote("10.00", "10.10")
    h.new("sell", 60, None, "mid", part="B")
    h.new("sell", 60, None, "mid", part="D")
    ev = h.new("buy", 200, None, "mid", part="C", min_qty=100)
    assert not fills(ev)
    big = h.new("sell", 150, None, "mid", part="D")
    assert trades(big) and trades(big)[0][2] == 150


def test_resting_min_qty_is_respected(h: Harness) -> None:
    """MinQty allows Participants to specify a minimum quantity for execution against any
    single contra-side order."""
    h.quote("10.00", "10.10")
    rest = h.new("sell", 500, None, "mid", part="B", min_qty=200)
    assert not fills(h.new("buy", 100, None, "mid", part="C"))
    ev = h.new("buy", 300, None, "mid", part="D")
    assert trades(ev)[0][:3] == (rest[0].order_id, ev[0].order_id, 300)


def test_leaves_below_min_qty_become_all_or_none(h: Harness) -> None:
    """Under the default setting, an order will become All or None if the leaves quantity is
    less than the minimum executable quantity."""
    h.quote("10.00", "10.10")
    rest = h.new("sell", 300, None, "mid", part="B", min_qty=200)
    h.new("buy", 200, None, "mid", part="C")  # leaves 100 < 200: now all-or-none
    assert not fills(h.new("buy", 50, None, "mid", part="D", tif=IOC))
    ev = h.new("buy", 100, None, "mid", part="D")
    assert trades(ev)[0][:3] == (rest[0].order_id, ev[0].order_id, 100)


def test_leaves_below_min_qty_cancelled_with_instruction(h: Harness) -> None:
    """A Participant may specify that the order is cancelled back to the Participant if the
    leaves quantity is less than the minimum executable quantity."""
    h.quote("10.00", "10.10")
    rest = h.new("sell", 300, None, "mid", part="B", min_qty=200,
                 min_qty_instruction=MinQtyInstruction.CANCEL)
    ev = h.new("buy", 200, None, "mid", part="C")
    c = [e for e in ev if isinstance(e, Cancelled)]
    assert c and c[0].order_id == rest[0].order_id and c[0].reason is CancelReason.MIN_QTY
    assert c[0].cum_qty == 200 and c[0].leaves_qty == 0


def test_self_match_prevention_default_on(h: Harness) -> None:
    """Self-match prevention is enabled by default and Participants can opt out."""
    h.quote("10.00", "10.10")
    h.new("sell", 100, None, "mid", part="A")
    assert not fills(h.new("buy", 100, None, "mid", part="A"))
    assert not fills(h.new("buy", 100, None, "mid", part="A", smp=False))  # resting side's SMP
    h2 = Harness()
    h2.quote("10.00", "10.10")
    h2.new("sell", 100, None, "mid", part="A", smp=False)
    assert fills(h2.new("buy", 100, None, "mid", part="A", smp=False))


def test_self_match_prevention_affiliate_scope(h: Harness) -> None:
    """Participants can also request that self-match prevention apply to not only the
    Participant's own buy and sell orders but also to buy and sell orders from the
    Participant's affiliates."""
    h.quote("10.00", "10.10")
    h.new("sell", 100, None, "mid", part="A2", smp=False)
    assert fills(h.new("buy", 50, None, "mid", part="A"))  # participant scope: A != A2
    assert not fills(h.new("buy", 50, None, "mid", part="A", smp_scope="affiliates"))


@pytest.mark.parametrize("part,capacity,blocked", [
    ("OP", Capacity.PRINCIPAL, True),
    ("OPA", Capacity.PRINCIPAL, True),
    ("OPA", Capacity.AGENCY, False),   # e.g. CBNA entered as agency
    ("OP", None, False),
    ("B", Capacity.PRINCIPAL, False),  # not the operator or an affiliate
])
def test_dncp_blocks_operator_and_affiliate_principal(part: str, capacity: Capacity | None,
                                                      blocked: bool) -> None:
    """A DNCP instruction ... prevents orders from matching with the principal orders of CGMI
    and orders of Affiliates of CGMI that are entered into the ATS marked as principal ...
    the DNCP instruction will not prevent crossing with the principal interest of CBNA."""
    h = Harness()
    h.quote("10.00", "10.10")
    h.new("sell", 100, None, "mid", part=part, capacity=capacity)
    ev = h.new("buy", 100, None, "mid", part="C", dncp=True)
    assert bool(fills(ev)) is not blocked


def test_session_dncp_cannot_be_overridden(h: Harness) -> None:
    """If the DNCP instruction is enabled on a FIX session-level or default basis, it will be
    applied to all orders, i.e., a Subscriber cannot override that selection on an
    order-by-order basis."""
    h.quote("10.00", "10.10")
    h.new("buy", 100, None, "mid", part="C", session_dncp=True, dncp=False)
    assert not fills(h.new("sell", 100, None, "mid", part="OP", capacity=Capacity.PRINCIPAL))
    # without the session setting, the order's own 7010=N lets it cross
    assert fills(h.new("buy", 100, None, "mid", part="C", dncp=False))


def test_post_only_never_takes(h: Harness) -> None:
    """The "post only" attribute allows Participants to submit FRS Orders that can only be
    liquidity-providing orders (first-in-time Order)."""
    h.quote("10.00", "10.10")
    h.new("sell", 100, None, "mid", part="B")
    po = h.new("buy", 100, None, "mid", post_only=True)
    assert not fills(po)
    assert not fills(h.quote("10.00", "10.08"))  # re-evaluation never makes it a taker
    ev = h.new("sell", 100, None, "mid", part="D")  # a later contra takes the post only order
    assert trades(ev)[0][0] == po[0].order_id
