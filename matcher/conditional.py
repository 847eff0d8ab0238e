"""Conditional Orders (7001=C) and their Firm-up Orders (SPEC 5.1; Form ATS-N Part III Items 9, 11).

A CO is trading interest, never executed itself. It rests in this module's own side books, apart
from the FRS book, and seeks a contra in Order Class | Price | Broker | Time priority: other COs
first, then Eligible FRS Orders (firm orders sent with 7013=Y or from a session with
``conditional_interaction``; the gateway resolves that into ``NewOrder.conditional_interaction``).
An eligible FRS order stays in the FRS book and trades there as usual; this module keeps a
*shadow* entry of it in its own books so that pairing walks only the orders that cross, with the
same O(1) NBBO re-pricing as the FRS book (see ``matcher.book``).

A **pair** (a CO and a contra whose ALPs cross under every interaction constraint and matching
condition of SPEC 4) becomes a firm-up invitation (``FirmUpInvited``) to each CO in it, with a
deadline. Both sides leave the pairing books until the pair ends: by a firm-up match, by the
deadline, or by a cancel / replace of one side. A Firm-up Order (7002 = the CO's ClOrdID) cancels
its CO and trades, IOC, against the invited contra only.

Time comes only from commands: every command expires the invitations whose deadline is at or
before its receipt time (the engine checks ``Engine._due`` first), and ``FirmUpTimer`` is the
command the gateway sends when nothing else would arrive in time. Replay is therefore exact.
"""

from __future__ import annotations

import heapq
from typing import TYPE_CHECKING, Final

from matcher.book import Order, Settings, SideBook, by_time
from matcher.prices import SUB_PENNY
from matcher.types import (
    Accepted,
    Cancel,
    CancelReason,
    Capacity,
    CxlRejReason,
    Event,
    Filled,
    FirmUpInvited,
    FirmUpTimer,
    Liquidity,
    MinQtyInstruction,
    NewOrder,
    OrderClass,
    OrdType,
    Participant,
    RejectReason,
    Replace,
    Side,
    TimeInForce,
)
from matcher.validate import Problem, check_locate, check_symbol, check_terms

if TYPE_CHECKING:
    from matcher.engine import Engine, SymbolState

#: no deadline; inside mypyc's tagged (63-bit) ints, beyond any ns clock (year 2116)
NEVER: Final = (1 << 62) - 1
#: Inclusion Level does not apply to COs: one value keeps their levels in time order
_CO_INCL: Final = 5
_NS_PER_MS: Final = 1_000_000
_CXL_OTHER: Final = CxlRejReason.OTHER


class CondOrder(Order):
    """A resting Conditional Order; ``pair`` is its pending invitation."""

    __slots__ = ("pair", "expired")
    pair: Pair | None
    expired: int  # the window (ms) of the invitation it expired in; 0 while it did not


class FirmUp(Order):
    """A Firm-up Order (always IOC, never in a book); ``co`` is the CO it firmed up."""

    __slots__ = ("pair", "co")
    pair: Pair
    co: CondOrder


class Shadow(Order):
    """An Eligible FRS Order's entry in the pairing books (the order itself is in the FRS book).

    Only the attributes ``SideBook`` reads are set; the rest is read from ``real``.
    """

    __slots__ = ("real", "pair")
    real: Order
    pair: Pair | None

    def __init__(self, o: Order) -> None:  # noqa: D107 - no super().__init__: a view of ``o``
        # (a compiled class has no instance without its own __init__, so no __new__ trick)
        self.real, self.pair = o, None
        self.order_id, self.is_buy, self.bg, self.cfg = o.order_id, o.is_buy, o.bg, o.cfg
        self.limit_key, self.kind, self.prio_seq = o.limit_key, o.kind, o.prio_seq
        self.incl = _CO_INCL
        self.level = None


class Pair:
    """A firm-up invitation: ``a`` the earlier-received CO, ``b`` the later CO or the FRS order."""

    __slots__ = ("a", "b", "qty", "deadline", "window_ms", "symbol", "firm_ups", "done")

    def __init__(self, a: CondOrder, b: Order, qty: int, deadline: int, window_ms: int) -> None:
        self.a, self.b, self.qty, self.deadline, self.window_ms = a, b, qty, deadline, window_ms
        self.symbol = a.symbol
        self.firm_ups: dict[int, FirmUp] = {}  # CO order id -> its firm-up, while it waits
        self.done = False


class Books:
    """The pairing books of one symbol: available COs and Eligible FRS shadows, per side."""

    __slots__ = ("co_buys", "co_sells", "el_buys", "el_sells")

    def __init__(self) -> None:
        self.co_buys, self.co_sells = SideBook(True), SideBook(False)
        self.el_buys, self.el_sells = SideBook(True), SideBook(False)


def _in_order(entries: list[list[Order]]) -> list[Order]:
    if len(entries) == 1:
        return entries[0]
    return by_time([e for lst in entries for e in lst])


class Conditionals:
    """The conditional order class of one engine (which owns ids, identities and the clock)."""

    def __init__(self, engine: Engine) -> None:
        self.e = engine
        self.window_ms = 1000
        self.books: dict[str, Books] = {}
        self.elig: dict[int, Shadow] = {}  # order id -> shadow of every Eligible FRS Order
        self._sweep_at = 1024
        self._heap: list[tuple[int, int, Pair]] = []
        self._pairs = 0

    # ------------------------------------------------------------ clock

    def timer(self, ts: int, c: FirmUpTimer) -> list[Event]:
        """The expiry itself ran before dispatch; take the window for later invitations."""
        if c.firm_up_window_ms > 0:
            self.window_ms = c.firm_up_window_ms
        return []

    def expire(self, ts: int) -> list[Event]:
        """End every invitation whose deadline is at or before ``ts``."""
        ev: list[Event] = []
        heap = self._heap
        while heap and heap[0][0] <= ts:
            pair = heapq.heappop(heap)[2]
            if not pair.done:
                self._expire(pair, ts, ev)
        self._set_due()
        return ev

    def next_deadline(self) -> int | None:
        """The earliest deadline of a pending invitation."""
        self._set_due()
        due = self.e._due
        return None if due == NEVER else due

    def _set_due(self) -> None:
        heap = self._heap
        while heap and heap[0][2].done:
            heapq.heappop(heap)
        self.e._due = heap[0][0] if heap else NEVER

    # ------------------------------------------------------------ new orders

    def new_order(self, ts: int, c: NewOrder, part: Participant, st: SymbolState | None,
                  incl: int) -> list[Event]:
        """A NewOrder with 7001=C or 7002 (the engine's duplicate / participant checks passed)."""
        if c.order_class is OrderClass.CONDITIONAL:
            problem = self._co_problem(c, part, st)
            if problem is not None:
                return self.e._reject(ts, c, *problem)
            assert st is not None
            return self._new_co(ts, c, part, st)
        return self._firm_up(ts, c, part, st, incl)

    def _co_problem(self, c: NewOrder, part: Participant,
                    st: SymbolState | None) -> Problem | None:
        other = RejectReason.OTHER
        if st is None or st.problem is not None:
            return check_symbol(c.symbol, None) if st is None else st.problem
        if c.conditional_ref is not None:
            return other, "a conditional order (7001=C) cannot carry ConditionalOrderRef (7002)"
        if c.ord_type is OrdType.MARKET_ON_CLOSE:
            return other, "a conditional order cannot be market on close (40=5)"
        if c.tif is TimeInForce.IOC:
            return other, "a conditional order is a day order: TimeInForce (59) IOC is not allowed"
        if c.post_only:
            return other, "post only (ExecInst 6) does not apply to conditional orders"
        return self._common_problem(c, part, c.tif, _CO_INCL)

    @staticmethod
    def _common_problem(c: NewOrder, part: Participant, tif: TimeInForce,
                        incl: int) -> Problem | None:
        problem = (check_terms(c.side, c.qty, c.ord_type, c.limit, c.peg, c.min_qty, c.post_only,
                               tif, incl)
                   or check_locate(c.side, part, c.locate_reqd, c.locate_broker))
        if problem is None and c.smp_scope not in ("participant", "affiliates"):
            problem = (RejectReason.OTHER,
                       f"smp_scope {c.smp_scope!r} is not participant|affiliates")
        return problem

    def _settings(self, c: NewOrder, part: Participant) -> Settings:
        """The engine's shared interaction settings for this participant / session setup."""
        op_principal = c.capacity is Capacity.PRINCIPAL and (part.operator
                                                              or part.operator_affiliate)
        skey = (c.participant, c.smp, c.smp_scope, c.session_dncp or bool(c.dncp), op_principal)
        cfg = self.e._settings.get(skey)
        if cfg is None:
            cfg = self.e._settings[skey] = Settings(
                c.participant, part.broker_group_id, part.affiliate_group_id, part.broker_dealer,
                part.taker_level, c.smp, c.smp_scope == "affiliates", skey[3], op_principal)
        return cfg

    def _register(self, o: Order) -> None:
        e = self.e
        e._clids[o.session][o.cl_ord_id] = o
        open_ = e._open.get(o.session)
        if open_ is None:
            open_ = e._open[o.session] = {}
        open_[o] = o
        o.opens = open_

    def _accepted(self, ts: int, o: Order) -> Accepted:
        return Accepted(ts, self.e._next_exec(), o.order_id, o.session, o.cl_ord_id, o.pid,
                        o.symbol, o.side, o.qty, 0, o.qty, 0, 0)

    def _new_co(self, ts: int, c: NewOrder, part: Participant, st: SymbolState) -> list[Event]:
        e = self.e
        e._order_id += 1
        e._seq += 1
        o = CondOrder(e._order_id, c.session, c.cl_ord_id, c.symbol, TimeInForce.DAY,
                      self._settings(c, part), e._seq, c.side, c.qty, c.ord_type, c.limit, c.peg,
                      c.min_qty, c.min_qty_instruction is MinQtyInstruction.CANCEL, False,
                      _CO_INCL, c.locate_reqd, c.locate_broker)
        o.pair, o.expired = None, 0
        self._register(o)
        ev: list[Event] = [self._accepted(ts, o)]
        bk = self._books(o.symbol)
        (bk.co_buys if o.is_buy else bk.co_sells).insert(o)
        if st.can_match:  # the arriving CO seeks its contra (broker priority is its own)
            self._sync(st, bk)
            self._seek(st, bk, o, ts, ev)
        return ev

    def _books(self, symbol: str) -> Books:
        bk = self.books.get(symbol)
        if bk is None:
            bk = self.books[symbol] = Books()
        return bk

    # ------------------------------------------------------------ Eligible FRS Orders

    def frs_new(self, st: SymbolState, o: Order, ts: int, ev: list[Event]) -> None:
        """An Eligible FRS Order came to rest in the FRS book: index it and seek pairs."""
        bk = self._books(o.symbol)
        s = self.elig[o.order_id] = Shadow(o)
        (bk.el_buys if o.is_buy else bk.el_sells).insert(s)
        if len(self.elig) > self._sweep_at:
            self._sweep()
        self._reeval(st, bk, ts, ev)

    def frs_replaced(self, st: SymbolState, o: Order, ts: int, ev: list[Event]) -> None:
        """An Eligible FRS Order was replaced: re-index it (unless it is invited) and seek."""
        bk = self._books(o.symbol)
        old = self.elig.pop(o.order_id)
        (bk.el_buys if old.is_buy else bk.el_sells).remove(old)
        if old.pair is None and (not o.open or o.level is None):
            return  # done: forget it (an invited one stays known until its pair ends)
        s = self.elig[o.order_id] = Shadow(o)
        s.pair = old.pair
        if s.pair is None and o.level is not None:
            (bk.el_buys if o.is_buy else bk.el_sells).insert(s)
            self._reeval(st, bk, ts, ev)

    def _sweep(self) -> None:
        """Drop the shadows of closed FRS orders (amortised: the index stays bounded)."""
        for oid, s in list(self.elig.items()):
            if not s.real.open and s.pair is None:
                del self.elig[oid]
                bk = self.books[s.real.symbol]
                (bk.el_buys if s.is_buy else bk.el_sells).remove(s)
        self._sweep_at = max(1024, 2 * len(self.elig))

    # ------------------------------------------------------------ pairing

    def market(self, st: SymbolState, ts: int, ev: list[Event]) -> None:
        """The NBBO or the trading state changed and matching is possible: seek pairs."""
        bk = self.books.get(st.cfg.symbol)
        if bk is not None:
            self._reeval(st, bk, ts, ev)

    def _reeval(self, st: SymbolState, bk: Books, ts: int, ev: list[Event]) -> None:
        """Invite every pair the symbol holds now, earlier-received COs first."""
        if not st.can_match:
            return
        self._sync(st, bk)
        bb, sb = bk.co_buys.best_key(), bk.co_sells.best_key()
        if bb is None and sb is None:
            return
        eb, es = bk.el_buys.best_key(), bk.el_sells.best_key()
        cands: list[Order] = []
        # a cheap bound first (a Rule 201 floor only raises sell ALPs): most moves cross nothing
        if bb is not None:
            s_best = min((k for k in (sb, es) if k is not None), default=None)
            if s_best is not None and bb + s_best <= 0:
                cands += bk.co_buys.entries_upto(-s_best)
        if sb is not None:
            b_best = min((k for k in (bb, eb) if k is not None), default=None)
            if b_best is not None and sb + b_best <= 0:
                cands += bk.co_sells.entries_upto(-b_best)
        if not cands:
            return
        cands = by_time(cands)
        for t in cands:
            assert isinstance(t, CondOrder)
            if t.open and t.pair is None:
                self._seek(st, bk, t, ts, ev)

    @staticmethod
    def _sync(st: SymbolState, bk: Books) -> None:
        """Take the FRS book's NBBO references (three ints: no order moves)."""
        bk.co_buys.share_refs(st.buys)
        bk.el_buys.share_refs(st.buys)
        bk.co_sells.share_refs(st.sells)
        bk.el_sells.share_refs(st.sells)

    def _seek(self, st: SymbolState, bk: Books, t: CondOrder, ts: int, ev: list[Event]) -> None:
        """Invite ``t`` with its best contra: COs first, then Eligible FRS Orders."""
        assert st.nbb is not None
        if t.is_buy:
            tkey = bk.co_buys.alp_key(t)
            floor: int | None = st.nbb + SUB_PENNY if st.ssr else None
            contras = (bk.co_sells, bk.el_sells)
        else:
            tkey = bk.co_sells.alp_key(t)
            floor = None
            if t.short and st.ssr:
                tkey = max(tkey, st.nbb + SUB_PENNY)
            contras = (bk.co_buys, bk.el_buys)
        for book in contras:
            c = self._best(t, book, -tkey, floor)
            if c is not None:
                self._invite(bk, t, c, ts, ev)
                return

    def _best(self, t: CondOrder, book: SideBook, bound: int,
              floor: int | None) -> Order | None:
        """The first contra in Price | Broker | Time order that ``t`` may pair with."""
        best = book.best_key()
        if best is None or best > bound:
            return None
        tcfg = t.cfg
        t_bg = tcfg.bg if tcfg.is_bd else None
        t_left, t_mq = t.qty - t.cum, t.min_qty
        stale: list[Shadow] = []
        found: Order | None = None
        for key, levels in book.levels_upto(bound):
            for want_bg in ((True, False) if t_bg is not None else (None,)):
                if want_bg:  # Broker priority: t's broker group first
                    seq = _in_order([lv.group(t_bg) for lv in levels])  # type: ignore[arg-type]
                else:
                    seq = _in_order([lv.entries for lv in levels])
                for c in seq:
                    if want_bg is False and c.bg == t_bg:
                        continue
                    real = c
                    if isinstance(c, Shadow):
                        real = c.real
                        if not real.open:
                            stale.append(c)
                            continue
                        if real.incl < tcfg.taker_level:  # the firm order's Inclusion Level
                            continue
                    if tcfg.blocks(real.cfg):  # self-match prevention, DNCP
                        continue
                    if floor is not None and real.short and key < floor and floor > bound:
                        continue  # Rule 201: the short sale's ALP is at least NBB + 0.0001
                    c_left = real.qty - real.cum
                    q = t_left if t_left < c_left else c_left
                    if real.min_qty and q < min(real.min_qty, c_left):
                        continue
                    if t_mq and q < min(t_mq, t_left):
                        continue
                    found = c
                    break
                if found is not None:
                    break
            if found is not None:
                break
        for s in stale:
            book.remove(s)
            if self.elig.get(s.order_id) is s:
                del self.elig[s.order_id]
        return found

    def _invite(self, bk: Books, t: CondOrder, c: Order, ts: int, ev: list[Event]) -> None:
        (bk.co_buys if t.is_buy else bk.co_sells).remove(t)
        if isinstance(c, Shadow):
            (bk.el_buys if c.is_buy else bk.el_sells).remove(c)
            real: Order = c.real
            a, b = t, real
        else:
            assert isinstance(c, CondOrder)
            (bk.co_buys if c.is_buy else bk.co_sells).remove(c)
            real = c
            a, b = (t, c) if t.prio_seq < c.prio_seq else (c, t)
        qty = min(t.qty - t.cum, real.qty - real.cum)
        deadline = ts + self.window_ms * _NS_PER_MS
        pair = Pair(a, b, qty, deadline, self.window_ms)
        t.pair = pair
        c.pair = pair
        self._pairs += 1
        heapq.heappush(self._heap, (deadline, self._pairs, pair))
        if deadline < self.e._due:
            self.e._due = deadline
        for co in (a, b):
            if isinstance(co, CondOrder):
                ev.append(FirmUpInvited(ts, self.e._next_exec(), co.order_id, co.session,
                                        co.cl_ord_id, co.pid, co.symbol, co.side, qty, deadline))

    # ------------------------------------------------------------ firm-up

    def _firm_up(self, ts: int, c: NewOrder, part: Participant, st: SymbolState | None,
                 incl: int) -> list[Event]:
        e = self.e
        ref = c.conditional_ref
        assert ref is not None
        co = e._clids[c.session].get(ref)
        problem = self._firm_up_problem(c, part, co, incl)
        if problem is not None:
            return e._reject(ts, c, *problem)
        assert isinstance(co, CondOrder) and co.pair is not None and st is not None
        pair = co.pair
        e._order_id += 1
        e._seq += 1
        f = FirmUp(e._order_id, c.session, c.cl_ord_id, c.symbol, TimeInForce.IOC,
                   self._settings(c, part), e._seq, c.side, c.qty, c.ord_type, c.limit, c.peg,
                   c.min_qty, c.min_qty_instruction is MinQtyInstruction.CANCEL, c.post_only,
                   incl, c.locate_reqd, c.locate_broker)
        f.pair, f.co = pair, co
        self._register(f)
        ev: list[Event] = [self._accepted(ts, f)]
        ev.append(e._cancelled(ts, co, None, CancelReason.USER, f"firmed up by {c.cl_ord_id}"))
        contra = pair.b if co is pair.a else pair.a
        if isinstance(contra, CondOrder):
            waiting = pair.firm_ups.get(contra.order_id)
            if waiting is None:  # wait for the contra's firm-up until the deadline
                pair.firm_ups[co.order_id] = f
                return ev
            # the earlier-received CO's firm-up provides the liquidity
            provider, taker = (waiting, f) if contra is pair.a else (f, waiting)
            why = self._trade(st, provider, taker, ts, ev)
            self._close_firm_up(waiting, ts, ev, why)
        else:
            why = self._trade(st, contra, f, ts, ev)
        self._close_firm_up(f, ts, ev, why)
        self._end(pair, ts, ev)
        return ev

    def _firm_up_problem(self, c: NewOrder, part: Participant, co: Order | None,
                         incl: int) -> Problem | None:
        """The SPEC 5.1 rejects of a Firm-up Order, then the checks of any firm order."""
        other = RejectReason.OTHER
        ref = c.conditional_ref
        if not isinstance(co, CondOrder):
            return (RejectReason.UNKNOWN_ORDER,
                    f"ConditionalOrderRef (7002) {ref} names no conditional order of this session")
        if co.expired:
            return (RejectReason.TOO_LATE,
                    f"firm-up after the deadline: the {co.expired} ms firm-up window of {ref} "
                    "has passed")
        if not co.open or co.pair is None:
            return other, f"conditional order {ref} has no pending firm-up invitation"
        if c.symbol != co.symbol or c.side is not co.side:
            return other, (f"a firm-up must have its conditional order's Symbol and Side "
                           f"({co.symbol}, {co.side.name}), got ({c.symbol}, {c.side.name})")
        leaves = co.qty - co.cum
        if c.qty > leaves:
            return other, (f"firm-up OrderQty {c.qty} is above the conditional order's leaves "
                           f"{leaves}")
        if c.ord_type is OrdType.MARKET_ON_CLOSE:
            return other, "a firm-up order cannot be market on close (40=5)"
        return self._common_problem(c, part, TimeInForce.IOC, incl)

    def _trade(self, st: SymbolState, p: Order, t: Order, ts: int,
               ev: list[Event]) -> str | None:
        """One fill of taker ``t`` against provider ``p`` by the SPEC 4 rules; why not, else."""
        if not p.open:
            return "contra no longer available"
        if not st.can_match:
            return "no matching now (NBBO or trading state)"
        if t.cfg.blocks(p.cfg):
            return "contra excluded by self-match prevention or do-not-cross-principal"
        pk, tk = _alp_key(st, p), _alp_key(st, t)
        b_alp, s_alp = (-pk, tk) if p.is_buy else (-tk, pk)
        if b_alp < s_alp:
            return "prices do not cross"
        p_left, t_left = p.qty - p.cum, t.qty - t.cum
        q = p_left if p_left < t_left else t_left
        if (p.min_qty and q < min(p.min_qty, p_left)) or (t.min_qty and q < min(t.min_qty, t_left)):
            return "MinQty cannot be met"
        mid = st.mid
        px = mid if s_alp <= mid <= b_alp else (b_alp if b_alp < mid else s_alp)
        rem = px % SUB_PENNY
        if rem:  # a fifth decimal: round in favour of the liquidity provider
            px = px - rem if p.is_buy else px + SUB_PENNY - rem
        e = self.e
        n = q * px
        p.cum += q
        p.notional += n
        t.cum += q
        t.notional += n
        e._match_id += 1
        for o, contra, liq in ((p, t, Liquidity.ADDED), (t, p, Liquidity.REMOVED)):
            ev.append(Filled(ts, e._next_exec(), o.order_id, o.session, o.cl_ord_id, o.pid,
                             o.symbol, o.side, o.qty, o.cum, o.qty - o.cum,
                             (2 * o.notional + o.cum) // (2 * o.cum), o.notional, q, px, liq,
                             contra.order_id, e._match_id))
        for o in (p, t):
            if o.cum == o.qty:
                (st.buys if o.is_buy else st.sells).remove(o)  # a no-op for a firm-up
                o.open = False
                del o.opens[o]
            elif o.min_cancel and o.qty - o.cum < o.min_qty and type(o) is Order:
                (st.buys if o.is_buy else st.sells).remove(o)
                ev.append(e._cancelled(ts, o, None, CancelReason.MIN_QTY, ""))
        return None

    def _close_firm_up(self, f: FirmUp, ts: int, ev: list[Event], why: str | None) -> None:
        """IOC: the firm-up's leaves end as soon as it cannot match any more."""
        if f.open:
            text = "IOC: firm-up leaves cancelled" if why is None or f.cum else (
                f"firm-up cancelled: {why}")
            ev.append(self.e._cancelled(ts, f, None, CancelReason.IOC, text))

    # ------------------------------------------------------------ ends of a pair

    def _expire(self, pair: Pair, ts: int, ev: list[Event]) -> None:
        """No firm-up by the deadline: silent COs are cancelled, waiting firm-ups too."""
        e = self.e
        for co in (pair.a, pair.b):
            if isinstance(co, CondOrder) and co.open and co.pair is pair:
                co.expired = pair.window_ms
                ev.append(e._cancelled(ts, co, None, CancelReason.USER,
                                       f"firm-up not received within {pair.window_ms} ms"))
        self._drop_waiting(pair, None, ts, ev)
        self._end(pair, ts, ev)

    def _withdraw(self, pair: Pair, side: CondOrder, ts: int, ev: list[Event],
                  reeval: bool = True) -> None:
        """One side's CO (or its waiting firm-up) was cancelled or replaced."""
        self._drop_waiting(pair, side, ts, ev)
        self._end(pair, ts, ev, reeval)

    def _drop_waiting(self, pair: Pair, side: CondOrder | None, ts: int,
                      ev: list[Event]) -> None:
        for f in pair.firm_ups.values():
            if f.open and f.co is not side:
                ev.append(self.e._cancelled(ts, f, None, CancelReason.IOC,
                                            "contra did not firm up"))

    def _end(self, pair: Pair, ts: int, ev: list[Event], reeval: bool = True) -> None:
        """The invitation is over: open sides go back to the pairing books."""
        pair.done = True
        bk = self.books[pair.symbol]
        for o in (pair.a, pair.b):
            if isinstance(o, CondOrder):
                if o.pair is pair:
                    o.pair = None
                    if o.open:
                        (bk.co_buys if o.is_buy else bk.co_sells).insert(o)
            else:
                s = self.elig.get(o.order_id)
                if s is not None and s.pair is pair:
                    s.pair = None
                    if o.open and o.level is not None:
                        if s.prio_seq != o.prio_seq or s.limit_key != o.limit_key:
                            s = self.elig[o.order_id] = Shadow(o)
                        (bk.el_buys if o.is_buy else bk.el_sells).insert(s)
                    else:
                        del self.elig[o.order_id]
        if reeval:
            self._reeval(self.e._syms[pair.symbol], bk, ts, ev)

    # ------------------------------------------------------------ cancel / replace

    def cancel(self, ts: int, c: Cancel, o: Order) -> list[Event]:
        """Cancel a CO or a waiting firm-up; a pending invitation ends with it."""
        e = self.e
        self._unbook(o)
        e._clids[c.session][c.cl_ord_id] = o
        orig, o.cl_ord_id = o.cl_ord_id, c.cl_ord_id
        ev: list[Event] = [e._cancelled(ts, o, orig, CancelReason.USER, "cancelled by user")]
        self._after_close(o, ts, ev, True)
        return ev

    def cancel_all(self, ts: int, orders: list[Order], reason: str, ev: list[Event]) -> None:
        """CancelAll's COs and firm-ups; pairs are sought again once all are gone."""
        symbols: set[str] = set()
        for o in orders:
            if o.open:
                self._unbook(o)
                ev.append(self.e._cancelled(ts, o, None, CancelReason.SESSION, reason))
                self._after_close(o, ts, ev, False)
                symbols.add(o.symbol)
        for sym in sorted(symbols):
            self._reeval(self.e._syms[sym], self.books[sym], ts, ev)

    def _unbook(self, o: Order) -> None:
        if isinstance(o, CondOrder) and o.level is not None:
            bk = self.books[o.symbol]
            (bk.co_buys if o.is_buy else bk.co_sells).remove(o)

    def _after_close(self, o: Order, ts: int, ev: list[Event], reeval: bool) -> None:
        pair = o.pair if isinstance(o, (CondOrder, FirmUp)) else None
        if pair is not None and not pair.done:
            side = o.co if isinstance(o, FirmUp) else o
            assert isinstance(side, CondOrder)
            self._withdraw(pair, side, ts, ev, reeval)

    def replace(self, ts: int, r: Replace, o: Order) -> list[Event]:
        """Replace a CO (as an FRS order, class kept); a pending invitation ends with it."""
        e = self.e
        if isinstance(o, FirmUp):
            return e._cxl_reject(ts, r, o, _CXL_OTHER, "a firm-up order cannot be replaced")
        assert isinstance(o, CondOrder)
        if r.order_class is OrderClass.FIRM:
            return e._cxl_reject(ts, r, o, _CXL_OTHER,
                                 "a replace cannot change the order class (7001): the order is "
                                 "conditional")
        if (r.side is Side.BUY) != o.is_buy:
            return e._cxl_reject(ts, r, o, _CXL_OTHER,
                                 "a replace cannot change between buy and sell")
        if r.post_only:
            return e._cxl_reject(ts, r, o, _CXL_OTHER,
                                 "post only (ExecInst 6) does not apply to conditional orders")
        part = e._parts[o.pid]
        problem = check_terms(r.side, r.qty, r.ord_type, r.limit, r.peg, r.min_qty, False,
                              TimeInForce.DAY, _CO_INCL) or check_locate(
            r.side, part, r.locate_reqd, r.locate_broker)
        if problem is not None:
            return e._cxl_reject(ts, r, o, _CXL_OTHER, problem[1])
        min_cancel = r.min_qty_instruction is MinQtyInstruction.CANCEL
        # Item 11(e): receipt time survives a quantity decrease and a short sale change only
        keep = (r.ord_type is o.ord_type and r.limit == o.limit and r.peg is o.peg
                and (r.min_qty or 0) == o.min_qty and min_cancel == o.min_cancel
                and r.qty <= o.qty)
        self._unbook(o)
        e._clids[r.session][r.cl_ord_id] = o
        orig, o.cl_ord_id = o.cl_ord_id, r.cl_ord_id
        if keep:
            o.qty, o.side, o.short = r.qty, r.side, r.side is Side.SELL_SHORT
            o.locate_reqd, o.locate_broker = r.locate_reqd, r.locate_broker
        else:
            o.set_terms(r.side, r.qty, r.ord_type, r.limit, r.peg, r.min_qty, min_cancel, False,
                        _CO_INCL, r.locate_reqd, r.locate_broker)
            e._seq += 1
            o.prio_seq = e._seq
        ev: list[Event] = [e._replaced(ts, o, orig)]
        pair = o.pair
        if pair is not None:
            o.pair = None
            self._withdraw(pair, o, ts, ev, False)
        bk = self.books[o.symbol]
        (bk.co_buys if o.is_buy else bk.co_sells).insert(o)
        st = e._syms[o.symbol]
        if st.can_match:
            self._sync(st, bk)
            self._seek(st, bk, o, ts, ev)  # as on arrival, then whatever the end freed
            self._reeval(st, bk, ts, ev)
        return ev


def _alp_key(st: SymbolState, o: Order) -> int:
    """The order's ALP as a key (buy: -price), Rule 201 floor included."""
    key = (st.buys if o.is_buy else st.sells).alp_key(o)
    if o.short and st.ssr:
        assert st.nbb is not None
        floor = st.nbb + SUB_PENNY
        if key < floor:
            key = floor
    return key
