"""The MOC session (SPEC 5.2): each rule, with the sentence of the SPEC it comes from."""

from __future__ import annotations

import os
from datetime import datetime
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

from matcher_harness import SYMBOLS, fills

from matcher import (
    Accepted,
    Cancel,
    CancelAll,
    Cancelled,
    CancelReason,
    CancelRejected,
    Capacity,
    CloseRefused,
    ClosingPrice,
    CxlRejReason,
    Engine,
    Event,
    Journal,
    Liquidity,
    MocSettings,
    NewOrder,
    OrdType,
    Participant,
    Peg,
    QuoteUpdate,
    Rejected,
    RejectReason,
    Replace,
    Replaced,
    SecurityStatus,
    Side,
    TimeInForce,
    parse_price,
)

P = parse_price
MOC = OrdType.MARKET_ON_CLOSE
NY = "America/New_York"

PARTS = {
    "MA": Participant("MA", broker_dealer=True, broker_group="GA", affiliate_group="FAM",
                      moc_opt_in=True),
    "MA2": Participant("MA2", broker_dealer=True, broker_group="GA", affiliate_group="FAM",
                       moc_opt_in=True),
    "MB": Participant("MB", broker_dealer=True, moc_opt_in=True),
    "MC": Participant("MC", moc_opt_in=True),  # not a broker-dealer
    "MD": Participant("MD", broker_dealer=True, moc_opt_in=True),
    "OP": Participant("OP", broker_dealer=True, operator=True, moc_opt_in=True),
    "NO": Participant("NO", broker_dealer=True),  # not opted in
}


def wall(day: str, hms: str, tz: str = NY) -> int:
    """Epoch ns of a local wall time ``day`` (YYYY-MM-DD) ``hms`` in ``tz``."""
    local = datetime.fromisoformat(f"{day}T{hms}").replace(tzinfo=ZoneInfo(tz))
    return int(local.timestamp()) * 1_000_000_000


class Venue:
    """An engine whose clock the test sets: ``at(...)`` moves it, each command adds 1 us."""

    def __init__(self, tz: str = NY, cutoff: str = "15:50:00", journal: str | None = None,
                 day: str = "2026-03-02") -> None:
        self.now = wall(day, "10:00:00", tz)
        self.day, self.tz = day, tz
        self.settings = MocSettings(tz, cutoff)
        self.engine = Engine(PARTS, SYMBOLS, self.clock,
                             Journal(journal) if journal else None, self.settings)
        self.n = 0

    def clock(self) -> int:
        self.now += 1_000
        return self.now

    def at(self, hms: str, day: str | None = None) -> None:
        self.now = wall(day or self.day, hms, self.tz)

    def moc(self, side: str, qty: int, part: str = "MA", sym: str = "X", cl: str | None = None,
            **kw: Any) -> list[Event]:
        self.n += 1
        s = {"buy": Side.BUY, "sell": Side.SELL, "short": Side.SELL_SHORT,
             "exempt": Side.SELL_SHORT_EXEMPT}[side]
        if s in (Side.SELL_SHORT, Side.SELL_SHORT_EXEMPT):
            kw.setdefault("locate_broker", "LOC")
        return self.engine.apply(NewOrder(kw.pop("session", f"{part}-s"), part,
                                          cl or f"m{self.n}", sym, s, qty, ord_type=MOC, **kw))

    def close(self, price: str, sym: str = "X") -> list[Event]:
        return self.engine.apply(ClosingPrice(sym, P(price)))

    def cancel(self, ev: list[Event], cl: str) -> list[Event]:
        o = ev[0]
        return self.engine.apply(Cancel(o.session, cl, o.cl_ord_id))  # type: ignore[union-attr]

    def replace(self, ev: list[Event], cl: str, qty: int, **kw: Any) -> list[Event]:
        o = ev[0]
        kw.setdefault("side", o.side)  # type: ignore[union-attr]
        kw.setdefault("ord_type", MOC)
        return self.engine.apply(Replace(o.session, cl, o.cl_ord_id,  # type: ignore[union-attr]
                                         qty, **kw))


def oid(ev: list[Event]) -> int:
    assert isinstance(ev[0], Accepted), ev
    return ev[0].order_id


def matches(ev: list[Event]) -> list[tuple[int, int, int, int]]:
    """(buy order id, sell order id, qty, px) per match, in allocation order."""
    f = fills(ev)
    out = []
    for a, b in zip(f[::2], f[1::2], strict=True):
        buy, sell = (a, b) if a.side is Side.BUY else (b, a)
        out.append((buy.order_id, sell.order_id, a.last_qty, a.last_px))
    return out


def reject_text(ev: list[Event]) -> str:
    assert len(ev) == 1 and isinstance(ev[0], Rejected | CancelRejected), ev
    return ev[0].text


# ---------------------------------------------------------------- acceptance


def test_only_opted_in_participants() -> None:
    """'Accepted only from participants with moc_opt_in = true (else reject)'."""
    v = Venue()
    ev = v.moc("buy", 100, part="NO")
    assert isinstance(ev[0], Rejected) and ev[0].reason is RejectReason.BROKER_OPTION
    assert ev[0].text == "participant NO has not opted in to the MOC session"
    assert isinstance(v.moc("buy", 100, part="MA")[0], Accepted)


def test_never_a_short_sale() -> None:
    """'never as a short sale (54=5/6: reject)'."""
    v = Venue()
    for side in ("short", "exempt"):
        assert reject_text(v.moc(side, 100)) == "MOC orders may not be short sales"
    assert isinstance(v.moc("sell", 100)[0], Accepted)


def test_no_price_and_day_only() -> None:
    """'without Price (44 present: reject), TimeInForce absent, 0 (day) or 7 (At the Close;
    other values: reject)' (59=7 arrives as day: see tests/gateway)."""
    v = Venue()
    assert "must not carry a price" in reject_text(v.moc("buy", 100, limit=P("10.00")))
    assert "TimeInForce" in reject_text(v.moc("buy", 100, tif=TimeInForce.IOC))
    assert "peg" in reject_text(v.moc("buy", 100, peg=Peg.MIDPOINT))
    assert "post only" in reject_text(v.moc("buy", 100, post_only=True))
    assert "quantity" in reject_text(v.moc("buy", 0))
    assert "unknown symbol" in reject_text(v.moc("buy", 100, sym="NOPE"))
    assert "not eligible" in reject_text(v.moc("buy", 100, sym="RST"))
    assert isinstance(v.moc("buy", 100, tif=TimeInForce.DAY)[0], Accepted)


def test_moc_orders_never_meet_frs_orders() -> None:
    """'MOC orders never meet FRS orders or COs.'"""
    v = Venue()
    v.engine.apply(QuoteUpdate("X", P("10.00"), 100, P("10.02"), 100))
    v.moc("sell", 100, part="MB")
    ev = v.engine.apply(NewOrder("MA-s", "MA", "frs1", "X", Side.BUY, 100,
                                 ord_type=OrdType.MARKET))
    assert isinstance(ev[0], Accepted) and fills(ev) == []
    v.at("16:00:00")
    ev = v.close("10.01")
    assert fills(ev) == [] and v.engine.order("MA-s", "frs1").open  # type: ignore[union-attr]
    assert [e.reason for e in ev if isinstance(e, Cancelled)] == [CancelReason.MOC_CROSS]


# ---------------------------------------------------------------- the cutoff


def test_new_orders_strictly_before_the_cutoff() -> None:
    """'New MOC orders ... are accepted strictly before the venue's moc_cutoff (time of day in
    the venue's timezone, each calendar day); from it on they are rejected (150=8 ..., Text
    MOC cutoff passed)'."""
    v = Venue()
    v.at("15:49:59")
    assert isinstance(v.moc("buy", 100)[0], Accepted)
    v.now += 999_990_000  # 15:49:59.99999x
    assert isinstance(v.moc("buy", 100)[0], Accepted)
    v.at("15:50:00")
    ev = v.moc("buy", 100)
    assert isinstance(ev[0], Rejected) and ev[0].reason is RejectReason.TOO_LATE
    assert ev[0].text == "MOC cutoff passed"
    v.at("09:00:00", day="2026-03-03")  # each calendar day
    assert isinstance(v.moc("buy", 100)[0], Accepted)


def test_cutoff_is_wall_time_in_the_venue_zone_across_dst() -> None:
    """The cutoff is a time of day in the venue's timezone: 15:49 New York is 20:49 UTC in
    winter and 19:49 UTC in summer, and both are before it."""
    v = Venue()
    for day, utc_before, utc_after in (("2026-03-02", "20:49:00", "20:50:00"),
                                       ("2026-07-01", "19:49:00", "19:50:00")):
        v.now = wall(day, utc_before, "UTC")
        assert isinstance(v.moc("buy", 100)[0], Accepted), day
        v.now = wall(day, utc_after, "UTC")
        assert reject_text(v.moc("buy", 100)) == "MOC cutoff passed", day


def test_cancels_and_replaces_before_the_cutoff_only() -> None:
    """'New MOC orders, cancels and replaces are accepted strictly before the venue's
    moc_cutoff ...; from it on they are rejected (... OrderCancelReject, Text MOC cutoff
    passed)'."""
    v = Venue()
    a, b = v.moc("buy", 300), v.moc("buy", 200)
    ev = v.replace(a, "a2", 250)
    assert isinstance(ev[0], Replaced) and ev[0].order_qty == 250
    assert isinstance(v.cancel(b, "b2")[0], Cancelled)
    c = v.moc("sell", 100)
    v.at("15:50:00")
    for ev in (v.cancel(c, "c2"), v.engine.apply(Replace("MA-s", "a3", "a2", 100, MOC,
                                                         Side.BUY))):
        assert isinstance(ev[0], CancelRejected) and ev[0].reason is CxlRejReason.TOO_LATE
        assert ev[0].text == "MOC cutoff passed"
    assert v.engine.order("MA-s", "a2").leaves_qty == 250  # type: ignore[union-attr]
    assert v.engine.order("MA-s", c[0].cl_ord_id).open  # type: ignore[union-attr]


def test_the_cutoff_is_each_calendar_days_own_past_midnight() -> None:
    """'New MOC orders, cancels and replaces are accepted strictly before the venue's
    moc_cutoff (time of day in the venue's timezone, each calendar day); from it on they are
    rejected'; 'A closing price before the cutoff is refused'. With no closing price on its
    day an order is irrevocable until midnight; the next day's window opens at midnight: a
    cancel or replace at 00:50 is taken, a closing price then is refused (the orders wait),
    and the rest cross at that day's close. (Hypothesis found the 00:50 cancel; its model
    had one cutoff.)"""
    v = Venue()
    kept, gone = v.moc("buy", 100, cl="kept"), v.moc("buy", 200, cl="gone")
    sell = oid(v.moc("sell", 300, part="MB"))
    v.at("23:59:59")
    assert reject_text(v.cancel(gone, "g1")) == "MOC cutoff passed"
    assert reject_text(v.replace(kept, "k1", 300)) == "MOC cutoff passed"
    assert v.engine.apply(CancelAll("MA-s", "cancel_on_disconnect")) == []
    v.at("00:50:03", day="2026-03-03")
    ev = v.cancel(gone, "g2")
    assert [(type(e), e.cl_ord_id) for e in ev] == [(Cancelled, "g2")]  # type: ignore[union-attr]
    assert isinstance(v.replace(kept, "k2", 100)[0], Replaced)
    assert isinstance(v.close("10.00")[0], CloseRefused)
    assert v.engine.order("MA-s", "kept").open  # type: ignore[union-attr]
    v.at("15:50:00", day="2026-03-03")
    assert [m[:3] for m in matches(v.close("10.00"))] == [(oid(kept), sell, 100)]


def test_replace_keeps_the_class_and_the_side() -> None:
    """A replace keeps the order's class: a MOC order stays MOC, no order becomes one."""
    v = Venue()
    a = v.moc("buy", 300)
    assert "into OrdType 2" in reject_text(v.replace(a, "x1", 300, ord_type=OrdType.LIMIT,
                                                      limit=P("10.00")))
    assert "buy and sell" in reject_text(v.replace(a, "x2", 300, side=Side.SELL))
    lim = v.engine.apply(NewOrder("MA-s", "MA", "L1", "X", Side.BUY, 100, limit=P("10.00")))
    assert "into a MOC order" in reject_text(v.replace(lim, "x3", 100))


def test_after_the_cutoff_not_cancelled_on_disconnect() -> None:
    """'from it on ... MOC orders are no longer cancelled on disconnect either: after the
    cutoff they are irrevocable'; before it cancel_on_disconnect cancels them."""
    v = Venue()
    v.moc("buy", 100, cl="early")
    ev = v.engine.apply(CancelAll("MA-s", "cancel_on_disconnect"))
    assert [(e.cl_ord_id, e.reason) for e in ev  # type: ignore[union-attr]
            ] == [("early", CancelReason.SESSION)]
    v.moc("buy", 100, cl="late")
    v.engine.apply(NewOrder("MA-s", "MA", "frs", "X", Side.BUY, 100, limit=P("10.00")))
    v.at("15:55:00")
    ev = v.engine.apply(CancelAll("MA-s", "cancel_on_disconnect"))
    assert [e.cl_ord_id for e in ev] == ["frs"]  # type: ignore[union-attr]
    assert v.engine.order("MA-s", "late").open  # type: ignore[union-attr]
    v.moc("sell", 100, part="MB")  # too late: rejected, so nothing to cross with
    v.at("16:00:00")
    assert fills(v.close("10.00")) == []


# ---------------------------------------------------------------- the cross


def test_the_cross_runs_on_the_closing_price_at_exactly_that_price() -> None:
    """'The cross runs for a symbol when its official closing price arrives ... All fills
    are at that price.'"""
    v = Venue()
    b, s = oid(v.moc("buy", 300, part="MA")), oid(v.moc("sell", 300, part="MB"))
    v.at("16:00:00")
    ev = v.close("187.43")
    assert matches(ev) == [(b, s, 300, P("187.43"))]
    assert all(f.avg_px == P("187.43") and f.leaves_qty == 0 for f in fills(ev))


def test_broker_size_allocation() -> None:
    """'Priority Broker | Size: the side with the smaller total quantity ... is allocated in
    rank order (larger leaves first, then earlier receipt ...); each of its orders meets the
    contra side's orders of its own broker_group first (when its participant is a
    broker-dealer), then the rest, each group larger leaves first, then earlier receipt.'"""
    v = Venue()
    b1 = oid(v.moc("buy", 300, part="MA"))    # group GA
    b2 = oid(v.moc("buy", 500, part="MD"))    # larger: allocated first
    s1 = oid(v.moc("sell", 200, part="MC"))
    s2 = oid(v.moc("sell", 150, part="MA2"))  # group GA: B1's broker group
    s3 = oid(v.moc("sell", 600, part="MB"))
    v.at("16:00:00")
    ev = v.close("10.00")
    px = P("10.00")
    # buys 800 < sells 950: the buys are allocated, B2 (500) before B1 (300); B2 has no group
    # contra and takes the largest, S3; B1 takes its group's S2 first, then the largest left
    assert matches(ev) == [(b2, s3, 500, px), (b1, s2, 150, px), (b1, s1, 150, px)]
    left = {e.order_id: e.text for e in ev if isinstance(e, Cancelled)}
    assert left == {s1: "MOC cross complete", s3: "MOC cross complete"}


def test_the_smaller_side_is_allocated_buys_when_equal() -> None:
    """'the side with the smaller total quantity (the buy side when equal) is allocated'."""
    v = Venue()
    b1 = oid(v.moc("buy", 100, part="MA"))  # group GA
    b2 = oid(v.moc("buy", 100, part="MC"))
    s1 = oid(v.moc("sell", 100, part="MB"))
    s2 = oid(v.moc("sell", 100, part="MA2"))  # group GA
    v.at("16:00:00")
    # equal totals: the buys are allocated; B1 meets its broker group's S2 first (were the
    # sells allocated, S1 would take B1, the earlier of two equal buys)
    assert [m[:3] for m in matches(v.close("10.00"))] == [(b1, s2, 100), (b2, s1, 100)]

    v = Venue()
    b1 = oid(v.moc("buy", 100, part="MA"))  # group GA
    b2 = oid(v.moc("buy", 300, part="MB"))
    s = oid(v.moc("sell", 100, part="MA2"))  # group GA
    v.at("16:00:00")
    # sells 100 < buys 400: the sell is allocated and meets its group's B1 first (were the
    # buys allocated, the larger B2 would take it)
    assert [m[:3] for m in matches(v.close("10.00"))] == [(b1, s, 100)]
    assert b2


def test_size_ties_go_to_the_earlier_receipt_and_a_replace_resets_it() -> None:
    """'larger leaves first, then earlier receipt; a replace resets receipt except a
    quantity decrease'."""
    v = Venue()
    a = v.moc("buy", 400, part="MB")
    b = v.moc("buy", 300, part="MD")
    v.replace(a, "a2", 300)  # a decrease: A keeps its receipt time, ahead of B
    v.moc("sell", 300, part="MC")
    v.at("16:00:00")
    assert [m[0] for m in matches(v.close("10.00"))] == [oid(a)]
    v = Venue()
    a = v.moc("buy", 200, part="MB")
    b = v.moc("buy", 300, part="MD")
    v.replace(a, "a2", 300)  # an increase: A's receipt is now after B's
    v.moc("sell", 300, part="MC")
    v.at("16:00:00")
    assert [m[0] for m in matches(v.close("10.00"))] == [oid(b)]


def test_liquidity_indicator_follows_receipt() -> None:
    """'Fills carry 851=1 for the earlier-received order, 2 for the other.'"""
    v = Venue()
    s = oid(v.moc("sell", 100, part="MB"))
    b = oid(v.moc("buy", 100, part="MC"))
    v.at("16:00:00")
    f = fills(v.close("10.00"))
    assert [(x.order_id, x.liquidity) for x in f] == [(s, Liquidity.ADDED),
                                                      (b, Liquidity.REMOVED)]


def test_smp_and_dncp_apply_minqty_does_not() -> None:
    """'SMP and DNCP apply; MinQty does not.'"""
    v = Venue()
    v.moc("buy", 100, part="MB")
    v.moc("sell", 100, part="MB")  # the same participant: SMP
    v.moc("sell", 100, part="MA2", sym="WIDE", smp_scope="affiliates")
    v.moc("buy", 100, part="MA", sym="WIDE")  # MA2's affiliate; MA2's session: affiliate scope
    v.at("16:00:00")
    for sym in ("X", "WIDE"):
        ev = v.close("10.00", sym)
        assert matches(ev) == [] and sum(isinstance(e, Cancelled) for e in ev) == 2

    v = Venue()
    v.moc("buy", 100, part="MC", dncp=True)
    v.moc("sell", 100, part="OP", capacity=Capacity.PRINCIPAL)  # operator principal: DNCP
    v.at("16:00:00")
    assert matches(v.close("10.00")) == []
    v = Venue()
    b = oid(v.moc("buy", 100, part="MC", dncp=True))
    s = oid(v.moc("sell", 100, part="OP", capacity=Capacity.AGENCY))  # agency: no DNCP
    v.at("16:00:00")
    assert [m[:3] for m in matches(v.close("10.00"))] == [(b, s, 100)]

    v = Venue()
    mq = oid(v.moc("buy", 100, part="MD", min_qty=100))
    small = oid(v.moc("sell", 10, part="MA"))
    v.at("16:00:00")
    assert [m[:3] for m in matches(v.close("10.00"))] == [(mq, small, 10)]

    v = Venue()  # SMP off on both sessions: the same participant may cross itself
    b = oid(v.moc("buy", 100, part="MB", smp=False))
    s = oid(v.moc("sell", 100, part="MB", smp=False))
    v.at("16:00:00")
    assert [m[:3] for m in matches(v.close("10.00"))] == [(b, s, 100)]


def test_every_leaves_cancelled_after_the_cross() -> None:
    """'After the cross every MOC order's leaves in that symbol are cancelled (150=4, Text MOC
    cross complete).' Other symbols' MOC orders stay."""
    v = Venue()
    b = oid(v.moc("buy", 500, part="MB"))
    s = oid(v.moc("sell", 200, part="MC"))
    other = v.moc("buy", 100, part="MB", sym="WIDE")
    v.at("16:00:00")
    ev = v.close("10.00")
    c = [e for e in ev if isinstance(e, Cancelled)]
    assert [(e.order_id, e.cum_qty, e.leaves_qty, e.text, e.reason) for e in c] == [
        (b, 200, 0, "MOC cross complete", CancelReason.MOC_CROSS)]
    assert not v.engine.order("MB-s", ev[0].cl_ord_id).open  # type: ignore[union-attr]
    assert s and v.engine.order("MB-s", other[0].cl_ord_id).open  # type: ignore[union-attr]
    assert v.close("10.00") == []  # a second closing price finds nothing to cross


def test_a_closing_price_before_the_cutoff_is_refused() -> None:
    """'A closing price before the cutoff is refused (BusinessMessageReject)'; the orders
    stay for the real one."""
    v = Venue()
    v.moc("buy", 100, part="MB")
    v.moc("sell", 100, part="MC")
    v.at("15:49:59")
    ev = v.close("10.00")
    assert len(ev) == 1 and isinstance(ev[0], CloseRefused)
    assert "before the MOC cutoff (15:50:00 America/New_York)" in ev[0].text
    v.at("15:50:00")
    assert len(matches(v.close("10.00"))) == 1


def test_a_closing_price_without_moc_orders_does_nothing() -> None:
    """'one for a symbol with no MOC orders is taken and does nothing'."""
    v = Venue()
    v.at("16:00:00")
    assert v.close("10.00") == []


def test_the_cross_runs_whatever_the_nbbo_and_halt_state() -> None:
    """'the cross runs whatever the NBBO and halt state'."""
    v = Venue()
    v.moc("buy", 100, part="MB")
    v.moc("sell", 100, part="MC")
    v.engine.apply(QuoteUpdate("X", P("10.10"), 100, P("10.00"), 100))  # crossed
    v.engine.apply(SecurityStatus("X", halted=True, luld_state=2))
    v.at("16:00:00")
    assert len(matches(v.close("9.00"))) == 1


def test_a_closing_price_must_be_a_price() -> None:
    """A closing price that is no Rule 612 price is refused, the orders wait."""
    v = Venue()
    v.moc("buy", 100, part="MB")
    v.moc("sell", 100, part="MC")
    v.at("16:00:00")
    ev = v.close("10.001")
    assert isinstance(ev[0], CloseRefused) and "0.01" in ev[0].text
    assert len(matches(v.close("10.01"))) == 1


def test_moc_orders_rest_across_a_restart_until_the_cross(tmp_path: Path) -> None:
    """'MOC orders rest across disconnects and restarts until the cross': the journal
    brings them back with their priority, and the replayed cross is the same."""
    path = str(tmp_path / "j")
    v = Venue(journal=path)
    b1 = oid(v.moc("buy", 100, part="MB"))
    b2 = oid(v.moc("buy", 300, part="MD"))
    s = oid(v.moc("sell", 200, part="MC"))
    v.engine.journal.close()  # type: ignore[union-attr]
    clock = iter(range(wall("2026-03-02", "16:00:00"), 1 << 62, 1000)).__next__
    eng, replayed = Engine.recover(PARTS, SYMBOLS, clock, path, v.settings)
    assert [e.order_id for e in replayed] == [b1, b2, s]
    ev = eng.apply(ClosingPrice("X", P("10.00")))
    assert [m[:3] for m in matches(ev)] == [(b2, s, 200)]
    eng.journal.close()  # type: ignore[union-attr]
    again, replayed2 = Engine.recover(PARTS, SYMBOLS, clock, path, v.settings)
    assert replayed2[3:] == ev
    assert os.path.getsize(path) > 0 and again.order("MB-s", "m1").open is False  # type: ignore

