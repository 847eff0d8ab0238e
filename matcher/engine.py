"""The matching engine: one synchronous entry point, ``Engine.apply(command) -> events``."""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass
from typing import TYPE_CHECKING, Final

from matcher.book import (
    EMPTY_KEY,
    KIND_MID,
    NO_LIMIT,
    Level,
    Order,
    Settings,
    SideBook,
    by_time,
    merge,
    run_end,
)
from matcher.conditional import NEVER, Conditionals
from matcher.moc import MocSession
from matcher.prices import CENT, DOLLAR, SUB_PENNY, Price
from matcher.types import (
    Accepted,
    Cancel,
    CancelAll,
    Cancelled,
    CancelReason,
    CancelRejected,
    Capacity,
    ClosingPrice,
    Command,
    CxlRejReason,
    Event,
    Filled,
    FirmUpTimer,
    Liquidity,
    MinQtyInstruction,
    MocSettings,
    NewOrder,
    OrderClass,
    OrderInfo,
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
    SymbolConfig,
    TimeInForce,
)
from matcher.validate import (
    Problem,
    check_locate,
    check_symbol,
    check_terms,
)

if TYPE_CHECKING:
    from matcher.journal import Journal

# Final: a compiled module reads them from C statics, not from its globals dict
_ADDED: Final = Liquidity.ADDED
_REMOVED: Final = Liquidity.REMOVED
_IOC: Final = TimeInForce.IOC
_MQ_CANCEL: Final = MinQtyInstruction.CANCEL
_BUY: Final = Side.BUY
_SELL: Final = Side.SELL
_SHORT: Final = Side.SELL_SHORT
_LIMIT: Final = OrdType.LIMIT
_PEGGED: Final = OrdType.PEGGED
_MARKET: Final = OrdType.MARKET
_NO_PEG: Final = Peg.NONE
_FIRM: Final = OrderClass.FIRM
_COND: Final = OrderClass.CONDITIONAL
_PRINCIPAL: Final = Capacity.PRINCIPAL
_MOC: Final = OrdType.MARKET_ON_CLOSE
#: a prio_seq no order reaches (a new taker meets contras of any age); a tagged int
_NO_PRIO: Final = (1 << 62) - 1


class SymbolState:
    """Book and market state of one symbol."""

    __slots__ = ("cfg", "symbol", "buys", "sells", "nbb", "nbo", "mid", "quote_ok", "halted",
                 "luld", "ssr", "can_match", "problem")

    def __init__(self, cfg: SymbolConfig) -> None:
        self.cfg = cfg
        self.symbol = cfg.symbol  # the one string object every order of the symbol shares
        self.problem = check_symbol(cfg.symbol, cfg)  # eligibility is static: check it once
        self.buys = SideBook(True)
        self.sells = SideBook(False)
        self.nbb: Price | None = None
        self.nbo: Price | None = None
        self.mid: Price = 0
        self.quote_ok = False
        self.halted = False
        self.luld = 0
        self.ssr = False
        self.can_match = False

    def update_can_match(self) -> None:
        """Matching pauses on a missing, locked, crossed or too wide NBBO, halts and LULD."""
        ok = self.quote_ok and not self.halted and self.luld == 0
        if ok:
            assert self.nbb is not None and self.nbo is not None
            spread = self.nbo - self.nbb
            ms = self.cfg.max_spread
            ok = spread > 0 and (ms is None or spread <= ms)
        self.can_match = ok


class _Session:
    """What ``Engine._new`` keeps per session: its ClOrdID and open-order maps (the very dicts
    of ``Engine._clids`` / ``_open``), and the interaction settings of its last new order with
    the terms they were looked up by (a session's orders mostly share them: no key tuple to
    build and hash)."""

    __slots__ = ("name", "ids", "opens", "cfg", "pid", "smp", "scope", "dncp", "op_principal",
                 "part", "part_pid")

    def __init__(self, name: str, ids: dict[str, Order], opens: dict[Order, Order]) -> None:
        # The session's name as first seen: the one string object its orders and their events
        # share (each command may bring its own copy; an event holds the order's).
        self.name = name
        self.ids, self.opens = ids, opens
        # the participant of the session's last new order, by its id (compared, not hashed)
        self.part: Participant | None = None
        self.part_pid = ""
        self.cfg: Settings | None = None
        self.pid = self.scope = ""
        self.smp = self.dncp = self.op_principal = False


def _plain(c: NewOrder, incl: int) -> bool:
    """A cheap sufficient test that every acceptance check passes (the common case).

    False means "run the full checks", not "reject": those give the reason and the text.
    """
    ot, limit, peg = c.ord_type, c.limit, c.peg
    if ot is _LIMIT:
        if limit is None:
            return False
    elif ot is _PEGGED:
        if peg is _NO_PEG:
            return False
    elif ot is not _MARKET or limit is not None or peg is not _NO_PEG:
        return False
    side, qty, mq = c.side, c.qty, c.min_qty
    return ((side is _BUY or side is _SELL) and qty > 0 and c.order_class is _FIRM
            and c.conditional_ref is None
            and (limit is None or (limit > 0 and limit % (CENT if limit >= DOLLAR else SUB_PENNY)
                                   == 0))
            and (mq is None or 0 < mq <= qty) and not (c.post_only and c.tif is _IOC)
            and 1 <= incl <= 5 and (c.smp_scope == "participant" or c.smp_scope == "affiliates"))


@dataclass(frozen=True, slots=True)
class MarketInfo:
    """Read-only snapshot of one symbol: NBBO, whether it can match, and resting depth."""

    symbol: str
    nbb: Price | None
    nbo: Price | None
    can_match: bool
    halted: bool
    luld: int
    ssr: bool
    buy_orders: int
    buy_qty: int
    sell_orders: int
    sell_qty: int


class Engine:
    """Single-threaded deterministic matching core; see the package docstring."""

    def __init__(
        self,
        participants: Mapping[str, Participant],
        symbols: Mapping[str, SymbolConfig],
        clock: Callable[[], int],
        journal: Journal | None = None,
        moc: MocSettings | None = None,
    ) -> None:
        self._parts = dict(participants)
        self._settings: dict[tuple[str, bool, str, bool, bool], Settings] = {}
        self._syms = {s: SymbolState(cfg) for s, cfg in symbols.items()}
        self._clock = clock
        self._journal = journal
        self._exec_id = 0
        self._order_id = 0
        self._match_id = 0
        self._seq = 0
        # ClOrdID -> order per session: per-session maps keep each dict (and the pause of its
        # resize, tens of ms at a million ids) small
        self._clids: dict[str, dict[str, Order]] = {}
        self._open: dict[str, dict[Order, Order]] = {}
        self._sessions: dict[str, _Session] = {}  # the same two maps per session, and more
        # (symbol, QuoteUpdate or SecurityStatus) -> (source_time, source_seq) last applied
        self._md_source: dict[tuple[str, type], tuple[int, int]] = {}
        self.warnings: list[str] = []
        # conditional orders (SPEC 5.1); _due is their earliest firm-up deadline
        self._due = NEVER
        self._co = Conditionals(self)
        # the MOC session (matcher.moc) keeps its orders apart from the books
        self._moc = MocSession(self, moc or MocSettings())

    # ------------------------------------------------------------ entry points

    def apply(self, command: Command) -> list[Event]:
        """Stamp the receipt time, journal the command, then apply it."""
        ts = self._clock()
        if self._journal is not None:
            self._journal.append(ts, command)
        if ts >= self._due:  # a firm-up deadline passed: expire before the command acts
            return self._co.expire(ts) + self._do(ts, command)
        return self._do(ts, command)

    def _do(self, ts: int, c: Command) -> list[Event]:
        """Apply one command (dispatch by type, commonest first: compiled, an isinstance chain
        is native calls where a dict of bound methods is a lookup and a Python call)."""
        if isinstance(c, NewOrder):
            return self._new(ts, c)
        if isinstance(c, Cancel):
            return self._cancel(ts, c)
        if isinstance(c, QuoteUpdate):
            return self._quote(ts, c)
        if isinstance(c, Replace):
            return self._replace(ts, c)
        if isinstance(c, SecurityStatus):
            return self._status(ts, c)
        if isinstance(c, CancelAll):
            return self._cancel_all(ts, c)
        if isinstance(c, FirmUpTimer):
            return self._co.timer(ts, c)
        if isinstance(c, ClosingPrice):
            return self._moc.cross(ts, c)
        raise KeyError(type(c))

    def replay(self, records: Iterable[tuple[int, Command]]) -> list[Event]:
        """Re-apply journaled (receipt ns, command) records without journaling them again."""
        out: list[Event] = []
        for ts, cmd in records:
            if ts >= self._due:
                out.extend(self._co.expire(ts))
            out.extend(self._do(ts, cmd))
        return out

    @classmethod
    def recover(
        cls,
        participants: Mapping[str, Participant],
        symbols: Mapping[str, SymbolConfig],
        clock: Callable[[], int],
        journal_path: str,
        moc: MocSettings | None = None,
        journal_crc: Callable[[bytes], int] | None = None,
    ) -> tuple[Engine, list[Event]]:
        """Rebuild the engine from its journal and keep appending to it.

        A truncated or garbled tail is dropped (and cut from the file); the reason is in
        ``engine.warnings``. Ids continue after the highest one used before the crash.
        ``journal_crc``: the new records' CRC-32 function, if not zlib.crc32 (`Journal`).
        """
        from matcher.journal import Journal, read_journal

        records, warnings = read_journal(journal_path)
        journal = Journal(journal_path, journal_crc)
        engine = cls(participants, symbols, clock, journal, moc)
        engine.warnings = warnings
        return engine, engine.replay(records)

    # ------------------------------------------------------------ read access

    @property
    def journal(self) -> Journal | None:
        """The journal commands are appended to (the gateway syncs it once per loop turn)."""
        return self._journal

    def market_data_source(
        self, symbol: str, kind: type[QuoteUpdate] | type[SecurityStatus]
    ) -> tuple[int, int] | None:
        """(source_time, source_seq) of the last `kind` command applied to the symbol that
        carried them (journal replay included): what the caller compares a late copy with."""
        return self._md_source.get((symbol, kind))

    def order(self, session: str, cl_ord_id: str) -> OrderInfo | None:
        """Snapshot of the order known by this ClOrdID (any id of its replace chain)."""
        o = self._clids.get(session, _NO_IDS).get(cl_ord_id)
        return None if o is None else self._info(o)

    def next_firm_up_deadline(self) -> int | None:
        """The earliest deadline (ns) of a pending firm-up invitation, None without one.

        Apply a ``FirmUpTimer`` at (or after) it so the invitation expires on time."""
        if self._due == NEVER:  # the common case, asked after every command: no invitation
            return None
        return self._co.next_deadline()

    def open_orders(self, session: str) -> list[OrderInfo]:
        """Open orders of a session, oldest first."""
        return [self._info(o) for o in self._open.get(session, {}).values()]

    def assigned_limit_price(self, session: str, cl_ord_id: str) -> Price | None:
        """Current ALP of an open order (None without an NBBO reference or when done)."""
        o = self._clids.get(session, _NO_IDS).get(cl_ord_id)
        if o is None or not o.open or o.ord_type is _MOC:
            return None
        st = self._syms[o.symbol]
        if st.nbb is None or st.nbo is None or not st.quote_ok:
            return o.limit if o.limit_key != NO_LIMIT and o.kind != KIND_MID else None
        book = st.buys if o.is_buy else st.sells
        key = book.alp_key(o)
        if o.is_buy:
            return -key
        if o.short and st.ssr:
            key = max(key, st.nbb + SUB_PENNY)
        return key

    def book(self, symbol: str) -> tuple[list[OrderInfo], list[OrderInfo]]:
        """Resting (buys, sells) in price | inclusion | time order (no broker priority)."""
        st = self._syms[symbol]
        out: list[list[OrderInfo]] = []
        for side in (st.buys, st.sells):
            rows: list[OrderInfo] = []
            for _, levels in side.levels_upto(1 << 63):
                rows.extend(self._info(e) for e in merge([lv.entries for lv in levels]))
            out.append(rows)
        return out[0], out[1]

    def symbols(self) -> list[str]:
        """The configured symbols, in configuration order."""
        return list(self._syms)

    def market(self, symbol: str) -> MarketInfo:
        """NBBO, market state and resting depth of a symbol (for the operator's views)."""
        st = self._syms[symbol]
        return MarketInfo(symbol, st.nbb, st.nbo, st.can_match, st.halted, st.luld, st.ssr,
                          len(st.buys), _resting_qty(st.buys),
                          len(st.sells), _resting_qty(st.sells))

    def resting(self, symbol: str) -> int:
        """How many orders rest in the symbol's book (cheap: counted per level)."""
        st = self._syms[symbol]
        return len(st.buys) + len(st.sells)

    def _info(self, o: Order) -> OrderInfo:
        return OrderInfo(o.order_id, o.session, o.cl_ord_id, o.pid, o.symbol, o.side,
                         o.ord_type, o.peg, o.limit, o.tif, o.qty, o.cum, o.leaves,
                         _avg(o), o.open)

    # ------------------------------------------------------------ event helpers

    def _next_exec(self) -> int:
        self._exec_id += 1
        return self._exec_id

    def _reject(self, ts: int, c: NewOrder, reason: RejectReason, text: str) -> list[Event]:
        return [Rejected(ts, self._next_exec(), 0, c.session, c.cl_ord_id, c.participant,
                         c.symbol, c.side, c.qty, 0, 0, 0, 0, reason, text)]

    def _cxl_reject(self, ts: int, c: Cancel | Replace, o: Order | None,
                    reason: CxlRejReason, text: str) -> list[Event]:
        return [CancelRejected(ts, c.session, c.cl_ord_id, c.orig_cl_ord_id,
                               0 if o is None else o.order_id, isinstance(c, Replace), reason,
                               text, 0 if o is None else o.cum, 0 if o is None else o.leaves)]

    def _cancelled(self, ts: int, o: Order, orig: str | None, reason: CancelReason,
                   text: str) -> Cancelled:
        """Close the order (book removal is the caller's) and describe it."""
        leaves = o.qty - o.cum
        o.open = False
        del o.opens[o]
        return Cancelled(ts, self._next_exec(), o.order_id, o.session, o.cl_ord_id, o.pid,
                         o.symbol, o.side, o.qty, o.cum, 0, _avg(o), o.notional, orig, reason,
                         text or f"{leaves} cancelled: {reason.value}")

    # ------------------------------------------------------------ commands

    def _new(self, ts: int, c: NewOrder) -> list[Event]:
        session, clid, pid = c.session, c.cl_ord_id, c.participant
        sess = self._sessions.get(session)  # one lookup for both of the session's maps
        if sess is None:
            sess = self._sessions[session] = _Session(session,
                                                      self._clids.setdefault(session, {}),
                                                      self._open.setdefault(session, {}))
        session = sess.name
        ids = sess.ids
        if clid in ids:
            return self._reject(ts, c, RejectReason.DUPLICATE_ORDER,
                                f"duplicate ClOrdID {clid} on session {session}")
        part = sess.part  # the session's participant of its last order: most often the same
        if part is None or sess.part_pid != pid:
            part = self._parts.get(pid)
            if part is None:
                return self._reject(ts, c, RejectReason.OTHER, f"unknown participant {pid}")
            sess.part, sess.part_pid = part, pid
        st = self._syms.get(c.symbol)
        incl = c.inclusion_level
        if incl is None:
            incl = c.default_inclusion_level
        if st is None or st.problem is not None or not _plain(c, incl):
            if c.ord_type is _MOC:  # the MOC session's (matcher.moc), off the FRS path
                return self._moc.new(ts, c, part, st, incl)
            if c.order_class is not _FIRM or c.conditional_ref is not None:
                return self._co.new_order(ts, c, part, st, incl)  # a CO or a firm-up
            problem = self._new_problem(c, part, st, incl)
            if problem is not None:
                return self._reject(ts, c, *problem)
            assert st is not None
        # 47=P from the operator or an operator affiliate; agency (e.g. CBNA) is not principal
        op_principal = c.capacity is _PRINCIPAL and (part.operator or part.operator_affiliate)
        # a session-level DNCP cannot be overridden
        dncp = c.session_dncp or bool(c.dncp)
        smp, scope = c.smp, c.smp_scope
        cfg = sess.cfg  # the session's last settings: most often the same again
        if (cfg is None or sess.pid != pid or sess.smp != smp or sess.scope != scope
                or sess.dncp != dncp or sess.op_principal != op_principal):
            skey = (pid, smp, scope, dncp, op_principal)
            cfg = self._settings.get(skey)
            if cfg is None:
                cfg = self._settings[skey] = Settings(
                    pid, part.broker_group_id, part.affiliate_group_id, part.broker_dealer,
                    part.taker_level, smp, scope == "affiliates", dncp, op_principal)
            sess.cfg, sess.pid, sess.smp, sess.scope = cfg, pid, smp, scope
            sess.dncp, sess.op_principal = dncp, op_principal
        self._order_id += 1
        self._seq += 1
        oid = self._order_id
        o = Order(oid, session, clid, st.symbol, c.tif, cfg, self._seq, c.side, c.qty,
                  c.ord_type, c.limit, c.peg, c.min_qty, c.min_qty_instruction is _MQ_CANCEL,
                  c.post_only, incl, c.locate_reqd, c.locate_broker)
        ids[clid] = o
        open_ = o.opens = sess.opens
        open_[o] = o
        self._exec_id += 1
        ev: list[Event] = [Accepted(ts, self._exec_id, oid, session, clid, pid, o.symbol,
                                    o.side, o.qty, 0, o.qty, 0, 0)]
        if c.tif is _IOC or o.min_cancel:
            self._take_and_rest(st, o, ts, ev)
        else:  # the common resting day order: _take_and_rest inlined
            if st.can_match and not o.post_only:
                self._match(st, o, ts, ev, False)
            if o.open:
                (st.buys if o.is_buy else st.sells).insert(o)
        if c.conditional_interaction and o.level is not None:  # an Eligible FRS Order rests
            self._co.frs_new(st, o, ts, ev)
        return ev

    def _new_problem(self, c: NewOrder, part: Participant, st: SymbolState | None,
                     incl: int) -> Problem | None:
        """The first reason to refuse a new order, checked in the documented order."""
        problem = (
            (check_symbol(c.symbol, None) if st is None else st.problem)
            or check_terms(c.side, c.qty, c.ord_type, c.limit, c.peg, c.min_qty, c.post_only,
                           c.tif, incl)
            or check_locate(c.side, part, c.locate_reqd, c.locate_broker)
        )
        if problem is None and c.smp_scope not in ("participant", "affiliates"):
            problem = RejectReason.OTHER, f"smp_scope {c.smp_scope!r} is not participant|affiliates"
        return problem

    def _take_and_rest(self, st: SymbolState, o: Order, ts: int, ev: list[Event]) -> None:
        """Match an arriving order as the taker, then rest (day) or cancel (IOC) the leaves."""
        if st.can_match and not o.post_only:
            self._match(st, o, ts, ev, False)
        if o.open:
            if o.min_cancel and o.qty - o.cum < o.min_qty:
                ev.append(self._cancelled(ts, o, None, CancelReason.MIN_QTY, ""))
            elif o.tif is _IOC:
                ev.append(self._cancelled(ts, o, None, CancelReason.IOC, "IOC"))
            else:
                (st.buys if o.is_buy else st.sells).insert(o)

    def _lookup(self, ts: int, c: Cancel | Replace) -> tuple[Order | None, list[Event] | None]:
        """Resolve OrigClOrdID; a CancelRejected list when the request cannot proceed."""
        ids = self._clids.get(c.session, _NO_IDS)
        o = ids.get(c.orig_cl_ord_id)
        if o is None:
            return None, self._cxl_reject(ts, c, None, CxlRejReason.UNKNOWN_ORDER,
                                          f"unknown order: OrigClOrdID {c.orig_cl_ord_id}")
        if c.cl_ord_id in ids:
            return None, self._cxl_reject(ts, c, o, CxlRejReason.DUPLICATE_CL_ORD_ID,
                                          f"duplicate ClOrdID {c.cl_ord_id} on session "
                                          f"{c.session}")
        if not o.open:
            return None, self._cxl_reject(ts, c, o, CxlRejReason.TOO_LATE,
                                          f"order {c.orig_cl_ord_id} is already done")
        if c.symbol is not None and c.symbol != o.symbol:
            return None, self._cxl_reject(ts, c, o, CxlRejReason.OTHER,
                                          f"symbol {c.symbol} does not match the order's "
                                          f"{o.symbol}")
        return o, None

    def _cancel(self, ts: int, c: Cancel) -> list[Event]:
        o, rej = self._lookup(ts, c)
        if rej is not None:
            return rej
        assert o is not None
        if c.side is not None and c.side is not o.side:
            return self._cxl_reject(ts, c, o, CxlRejReason.OTHER,
                                    f"side {c.side.name} does not match the order's "
                                    f"{o.side.name}")
        if o.ord_type is _MOC:
            return self._moc.cancel(ts, c, o)
        if type(o) is not Order:
            return self._co.cancel(ts, c, o)
        st = self._syms[o.symbol]
        (st.buys if o.is_buy else st.sells).remove(o)
        self._clids[c.session][c.cl_ord_id] = o
        orig, o.cl_ord_id = o.cl_ord_id, c.cl_ord_id
        return [self._cancelled(ts, o, orig, CancelReason.USER, "cancelled by user")]

    def _cancel_all(self, ts: int, c: CancelAll) -> list[Event]:
        ev: list[Event] = []
        special: list[Order] = []
        for o in list(self._open.get(c.session, {}).values()):
            if o.ord_type is _MOC:
                if not self._moc.revocable(ts, o):
                    continue  # after the cutoff MOC orders are irrevocable
            elif type(o) is not Order:  # COs and firm-ups
                special.append(o)
                continue
            else:
                st = self._syms[o.symbol]
                (st.buys if o.is_buy else st.sells).remove(o)
            ev.append(self._cancelled(ts, o, None, CancelReason.SESSION, c.reason))
        if special:
            self._co.cancel_all(ts, special, c.reason, ev)
        return ev

    def _replace(self, ts: int, r: Replace) -> list[Event]:
        o, rej = self._lookup(ts, r)
        if rej is not None:
            return rej
        assert o is not None
        if o.ord_type is _MOC or r.ord_type is _MOC:
            return self._moc.replace(ts, r, o)
        if type(o) is not Order:
            return self._co.replace(ts, r, o)
        if r.order_class is _COND:
            return self._cxl_reject(ts, r, o, CxlRejReason.OTHER,
                                    "a replace cannot change the order class (7001): the order "
                                    "is firm")
        ev = self._replace_firm(ts, r, o)
        if o.order_id in self._co.elig:
            self._co.frs_replaced(self._syms[o.symbol], o, ts, ev)
        return ev

    def _replace_firm(self, ts: int, r: Replace, o: Order) -> list[Event]:
        if (r.side is _BUY) != o.is_buy:
            return self._cxl_reject(ts, r, o, CxlRejReason.OTHER,
                                    "a replace cannot change between buy and sell")
        part = self._parts[o.pid]
        incl = r.inclusion_level if r.inclusion_level is not None else o.incl
        problem = check_terms(r.side, r.qty, r.ord_type, r.limit, r.peg, r.min_qty,
                              r.post_only, o.tif, incl) or check_locate(
            r.side, part, r.locate_reqd, r.locate_broker)
        if problem is not None:
            return self._cxl_reject(ts, r, o, CxlRejReason.OTHER, problem[1])
        st = self._syms[o.symbol]
        own = st.buys if o.is_buy else st.sells
        min_cancel = r.min_qty_instruction is _MQ_CANCEL
        # Item 11(c)(e): receipt time survives a quantity decrease and a short sale change only
        keep = (r.ord_type is o.ord_type and r.limit == o.limit and r.peg is o.peg
                and (r.min_qty or 0) == o.min_qty and min_cancel == o.min_cancel
                and r.post_only == o.post_only and incl == o.incl and r.qty <= o.qty)
        self._clids[r.session][r.cl_ord_id] = o
        orig, o.cl_ord_id = o.cl_ord_id, r.cl_ord_id
        side_changed = r.side is not o.side
        ev: list[Event] = []
        if r.qty <= o.cum:  # nothing left to trade: the order is done at its cum qty
            own.remove(o)
            o.qty = o.cum
            o.open = False
            del o.opens[o]
            ev.append(self._replaced(ts, o, orig))
            return ev
        if keep:
            o.qty, o.side, o.short = r.qty, r.side, r.side is _SHORT
            o.locate_reqd, o.locate_broker = r.locate_reqd, r.locate_broker
            ev.append(self._replaced(ts, o, orig))
            if o.min_cancel and o.qty - o.cum < o.min_qty:
                own.remove(o)
                ev.append(self._cancelled(ts, o, None, CancelReason.MIN_QTY, ""))
            elif side_changed and st.can_match:
                self._reeval(st, ts, ev)
            return ev
        own.remove(o)
        o.set_terms(r.side, r.qty, r.ord_type, r.limit, r.peg, r.min_qty, min_cancel,
                        r.post_only, incl, r.locate_reqd, r.locate_broker)
        self._seq += 1
        o.prio_seq = self._seq
        ev.append(self._replaced(ts, o, orig))
        self._take_and_rest(st, o, ts, ev)
        return ev

    def _replaced(self, ts: int, o: Order, orig: str) -> Replaced:
        return Replaced(ts, self._next_exec(), o.order_id, o.session, o.cl_ord_id, o.pid,
                        o.symbol, o.side, o.qty, o.cum, o.leaves, _avg(o), o.notional, orig)

    def _quote(self, ts: int, q: QuoteUpdate) -> list[Event]:
        st = self._syms.get(q.symbol)
        if st is None:
            return []
        if q.source_time is not None:
            self._md_source[(q.symbol, QuoteUpdate)] = (q.source_time, q.source_seq or 0)
        bid, ask = q.bid, q.ask
        st.nbb, st.nbo = bid, ask
        # quotes are in Rule 612 increments; anything else is treated as no valid NBBO
        ok = (bid is not None and ask is not None and bid > 0 and ask > 0
              and bid % SUB_PENNY == 0 and ask % SUB_PENNY == 0)
        st.quote_ok = ok
        if ok:
            assert bid is not None and ask is not None
            mid = st.mid = (bid + ask) // 2
            # re-price every pool: O(1), no order moves (see matcher.book)
            st.buys.set_refs(-bid, -ask, -mid)
            st.sells.set_refs(bid, ask, mid)
        st.update_can_match()
        ev: list[Event] = []
        if st.can_match:
            self._reeval(st, ts, ev)
            if self._co.books:
                self._co.market(st, ts, ev)
        return ev

    def _status(self, ts: int, s: SecurityStatus) -> list[Event]:
        st = self._syms.get(s.symbol)
        if st is None:
            return []
        if s.source_time is not None:
            self._md_source[(s.symbol, SecurityStatus)] = (s.source_time, s.source_seq or 0)
        if s.halted is not None:
            st.halted = s.halted
        if s.luld_state is not None:
            st.luld = s.luld_state
        if s.ssr is not None:
            st.ssr = s.ssr
        st.update_can_match()
        ev: list[Event] = []
        if st.can_match:
            self._reeval(st, ts, ev)
            if self._co.books:
                self._co.market(st, ts, ev)
        return ev

    # ------------------------------------------------------------ matching

    def _reeval(self, st: SymbolState, ts: int, ev: list[Event]) -> None:
        """Match resting orders that now cross; the later-arrived order of a pair is the taker."""
        bb, sb = st.buys.best(), st.sells.best()
        if bb == EMPTY_KEY or sb == EMPTY_KEY or bb + sb > 0:
            return
        buys, sells = st.buys, st.sells
        bs = buys.entries_upto(-sb)
        ss = sells.entries_upto(-bb)
        # A taker only meets earlier contras, and every contra it could meet lies in the other
        # side's crossed region; an order older than all of that region cannot trade now.
        min_b = _min_prio(bs)
        min_s = _min_prio(ss)
        cands = [e for e in bs if e.prio_seq > min_s]
        cands += [e for e in ss if e.prio_seq > min_b]
        if len(cands) > 1:
            cands = by_time(cands)
        for t in cands:
            if t.open and not t.post_only:
                n = len(ev)
                self._match(st, t, ts, ev, True)
                if len(ev) == n:
                    continue
                if not t.open:  # (an if: compiled, a conditional expression's method is
                    # called by name, a generic call)
                    if t.is_buy:
                        buys.remove(t)
                    else:
                        sells.remove(t)
                # every match needs the two ALPs to cross: once the sides no longer do, the
                # rest of the candidates (a re-priced pool, say) cannot trade
                bb, sb = buys.best(), sells.best()
                if bb == EMPTY_KEY or sb == EMPTY_KEY or bb + sb > 0:
                    break

    def _match(self, st: SymbolState, t: Order, ts: int, ev: list[Event], reeval: bool) -> None:
        """Fill ``t`` against contra orders in Class|Price|Broker|Inclusion|Time priority."""
        if t.is_buy:
            contra = st.sells
            r = st.buys.ref(t.kind)
            tkey = t.limit_key if t.limit_key > r else r
            floor = st.nbb + SUB_PENNY if st.ssr else None  # type: ignore[operator]
        else:
            contra = st.buys
            r = st.sells.ref(t.kind)
            tkey = t.limit_key if t.limit_key > r else r
            floor = None
            if t.short and st.ssr:
                f = st.nbb + SUB_PENNY  # type: ignore[operator]
                if tkey < f:
                    tkey = f
        bound = -tkey
        tcfg = t.cfg
        t_bg = tcfg.bg if tcfg.is_bd else None
        best = contra.best()  # cheap test first: most arriving orders do not cross
        if best == EMPTY_KEY or best > bound:
            return
        # the groups are found one at a time (next_key, group_at) as the walk gets to them:
        # most takers fill in the best group and never look at the levels behind it
        # (a group that is one kind's pool comes as its kept merged entries, no levels)
        first, pool0 = contra.group_at(best, t_bg)
        # the groups after the first, made only when the walk gets past the first (no lists to
        # make and free for most takers); n_groups counts the first
        groups: list[tuple[int, list[Level]]] | None = None
        pools: list[tuple[list[Order], list[Order]] | None] | None = None
        n_groups = 1
        last_key = best
        full = best == bound
        t_level = tcfg.taker_level
        blocked = tcfg.blocked
        t_prio = t.prio_seq if reeval else _NO_PRIO
        t_buy = t.is_buy
        t_mq = t.min_qty
        mid = st.mid
        dead: list[Order] | None = None  # contras done, out of the book after the walk
        t_left = t.qty - t.cum
        done = False
        again = True
        while again and not done:
            # A contra skipped for the taker's own MinQty may become eligible once later
            # fills bring the taker's leaves down to it (leaves below MinQty: all or
            # none); such a pass is followed by another from the top.
            again = skipped = False
            gi = 0
            while True:
                if gi == n_groups:
                    if full:
                        break
                    # the book does not change during the walk (dead orders leave it only at
                    # the end), so the groups found stay valid for a MinQty pass from the top
                    nkey = contra.next_key(last_key)
                    if nkey > bound:
                        full = True
                        break
                    lvs, pl = contra.group_at(nkey, t_bg)
                    if groups is None or pools is None:
                        groups, pools = [], []
                    groups.append((nkey, lvs))
                    pools.append(pl)
                    n_groups += 1
                    last_key = nkey
                    if nkey == bound:
                        full = True
                if gi == 0:
                    key, levels, pool = best, first, pool0
                else:
                    assert groups is not None and pools is not None
                    key, levels = groups[gi - 1]
                    pool = pools[gi - 1]
                gi += 1
                # one level needs no merge; a kind's pool is kept merged by the book
                if not levels:  # given as its pool by group_at
                    one = None
                else:
                    one = levels[0] if len(levels) == 1 else None
                    pool = None if one is not None else contra.pool_at(key, len(levels), t_bg)
                # phase 0: the taker's broker group (Broker priority), 1: the others; 2: all
                # (no broker priority). (A native range loop: a tuple literal of bools is
                # iterated generically.)
                for phase in range(0 if t_bg is not None else 2, 2 if t_bg is not None else 3):
                    if phase == 0:  # Broker priority: the taker's broker group first
                        if one is not None:
                            seq = one.group(t_bg)  # type: ignore[arg-type]
                        elif pool is not None:
                            seq = pool[1]
                        else:
                            seq = merge([lv.group(t_bg)  # type: ignore[arg-type]
                                         for lv in levels])
                    elif one is not None:
                        seq = one.entries
                    elif pool is not None:
                        seq = pool[0]
                    else:
                        seq = merge([lv.entries for lv in levels])
                    i = 0
                    n_seq = len(seq)
                    while i < n_seq:
                        c = seq[i]
                        incl = c.incl
                        prio = c.prio_seq
                        i += 1
                        if incl < t_level:
                            # entries run in Inclusion Level order: no later one admits t
                            break
                        if prio > t_prio:
                            # re-evaluation: a taker meets only older contras, and the rest of
                            # this Inclusion Level's run is younger still: jump past it
                            i = run_end(seq, incl, i)
                            continue
                        # the skips, cheapest first; none has a side effect, so order is free
                        if not c.open or (phase == 1 and c.bg == t_bg):
                            continue
                        ccfg = c.cfg
                        b = blocked.get(ccfg)
                        if b is None:
                            b = tcfg.blocks(ccfg)
                        if b:
                            continue
                        ckey = key
                        if floor is not None and c.short and key < floor:
                            if floor > bound:
                                continue
                            ckey = floor
                        c_left = c.qty - c.cum
                        q = t_left if t_left < c_left else c_left
                        if c.min_qty and q < min(c.min_qty, c_left):
                            continue  # stays so: q only shrinks as the taker fills
                        if t_mq and q < (t_mq if t_mq < t_left else t_left):
                            skipped = True
                            continue
                        again = skipped
                        if t_buy:
                            b_alp, s_alp = bound, ckey
                        else:
                            b_alp, s_alp = -ckey, tkey
                        px = mid if s_alp <= mid <= b_alp else (b_alp if b_alp < mid else s_alp)
                        rem = px % SUB_PENNY
                        if rem:  # a fifth decimal: round in favour of the resting order
                            px = px - rem if c.is_buy else px + SUB_PENNY - rem
                        n = q * px
                        c_cum = c.cum = c.cum + q
                        c_not = c.notional = c.notional + n
                        t_cum = t.cum = t.cum + q
                        t_not = t.notional = t.notional + n
                        t_left -= q
                        self._match_id = match_id = self._match_id + 1
                        self._exec_id = eid = self._exec_id + 2
                        ev.append(Filled(ts, eid - 1, c.order_id, c.session, c.cl_ord_id, c.pid,
                                         c.symbol, c.side, c.qty, c_cum, c.qty - c_cum,
                                         (c_not + c_not + c_cum) // (c_cum + c_cum), c_not,
                                         q, px, _ADDED, t.order_id, match_id))
                        ev.append(Filled(ts, eid, t.order_id, t.session, t.cl_ord_id, t.pid,
                                         t.symbol, t.side, t.qty, t_cum, t_left,
                                         (t_not + t_not + t_cum) // (t_cum + t_cum), t_not,
                                         q, px, _REMOVED, c.order_id, match_id))
                        if c_cum == c.qty:
                            c.open = False
                            del c.opens[c]
                            if dead is None:
                                dead = [c]
                            else:
                                dead.append(c)
                        elif c.min_cancel and c_left - q < c.min_qty:
                            ev.append(self._cancelled(ts, c, None, CancelReason.MIN_QTY, ""))
                            if dead is None:
                                dead = [c]
                            else:
                                dead.append(c)
                        if t_left == 0:
                            t.open = False
                            del t.opens[t]
                            done = True
                            break
                        if t.min_cancel and t_left < t_mq:
                            ev.append(self._cancelled(ts, t, None, CancelReason.MIN_QTY, ""))
                            done = True
                            break
                    if done:
                        break
                if done:
                    break
        if dead is not None:
            for c in dead:
                contra.remove(c)


_NO_IDS: Final[dict[str, Order]] = {}  # read-only stand-in for a session without orders


def _resting_qty(side: SideBook) -> int:
    return sum(e.qty - e.cum for lvs in side.levels for lv in lvs.values()
               for e in lv.entries)


def _min_prio(entries: list[Order]) -> int:
    """The smallest prio_seq of the orders (_NO_PRIO for none)."""
    m = _NO_PRIO
    for e in entries:
        p = e.prio_seq
        if p < m:
            m = p
    return m


def _avg(o: Order) -> int:
    """Average fill price rounded half-up to the Price unit."""
    # (x + x, not 2 * x: compiled, a product of a notional takes mypyc's slow multiply)
    n, cum = o.notional, o.cum
    return (n + n + cum) // (cum + cum) if cum else 0
