"""Order acceptance, time in force, cancel / replace and session cancel."""

import pytest
from matcher_harness import Harness, P, fills, trades

from matcher import (
    Accepted,
    Cancel,
    CancelAll,
    Cancelled,
    CancelReason,
    CancelRejected,
    CxlRejReason,
    OrdType,
    Rejected,
    RejectReason,
    Replace,
    Replaced,
    Side,
    TimeInForce,
)

IOC = TimeInForce.IOC


@pytest.mark.parametrize("sym,code,words", [
    ("NOPE", RejectReason.UNKNOWN_SYMBOL, "unknown symbol NOPE"),
    ("RST", RejectReason.BROKER_OPTION, "restricted"),
    ("ADR", RejectReason.BROKER_OPTION, "Financial Transaction Tax"),
    ("PTP", RejectReason.BROKER_OPTION, "publicly traded partnership"),
    ("NOCNS", RejectReason.BROKER_OPTION, "CNS"),
])
def test_ineligible_symbols_rejected(sym: str, code: RejectReason, words: str) -> None:
    """Eligible NMS Stocks are NMS Stocks that are (i) eligible for continuous net settlement
    ..., (ii) not restricted from trading by CGMI, (iii) not American Depositary Receipts that
    require withholding for Financial Transaction Tax purposes; and (iv) not Publicly Traded
    Partnership ... stocks."""
    ev = Harness().new("buy", 100, "10.00", sym=sym)
    assert isinstance(ev[0], Rejected) and ev[0].reason is code and words in ev[0].text


def test_rejects_with_clear_text(h: Harness) -> None:
    """Rejects with a clear Text: bad quantity or price, duplicate ClOrdID, unknown
    participant."""
    assert "quantity 0" in h.new("buy", 0, "10.00")[0].text  # type: ignore[union-attr]
    h.new("buy", 100, "10.00", cl="dup")
    ev = h.new("buy", 100, "10.00", cl="dup")
    assert isinstance(ev[0], Rejected) and ev[0].reason is RejectReason.DUPLICATE_ORDER
    ev = h.new("buy", 100, "10.00", part="ZZ")
    assert isinstance(ev[0], Rejected) and "unknown participant ZZ" in ev[0].text
    ev = h.new("buy", 100, "10.00", min_qty=200)
    assert isinstance(ev[0], Rejected) and "MinQty 200" in ev[0].text
    ev = h.new("buy", 100, None, ord_type=OrdType.PEGGED)
    assert isinstance(ev[0], Rejected) and "ExecInst" in ev[0].text


def test_conditional_and_moc_rejected_for_now(h: Harness) -> None:
    """Citi-ONE will reject MOC Orders sent as short sale orders; MOC only for opted-in
    Participants; conditionals come in a later phase."""
    ev = h.new("short", 100, None, part="MOC", ord_type=OrdType.MARKET_ON_CLOSE)
    assert "short sale" in ev[0].text  # type: ignore[union-attr]
    ev = h.new("buy", 100, None, part="B", ord_type=OrdType.MARKET_ON_CLOSE)
    assert "not opted in" in ev[0].text  # type: ignore[union-attr]


def test_ioc_cancels_what_cannot_execute(h: Harness) -> None:
    """IOC: whatever cannot execute immediately is cancelled, also while matching pauses."""
    h.quote("10.00", "10.10")
    h.new("sell", 60, None, "mid", part="B")
    ev = h.new("buy", 100, None, "mid", tif=IOC)
    c = ev[-1]
    assert trades(ev)[0][2] == 60
    assert isinstance(c, Cancelled) and c.reason is CancelReason.IOC and c.cum_qty == 60
    h.status(halted=True)
    h.new("sell", 60, None, "mid", part="B")
    ev = h.new("buy", 100, None, "mid", tif=IOC)
    assert isinstance(ev[-1], Cancelled) and ev[-1].text == "IOC"


def test_market_order_without_nbbo_rests_or_cancels(h: Harness) -> None:
    """Market orders with no NBBO rest until one arrives (day) or are cancelled (IOC)."""
    rest = h.new("buy", 100, None)
    assert isinstance(rest[-1], Accepted)
    assert isinstance(h.new("buy", 100, None, tif=IOC)[-1], Cancelled)
    h.new("sell", 100, "10.01", part="B")
    ev = h.quote("10.00", "10.02")
    assert trades(ev)[0][2:] == (100, P("10.01"))


def test_cancel_and_cancel_rejects(h: Harness) -> None:
    """OrderCancelRequest: cancel by OrigClOrdID; unknown, done and duplicate are refused."""
    ev = h.new("buy", 100, "10.00", cl="a")
    out = h.engine.apply(Cancel("A-s", "a-c", "a"))
    assert isinstance(out[0], Cancelled) and out[0].orig_cl_ord_id == "a"
    assert out[0].order_id == ev[0].order_id and out[0].leaves_qty == 0
    rej = h.engine.apply(Cancel("A-s", "a-c2", "a"))[0]
    assert isinstance(rej, CancelRejected) and rej.reason is CxlRejReason.TOO_LATE
    rej = h.engine.apply(Cancel("A-s", "x", "nope"))[0]
    assert isinstance(rej, CancelRejected) and rej.reason is CxlRejReason.UNKNOWN_ORDER
    h.new("buy", 100, "10.00", cl="b")
    rej = h.engine.apply(Cancel("A-s", "a", "b"))[0]
    assert isinstance(rej, CancelRejected) and rej.reason is CxlRejReason.DUPLICATE_CL_ORD_ID
    rej = h.engine.apply(Cancel("B-s", "z", "b"))[0]  # another session's order is unknown
    assert isinstance(rej, CancelRejected) and rej.reason is CxlRejReason.UNKNOWN_ORDER
    assert [o.cl_ord_id for o in h.engine.open_orders("A-s")] == ["b"]


def test_replace_changes_order_and_may_trade(h: Harness) -> None:
    """OrderCancelReplaceRequest: the replaced order is re-priced and may match at once."""
    h.quote("10.00", "10.10")
    h.new("sell", 100, "10.08", part="B")
    h.new("buy", 100, "10.02", cl="a")
    ev = h.engine.apply(Replace("A-s", "a2", "a", 100, OrdType.LIMIT, Side.BUY,
                                limit=P("10.09")))
    assert isinstance(ev[0], Replaced) and ev[0].orig_cl_ord_id == "a"
    assert trades(ev)[0][2:] == (100, P("10.08"))
    assert h.engine.order("A-s", "a2").cum_qty == 100  # type: ignore[union-attr]


def test_replace_to_qty_at_or_below_cum_is_done(h: Harness) -> None:
    """Replace to a qty <= cum qty -> order done."""
    h.quote("10.00", "10.10")
    h.new("buy", 100, "10.05", cl="a")
    h.new("sell", 40, "10.05", part="B")
    ev = h.engine.apply(Replace("A-s", "a2", "a", 40, OrdType.LIMIT, Side.BUY,
                                limit=P("10.05")))
    assert isinstance(ev[0], Replaced) and ev[0].leaves_qty == 0 and ev[0].cum_qty == 40
    assert h.engine.open_orders("A-s") == []


def test_replace_invalid_changes_rejected(h: Harness) -> None:
    """CancelRejected with a readable reason when the change is invalid."""
    h.new("buy", 100, "10.00", cl="a")
    rej = h.engine.apply(Replace("A-s", "a2", "a", 100, OrdType.LIMIT, Side.SELL,
                                 limit=P("10.00")))[0]
    assert isinstance(rej, CancelRejected) and "buy and sell" in rej.text and rej.is_replace
    rej = h.engine.apply(Replace("A-s", "a3", "a", 100, OrdType.LIMIT, Side.BUY,
                                 limit=P("10.001")))[0]
    assert isinstance(rej, CancelRejected) and "Rule 612" in rej.text


def test_cancel_all_for_a_session(h: Harness) -> None:
    """cancel_on_disconnect: every open order of the session is cancelled."""
    h.new("buy", 100, "10.00")
    h.new("sell", 100, "10.20")
    h.new("sell", 100, "10.20", part="B")
    ev = h.engine.apply(CancelAll("A-s", "disconnect"))
    assert len(ev) == 2 and all(isinstance(e, Cancelled) and e.text == "disconnect"
                                for e in ev)
    assert h.engine.open_orders("A-s") == [] and len(h.engine.open_orders("B-s")) == 1


def test_events_are_stamped_from_the_clock(h: Harness) -> None:
    """Timestamps are applied ... upon receipt, creation, or cancellation (nanoseconds)."""
    ev = h.new("buy", 100, "10.00")
    ev2 = h.new("buy", 100, "10.00")
    assert ev[0].ts == 1_000 and ev2[0].ts == 2_000 and not fills(ev2)
