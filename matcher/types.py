"""Enums, configuration, commands and events of the matching core (all immutable)."""

from __future__ import annotations

from dataclasses import dataclass
from enum import Enum, IntEnum

from matcher.prices import Price


class Side(IntEnum):
    """FIX Side (54)."""

    BUY = 1
    SELL = 2
    SELL_SHORT = 5
    SELL_SHORT_EXEMPT = 6


class OrdType(Enum):
    """FIX OrdType (40)."""

    MARKET = "1"
    LIMIT = "2"
    PEGGED = "P"
    MARKET_ON_CLOSE = "5"


class Peg(Enum):
    """Peg instruction from ExecInst (18): M mid-price, R primary, P market."""

    NONE = ""
    MIDPOINT = "M"
    PRIMARY = "R"
    MARKET = "P"


class TimeInForce(Enum):
    """FIX TimeInForce (59)."""

    DAY = "0"
    IOC = "3"


class MinQtyInstruction(Enum):
    """Dialect tag 7012: what happens when leaves fall below MinQty."""

    AON = "A"
    CANCEL = "C"


class Capacity(Enum):
    """Rule80A (47)."""

    AGENCY = "A"
    PRINCIPAL = "P"
    RISKLESS = "R"


class OrderClass(Enum):
    """Dialect tag 7001; first key of the priority (firm before conditional)."""

    FIRM = "F"
    CONDITIONAL = "C"


class Liquidity(IntEnum):
    """LastLiquidityInd (851)."""

    ADDED = 1
    REMOVED = 2


class RejectReason(IntEnum):
    """OrdRejReason (103)."""

    BROKER_OPTION = 0
    UNKNOWN_SYMBOL = 1
    EXCHANGE_CLOSED = 2
    ORDER_EXCEEDS_LIMIT = 3
    TOO_LATE = 4
    UNKNOWN_ORDER = 5
    DUPLICATE_ORDER = 6
    OTHER = 99


class CxlRejReason(IntEnum):
    """CxlRejReason (102); 6 is the FIX 4.4 value, used for a reused ClOrdID."""

    TOO_LATE = 0
    UNKNOWN_ORDER = 1
    BROKER_OPTION = 2
    ALREADY_PENDING = 3
    DUPLICATE_CL_ORD_ID = 6
    OTHER = 99


class CancelReason(Enum):
    """Why an order (or its leaves) was cancelled by the engine."""

    USER = "user"
    IOC = "IOC"
    MIN_QTY = "MinQty leaves"
    SESSION = "session"  # CancelAll, e.g. cancel_on_disconnect
    MOC_CROSS = "MOC cross complete"  # the leaves of MOC orders after their closing cross


# ---------------------------------------------------------------- configuration


@dataclass(frozen=True, slots=True)
class Participant:
    """A [[participants]] entry. broker_group / affiliate_group default to the id."""

    id: str
    broker_dealer: bool = False
    broker_group: str | None = None
    affiliate_group: str | None = None
    operator: bool = False
    operator_affiliate: bool = False
    taker_level: int = 5
    moc_opt_in: bool = False

    @property
    def broker_group_id(self) -> str:
        """The broker group, defaulting to the participant itself."""
        return self.broker_group or self.id

    @property
    def affiliate_group_id(self) -> str:
        """The corporate family for affiliate-scope SMP, defaulting to the participant."""
        return self.affiliate_group or self.id


@dataclass(frozen=True, slots=True)
class SymbolConfig:
    """A [[symbols]] entry; max_spread None means no spread limit."""

    symbol: str
    max_spread: Price | None = None
    restricted: bool = False
    adr_ftt: bool = False
    ptp: bool = False
    cns_eligible: bool = True


# ---------------------------------------------------------------- commands
# Commands are slots dataclasses with their own __init__ (mypyc compiles it; the dataclass-made
# one runs interpreted and, frozen, sets each slot through object.__setattr__: building a
# NewOrder was most of gateway/orders.new_order). No longer frozen, for that: treat them as
# read-only. unsafe_hash keeps the hash a frozen dataclass had (tests/matcher_shape checks the
# fields, defaults, __init__, eq, hash and repr).


@dataclass(slots=True, unsafe_hash=True)
class NewOrder:
    """NewOrderSingle (D) with the order-entry session's defaults already attached."""

    session: str
    participant: str
    cl_ord_id: str
    symbol: str
    side: Side
    qty: int
    ord_type: OrdType = OrdType.LIMIT
    limit: Price | None = None
    peg: Peg = Peg.NONE
    tif: TimeInForce = TimeInForce.DAY
    min_qty: int | None = None
    min_qty_instruction: MinQtyInstruction = MinQtyInstruction.AON
    post_only: bool = False
    capacity: Capacity | None = None
    locate_reqd: bool | None = None
    locate_broker: str | None = None
    order_class: OrderClass = OrderClass.FIRM
    conditional_ref: str | None = None
    conditional_interaction: bool = False
    dncp: bool | None = None
    inclusion_level: int | None = None
    # session defaults
    session_dncp: bool = False
    smp: bool = True
    smp_scope: str = "participant"
    default_inclusion_level: int = 5

    def __init__(self, session: str, participant: str, cl_ord_id: str, symbol: str, side: Side,
                 qty: int, ord_type: OrdType = OrdType.LIMIT, limit: Price | None = None,
                 peg: Peg = Peg.NONE, tif: TimeInForce = TimeInForce.DAY,
                 min_qty: int | None = None,
                 min_qty_instruction: MinQtyInstruction = MinQtyInstruction.AON,
                 post_only: bool = False, capacity: Capacity | None = None,
                 locate_reqd: bool | None = None, locate_broker: str | None = None,
                 order_class: OrderClass = OrderClass.FIRM, conditional_ref: str | None = None,
                 conditional_interaction: bool = False, dncp: bool | None = None,
                 inclusion_level: int | None = None, session_dncp: bool = False, smp: bool = True,
                 smp_scope: str = "participant", default_inclusion_level: int = 5) -> None:
        self.session = session
        self.participant = participant
        self.cl_ord_id = cl_ord_id
        self.symbol = symbol
        self.side = side
        self.qty = qty
        self.ord_type = ord_type
        self.limit = limit
        self.peg = peg
        self.tif = tif
        self.min_qty = min_qty
        self.min_qty_instruction = min_qty_instruction
        self.post_only = post_only
        self.capacity = capacity
        self.locate_reqd = locate_reqd
        self.locate_broker = locate_broker
        self.order_class = order_class
        self.conditional_ref = conditional_ref
        self.conditional_interaction = conditional_interaction
        self.dncp = dncp
        self.inclusion_level = inclusion_level
        self.session_dncp = session_dncp
        self.smp = smp
        self.smp_scope = smp_scope
        self.default_inclusion_level = default_inclusion_level


@dataclass(slots=True, unsafe_hash=True)
class Cancel:
    """OrderCancelRequest (F); symbol/side, when given, must match the order."""

    session: str
    cl_ord_id: str
    orig_cl_ord_id: str
    symbol: str | None = None
    side: Side | None = None

    def __init__(self, session: str, cl_ord_id: str, orig_cl_ord_id: str,
                 symbol: str | None = None, side: Side | None = None) -> None:
        self.session = session
        self.cl_ord_id = cl_ord_id
        self.orig_cl_ord_id = orig_cl_ord_id
        self.symbol = symbol
        self.side = side


@dataclass(slots=True, unsafe_hash=True)
class Replace:
    """OrderCancelReplaceRequest (G): the complete new state of the order.

    Symbol, buy/sell direction, time in force, capacity and DNCP cannot change; sell and sell
    short may be swapped.
    """

    session: str
    cl_ord_id: str
    orig_cl_ord_id: str
    qty: int
    ord_type: OrdType
    side: Side
    limit: Price | None = None
    peg: Peg = Peg.NONE
    min_qty: int | None = None
    min_qty_instruction: MinQtyInstruction = MinQtyInstruction.AON
    post_only: bool = False
    inclusion_level: int | None = None
    locate_reqd: bool | None = None
    locate_broker: str | None = None
    symbol: str | None = None
    order_class: OrderClass | None = None  # 7001 when repeated on the G: must not change

    def __init__(self, session: str, cl_ord_id: str, orig_cl_ord_id: str, qty: int,
                 ord_type: OrdType, side: Side, limit: Price | None = None, peg: Peg = Peg.NONE,
                 min_qty: int | None = None,
                 min_qty_instruction: MinQtyInstruction = MinQtyInstruction.AON,
                 post_only: bool = False, inclusion_level: int | None = None,
                 locate_reqd: bool | None = None, locate_broker: str | None = None,
                 symbol: str | None = None, order_class: OrderClass | None = None) -> None:
        self.session = session
        self.cl_ord_id = cl_ord_id
        self.orig_cl_ord_id = orig_cl_ord_id
        self.qty = qty
        self.ord_type = ord_type
        self.side = side
        self.limit = limit
        self.peg = peg
        self.min_qty = min_qty
        self.min_qty_instruction = min_qty_instruction
        self.post_only = post_only
        self.inclusion_level = inclusion_level
        self.locate_reqd = locate_reqd
        self.locate_broker = locate_broker
        self.symbol = symbol
        self.order_class = order_class


@dataclass(slots=True, unsafe_hash=True)
class CancelAll:
    """Cancel every open order of a session (e.g. cancel_on_disconnect)."""

    session: str
    reason: str = "session cancel"

    def __init__(self, session: str, reason: str = "session cancel") -> None:
        self.session = session
        self.reason = reason


@dataclass(slots=True, unsafe_hash=True)
class QuoteUpdate:
    """A new NBBO for one symbol; a None side means that side of the NBBO is missing.

    ``source_time`` / ``source_seq``: when and as which message the source sent it (opaque to
    the matcher, kept per symbol for ``Engine.market_data_source``); journals written before
    these fields existed replay with None."""

    symbol: str
    bid: Price | None
    bid_size: int
    ask: Price | None
    ask_size: int
    source_time: int | None = None
    source_seq: int | None = None

    def __init__(self, symbol: str, bid: Price | None, bid_size: int, ask: Price | None,
                 ask_size: int, source_time: int | None = None,
                 source_seq: int | None = None) -> None:
        self.symbol = symbol
        self.bid = bid
        self.bid_size = bid_size
        self.ask = ask
        self.ask_size = ask_size
        self.source_time = source_time
        self.source_seq = source_seq


@dataclass(slots=True, unsafe_hash=True)
class SecurityStatus:
    """Halt / LULD / short-sale-restriction state; None leaves a field unchanged."""

    symbol: str
    halted: bool | None = None
    luld_state: int | None = None
    ssr: bool | None = None
    source_time: int | None = None  # as on QuoteUpdate
    source_seq: int | None = None

    def __init__(self, symbol: str, halted: bool | None = None, luld_state: int | None = None,
                 ssr: bool | None = None, source_time: int | None = None,
                 source_seq: int | None = None) -> None:
        self.symbol = symbol
        self.halted = halted
        self.luld_state = luld_state
        self.ssr = ssr
        self.source_time = source_time
        self.source_seq = source_seq


@dataclass(slots=True, unsafe_hash=True)
class ClosingPrice:
    """The official closing price of a symbol (W with 269=5): runs its MOC closing cross."""

    symbol: str
    price: Price

    def __init__(self, symbol: str, price: Price) -> None:
        self.symbol = symbol
        self.price = price


# conditional orders (SPEC 5.1): the deadline clock
@dataclass(slots=True, unsafe_hash=True)
class FirmUpTimer:
    """The clock of firm-up deadlines, journaled like any command (so replay is exact).

    Every command expires the invitations whose deadline is at or before its receipt time; this
    one exists so that happens when nothing else arrives. It also states the firm-up window (ms)
    for invitations made from now on. ``due_ns`` is the deadline it was scheduled for (0: start).
    """

    firm_up_window_ms: int
    due_ns: int = 0

    def __init__(self, firm_up_window_ms: int, due_ns: int = 0) -> None:
        self.firm_up_window_ms = firm_up_window_ms
        self.due_ns = due_ns


Command = (NewOrder | Cancel | Replace | CancelAll | QuoteUpdate | SecurityStatus
           | ClosingPrice | FirmUpTimer)


# ---------------------------------------------------------------- events
# Events are slots dataclasses but not frozen: the engine makes several per command and a
# frozen dataclass costs ~5.6 us to build against ~0.8 us (13 fields, measured). Treat them as
# read-only. Each has its own __init__ (the dataclass keeps a class's own): mypyc compiles it,
# where the one dataclass would generate runs interpreted, setting each slot through
# object.__setattr__ (tests/matcher_shape checks fields and defaults still match).


@dataclass(slots=True)
class OrderEvent:
    """Fields common to every per-order event (what an ExecutionReport needs).

    ``avg_px`` is the volume-weighted average fill price rounded half-up to the Price unit
    (1e-6); ``notional`` is the exact sum of qty x price (in Price units x shares).
    """

    ts: int
    exec_id: int
    order_id: int
    session: str
    cl_ord_id: str
    participant: str
    symbol: str
    side: Side
    order_qty: int
    cum_qty: int
    leaves_qty: int
    avg_px: Price
    notional: int

    def __init__(self, ts: int, exec_id: int, order_id: int, session: str, cl_ord_id: str,
                 participant: str, symbol: str, side: Side, order_qty: int, cum_qty: int,
                 leaves_qty: int, avg_px: Price, notional: int) -> None:
        self.ts = ts
        self.exec_id = exec_id
        self.order_id = order_id
        self.session = session
        self.cl_ord_id = cl_ord_id
        self.participant = participant
        self.symbol = symbol
        self.side = side
        self.order_qty = order_qty
        self.cum_qty = cum_qty
        self.leaves_qty = leaves_qty
        self.avg_px = avg_px
        self.notional = notional


@dataclass(slots=True)
class Accepted(OrderEvent):
    """The order is live (ExecType 0)."""

    def __init__(self, ts: int, exec_id: int, order_id: int, session: str, cl_ord_id: str,
                 participant: str, symbol: str, side: Side, order_qty: int, cum_qty: int,
                 leaves_qty: int, avg_px: Price, notional: int) -> None:
        self.ts = ts
        self.exec_id = exec_id
        self.order_id = order_id
        self.session = session
        self.cl_ord_id = cl_ord_id
        self.participant = participant
        self.symbol = symbol
        self.side = side
        self.order_qty = order_qty
        self.cum_qty = cum_qty
        self.leaves_qty = leaves_qty
        self.avg_px = avg_px
        self.notional = notional


@dataclass(slots=True)
class Rejected(OrderEvent):
    """The order was refused (ExecType 8); order_id is 0, reason maps to OrdRejReason."""

    reason: RejectReason = RejectReason.OTHER
    text: str = ""

    def __init__(self, ts: int, exec_id: int, order_id: int, session: str, cl_ord_id: str,
                 participant: str, symbol: str, side: Side, order_qty: int, cum_qty: int,
                 leaves_qty: int, avg_px: Price, notional: int,
                 reason: RejectReason = RejectReason.OTHER, text: str = "") -> None:
        self.ts = ts
        self.exec_id = exec_id
        self.order_id = order_id
        self.session = session
        self.cl_ord_id = cl_ord_id
        self.participant = participant
        self.symbol = symbol
        self.side = side
        self.order_qty = order_qty
        self.cum_qty = cum_qty
        self.leaves_qty = leaves_qty
        self.avg_px = avg_px
        self.notional = notional
        self.reason = reason
        self.text = text


@dataclass(slots=True)
class Filled(OrderEvent):
    """One side of a match (ExecType 1 or 2). A match gives two Filled events, the resting
    side's first, sharing ``match_id``."""

    last_qty: int = 0
    last_px: Price = 0
    liquidity: Liquidity = Liquidity.ADDED
    contra_order_id: int = 0
    match_id: int = 0

    def __init__(self, ts: int, exec_id: int, order_id: int, session: str, cl_ord_id: str,
                 participant: str, symbol: str, side: Side, order_qty: int, cum_qty: int,
                 leaves_qty: int, avg_px: Price, notional: int, last_qty: int = 0,
                 last_px: Price = 0, liquidity: Liquidity = Liquidity.ADDED,
                 contra_order_id: int = 0, match_id: int = 0) -> None:
        self.ts = ts
        self.exec_id = exec_id
        self.order_id = order_id
        self.session = session
        self.cl_ord_id = cl_ord_id
        self.participant = participant
        self.symbol = symbol
        self.side = side
        self.order_qty = order_qty
        self.cum_qty = cum_qty
        self.leaves_qty = leaves_qty
        self.avg_px = avg_px
        self.notional = notional
        self.last_qty = last_qty
        self.last_px = last_px
        self.liquidity = liquidity
        self.contra_order_id = contra_order_id
        self.match_id = match_id


@dataclass(slots=True)
class Cancelled(OrderEvent):
    """The order's leaves were cancelled (ExecType 4); orig_cl_ord_id set for user cancels."""

    orig_cl_ord_id: str | None = None
    reason: CancelReason = CancelReason.USER
    text: str = ""

    def __init__(self, ts: int, exec_id: int, order_id: int, session: str, cl_ord_id: str,
                 participant: str, symbol: str, side: Side, order_qty: int, cum_qty: int,
                 leaves_qty: int, avg_px: Price, notional: int, orig_cl_ord_id: str | None = None,
                 reason: CancelReason = CancelReason.USER, text: str = "") -> None:
        self.ts = ts
        self.exec_id = exec_id
        self.order_id = order_id
        self.session = session
        self.cl_ord_id = cl_ord_id
        self.participant = participant
        self.symbol = symbol
        self.side = side
        self.order_qty = order_qty
        self.cum_qty = cum_qty
        self.leaves_qty = leaves_qty
        self.avg_px = avg_px
        self.notional = notional
        self.orig_cl_ord_id = orig_cl_ord_id
        self.reason = reason
        self.text = text


@dataclass(slots=True)
class Replaced(OrderEvent):
    """The order was replaced (ExecType 5); cl_ord_id is the new one."""

    orig_cl_ord_id: str = ""

    def __init__(self, ts: int, exec_id: int, order_id: int, session: str, cl_ord_id: str,
                 participant: str, symbol: str, side: Side, order_qty: int, cum_qty: int,
                 leaves_qty: int, avg_px: Price, notional: int, orig_cl_ord_id: str = "") -> None:
        self.ts = ts
        self.exec_id = exec_id
        self.order_id = order_id
        self.session = session
        self.cl_ord_id = cl_ord_id
        self.participant = participant
        self.symbol = symbol
        self.side = side
        self.order_qty = order_qty
        self.cum_qty = cum_qty
        self.leaves_qty = leaves_qty
        self.avg_px = avg_px
        self.notional = notional
        self.orig_cl_ord_id = orig_cl_ord_id


@dataclass(slots=True)
class CancelRejected:
    """OrderCancelReject (9); order_id 0 when the order is unknown."""

    ts: int
    session: str
    cl_ord_id: str
    orig_cl_ord_id: str
    order_id: int
    is_replace: bool
    reason: CxlRejReason
    text: str
    cum_qty: int = 0
    leaves_qty: int = 0

    def __init__(self, ts: int, session: str, cl_ord_id: str, orig_cl_ord_id: str, order_id: int,
                 is_replace: bool, reason: CxlRejReason, text: str, cum_qty: int = 0,
                 leaves_qty: int = 0) -> None:
        self.ts = ts
        self.session = session
        self.cl_ord_id = cl_ord_id
        self.orig_cl_ord_id = orig_cl_ord_id
        self.order_id = order_id
        self.is_replace = is_replace
        self.reason = reason
        self.text = text
        self.cum_qty = cum_qty
        self.leaves_qty = leaves_qty


@dataclass(slots=True)
class CloseRefused:
    """A ClosingPrice the engine did not take (before the MOC cutoff, or not a valid price)."""

    ts: int
    symbol: str
    text: str

    def __init__(self, ts: int, symbol: str, text: str) -> None:
        self.ts = ts
        self.symbol = symbol
        self.text = text


# conditional orders (SPEC 5.1)
@dataclass(slots=True)
class FirmUpInvited:
    """A firm-up invitation to a conditional order (FirmUpRequest, MsgType UF).

    ``exec_id`` comes from the ExecID sequence (unique, never reused); ``qty`` is the invited
    quantity; ``deadline_ns`` the time by which the Firm-up Order must arrive.
    """

    ts: int
    exec_id: int
    order_id: int
    session: str
    cl_ord_id: str
    participant: str
    symbol: str
    side: Side
    qty: int
    deadline_ns: int

    def __init__(self, ts: int, exec_id: int, order_id: int, session: str, cl_ord_id: str,
                 participant: str, symbol: str, side: Side, qty: int, deadline_ns: int) -> None:
        self.ts = ts
        self.exec_id = exec_id
        self.order_id = order_id
        self.session = session
        self.cl_ord_id = cl_ord_id
        self.participant = participant
        self.symbol = symbol
        self.side = side
        self.qty = qty
        self.deadline_ns = deadline_ns


Event = (Accepted | Rejected | Filled | Cancelled | Replaced | CancelRejected | CloseRefused
         | FirmUpInvited)


@dataclass(frozen=True, slots=True)
class OrderInfo:
    """Read-only snapshot of an order for the gateway."""

    order_id: int
    session: str
    cl_ord_id: str
    participant: str
    symbol: str
    side: Side
    ord_type: OrdType
    peg: Peg
    limit: Price | None
    tif: TimeInForce
    order_qty: int
    cum_qty: int
    leaves_qty: int
    avg_px: Price
    open: bool


# ---------------------------------------------------------------- MOC session (SPEC 5.2)


@dataclass(frozen=True, slots=True)
class MocSettings:
    """The venue's MOC clock: ``cutoff`` (HH:MM:SS) is a time of day in the IANA ``timezone``."""

    timezone: str = "America/New_York"
    cutoff: str = "15:50:00"
