"""FIX order messages into matcher commands, with the order-entry session's defaults applied.

Each translator returns a command, or an `OrderError` whose text says exactly what is wrong with
the message; the caller answers an `OrderError` with an ExecutionReport reject (D) or an
OrderCancelReject (F, G). Structural problems (a required tag missing, a tag with no value, a
malformed number) were already answered by the session layer with a session-level Reject.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Final, TypeVar

from gateway.config import SessionConfig
from gateway.fix import Message, parse_utc
from matcher import (
    Cancel,
    Capacity,
    ClosingPrice,
    MinQtyInstruction,
    NewOrder,
    OrderClass,
    OrdType,
    Peg,
    QuoteUpdate,
    Replace,
    SecurityStatus,
    Side,
    TimeInForce,
    parse_price,
)

#: bounds on what an order or a quote may carry (README "Limits"); past them: reject
MAX_QTY = 1_000_000_000  # shares: OrderQty (38), MinQty (110), MDEntrySize (271)
MAX_PRICE_TEXT = "1000000.00"  # dollars: Price (44), MDEntryPx (270)
MAX_PRICE = parse_price(MAX_PRICE_TEXT)
MAX_ID_LENGTH = 64  # characters: ClOrdID (11), OrigClOrdID (41), Symbol (55), 5700, 7002
_BOUNDED_TEXT = ((11, "ClOrdID"), (41, "OrigClOrdID"), (55, "Symbol"), (5700, "LocateBroker"),
                 (7002, "ConditionalOrderRef"))


@dataclass(frozen=True, slots=True)
class OrderError:
    """Why an order message cannot become a command (FIX reason code and Text)."""

    text: str
    reason: int = 99  # OrdRejReason (103) / CxlRejReason (102): 99 other


_SIDES: Final = {"1": Side.BUY, "2": Side.SELL, "5": Side.SELL_SHORT, "6": Side.SELL_SHORT_EXEMPT}
_ORD_TYPES: Final = {
    "1": OrdType.MARKET,
    "2": OrdType.LIMIT,
    "P": OrdType.PEGGED,
    "5": OrdType.MARKET_ON_CLOSE,
}
_TIFS: Final = {"0": TimeInForce.DAY, "3": TimeInForce.IOC}
_PEGS: Final = {"M": Peg.MIDPOINT, "R": Peg.PRIMARY, "P": Peg.MARKET}
_CAPACITIES: Final = {"A": Capacity.AGENCY, "P": Capacity.PRINCIPAL, "R": Capacity.RISKLESS}
_YES_NO: Final = {"Y": True, "N": False}
_MIN_QTY_INSTRUCTIONS: Final = {"A": MinQtyInstruction.AON, "C": MinQtyInstruction.CANCEL}
_ORDER_CLASSES: Final = {"F": OrderClass.FIRM, "C": OrderClass.CONDITIONAL}
# enum members as module constants (an attribute lookup on the enum class each time otherwise)
_LIMIT: Final = OrdType.LIMIT
_MARKET: Final = OrdType.MARKET
_MOC: Final = OrdType.MARKET_ON_CLOSE
_PEGGED: Final = OrdType.PEGGED
_PEG_NONE: Final = Peg.NONE
_DAY: Final = TimeInForce.DAY
_AON: Final = MinQtyInstruction.AON
_FIRM: Final = OrderClass.FIRM
_NO_EXEC_INST: Final = (Peg.NONE, False)
#: the common ExecInst (18) values, parsed (anything else goes through _parse_exec_inst)
_EXEC_INSTS: dict[str, tuple[Peg, bool]] = {
    "": _NO_EXEC_INST,
    "6": (Peg.NONE, True),
    **{code: (peg, False) for code, peg in _PEGS.items()},
    **{f"{code} 6": (peg, True) for code, peg in _PEGS.items()},
    **{f"6 {code}": (peg, True) for code, peg in _PEGS.items()},
}


T = TypeVar("T")


class _Bad(Exception):
    def __init__(self, text: str, reason: int = 99) -> None:
        super().__init__(text)
        self.error = OrderError(text, reason)


def _choice(msg: Message, tag: int, name: str, table: Mapping[str, T]) -> T | None:
    return _pick(msg.get(tag), tag, name, table)


def _pick(value: str | None, tag: int, name: str, table: Mapping[str, T]) -> T | None:
    """A tag's value (None: not sent) through its table of allowed values."""
    if value is None:
        return None
    try:
        return table[value]
    except KeyError:
        allowed = ", ".join(table)
        raise _Bad(
            f"{name} ({tag}) value {value!r} is not supported; use one of {allowed}"
        ) from None


def _qty(msg: Message, tag: int, name: str, required: bool) -> int | None:
    return _qty_of(msg.get(tag), tag, name, required)


def _qty_of(value: str | None, tag: int, name: str, required: bool) -> int | None:
    if value is None:
        if required:
            raise _Bad(f"{name} ({tag}) is required")
        return None
    if len(value) > 32:  # far past the limit (and int() refuses thousands of digits)
        raise _Bad(f"{name} ({tag}) {_show(value)} is above the limit of {MAX_QTY} shares",
                   3 if tag == 38 else 99)
    try:
        qty = int(value)
    except ValueError:
        qty = -1
        if "." in value:
            whole, _, frac = value.partition(".")
            if frac.strip("0") == "" and whole.isdigit():
                qty = int(whole)
    if qty <= 0:
        raise _Bad(
            f"{name} ({tag}) must be a positive whole number of shares, got {value!r}",
            3 if tag == 38 else 99,
        )
    if qty > MAX_QTY:
        raise _Bad(f"{name} ({tag}) {value} is above the limit of {MAX_QTY} shares",
                   3 if tag == 38 else 99)
    return qty


def _show(value: str) -> str:
    """A value quoted in a Text, shortened when long."""
    return value if len(value) <= 32 else value[:32] + "..."


def _price(msg: Message, tag: int = 44) -> int | None:
    return _price_of(msg.get(tag), tag)


def _price_of(value: str | None, tag: int = 44) -> int | None:
    if value is None:
        return None
    try:
        price = parse_price(value)
    except ValueError as exc:
        if value.startswith("-"):
            raise _Bad(f"Price ({tag}) must be positive, got {value!r}") from None
        raise _Bad(f"Price ({tag}) {value!r} is not a valid price: {exc}") from None
    if price <= 0:
        raise _Bad(f"Price ({tag}) must be positive, got {value!r}")
    if price > MAX_PRICE:
        raise _Bad(f"Price ({tag}) {_show(value)} is above the limit of {MAX_PRICE_TEXT}")
    return price


def check_lengths(msg: Message) -> OrderError | None:
    """An identifier longer than MAX_ID_LENGTH (it would be echoed in every report)."""
    for tag, name in _BOUNDED_TEXT:
        value = msg.get(tag)
        if value is not None and len(value) > MAX_ID_LENGTH:
            return OrderError(
                f"{name} ({tag}) is {len(value)} characters long; the limit is {MAX_ID_LENGTH}"
            )
    return None


def echo(value: str | None) -> str:
    """A value of the message as a reject echoes it: cut to MAX_ID_LENGTH characters."""
    return (value or "")[:MAX_ID_LENGTH]


def _exec_inst(value: str | None) -> tuple[Peg, bool]:
    if value is None:
        return _NO_EXEC_INST
    known = _EXEC_INSTS.get(value)
    if known is not None:
        return known
    return _parse_exec_inst(value)


def _parse_exec_inst(value: str) -> tuple[Peg, bool]:
    peg, post_only = _PEG_NONE, False
    if not value:
        return peg, post_only
    for item in value.split():
        if item in _PEGS:
            if peg is not _PEG_NONE and _PEGS[item] is not peg:
                raise _Bad(f"ExecInst (18) {value!r} names two peg instructions")
            peg = _PEGS[item]
        elif item == "6":
            post_only = True
        else:
            raise _Bad(
                f"ExecInst (18) instruction {item!r} is not supported; "
                "use M (mid-price peg), R (primary peg), P (market peg), 6 (post only)"
            )
    return peg, post_only


def _order_terms(msg: Message) -> tuple[OrdType, int | None, Peg, bool]:
    get = msg.get
    return _terms(get(40), get(44), get(18))


def _terms(
    ord_type_text: str | None, price_text: str | None, exec_inst: str | None
) -> tuple[OrdType, int | None, Peg, bool]:
    """OrdType (40), Price (44) and ExecInst (18) checked together."""
    ord_type = _pick(ord_type_text, 40, "OrdType", _ORD_TYPES)
    if ord_type is None:
        raise _Bad("OrdType (40) is required")
    limit = _price_of(price_text)
    peg, post_only = _exec_inst(exec_inst)
    if ord_type is _LIMIT:
        if limit is None:
            raise _Bad("Price (44) is required on a limit order (40=2)")
        return ord_type, limit, peg, post_only
    market = ord_type is _MARKET or ord_type is _MOC
    if market and limit is not None:
        raise _Bad(f"Price (44) is not allowed on a market order (40={ord_type_text})")
    if ord_type is _PEGGED and peg is _PEG_NONE:
        raise _Bad("a pegged order (40=P) needs ExecInst (18) M, R or P")
    if market and peg is not _PEG_NONE:
        raise _Bad("peg instructions in ExecInst (18) need OrdType (40) P or 2")
    return ord_type, limit, peg, post_only


def _inclusion(msg: Message) -> int | None:
    return _inclusion_of(msg.get(7011))


def _inclusion_of(value: str | None) -> int | None:
    if value is None:
        return None
    if not value.isdigit():
        raise _Bad(f"InclusionLevel (7011) must be 1..5, got {value!r}")
    return int(value)


class OrderDefaults:
    """What a session's orders take from its SessionConfig, read once per session: compiled,
    a native class whose fields are native reads per order (a SessionConfig's are not)."""

    def __init__(self, cfg: SessionConfig) -> None:
        self.participant: str = cfg.participant
        self.conditional_interaction: bool = cfg.conditional_interaction
        self.dncp: bool = cfg.dncp
        self.self_match_prevention: bool = cfg.self_match_prevention
        self.smp_scope: str = cfg.smp_scope
        self.default_inclusion_level: int = cfg.default_inclusion_level


def new_order(msg: Message, key: str, cfg: SessionConfig) -> NewOrder | OrderError:
    """NewOrderSingle (D) into NewOrder, the session's defaults attached."""
    return new_order_with(msg, key, OrderDefaults(cfg))


def new_order_with(msg: Message, key: str, cfg: OrderDefaults) -> NewOrder | OrderError:
    """`new_order` with the session's `OrderDefaults` (the order path keeps one per session).

    Each tag is read once (`msg.get(...)` each time, not a bound `get`: compiled, that is a
    native call); the checks run in the order their errors take precedence."""
    cl_ord_id = msg.get(11)
    symbol = msg.get(55)
    locate_broker = msg.get(5700)
    conditional_ref = msg.get(7002)
    too_long = _too_long(cl_ord_id, msg.get(41), symbol, locate_broker, conditional_ref)
    if too_long is not None:
        return too_long
    try:
        ord_type, limit, peg, post_only = _terms(msg.get(40), msg.get(44), msg.get(18))
        side = _pick(msg.get(54), 54, "Side", _SIDES)
        if side is None:
            raise _Bad("Side (54) is required")
        qty = _qty_of(msg.get(38), 38, "OrderQty", True)
        assert qty is not None
        tif = _tif_of(msg.get(59), ord_type)
        min_qty = _qty_of(msg.get(110), 110, "MinQty", False)
        min_qty_instruction = _pick(msg.get(7012), 7012, "MinQtyInstruction",
                                    _MIN_QTY_INSTRUCTIONS)
        capacity = _pick(msg.get(47), 47, "Rule80A", _CAPACITIES)
        locate_reqd = _pick(msg.get(114), 114, "LocateReqd", _YES_NO)
        order_class = _pick(msg.get(7001), 7001, "OrderClass", _ORDER_CLASSES)
        eligible = _pick(msg.get(7013), 7013, "ConditionalInteraction", _YES_NO)
        dncp = _pick(msg.get(7010), 7010, "DoNotCrossPrincipal", _YES_NO)
        inclusion_level = _inclusion_of(msg.get(7011))
    except _Bad as bad:
        return bad.error
    # positional, in NewOrder's field order (no keyword matching per order)
    return NewOrder(
        key,
        cfg.participant,
        cl_ord_id or "",
        symbol or "",
        side,
        qty,
        ord_type,
        limit,
        peg,
        tif,
        min_qty,
        min_qty_instruction or _AON,
        post_only,
        capacity,
        locate_reqd,
        locate_broker or None,
        order_class or _FIRM,
        conditional_ref,
        cfg.conditional_interaction if eligible is None else eligible,
        dncp,
        inclusion_level,
        cfg.dncp,
        cfg.self_match_prevention,
        cfg.smp_scope,
        cfg.default_inclusion_level,
    )


def _too_long(
    cl_ord_id: str | None,
    orig_cl_ord_id: str | None,
    symbol: str | None,
    locate_broker: str | None,
    conditional_ref: str | None,
) -> OrderError | None:
    """check_lengths on the values of _BOUNDED_TEXT's tags (11, 41, 55, 5700, 7002)."""
    limit = MAX_ID_LENGTH
    if (
        (cl_ord_id is None or len(cl_ord_id) <= limit)
        and (orig_cl_ord_id is None or len(orig_cl_ord_id) <= limit)
        and (symbol is None or len(symbol) <= limit)
        and (locate_broker is None or len(locate_broker) <= limit)
        and (conditional_ref is None or len(conditional_ref) <= limit)
    ):
        return None
    values = (cl_ord_id, orig_cl_ord_id, symbol, locate_broker, conditional_ref)
    for (tag, name), value in zip(_BOUNDED_TEXT, values, strict=True):
        if value is not None and len(value) > limit:
            return OrderError(
                f"{name} ({tag}) is {len(value)} characters long; the limit is {limit}"
            )
    return None  # pragma: no cover - one of them was too long


def _tif_of(value: str | None, ord_type: OrdType) -> TimeInForce:
    """TimeInForce (59): 0 day (default), 3 IOC; 7 At the Close is a day MOC order (40=5)."""
    if value is None:
        return _DAY
    if value == "7":
        if ord_type is not _MOC:
            raise _Bad("TimeInForce (59) 7 (At the Close) is only for market-on-close orders "
                       "(40=5)")
        return _DAY
    tif = _pick(value, 59, "TimeInForce", _TIFS)
    assert tif is not None
    return tif


def _side(msg: Message) -> Side:
    side = _choice(msg, 54, "Side", _SIDES)
    if side is None:
        raise _Bad("Side (54) is required")
    return side


def cancel(msg: Message, key: str) -> Cancel | OrderError:
    """OrderCancelRequest (F) into Cancel."""
    too_long = check_lengths(msg)
    if too_long is not None:
        return too_long
    try:
        return Cancel(
            session=key,
            cl_ord_id=msg.get(11) or "",
            orig_cl_ord_id=msg.get(41) or "",
            symbol=msg.get(55),
            side=_choice(msg, 54, "Side", _SIDES),
        )
    except _Bad as bad:
        return bad.error


def replace(msg: Message, key: str) -> Replace | OrderError:
    """OrderCancelReplaceRequest (G) into Replace: the complete new state of the order."""
    too_long = check_lengths(msg)
    if too_long is not None:
        return too_long
    try:
        ord_type, limit, peg, post_only = _order_terms(msg)
        qty = _qty(msg, 38, "OrderQty", True)
        assert qty is not None
        return Replace(
            session=key,
            cl_ord_id=msg.get(11) or "",
            orig_cl_ord_id=msg.get(41) or "",
            qty=qty,
            ord_type=ord_type,
            side=_side(msg),
            limit=limit,
            peg=peg,
            min_qty=_qty(msg, 110, "MinQty", False),
            min_qty_instruction=_choice(msg, 7012, "MinQtyInstruction", _MIN_QTY_INSTRUCTIONS)
            or MinQtyInstruction.AON,
            post_only=post_only,
            inclusion_level=_inclusion(msg),
            locate_reqd=_choice(msg, 114, "LocateReqd", _YES_NO),
            locate_broker=msg.get(5700) or None,
            symbol=msg.get(55),
            order_class=_choice(msg, 7001, "OrderClass", _ORDER_CLASSES),
        )
    except _Bad as bad:
        return bad.error


def market_data(msg: Message) -> QuoteUpdate | ClosingPrice | OrderError:
    """MarketDataSnapshotFullRefresh (W) into the symbol's NBBO; a side not sent is missing.

    A W whose one entry is 269=5 is the symbol's official closing price (the MOC cross).
    """
    bid = ask = None
    bid_size = ask_size = 0
    too_long = check_lengths(msg)
    if too_long is not None:
        return too_long
    try:
        entries = msg.group(268)
        if any(e.get(269) == "5" for e in entries):
            return _closing_price(msg, entries)
        for entry in entries:
            kind = entry.get(269)
            px = entry.get(270)
            price = None
            if px is not None:
                try:
                    price = parse_price(px)
                except ValueError:
                    raise _Bad(f"MDEntryPx (270) {px!r} is not a valid price") from None
                if price > MAX_PRICE:
                    raise _Bad(
                        f"MDEntryPx (270) {_show(px)} is above the limit of {MAX_PRICE_TEXT}"
                    )
            size_text = entry.get(271) or "0"
            if not size_text.isdigit():
                raise _Bad(f"MDEntrySize (271) {size_text!r} is not a whole number")
            if len(size_text) > 10 or int(size_text) > MAX_QTY:
                raise _Bad(
                    f"MDEntrySize (271) {_show(size_text)} is above the limit of {MAX_QTY}"
                )
            if kind == "0":
                bid, bid_size = price, int(size_text)
            elif kind == "1":
                ask, ask_size = price, int(size_text)
            else:
                raise _Bad(f"MDEntryType (269) {kind!r} is not supported; use 0 bid, 1 offer "
                           "or 5 closing price")
    except _Bad as bad:
        return bad.error
    return QuoteUpdate(
        symbol=msg.get(55) or "",
        bid=bid,
        bid_size=bid_size,
        ask=ask,
        ask_size=ask_size,
        source_time=source_time(msg),
        source_seq=msg.seq_num,
    )


def source_time(msg: Message) -> int | None:
    """When the source first sent a market-data message: OrigSendingTime (122) on a PossDup
    copy, else SendingTime (52); in ns. A PossDup copy without OrigSendingTime cannot show it
    is newer than what the venue has (its SendingTime is when it was sent again): 0, older
    than anything applied."""
    if msg.poss_dup:
        return parse_utc(msg.get(122) or "") or 0
    return parse_utc(msg.get(52) or "")


def _closing_price(msg: Message, entries: list[dict[int, str]]) -> ClosingPrice:
    if len(entries) != 1:
        raise _Bad("a closing price (269=5) comes alone: one entry in its own W, not with "
                   "the NBBO")
    px = entries[0].get(270)
    if px is None:
        raise _Bad("MDEntryPx (270) is required on a closing price (269=5)")
    try:
        price = parse_price(px)
    except ValueError:
        raise _Bad(f"MDEntryPx (270) {_show(px)!r} is not a valid price") from None
    if price > MAX_PRICE:
        raise _Bad(f"MDEntryPx (270) {_show(px)} is above the limit of {MAX_PRICE_TEXT}")
    return ClosingPrice(symbol=msg.get(55) or "", price=price)


def security_status(msg: Message) -> SecurityStatus | OrderError:
    """SecurityStatus (f): halt / resume (326), LULD state (7101), short sale restriction (7102)."""
    too_long = check_lengths(msg)
    if too_long is not None:
        return too_long
    status = msg.get(326)
    halted: bool | None = None
    if status == "2":
        halted = True
    elif status == "17":
        halted = False
    elif status is not None:
        return OrderError(
            f"SecurityTradingStatus (326) {status!r} is not supported; "
            "use 2 (halt) or 17 (ready to trade)"
        )
    luld_text = msg.get(7101)
    if luld_text is not None and luld_text not in ("0", "1", "2"):
        return OrderError(f"LULDState (7101) {luld_text!r} must be 0, 1 or 2")
    ssr_text = msg.get(7102)
    if ssr_text is not None and ssr_text not in _YES_NO:
        return OrderError(f"ShortSaleRestriction (7102) {ssr_text!r} must be Y or N")
    return SecurityStatus(
        symbol=msg.get(55) or "",
        halted=halted,
        luld_state=None if luld_text is None else int(luld_text),
        ssr=None if ssr_text is None else _YES_NO[ssr_text],
        source_time=source_time(msg),
        source_seq=msg.seq_num,
    )
