"""The MOC session (SPEC 5.2): market-on-close orders, the cutoff and the closing cross.

MOC orders are kept apart from the regular session's books: the engine routes every command
about one here (a new order with OrdType 5 before its regular-session checks, a cancel or
replace once the order it names is found) and the FRS path never sees them. They share the
engine's identities (OrderID, ExecID, ClOrdIDs per session, open orders per session), so reads
and reports work as for any order.

The cutoff is a time of day in the venue's timezone, each calendar day. It is computed from the
command's receipt time, never from a clock, so replaying the journal gives the same answers.
"""

from __future__ import annotations

from datetime import datetime, time
from typing import TYPE_CHECKING, Final
from zoneinfo import ZoneInfo

from matcher.book import Order, Settings
from matcher.prices import format_price, is_rule612_tick, tick_of
from matcher.types import (
    Accepted,
    Cancel,
    CancelReason,
    Capacity,
    CloseRefused,
    ClosingPrice,
    CxlRejReason,
    Event,
    Filled,
    Liquidity,
    MocSettings,
    NewOrder,
    OrderClass,
    OrdType,
    Participant,
    Peg,
    RejectReason,
    Replace,
    Side,
    TimeInForce,
)
from matcher.validate import SHORT_SIDES, Problem, check_symbol

if TYPE_CHECKING:
    from matcher.engine import Engine, SymbolState

CUTOFF_TEXT: Final = "MOC cutoff passed"
CROSS_TEXT: Final = "MOC cross complete"
_MOC: Final = OrdType.MARKET_ON_CLOSE
_NS: Final = 1_000_000_000


def parse_cutoff(text: str) -> time:
    """``HH:MM:SS`` into a time of day; ValueError otherwise."""
    parts = text.split(":")
    if len(parts) != 3 or not all(len(p) == 2 and p.isdigit() for p in parts):
        raise ValueError(f"{text!r} is not a time of day HH:MM:SS")
    return time(int(parts[0]), int(parts[1]), int(parts[2]))  # range errors: ValueError


class MocSession:
    """The MOC orders of every symbol and their closing crosses, for one ``Engine``."""

    def __init__(self, engine: Engine, settings: MocSettings) -> None:
        self._eng = engine
        self.settings = settings
        self._tz = ZoneInfo(settings.timezone)
        self._cutoff = parse_cutoff(settings.cutoff)
        # symbol -> open MOC orders by order id (arrival order)
        self._orders: dict[str, dict[int, Order]] = {}
        self._cfgs: dict[tuple[str, bool, str, bool, bool], Settings] = {}

    # ------------------------------------------------------------ the clock

    def before_cutoff(self, ts: int) -> bool:
        """True when receipt time ``ts`` (ns) is strictly before the cutoff of its local day."""
        return datetime.fromtimestamp(ts // _NS, self._tz).time() < self._cutoff

    def revocable(self, ts: int, o: Order) -> bool:
        """Whether cancel_on_disconnect may cancel ``o`` now; takes it out of the session if so.

        After the cutoff MOC orders are irrevocable, as at the listing exchanges.
        """
        if not self.before_cutoff(ts):
            return False
        self._orders[o.symbol].pop(o.order_id, None)
        return True

    # ------------------------------------------------------------ commands

    def new(self, ts: int, c: NewOrder, part: Participant, st: SymbolState | None,
            incl: int) -> list[Event]:
        """Accept a MOC order before the cutoff, with the rejects of SPEC 5.2."""
        eng = self._eng
        problem = _new_problem(c, part, st, incl)
        if problem is None and not self.before_cutoff(ts):
            problem = RejectReason.TOO_LATE, CUTOFF_TEXT
        if problem is not None:
            return eng._reject(ts, c, *problem)
        op_principal = c.capacity is Capacity.PRINCIPAL and (part.operator
                                                             or part.operator_affiliate)
        skey = (part.id, c.smp, c.smp_scope, c.session_dncp or bool(c.dncp), op_principal)
        cfg = self._cfgs.get(skey)
        if cfg is None:
            cfg = self._cfgs[skey] = Settings(
                part.id, part.broker_group_id, part.affiliate_group_id, part.broker_dealer,
                part.taker_level, c.smp, c.smp_scope == "affiliates", skey[3], op_principal)
        eng._order_id += 1
        eng._seq += 1
        oid = eng._order_id
        o = Order(oid, c.session, c.cl_ord_id, c.symbol, TimeInForce.DAY, cfg, eng._seq, c.side,
                  c.qty, _MOC, None, Peg.NONE, None, False, False, incl, None, None)
        eng._clids[c.session][c.cl_ord_id] = o
        o.opens = eng._open.setdefault(c.session, {})
        o.opens[o] = o
        self._orders.setdefault(c.symbol, {})[oid] = o
        return [Accepted(ts, eng._next_exec(), oid, c.session, c.cl_ord_id, part.id, c.symbol,
                         c.side, c.qty, 0, c.qty, 0, 0)]

    def cancel(self, ts: int, c: Cancel, o: Order) -> list[Event]:
        """Cancel a MOC order (found and checked by the engine) before the cutoff."""
        eng = self._eng
        if not self.before_cutoff(ts):
            return eng._cxl_reject(ts, c, o, CxlRejReason.TOO_LATE, CUTOFF_TEXT)
        self._orders[o.symbol].pop(o.order_id, None)
        eng._clids[c.session][c.cl_ord_id] = o
        orig, o.cl_ord_id = o.cl_ord_id, c.cl_ord_id
        return [eng._cancelled(ts, o, orig, CancelReason.USER, "cancelled by user")]

    def replace(self, ts: int, r: Replace, o: Order) -> list[Event]:
        """Replace a MOC order before the cutoff: only its quantity can change.

        A quantity decrease (or no change) keeps the order's receipt time; an increase resets it.
        """
        eng = self._eng
        text = _replace_problem(r, o)
        if text is not None:
            return eng._cxl_reject(ts, r, o, CxlRejReason.OTHER, text)
        if not self.before_cutoff(ts):
            return eng._cxl_reject(ts, r, o, CxlRejReason.TOO_LATE, CUTOFF_TEXT)
        eng._clids[r.session][r.cl_ord_id] = o
        orig, o.cl_ord_id = o.cl_ord_id, r.cl_ord_id
        if r.qty > o.qty:
            eng._seq += 1
            o.prio_seq = eng._seq
        o.qty = r.qty
        if r.inclusion_level is not None:
            o.incl = r.inclusion_level
        return [eng._replaced(ts, o, orig)]

    def cross(self, ts: int, c: ClosingPrice) -> list[Event]:
        """The closing cross of one symbol at its official closing price (SPEC 5.2)."""
        eng = self._eng
        if c.symbol not in eng._syms:
            return [CloseRefused(ts, c.symbol, f"unknown symbol {c.symbol}")]
        if self.before_cutoff(ts):
            return [CloseRefused(ts, c.symbol, (
                f"closing price for {c.symbol} before the MOC cutoff "
                f"({self._cutoff.isoformat()} {self.settings.timezone}): refused"))]
        px = c.price
        if px <= 0 or not is_rule612_tick(px):
            return [CloseRefused(ts, c.symbol, (
                f"closing price {format_price(px)} for {c.symbol} is not a positive multiple "
                f"of {tick_of(px) if px > 0 else '0.0001'}"))]
        orders = self._orders.pop(c.symbol, None)
        if not orders:
            return []  # taken, nothing to cross
        ev: list[Event] = []
        self._allocate(ts, list(orders.values()), px, ev)
        for o in orders.values():
            if o.open:
                ev.append(eng._cancelled(ts, o, None, CancelReason.MOC_CROSS, CROSS_TEXT))
        return ev

    # ------------------------------------------------------------ the cross

    def _allocate(self, ts: int, orders: list[Order], px: int, ev: list[Event]) -> None:
        """Broker | Size: the smaller side (buys when equal) is allocated in rank order."""
        buys = [o for o in orders if o.is_buy]
        sells = [o for o in orders if not o.is_buy]
        if sum(o.qty for o in buys) <= sum(o.qty for o in sells):
            alloc, contra = buys, sells
        else:
            alloc, contra = sells, buys
        alloc.sort(key=_size_rank)
        for a in alloc:
            left = a.qty - a.cum
            rest = [c for c in contra if c.open]
            if a.cfg.is_bd:  # Broker priority: the contra orders of its own broker group first
                groups = [[c for c in rest if c.bg == a.bg], [c for c in rest if c.bg != a.bg]]
            else:
                groups = [rest]
            for group in groups:
                group.sort(key=_size_rank)
                for c in group:
                    if a.cfg.blocks(c.cfg):  # SMP and DNCP; MinQty does not apply
                        continue
                    q = min(left, c.qty - c.cum)
                    self._fill(ts, a, c, q, px, ev)
                    left -= q
                    if not left:
                        break
                if not left:
                    break

    def _fill(self, ts: int, a: Order, c: Order, q: int, px: int, ev: list[Event]) -> None:
        """One match: the earlier-received order is reported first, as adding liquidity."""
        eng = self._eng
        first, second = (a, c) if a.prio_seq < c.prio_seq else (c, a)
        eng._match_id += 1
        for o, contra, liq in ((first, second, Liquidity.ADDED),
                               (second, first, Liquidity.REMOVED)):
            o.cum += q
            o.notional += q * px
            leaves = o.qty - o.cum
            ev.append(Filled(ts, eng._next_exec(), o.order_id, o.session, o.cl_ord_id, o.pid,
                             o.symbol, o.side, o.qty, o.cum, leaves,
                             (2 * o.notional + o.cum) // (2 * o.cum), o.notional, q, px, liq,
                             contra.order_id, eng._match_id))
            if not leaves:
                o.open = False
                del o.opens[o]


def _size_rank(o: Order) -> tuple[int, int]:
    """Larger leaves first, then earlier receipt."""
    return (o.cum - o.qty, o.prio_seq)


def _new_problem(c: NewOrder, part: Participant, st: SymbolState | None,
                 incl: int) -> Problem | None:
    """The first reason to refuse a new MOC order (the cutoff aside)."""
    problem = check_symbol(c.symbol, None) if st is None else st.problem
    if problem is not None:
        return problem
    bad = RejectReason.OTHER
    if c.order_class is OrderClass.CONDITIONAL:
        return bad, "a MOC order (40=5) cannot be a conditional order (7001=C)"
    if c.conditional_ref is not None:
        return bad, "a MOC order (40=5) cannot be a firm-up order (7002)"
    if c.side in SHORT_SIDES:
        return RejectReason.BROKER_OPTION, "MOC orders may not be short sales"
    if not part.moc_opt_in:
        return RejectReason.BROKER_OPTION, (
            f"participant {part.id} has not opted in to the MOC session")
    if c.qty <= 0:
        return bad, f"order quantity {c.qty} must be positive"
    if c.limit is not None:
        return bad, "a MOC order must not carry a price (44)"
    if c.peg is not Peg.NONE:
        return bad, "a MOC order cannot carry a peg instruction"
    if c.tif is not TimeInForce.DAY:
        return bad, "a MOC order takes TimeInForce (59) 0 (day) or 7 (At the Close) only"
    if c.post_only:
        return bad, "post only (ExecInst 6) does not apply to MOC orders"
    if not 1 <= incl <= 5:
        return bad, f"Inclusion Level {incl} is outside 1..5"
    if c.smp_scope not in ("participant", "affiliates"):
        return bad, f"smp_scope {c.smp_scope!r} is not participant|affiliates"
    return None


def _replace_problem(r: Replace, o: Order) -> str | None:
    """Why a replace of (or into) a MOC order cannot be done, or None."""
    if o.ord_type is not _MOC:
        return f"a replace cannot turn an order of OrdType {o.ord_type.value} into a MOC order"
    if r.ord_type is not _MOC:
        return f"a replace cannot turn a MOC order into OrdType {r.ord_type.value}"
    if r.side in SHORT_SIDES:
        return "MOC orders may not be short sales"
    if (r.side is Side.BUY) != o.is_buy:
        return "a replace cannot change between buy and sell"
    if r.qty <= 0:
        return f"order quantity {r.qty} must be positive"
    if r.limit is not None:
        return "a MOC order must not carry a price (44)"
    if r.peg is not Peg.NONE:
        return "a MOC order cannot carry a peg instruction"
    if r.post_only:
        return "post only (ExecInst 6) does not apply to MOC orders"
    if r.inclusion_level is not None and not 1 <= r.inclusion_level <= 5:
        return f"Inclusion Level {r.inclusion_level} is outside 1..5"
    return None
