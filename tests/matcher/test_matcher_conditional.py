"""Conditional Orders and Firm-up Orders (SPEC 5.1): each rule with the sentence it comes from."""

from __future__ import annotations

from typing import Any

import pytest
from matcher_harness import Harness, fills, trades

from matcher import (
    Accepted,
    Cancel,
    CancelAll,
    Cancelled,
    CancelRejected,
    Event,
    FirmUpInvited,
    FirmUpTimer,
    OrderClass,
    Rejected,
    RejectReason,
    Replace,
    Replaced,
    Side,
    TimeInForce,
)
from matcher.types import OrdType

C = OrderClass.CONDITIONAL
P = 10**6  # one dollar in Price units
MS = 1_000_000  # the harness clock runs 1000 ns per command


def co(h: Harness, side: str, qty: int, px: str | None = None, peg: str | None = None,
       **kw: Any) -> list[Event]:
    return h.new(side, qty, px, peg, order_class=C, **kw)


def firm_up(h: Harness, ref: str, side: str, qty: int, px: str | None = None,
            peg: str | None = None, **kw: Any) -> list[Event]:
    return h.new(side, qty, px, peg, conditional_ref=ref, tif=TimeInForce.IOC, **kw)


def invites(ev: list[Event]) -> list[FirmUpInvited]:
    return [e for e in ev if isinstance(e, FirmUpInvited)]


def cancels(ev: list[Event]) -> list[Cancelled]:
    return [e for e in ev if isinstance(e, Cancelled)]


def at(h: Harness, ns: int) -> list[Event]:
    """A FirmUpTimer received at ``ns`` (the harness clock jumps there)."""
    h.t = iter(range(ns, 10**18, 1000))  # type: ignore[assignment]
    return h.engine.apply(FirmUpTimer(1000, ns))


@pytest.fixture
def h() -> Harness:
    h = Harness()
    h.quote("10.00", "10.10")
    return h


def test_co_is_acknowledged_rests_and_never_executes(h: Harness) -> None:
    """"It is acknowledged (150=0) and rests. A CO is never executed itself": a crossing FRS
    order that is not eligible does not meet it, and nothing fills."""
    ev = co(h, "buy", 100, "10.05", cl="C1")
    assert isinstance(ev[0], Accepted) and len(ev) == 1
    ev = h.new("sell", 100, None, "mid", part="B")
    assert fills(ev) == [] and invites(ev) == []
    info = h.engine.order("A-s", "C1")
    assert info is not None and info.open and info.leaves_qty == 100


@pytest.mark.parametrize(("kw", "text"), [
    ({"tif": TimeInForce.IOC}, "IOC"),
    ({"post_only": True}, "post only"),
    ({"conditional_ref": "X1"}, "ConditionalOrderRef"),
])
def test_co_rejects(h: Harness, kw: dict[str, Any], text: str) -> None:
    """"TimeInForce day only (IOC: reject); post only (ExecInst 6) ... (a CO with ExecInst 6:
    reject)"."""
    ev = co(h, "buy", 100, "10.05", **kw)
    assert isinstance(ev[0], Rejected) and text in ev[0].text


def test_co_takes_the_frs_terms_checks(h: Harness) -> None:
    """"the same order types, pegs, limits, Side, MinQty, 47, 7010 and locate rules as an FRS
    order": a bad price or a short sale without locate are rejected as for an FRS order."""
    ev = co(h, "buy", 100, "10.001")
    assert isinstance(ev[0], Rejected) and "Rule 612" in ev[0].text
    ev = co(h, "short", 100, "10.05", part="C", locate_broker=None)
    assert isinstance(ev[0], Rejected) and "locate" in ev[0].text


def test_co_pair_gets_one_invitation_each_with_the_smaller_leaves(h: Harness) -> None:
    """"for a pair, each CO in it gets a FirmUpRequest ... OrderQty (38) = the invited quantity
    (the smaller of the two leaves), ExpireTime (126) = the deadline (invitation time +
    firm_up_window_ms)"."""
    co(h, "buy", 300, None, "mid", cl="CB")
    ev = co(h, "sell", 200, "10.02", part="B", cl="CS")
    inv = invites(ev)
    assert [(i.cl_ord_id, i.side, i.qty) for i in inv] == [("CB", Side.BUY, 200),
                                                            ("CS", Side.SELL, 200)]
    assert all(i.deadline_ns == i.ts + 1000 * MS for i in inv)
    assert fills(ev) == []


def test_cos_pair_before_eligible_frs(h: Harness) -> None:
    """"Contras of a CO, in priority Order Class | Price | Broker | Time: other COs first, then
    Eligible FRS Orders"."""
    h.new("sell", 100, "10.01", part="B", conditional_interaction=True, cl="F1")
    co(h, "sell", 100, "10.04", part="C", cl="CS")  # worse price, but a CO
    ev = co(h, "buy", 100, "10.05", part="D", cl="CB")
    assert {i.cl_ord_id for i in invites(ev)} == {"CB", "CS"}


def test_only_eligible_frs_orders_pair(h: Harness) -> None:
    """"Eligible FRS Orders: firm orders with 7013=Y, or from a session with
    conditional_interaction = true" (resolved by the gateway into the command)."""
    h.new("sell", 100, "10.01", part="B", cl="F0")  # not eligible
    ev = co(h, "buy", 100, "10.05", cl="CB")
    assert invites(ev) == []
    ev = h.new("sell", 100, "10.02", part="C", conditional_interaction=True, cl="F1")
    assert [i.cl_ord_id for i in invites(ev)] == ["CB"]  # only the CO is invited


def test_price_then_broker_then_time_among_co_contras(h: Harness) -> None:
    """Price first, then the broker group of a broker-dealer, then time."""
    co(h, "sell", 100, "10.03", part="B", cl="S1")
    co(h, "sell", 100, "10.03", part="A2", cl="S2")  # A's broker group GA, later
    co(h, "sell", 100, "10.04", part="D", cl="S3")
    ev = co(h, "buy", 100, "10.05", part="A", cl="B1", smp=False)
    assert {i.cl_ord_id for i in invites(ev)} == {"B1", "S2"}
    ev = co(h, "buy", 100, "10.05", part="C", cl="B2")  # not a broker-dealer: time
    assert {i.cl_ord_id for i in invites(ev)} == {"B2", "S1"}


@pytest.mark.parametrize(("buy", "sell"), [
    ({"part": "A"}, {"part": "A"}),  # SMP
    ({"part": "B", "dncp": True}, {"part": "OP", "capacity": "P"}),  # DNCP
    ({"part": "B", "min_qty": 200}, {"part": "C"}),  # MinQty against the single contra
])
def test_interaction_constraints_hold_for_pairs(h: Harness, buy: dict[str, Any],
                                                sell: dict[str, Any]) -> None:
    """"A CO and a contra are a pair when their ALPs cross and every interaction constraint of
    section 4 holds (SMP, DNCP, MinQty against the single contra)"."""
    from matcher import Capacity
    if sell.get("capacity") == "P":
        sell = {**sell, "capacity": Capacity.PRINCIPAL}
    co(h, "buy", 200, "10.05", **buy)
    ev = co(h, "sell", 100, "10.05", **sell)
    assert invites(ev) == []


def test_no_pair_while_matching_pauses_then_pairs_when_it_resumes(h: Harness) -> None:
    """"under the same matching conditions (valid NBBO within max_spread, no halt, no LULD
    limit or straddle state). Pairs are sought ... when the NBBO or the symbol's status
    changes"."""
    h.status(halted=True)
    co(h, "buy", 100, "10.05", cl="CB")
    assert invites(co(h, "sell", 100, "10.05", part="B", cl="CS")) == []
    ev = h.status(halted=False)
    assert {i.cl_ord_id for i in invites(ev)} == {"CB", "CS"}


def test_nbbo_move_makes_a_pair(h: Harness) -> None:
    """Pairs are sought when the NBBO changes: pegs that did not cross start to."""
    co(h, "buy", 100, "10.04", cl="CB")
    assert invites(co(h, "sell", 100, None, "primary", part="B", cl="CS")) == []  # at NBO 10.10
    ev = h.quote("10.00", "10.04")
    assert {i.cl_ord_id for i in invites(ev)} == {"CB", "CS"}


def test_pending_co_is_not_invited_again(h: Harness) -> None:
    """"A CO with a pending invitation is not invited again until it ends"."""
    co(h, "buy", 100, "10.05", cl="CB")
    co(h, "sell", 100, "10.05", part="B", cl="CS")
    ev = co(h, "sell", 100, "10.05", part="C", cl="CS2")
    assert invites(ev) == []
    assert invites(h.quote("10.00", "10.08")) == []


def test_firm_up_pair_both_sides_fill_at_the_mid(h: Harness) -> None:
    """"Received before the deadline it is acknowledged, the CO is cancelled (150=4 on the CO,
    Text firmed up by <ClOrdID>) ... a CO contra's own firm-up as soon as that arrives ...
    the earlier-received CO's firm-up ... is the liquidity provider"."""
    co(h, "buy", 300, None, "mid", cl="CB")
    co(h, "sell", 200, "10.02", part="B", cl="CS")
    ev = firm_up(h, "CS", "sell", 150, "10.02", part="B", cl="FS")
    assert isinstance(ev[0], Accepted) and ev[0].cl_ord_id == "FS"
    assert [(c.cl_ord_id, c.text) for c in cancels(ev)] == [("CS", "firmed up by FS")]
    assert fills(ev) == []  # waits for the contra's firm-up
    ev = firm_up(h, "CB", "buy", 300, None, "mid", cl="FB")
    f = fills(ev)
    assert [(x.cl_ord_id, x.last_qty, x.last_px, x.liquidity) for x in f] == [
        ("FB", 150, 10_050_000, 1), ("FS", 150, 10_050_000, 2)]
    # FB's leaves (IOC) are cancelled; FS is done
    assert [(c.cl_ord_id, c.leaves_qty) for c in cancels(ev)] == [("CB", 0), ("FB", 0)]
    assert h.engine.open_orders("A-s") == [] and h.engine.open_orders("B-s") == []


def test_firm_up_against_eligible_frs_fills_at_once(h: Harness) -> None:
    """"the firm-up is matched against the invited contra only: an eligible FRS contra at once
    (if it is still there and still crosses) ... the resting FRS order, is the liquidity
    provider, 851=1"."""
    h.new("sell", 500, "10.02", part="B", conditional_interaction=True, cl="F1")
    co(h, "buy", 100, "10.05", cl="CB")
    ev = firm_up(h, "CB", "buy", 100, "10.05", cl="FB")
    assert [(x.cl_ord_id, x.last_qty, x.liquidity) for x in fills(ev)] == [
        ("F1", 100, 1), ("FB", 100, 2)]
    assert fills(ev)[0].last_px == 10_050_000  # the mid: within both ALPs
    info = h.engine.order("B-s", "F1")
    assert info is not None and info.leaves_qty == 400


def test_firm_up_against_frs_contra_that_went_away(h: Harness) -> None:
    """"an eligible FRS contra stays available to firm orders meanwhile (first come, first
    served)"; the firm-up's leaves are then cancelled with a Text."""
    h.new("sell", 100, "10.02", part="B", conditional_interaction=True, cl="F1")
    co(h, "buy", 100, "10.05", cl="CB")
    h.new("buy", 100, "10.05", part="C")  # a firm order takes the FRS contra first
    ev = firm_up(h, "CB", "buy", 100, "10.05", cl="FB")
    assert fills(ev) == []
    assert cancels(ev)[-1].cl_ord_id == "FB" and "no longer available" in cancels(ev)[-1].text


def test_a_waiting_firm_up_is_not_in_the_frs_book(h: Harness) -> None:
    """"A waiting firm-up is not in the FRS book: no other order meets it"."""
    co(h, "buy", 100, "10.05", cl="CB")
    co(h, "sell", 100, "10.05", part="B", cl="CS")
    firm_up(h, "CB", "buy", 100, "10.05", cl="FB")
    ev = h.new("sell", 100, None, "mid", part="C")
    assert fills(ev) == []


@pytest.mark.parametrize(("ref", "kw", "text"), [
    ("NOPE", {}, "names no conditional order"),
    ("CX", {}, "no pending firm-up invitation"),
    ("CB", {"side": "short"}, "Symbol and Side"),
    ("CB", {"qty": 301}, "above the conditional order's leaves 300"),
])
def test_firm_up_rejects(h: Harness, ref: str, kw: dict[str, Any], text: str) -> None:
    """"Rejects (150=8, Text says which): 7002 naming no CO of the session, a CO without a
    pending invitation, a different Symbol or Side, OrderQty above the CO's leaves"."""
    co(h, "buy", 300, "10.05", cl="CB")
    co(h, "buy", 300, "10.01", cl="CX")  # no contra: never invited
    co(h, "sell", 100, "10.05", part="B", cl="CS")
    side = kw.get("side", "buy")
    ev = firm_up(h, ref, side, kw.get("qty", 100), "10.05")
    assert isinstance(ev[0], Rejected) and text in ev[0].text, ev[0]
    assert h.engine.order("A-s", "CB").open  # type: ignore[union-attr]


def test_firm_up_of_another_sessions_co_is_rejected(h: Harness) -> None:
    """"7002 naming no CO of the session"."""
    co(h, "buy", 100, "10.05", cl="CB")
    co(h, "sell", 100, "10.05", part="B", cl="CS")
    ev = firm_up(h, "CB", "buy", 100, "10.05", part="C")
    assert isinstance(ev[0], Rejected) and "names no conditional order" in ev[0].text


def test_deadline_expiry_cancels_the_silent_co_and_the_waiting_firm_up(h: Harness) -> None:
    """"No firm-up by the deadline: the CO is cancelled (150=4, Text firm-up not received
    within N ms). A contra firm-up that was waiting for it is cancelled (Text contra did not
    firm up)"."""
    co(h, "buy", 100, "10.05", cl="CB")
    inv = invites(co(h, "sell", 100, "10.05", part="B", cl="CS"))
    firm_up(h, "CS", "sell", 100, "10.05", part="B", cl="FS")
    assert cancels(at(h, inv[0].deadline_ns - 1)) == []
    ev = at(h, inv[0].deadline_ns)
    assert [(c.cl_ord_id, c.text) for c in cancels(ev)] == [
        ("CB", "firm-up not received within 1000 ms"), ("FS", "contra did not firm up")]


def test_late_firm_up_is_rejected_too_late(h: Harness) -> None:
    """"a firm-up after the deadline" is rejected; any command after the deadline expires the
    invitation first, timer or not."""
    co(h, "buy", 100, "10.05", cl="CB")
    inv = invites(co(h, "sell", 100, "10.05", part="B", cl="CS"))
    h.t = iter(range(inv[0].deadline_ns + 5, 10**18, 1000))  # type: ignore[assignment]
    ev = firm_up(h, "CB", "buy", 100, "10.05", cl="FB")
    assert [c.cl_ord_id for c in cancels(ev)] == ["CB", "CS"]  # expired first
    rej = ev[-1]
    assert isinstance(rej, Rejected) and rej.reason is RejectReason.TOO_LATE
    assert "after the deadline" in rej.text


def test_window_comes_from_the_timer_command(h: Harness) -> None:
    """firm_up_window_ms: the timer command states it for later invitations."""
    h.engine.apply(FirmUpTimer(250))
    co(h, "buy", 100, "10.05", cl="CB")
    inv = invites(co(h, "sell", 100, "10.05", part="B", cl="CS"))
    assert inv[0].deadline_ns == inv[0].ts + 250 * MS
    assert h.engine.next_firm_up_deadline() == inv[0].deadline_ns
    ev = at(h, inv[0].deadline_ns)
    assert {c.text for c in cancels(ev)} == {"firm-up not received within 250 ms"}
    assert h.engine.next_firm_up_deadline() is None


def test_cancel_of_an_invited_co_frees_the_contra_co(h: Harness) -> None:
    """"cancelling a CO with a pending invitation ends the invitation ... a contra CO that has
    not firmed up stays resting and can pair again"."""
    co(h, "buy", 100, "10.05", cl="CB")
    co(h, "sell", 100, "10.05", part="B", cl="CS")
    co(h, "buy", 100, "10.05", part="C", cl="CB2")  # waiting behind CB
    ev = h.engine.apply(Cancel("A-s", "X1", "CB"))
    assert isinstance(ev[0], Cancelled) and ev[0].orig_cl_ord_id == "CB"
    assert {i.cl_ord_id for i in invites(ev)} == {"CS", "CB2"}


def test_cancel_of_an_invited_co_cancels_a_waiting_contra_firm_up(h: Harness) -> None:
    """"a contra firm-up already received is cancelled at once (Text contra did not firm
    up)"."""
    co(h, "buy", 100, "10.05", cl="CB")
    co(h, "sell", 100, "10.05", part="B", cl="CS")
    firm_up(h, "CS", "sell", 100, "10.05", part="B", cl="FS")
    ev = h.engine.apply(Cancel("A-s", "X1", "CB"))
    assert [(c.cl_ord_id, c.text) for c in cancels(ev)] == [
        ("X1", "cancelled by user"), ("FS", "contra did not firm up")]


def test_replace_keeps_the_class_and_names_the_current_clordid(h: Harness) -> None:
    """"A replace keeps the order's class (7001 may be repeated on the G; a different value is
    rejected); a FirmUpRequest after a replace names the CO's current ClOrdID"."""
    co(h, "buy", 100, "10.01", cl="CB")
    ev = h.engine.apply(Replace("A-s", "CB2", "CB", 100, OrdType.LIMIT, Side.BUY, 10_010_000,
                                order_class=OrderClass.FIRM))
    assert isinstance(ev[0], CancelRejected) and "order class" in ev[0].text
    ev = h.engine.apply(Replace("A-s", "CB2", "CB", 100, OrdType.LIMIT, Side.BUY, 10_050_000,
                                order_class=C))
    assert isinstance(ev[0], Replaced)
    ev = co(h, "sell", 100, "10.05", part="B", cl="CS")
    assert {i.cl_ord_id for i in invites(ev)} == {"CB2", "CS"}
    h.new("buy", 100, "10.01", cl="F1")
    ev = h.engine.apply(Replace("A-s", "F2", "F1", 100, OrdType.LIMIT, Side.BUY, 10_010_000,
                                order_class=C))
    assert isinstance(ev[0], CancelRejected) and "order class" in ev[0].text


def test_replace_of_an_invited_co_ends_the_invitation_and_seeks_again(h: Harness) -> None:
    """Cancel and replace of a CO work as for FRS orders; the replace of an invited CO ends
    its invitation as a cancel would (README), then the CO seeks a pair with its new terms."""
    co(h, "buy", 100, "10.05", cl="CB")
    co(h, "sell", 100, "10.05", part="B", cl="CS")
    ev = h.engine.apply(Replace("A-s", "CB2", "CB", 80, OrdType.LIMIT, Side.BUY, 10_050_000))
    assert isinstance(ev[0], Replaced)
    assert [(i.cl_ord_id, i.qty) for i in invites(ev)] == [("CB2", 80), ("CS", 80)]


def test_eligible_frs_replaced_is_paired_again(h: Harness) -> None:
    """Pairs are sought when an eligible FRS order "is replaced"."""
    h.new("sell", 100, "10.09", part="B", conditional_interaction=True, cl="F1")
    co(h, "buy", 100, "10.05", cl="CB")
    ev = h.engine.apply(Replace("B-s", "F2", "F1", 100, OrdType.LIMIT, Side.SELL, 10_040_000))
    assert [i.cl_ord_id for i in invites(ev)] == ["CB"]


def test_cancel_all_takes_cos_and_waiting_firm_ups(h: Harness) -> None:
    """cancel_on_disconnect cancels a session's COs and firm-ups; contras can pair again."""
    co(h, "buy", 100, "10.05", cl="CB")
    co(h, "sell", 100, "10.05", part="B", cl="CS")
    co(h, "buy", 100, "10.05", part="C", cl="CB2")
    ev = h.engine.apply(CancelAll("A-s", "gone"))
    assert [c.cl_ord_id for c in cancels(ev)] == ["CB"]
    assert {i.cl_ord_id for i in invites(ev)} == {"CS", "CB2"}


def test_firm_up_prices_that_do_not_cross_do_not_fill(h: Harness) -> None:
    """Fills are ordinary firm fills: the firm-ups' own prices must cross."""
    co(h, "buy", 100, "10.05", cl="CB")
    co(h, "sell", 100, "10.05", part="B", cl="CS")
    firm_up(h, "CB", "buy", 100, "10.01", cl="FB")
    ev = firm_up(h, "CS", "sell", 100, "10.08", part="B", cl="FS")
    assert fills(ev) == []
    assert {(c.cl_ord_id, c.text) for c in cancels(ev)} >= {
        ("FB", "firm-up cancelled: prices do not cross"),
        ("FS", "firm-up cancelled: prices do not cross")}


def test_firm_up_is_always_ioc_and_pegs_work(h: Harness) -> None:
    """"its own OrdType / Price / pegs. It is always IOC": a day firm-up's leaves still end."""
    h.new("sell", 50, "10.02", part="B", conditional_interaction=True, cl="F1")
    co(h, "buy", 100, None, "mid", cl="CB")
    ev = h.new("buy", 100, None, "mid", conditional_ref="CB", tif=TimeInForce.DAY, cl="FB")
    assert trades(ev)[0][2] == 50
    assert cancels(ev)[-1].cl_ord_id == "FB" and cancels(ev)[-1].cum_qty == 50
    assert h.engine.open_orders("A-s") == []


def test_rule_201_floor_applies_to_pairs(h: Harness) -> None:
    """Rule 201: a short sale CO's ALP is at least NBB + 0.0001 while the restriction holds."""
    h.status(ssr=True)
    co(h, "buy", 100, "10.00", cl="CB")  # at the NBB
    ev = co(h, "short", 100, None, "mid", part="B", cl="CS")
    assert invites(ev) == []  # the short sale's ALP is floored above the buy's 10.00


def test_peg_kinds_accepted_for_cos(h: Harness) -> None:
    """"the same order types, pegs": market, primary and market pegs are accepted."""
    for peg in ("primary", "market", "mid"):
        ev = co(h, "buy", 100, "10.05", peg, ord_type=OrdType.PEGGED)
        assert isinstance(ev[0], Accepted), ev
    ev = co(h, "sell", 100, None, ord_type=OrdType.MARKET, part="C")
    assert isinstance(ev[0], Accepted)
