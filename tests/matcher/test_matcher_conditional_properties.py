"""Properties of conditional orders over random streams (hypothesis, bounded).

- a CO never produces a fill by itself;
- a firm-up never fills beyond its CO's leaves, nor against a contra it was not invited with;
- replaying the journal reproduces every invitation, fill and expiry.
"""

from __future__ import annotations

import os
import tempfile
from typing import Any

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from matcher_harness import PARTICIPANTS, SYMBOLS

from matcher import (
    Accepted,
    Cancel,
    Engine,
    Event,
    Filled,
    FirmUpInvited,
    FirmUpTimer,
    Journal,
    NewOrder,
    OrderClass,
    OrdType,
    Peg,
    QuoteUpdate,
    Replace,
    SecurityStatus,
    Side,
    TimeInForce,
)
from matcher.conditional import FirmUp

PARTS = ["A", "B", "C", "D", "OP"]
MS = 1_000_000


class Clock:
    def __init__(self) -> None:
        self.now = 10**12

    def __call__(self) -> int:
        return self.now


def _order(data: Any, n: int, conditional: bool) -> NewOrder:
    part = data.draw(st.sampled_from(PARTS))
    side = data.draw(st.sampled_from([Side.BUY, Side.SELL, Side.SELL_SHORT]))
    kind = data.draw(st.sampled_from(["limit", "mid", "primary"]))
    limit = 10_000_000 + 10_000 * data.draw(st.integers(-4, 6))
    return NewOrder(
        session=f"{part}-s", participant=part, cl_ord_id=f"n{n}", symbol="X", side=side,
        qty=data.draw(st.integers(1, 6)) * 50,
        ord_type=OrdType.LIMIT if kind == "limit" else OrdType.PEGGED,
        limit=limit if kind != "primary" or data.draw(st.booleans()) else None,
        peg={"limit": Peg.NONE, "mid": Peg.MIDPOINT, "primary": Peg.PRIMARY}[kind],
        min_qty=data.draw(st.sampled_from([None, None, 50])), locate_broker="LOC",
        order_class=OrderClass.CONDITIONAL if conditional else OrderClass.FIRM,
        conditional_interaction=not conditional and data.draw(st.booleans()),
        smp=part != "D", dncp=data.draw(st.sampled_from([None, True])),
        capacity=None)


def _run(data: Any, engine: Engine, clock: Clock, steps: int) -> list[Event]:
    """Apply a random stream, firm-ups drawn from the live invitations; check as it goes."""
    out: list[Event] = []
    orders: list[NewOrder] = []
    invited: dict[tuple[str, str], FirmUpInvited] = {}
    co_ids: set[int] = set()
    for n in range(steps):
        clock.now += data.draw(st.sampled_from([0, 10, 100, 200, 1200])) * MS
        what = data.draw(st.sampled_from(["co", "co", "co", "frs", "frs", "quote", "firm", "firm",
                                          "firm", "cancel", "replace", "timer", "status"]))
        cmd: Any
        if what in ("co", "frs") or not orders:
            cmd = _order(data, n, what == "co")
            orders.append(cmd)
        elif what == "quote":
            bid = 10_000_000 + 10_000 * data.draw(st.integers(-3, 3))
            cmd = QuoteUpdate("X", bid, 1, bid + 10_000 * data.draw(st.integers(1, 4)), 1)
        elif what == "status":
            cmd = SecurityStatus("X", halted=data.draw(st.sampled_from([None, False, False, True])),
                                 ssr=data.draw(st.sampled_from([None, False, True])))
        elif what == "timer":
            cmd = FirmUpTimer(data.draw(st.sampled_from([300, 1000])))
        elif what == "firm" and invited:
            inv = data.draw(st.sampled_from(sorted(invited.values(), key=lambda i: i.exec_id)))
            info = engine.order(inv.session, inv.cl_ord_id)
            leaves = info.leaves_qty if info is not None else inv.qty
            qty = data.draw(st.sampled_from([leaves, leaves + 50, inv.qty, max(1, inv.qty // 2)]))
            cmd = NewOrder(inv.session, inv.participant, f"f{n}", inv.symbol, inv.side, qty,
                           OrdType.PEGGED, None, Peg.MIDPOINT, TimeInForce.IOC,
                           locate_broker="LOC", conditional_ref=inv.cl_ord_id)
        else:
            o = data.draw(st.sampled_from(orders))
            if what == "replace":
                cmd = Replace(o.session, f"r{n}", o.cl_ord_id, data.draw(st.integers(1, 6)) * 50,
                              o.ord_type, o.side, o.limit, o.peg, locate_broker="LOC")
            else:
                cmd = Cancel(o.session, f"x{n}", o.cl_ord_id)
        ev = engine.apply(cmd)
        out += ev
        for e in ev:
            if isinstance(e, FirmUpInvited):
                invited[(e.session, e.cl_ord_id)] = e
            elif isinstance(e, Accepted) and isinstance(cmd, NewOrder) and e.cl_ord_id == (
                    cmd.cl_ord_id) and cmd.order_class is OrderClass.CONDITIONAL:
                co_ids.add(e.order_id)
        for key in list(invited):
            info = engine.order(*key)
            if info is None or not info.open:
                del invited[key]
        _check_fills(engine, ev, co_ids)
    return out


def _check_fills(engine: Engine, ev: list[Event], co_ids: set[int]) -> None:
    fills = [e for e in ev if isinstance(e, Filled)]
    for f in fills:
        assert f.order_id not in co_ids, "a conditional order was executed"
        o = engine._clids[f.session][f.cl_ord_id]
        if isinstance(o, FirmUp):
            co = o.co
            assert f.cum_qty <= co.qty, "a firm-up filled beyond its CO's leaves"
            pair = o.pair
            contra = pair.b if co is pair.a else pair.a
            c = _find(engine, f.contra_order_id)
            if isinstance(c, FirmUp):
                assert c.co is contra, "a firm-up met another CO's firm-up"
            else:
                assert c is contra, "a firm-up met an order it was not invited with"


def _find(engine: Engine, order_id: int) -> Any:
    for ids in engine._clids.values():
        for o in ids.values():
            if o.order_id == order_id:
                return o
    raise AssertionError(f"no order {order_id}")


@settings(max_examples=120, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(st.data())
def test_random_conditional_streams(data: Any) -> None:
    clock = Clock()
    engine = Engine(PARTICIPANTS, SYMBOLS, clock)
    engine.apply(QuoteUpdate("X", 9_990_000, 1, 10_010_000, 1))
    _run(data, engine, clock, data.draw(st.integers(5, 50)))


@settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(st.data())
def test_replay_reproduces_invitations_fills_and_expiries(data: Any) -> None:
    clock = Clock()
    with tempfile.TemporaryDirectory() as tmp:
        path = os.path.join(tmp, "j")
        engine = Engine(PARTICIPANTS, SYMBOLS, clock, Journal(path))
        live = engine.apply(QuoteUpdate("X", 9_990_000, 1, 10_010_000, 1))
        live += _run(data, engine, clock, data.draw(st.integers(5, 40)))
        assert engine.journal is not None
        engine.journal.close()
        again, replayed = Engine.recover(PARTICIPANTS, SYMBOLS, clock, path)
        assert replayed == live
        assert again.next_firm_up_deadline() == engine.next_firm_up_deadline()
        # and the future is the same too: a timer far ahead expires the same invitations
        clock.now += 10**12
        assert again.apply(FirmUpTimer(1000)) == engine.apply(FirmUpTimer(1000))
        assert again.journal is not None
        again.journal.close()
