"""Property-based checks over random command streams (hypothesis, bounded)."""

from __future__ import annotations

import os
import tempfile
from dataclasses import dataclass, field
from typing import Any

from hypothesis import HealthCheck, Phase, given, settings
from hypothesis import strategies as st
from matcher_harness import PARTICIPANTS, SYMBOLS

from matcher import (
    Accepted,
    Cancel,
    Cancelled,
    CancelReason,
    Capacity,
    Engine,
    Filled,
    Journal,
    MinQtyInstruction,
    NewOrder,
    OrderEvent,
    OrdType,
    Peg,
    QuoteUpdate,
    Replace,
    Replaced,
    SecurityStatus,
    Side,
    TimeInForce,
)
from matcher.prices import SUB_PENNY

PARTS = ["A", "A2", "B", "C", "OP", "OPA", "T1", "T3"]
SYMS = {"X": 10_000_000, "SUB": 500_000}  # base prices; X ticks 0.01, SUB ticks 0.0001
TICK = {"X": 10_000, "SUB": 100}


@st.composite
def new_orders(draw: Any, n: int) -> NewOrder:
    sym = draw(st.sampled_from(list(SYMS)))
    part = draw(st.sampled_from(PARTS))
    kind = draw(st.sampled_from(["limit", "market", "mid", "primary", "mpeg", "midcap"]))
    side = draw(st.sampled_from([Side.BUY, Side.BUY, Side.SELL, Side.SELL_SHORT]))
    limit = SYMS[sym] + TICK[sym] * draw(st.integers(-6, 6))
    ord_type = {"limit": OrdType.LIMIT, "market": OrdType.MARKET}.get(kind, OrdType.PEGGED)
    peg = {"mid": Peg.MIDPOINT, "midcap": Peg.MIDPOINT, "primary": Peg.PRIMARY,
           "mpeg": Peg.MARKET}.get(kind, Peg.NONE)
    has_limit = kind in ("limit", "midcap") or (kind == "primary" and draw(st.booleans()))
    qty = draw(st.integers(1, 6)) * 50
    return NewOrder(
        session=f"{part}-s", participant=part, cl_ord_id=f"c{n}", symbol=sym, side=side,
        qty=qty, ord_type=ord_type, limit=limit if has_limit else None, peg=peg,
        tif=draw(st.sampled_from([TimeInForce.DAY, TimeInForce.DAY, TimeInForce.IOC])),
        min_qty=draw(st.sampled_from([None, None, 50, 100, qty])),
        min_qty_instruction=draw(st.sampled_from(list(MinQtyInstruction))),
        post_only=draw(st.booleans()) and draw(st.booleans()),
        capacity=draw(st.sampled_from([None, Capacity.AGENCY, Capacity.PRINCIPAL])),
        locate_broker="LOC", dncp=draw(st.sampled_from([None, True, False])),
        inclusion_level=draw(st.sampled_from([None, 1, 3, 5])),
        session_dncp=part == "C", smp=part != "B",
        smp_scope="affiliates" if part == "A" else "participant")


@st.composite
def streams(draw: Any) -> list[Any]:
    cmds: list[Any] = []
    for n in range(draw(st.integers(5, 60))):
        what = draw(st.sampled_from(["new"] * 5 + ["quote"] * 2 + ["cancel", "replace",
                                                                    "status"]))
        if what == "new" or not cmds:
            if n % 7 == 0:
                cmds.append(QuoteUpdate("X", 10_000_000, 1, 10_020_000, 1))
            cmds.append(draw(new_orders(n)))
        elif what == "quote":
            sym = draw(st.sampled_from(list(SYMS)))
            t = TICK[sym]
            bid = SYMS[sym] + t * draw(st.integers(-5, 5))
            ask = bid + t * draw(st.sampled_from([1, 1, 2, 3, 5, 0, -1]))
            cmds.append(QuoteUpdate(sym, bid if draw(st.integers(0, 9)) else None, 1, ask, 1))
        elif what == "status":
            cmds.append(SecurityStatus(draw(st.sampled_from(list(SYMS))),
                                       halted=draw(st.sampled_from([None, False, True])),
                                       luld_state=draw(st.sampled_from([None, 0, 0, 1])),
                                       ssr=draw(st.sampled_from([None, True, False]))))
        else:
            olds = [c for c in cmds if isinstance(c, NewOrder)]
            if not olds:
                continue
            o = draw(st.sampled_from(olds))
            if what == "cancel":
                cmds.append(Cancel(o.session, f"x{n}", o.cl_ord_id))
            else:
                cmds.append(Replace(
                    o.session, f"r{n}", o.cl_ord_id, draw(st.integers(1, 8)) * 50, o.ord_type,
                    o.side if o.side is Side.BUY else draw(st.sampled_from(
                        [Side.SELL, Side.SELL_SHORT])), limit=o.limit, peg=o.peg,
                    locate_broker="LOC", inclusion_level=o.inclusion_level))
    return cmds


@dataclass
class Mkt:
    bid: int | None = None
    ask: int | None = None
    halted: bool = False
    luld: int = 0
    ssr: bool = False


@dataclass
class Model:
    """What the test itself knows about each order and each symbol."""

    mkts: dict[str, Mkt] = field(default_factory=lambda: {s: Mkt() for s in SYMS})
    orders: dict[int, dict[str, Any]] = field(default_factory=dict)

    def can_match(self, sym: str) -> bool:
        m = self.mkts[sym]
        if m.bid is None or m.ask is None or m.halted or m.luld:
            return False
        ms = SYMBOLS[sym].max_spread
        return 0 < m.ask - m.bid and (ms is None or m.ask - m.bid <= ms)

    def alp(self, o: dict[str, Any], rule201: bool = True) -> int:
        m = self.mkts[o["symbol"]]
        assert m.bid is not None and m.ask is not None
        buy, peg, lim = o["side"] is Side.BUY, o["peg"], o["limit"]
        mid = (m.bid + m.ask) // 2
        ref = (mid if peg is Peg.MIDPOINT else
               (m.bid if buy else m.ask) if peg is Peg.PRIMARY else (m.ask if buy else m.bid))
        a = ref if lim is None else (min(lim, ref) if buy else max(lim, ref))
        if rule201 and o["side"] is Side.SELL_SHORT and m.ssr:
            a = max(a, m.bid + SUB_PENNY)
        return a


def _may_meet(t: dict[str, Any], c: dict[str, Any]) -> bool:
    """SMP, DNCP and inclusion constraints between a taker and a resting contra."""
    pt, pc = PARTICIPANTS[t["part"]], PARTICIPANTS[c["part"]]
    for x in (t, c):
        if x["smp"]:
            if x["aff"] and pt.affiliate_group_id == pc.affiliate_group_id:
                return False
            if not x["aff"] and pt.id == pc.id:
                return False
    for a, b in ((t, c), (c, t)):
        if a["dncp"] and b["op_principal"]:
            return False
    return c["incl"] >= pt.taker_level


def _record(cmd: NewOrder) -> dict[str, Any]:
    p = PARTICIPANTS[cmd.participant]
    return {"symbol": cmd.symbol, "side": cmd.side, "peg": cmd.peg, "limit": cmd.limit,
            "qty": cmd.qty, "cum": 0, "part": cmd.participant, "smp": cmd.smp,
            "aff": cmd.smp_scope == "affiliates", "post_only": cmd.post_only,
            "dncp": cmd.session_dncp or bool(cmd.dncp), "min": cmd.min_qty or 0,
            "incl": cmd.inclusion_level or cmd.default_inclusion_level, "open": True,
            "op_principal": cmd.capacity is Capacity.PRINCIPAL and (p.operator or
                                                                  p.operator_affiliate)}


def _check_fill_pair(model: Model, a: Filled, b: Filled) -> None:
    rest, take = model.orders[a.order_id], model.orders[b.order_id]
    sym = rest["symbol"]
    m = model.mkts[sym]
    assert model.can_match(sym), "matched while matching is paused"
    assert m.bid is not None and m.ask is not None
    px = a.last_px
    assert a.last_px == b.last_px and a.last_qty == b.last_qty
    assert m.bid <= px <= m.ask, "printed outside the NBBO"
    for o, is_taker in ((rest, False), (take, True)):
        slack = SUB_PENNY // 2 if is_taker else 0
        if o["side"] is Side.BUY:
            assert px <= model.alp(o) + slack, "buy filled above its ALP"
        else:
            assert px >= model.alp(o) - slack, "sell filled below its ALP"
    assert not take["post_only"], "a post only order took liquidity"
    assert _may_meet(take, rest), "SMP / DNCP / inclusion violated"
    for o in (rest, take):
        assert a.last_qty >= min(o["min"], o["qty"] - o["cum"]), "MinQty violated"
        o["cum"] += a.last_qty


def _apply_checked(eng: Engine, model: Model, cmd: Any) -> list[Any]:
    ev = eng.apply(cmd)
    if isinstance(cmd, QuoteUpdate):
        m = model.mkts[cmd.symbol]
        m.bid, m.ask = cmd.bid, cmd.ask
    elif isinstance(cmd, SecurityStatus):
        m = model.mkts[cmd.symbol]
        m.halted = m.halted if cmd.halted is None else cmd.halted
        m.luld = m.luld if cmd.luld_state is None else cmd.luld_state
        m.ssr = m.ssr if cmd.ssr is None else cmd.ssr
    fills = [e for e in ev if isinstance(e, Filled)]
    for e in ev:
        if isinstance(e, Accepted):
            model.orders[e.order_id] = _record(cmd)
        elif isinstance(e, Replaced):
            o = model.orders[e.order_id]
            o.update(qty=cmd.qty, side=cmd.side, limit=cmd.limit, post_only=cmd.post_only,
                     min=cmd.min_qty or 0)
            if cmd.inclusion_level is not None:
                o["incl"] = cmd.inclusion_level
        if isinstance(e, OrderEvent) and e.order_id:
            assert e.cum_qty >= 0 and e.leaves_qty >= 0 and e.cum_qty <= e.order_qty
            if isinstance(e, Filled):
                assert e.cum_qty + e.leaves_qty == e.order_qty, "quantity not conserved"
    for a, b in zip(fills[::2], fills[1::2], strict=True):
        assert a.match_id == b.match_id
        _check_fill_pair(model, a, b)
    for e in ev:
        if isinstance(e, Cancelled | Replaced) or (isinstance(e, Filled) and not e.leaves_qty):
            if isinstance(e, Cancelled) or not e.leaves_qty:
                model.orders[e.order_id]["open"] = False
    if isinstance(cmd, NewOrder) and ev and isinstance(ev[0], Accepted):
        _check_nothing_missed(eng, model, ev)
    return ev


def _check_nothing_missed(eng: Engine, model: Model, ev: list[Any]) -> None:
    """Priority: the taker's fills go best price first, and it leaves no eligible contra."""
    tid = ev[0].order_id
    t = model.orders[tid]
    if t["post_only"] or not model.can_match(t["symbol"]):
        return
    if any(isinstance(e, Cancelled) and e.reason is CancelReason.MIN_QTY for e in ev):
        return
    buy = t["side"] is Side.BUY
    keys = []
    left = t["qty"]
    fills = [f for f in ev if isinstance(f, Filled)]
    for c, tf in zip(fills[::2], fills[1::2], strict=True):
        if left < t["min"]:
            # All-or-none leaves (SPEC 4, MinQty): a better-priced contra skipped earlier for
            # the taker's MinQty may take them now; that fill is all the leaves, so the last.
            assert tf.last_qty == left, "all-or-none leaves filled in part"
        else:
            keys.append((1 if buy else -1) * model.alp(model.orders[c.order_id], rule201=False))
        left -= tf.last_qty
    assert keys == sorted(keys), "contra fills out of price priority"
    left = t["qty"] - t["cum"]
    if left == 0:
        return
    talp = model.alp(t)
    for oid, c in model.orders.items():
        if oid == tid or not c["open"] or c["symbol"] != t["symbol"]:
            continue
        if (c["side"] is Side.BUY) == buy:
            continue
        calp = model.alp(c)
        if (talp < calp) if buy else (talp > calp):
            continue
        cleft = c["qty"] - c["cum"]
        q = min(left, cleft)
        if q < min(t["min"], left) or q < min(c["min"], cleft) or not _may_meet(t, c):
            continue
        raise AssertionError(f"order {tid} left an eligible contra {oid} unmatched")


@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow],
          phases=[Phase.explicit, Phase.reuse, Phase.generate, Phase.target])
@given(streams())
def test_random_streams_keep_every_invariant(cmds: list[Any]) -> None:
    """No trade outside the NBBO or either ALP; quantities conserved; no SMP, DNCP, inclusion
    or MinQty violation; price priority respected; replay gives identical events."""
    fd, path = tempfile.mkstemp()
    os.close(fd)
    os.unlink(path)
    try:
        clock = iter(range(1, 10**9)).__next__
        eng = Engine(PARTICIPANTS, SYMBOLS, clock, Journal(path))
        model = Model()
        live = []
        for cmd in cmds:
            live.extend(_apply_checked(eng, model, cmd))
        eng._journal.flush()  # type: ignore[union-attr]
        eng2, replayed = Engine.recover(PARTICIPANTS, SYMBOLS, clock, path)
        assert replayed == live
        for s in SYMS:
            assert eng2.book(s) == eng.book(s)
    finally:
        if os.path.exists(path):
            os.unlink(path)


def test_min_qty_all_or_none_leaves_may_take_a_better_contra_skipped_earlier() -> None:
    """SPEC 4: "MinQty: a fill with a single contra order must be >= the MinQty of each order
    that has one; contra orders are never aggregated to meet it. When leaves fall below MinQty:
    become all-or-none" and "a contra that fails one is skipped, not cancelled". Found by
    hypothesis: the better-priced 50-share buy is too small for the MinQty 100 seller, so the
    10.01 buy fills first; the 50 leaves are then all-or-none and take the 10.02 buy. The
    checks above accept these fills out of price order."""
    eng = Engine(PARTICIPANTS, SYMBOLS, iter(range(1, 10**9)).__next__)
    model = Model()

    def new(part: str, side: Side, qty: int, px: int, **kw: Any) -> list[Any]:
        cmd = NewOrder(f"{part}-s", part, f"{part}{qty}", "X", side, qty, limit=px, **kw)
        return _apply_checked(eng, model, cmd)

    _apply_checked(eng, model, QuoteUpdate("X", 10_000_000, 1, 10_020_000, 1))
    better = new("A", Side.BUY, 50, 10_020_000)[0].order_id
    worse = new("B", Side.BUY, 100, 10_010_000)[0].order_id
    ev = new("D", Side.SELL, 150, 10_010_000, min_qty=100, tif=TimeInForce.IOC)
    fills = [e for e in ev if isinstance(e, Filled)]
    assert [(f.order_id, f.last_qty, f.last_px) for f in fills[::2]] == [
        (worse, 100, 10_010_000), (better, 50, 10_010_000)]
    assert fills[-1].leaves_qty == 0
