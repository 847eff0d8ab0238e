"""Properties of the MOC session over random command streams (hypothesis, bounded)."""

from __future__ import annotations

import os
import tempfile
from datetime import datetime
from typing import Any
from zoneinfo import ZoneInfo

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from matcher_harness import SYMBOLS
from test_matcher_moc import PARTS, wall

from matcher import (
    Accepted,
    Cancel,
    CancelAll,
    Cancelled,
    Capacity,
    CloseRefused,
    ClosingPrice,
    Engine,
    Filled,
    Journal,
    MocSettings,
    NewOrder,
    OrdType,
    Rejected,
    Replace,
    Replaced,
    Side,
)

SETTINGS = MocSettings("America/New_York", "15:50:00")
NY = ZoneInfo(SETTINGS.timezone)
CUTOFF = wall("2026-03-02", SETTINGS.cutoff)
OPEN = wall("2026-03-02", "09:30:00")
MIDNIGHT = wall("2026-03-03", "00:00:00")  # the next day's cutoff window opens
MOC_PARTS = [p for p in PARTS if PARTS[p].moc_opt_in]
SYMS = ["X", "WIDE"]
PX = 10_000_000


@st.composite
def streams(draw: Any) -> list[tuple[int, Any]]:
    """(receipt ns, command): MOC orders, cancels, replaces and CancelAlls through the day,
    some after the cutoff (and some past midnight, into the next day's window), then (and
    maybe once too early) the closing prices, at or after the last command's day's cutoff."""
    out: list[tuple[int, Any]] = []
    t = OPEN
    news: list[NewOrder] = []
    for n in range(draw(st.integers(2, 30))):
        t += draw(st.sampled_from([1, 1, 1, 60, 3600])) * 1_000_000_000
        if draw(st.integers(0, 9)) == 0:  # close to the cutoff or to midnight, then past it
            t = max(t, draw(st.sampled_from([CUTOFF, MIDNIGHT])) - 2 * 10**9)
        what = draw(st.sampled_from(["new"] * 6 + ["cancel", "replace", "cancel_all"]))
        if what == "new" or not news:
            part = draw(st.sampled_from(MOC_PARTS))
            cmd: Any = NewOrder(
                session=f"{part}-s", participant=part, cl_ord_id=f"n{n}",
                symbol=draw(st.sampled_from(SYMS)),
                side=draw(st.sampled_from([Side.BUY, Side.SELL])),
                qty=draw(st.integers(1, 8)) * 100, ord_type=OrdType.MARKET_ON_CLOSE,
                capacity=draw(st.sampled_from([None, Capacity.AGENCY, Capacity.PRINCIPAL])),
                dncp=draw(st.sampled_from([None, True])), smp=draw(st.booleans()),
                smp_scope=draw(st.sampled_from(["participant", "affiliates"])))
            news.append(cmd)
        else:
            o = draw(st.sampled_from(news))
            if what == "cancel":
                cmd = Cancel(o.session, f"c{n}", o.cl_ord_id)
            elif what == "replace":
                cmd = Replace(o.session, f"r{n}", o.cl_ord_id, draw(st.integers(1, 8)) * 100,
                              OrdType.MARKET_ON_CLOSE, o.side)
            else:
                cmd = CancelAll(o.session, "cancel_on_disconnect")
        out.append((t, cmd))
    if draw(st.booleans()):
        out.append((CUTOFF - 10**9, ClosingPrice("X", PX)))  # too early: refused
    end = max(t + 10**9, _cutoff_of(t + 10**9))  # 00:00:00 is the next day's, before its cutoff
    for i, sym in enumerate(SYMS):
        out.append((end + i, ClosingPrice(sym, PX + i * 10_000)))
    return sorted(out, key=lambda r: r[0])


def _cutoff_of(ts: int) -> int:
    """The cutoff of the venue's calendar day of receipt time ``ts`` (SPEC 5.2: 'each calendar
    day'; a stream may run past midnight into the next day's window)."""
    return wall(datetime.fromtimestamp(ts // 10**9, NY).date().isoformat(), SETTINGS.cutoff)


def _blocked(a: dict[str, Any], b: dict[str, Any]) -> bool:
    """SMP or DNCP between two MOC orders (SPEC 4's constraints, restated)."""
    pa, pb = PARTS[a["part"]], PARTS[b["part"]]
    for x in (a, b):
        if x["smp"] and (pa.affiliate_group_id == pb.affiliate_group_id if x["aff"]
                         else pa.id == pb.id):
            return True
    return (a["dncp"] and b["op_principal"]) or (b["dncp"] and a["op_principal"])


def _record(cmd: NewOrder) -> dict[str, Any]:
    p = PARTS[cmd.participant]
    return {"part": cmd.participant, "sym": cmd.symbol, "buy": cmd.side is Side.BUY,
            "qty": cmd.qty, "cum": 0, "open": True, "smp": cmd.smp,
            "aff": cmd.smp_scope == "affiliates", "dncp": bool(cmd.dncp),
            "op_principal": cmd.capacity is Capacity.PRINCIPAL and p.operator}


def _check(cmd: Any, ts: int, ev: list[Any], orders: dict[int, dict[str, Any]]) -> None:
    before = ts < _cutoff_of(ts)  # the cutoff of its own day: a stream may pass midnight
    live = {i: dict(o) for i, o in orders.items()
            if o["open"] and isinstance(cmd, ClosingPrice) and o["sym"] == cmd.symbol}
    for e in ev:
        if isinstance(e, Accepted | Replaced) or (isinstance(e, Cancelled)
                                                  and not isinstance(cmd, ClosingPrice)):
            assert before, f"{type(e).__name__} after the cutoff"
        if isinstance(e, Rejected):
            assert (e.text == "MOC cutoff passed") == (not before), e.text
        if isinstance(e, CloseRefused):
            assert before
        if isinstance(e, Accepted):
            orders[e.order_id] = _record(cmd)
        elif isinstance(e, Replaced):
            orders[e.order_id]["qty"] = e.order_qty
        elif isinstance(e, Cancelled) or (isinstance(e, Filled) and not e.leaves_qty):
            orders[e.order_id]["open"] = False
    if not isinstance(cmd, ClosingPrice) or not ev or isinstance(ev[0], CloseRefused):
        assert not [e for e in ev if isinstance(e, Filled)], "a fill outside a cross"
        return
    fills = [e for e in ev if isinstance(e, Filled)]
    for a, b in zip(fills[::2], fills[1::2], strict=True):
        assert a.match_id == b.match_id and a.last_qty == b.last_qty > 0
        assert a.last_px == b.last_px == cmd.price, "a fill off the closing price"
        oa, ob = orders[a.order_id], orders[b.order_id]
        assert oa["buy"] != ob["buy"] and oa["sym"] == ob["sym"] == cmd.symbol
        assert not _blocked(oa, ob), "SMP / DNCP broken in the cross"
        for o in (oa, ob):
            o["cum"] += a.last_qty
            assert o["cum"] <= o["qty"], "overfilled"
    done = sum(f.last_qty for f in fills) // 2
    buys = sum(o["qty"] for o in live.values() if o["buy"])
    sells = sum(o["qty"] for o in live.values() if not o["buy"])
    assert done <= min(buys, sells)
    if not any(_blocked(a, b) for a in live.values() for b in live.values()):
        assert done == min(buys, sells), "the smaller side was not fully allocated"
    for i in live:  # every MOC order of the symbol is done after its cross
        assert not orders[i]["open"] and i in {e.order_id for e in ev}


@settings(max_examples=100, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(streams())
def test_the_cross_conserves_quantity_keeps_smp_dncp_and_replays(
        stream: list[tuple[int, Any]]) -> None:
    """Every fill is at the closing price between a buy and a sell that may meet; no order
    overfills; without blocked pairs the smaller side is fully allocated; nothing is taken
    after the cutoff but the cross; every MOC order is done after its cross; replaying the
    journal reproduces every event, the cross included."""
    fd, path = tempfile.mkstemp()
    os.close(fd)
    os.unlink(path)
    try:
        times = iter([t for t, _ in stream])
        eng = Engine(PARTS, SYMBOLS, times.__next__, Journal(path), SETTINGS)
        orders: dict[int, dict[str, Any]] = {}
        live: list[Any] = []
        for ts, cmd in stream:
            ev = eng.apply(cmd)
            _check(cmd, ts, ev, orders)
            live.extend(ev)
        assert all(not o["open"] for o in orders.values())
        eng.journal.close()  # type: ignore[union-attr]
        _, replayed = Engine.recover(PARTS, SYMBOLS, iter(()).__next__, path, SETTINGS)
        assert replayed == live
    finally:
        if os.path.exists(path):
            os.unlink(path)
