"""The ATS matching core: single-threaded, deterministic, no FIX / sockets / asyncio.

Entry point
    ``Engine(participants, symbols, clock, journal=None)``;
    ``engine.apply(command) -> list[Event]``.
    ``clock()`` returns integer nanoseconds; it is read once per command (the receipt time) and
    every event of that command carries it as ``ts``. The command is journaled with that time
    before it is applied. ``Engine.recover(participants, symbols, clock, path) -> (engine,
    events)`` replays a journal: the same book, the same events, and ids (order_id, exec_id)
    that continue after the highest used. ``engine.warnings`` names a dropped garbled tail.

Prices
    ``Price`` is an ``int`` of micro-dollars (1e-6). ``parse_price("10.005")`` /
    ``format_price(p)`` convert; the FIX layer needs nothing else. Limits must be Rule 612 ticks
    (0.01 at or above $1, 0.0001 below); NBBO quotes must be 0.0001 multiples (else the NBBO
    counts as invalid and matching pauses). Mid = (NBB + NBO) / 2 is exact.

Commands (slots dataclasses with their own __init__, read-only by convention)
    ``NewOrder`` (with the session defaults session_dncp, smp, smp_scope,
    default_inclusion_level), ``Cancel``, ``Replace`` (complete new order state, as FIX G),
    ``CancelAll(session, reason)`` (cancel_on_disconnect), ``QuoteUpdate`` (NBBO; None = side
    missing), ``SecurityStatus`` (halted / luld_state 0,1,2 / ssr; None = unchanged).

Events
    Slots dataclasses, not frozen (a frozen one costs ~7x more to build; measured): treat them
    as read-only. Per-order events (``Accepted``, ``Rejected``, ``Filled``, ``Cancelled``,
    ``Replaced``) share
    ``OrderEvent``'s fields: ts, exec_id (unique, never reused, replay included), order_id,
    session, cl_ord_id, participant, symbol, side, order_qty, cum_qty, leaves_qty, avg_px
    (rounded half-up to 1e-6) and notional (exact sum qty x px). A match yields two ``Filled``
    events, the resting side first (liquidity ADDED) then the taker (REMOVED), with the same
    ``match_id``, ``last_qty``, ``last_px`` and each other's ``contra_order_id``.
    ``Rejected`` has order_id 0, ``reason`` (OrdRejReason 103) and ``text``. ``Cancelled`` has
    ``reason`` (USER, IOC, MIN_QTY, SESSION), ``text`` and ``orig_cl_ord_id`` for user cancels.
    ``CancelRejected`` (no exec_id) has ``reason`` (CxlRejReason 102), ``text`` and
    ``is_replace`` (CxlRejResponseTo). ALP re-pricing is internal: no event.

Identity
    Orders are ``order_id`` (engine counter) and (session, cl_ord_id). A ClOrdID already used
    on the session by an accepted order, cancel or replace is a duplicate. OrigClOrdID may name
    any ClOrdID of the order's replace chain. Rejected orders do not consume their ClOrdID.
    A replace to a quantity at or below the cum qty closes the order (Replaced, leaves 0,
    order_qty reported as the cum qty).

Rules (SPEC 4, Form ATS-N Part III Items 7, 11, 13, 14)
    ALPs per order type (see ``matcher.book``), re-priced on every NBBO move in O(1) (a
    kind's capped orders form a pool priced at the reference; no order moves); execution
    at the price closest to the mid within both ALPs, a fifth decimal rounded toward the
    resting side; no matching on a missing / locked / crossed / too
    wide NBBO, halt or LULD limit/straddle state, and a re-evaluation (later arrival = taker)
    when matching becomes possible; priority Class | Price | Broker | Inclusion | Time;
    inclusion vs taker level, MinQty (single contra; AON or cancel below it; a contra skipped
    for the taker's MinQty is retried once the taker's leaves are all-or-none), SMP, DNCP, post
    only (rests without taking), Reg SHO locate checks, Rule 201 floor NBB + 0.0001 keeping
    the original priority; DAY and IOC. A post only order never takes: if it would cross on
    arrival it rests and waits for a later contra.

MOC session (SPEC 5.2, ``matcher.moc``)
    ``Engine(..., moc=MocSettings(timezone, cutoff))``. MOC orders (OrdType 5) rest apart from
    the books; new orders, cancels and replaces are taken strictly before the cutoff (a time of
    day in the venue's zone, computed from each command's receipt time) and rejected from it on
    (``MOC cutoff passed``), when cancel_on_disconnect no longer cancels them either.
    ``ClosingPrice(symbol, price)`` runs the symbol's cross at that price, Broker | Size, SMP and
    DNCP applied, then cancels every leaves (``CancelReason.MOC_CROSS``); one before the cutoff
    gives ``CloseRefused`` (the gateway's BusinessMessageReject).

Conditional orders (SPEC 5.1, ``matcher.conditional``)
    A ``NewOrder`` with ``order_class=CONDITIONAL`` rests apart from the FRS book and never
    executes; pairs (CO-CO first, then CO vs an order sent with ``conditional_interaction``)
    give a ``FirmUpInvited`` event per CO, with ``deadline_ns``. A ``NewOrder`` with
    ``conditional_ref`` is the firm-up (IOC, against the invited contra only). Every command
    expires the invitations whose deadline is at or before its receipt time;
    ``FirmUpTimer(window_ms)`` is the command to apply at ``engine.next_firm_up_deadline()`` when
    nothing else arrives (it also sets the window for later invitations; default 1000 ms).

Read access
    ``engine.order(session, cl_ord_id)``, ``engine.open_orders(session)`` -> ``OrderInfo``;
    ``engine.assigned_limit_price(session, cl_ord_id)``; ``engine.book(symbol)``.
"""

from matcher import _pure

_pure.install()  # before any module that may be compiled (ATS_PURE=1, stale builds)

from matcher.engine import Engine
from matcher.journal import Journal, JournalError, read_journal
from matcher.prices import Price, format_price, parse_price
from matcher.types import (
    Accepted,
    Cancel,
    CancelAll,
    Cancelled,
    CancelReason,
    CancelRejected,
    Capacity,
    CloseRefused,
    ClosingPrice,
    Command,
    CxlRejReason,
    Event,
    Filled,
    FirmUpInvited,
    FirmUpTimer,
    Liquidity,
    MinQtyInstruction,
    MocSettings,
    NewOrder,
    OrderClass,
    OrderEvent,
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

__all__ = [
    "Accepted", "Cancel", "CancelAll", "CancelReason", "CancelRejected", "Cancelled",
    "Capacity", "Command", "CxlRejReason", "Engine", "Event", "Filled", "Journal", "Liquidity",
    "MinQtyInstruction", "NewOrder", "OrdType", "OrderClass", "OrderEvent", "OrderInfo",
    "Participant", "Peg", "Price", "QuoteUpdate", "RejectReason", "Rejected", "Replace",
    "Replaced", "SecurityStatus", "Side", "SymbolConfig", "TimeInForce", "format_price",
    "parse_price", "read_journal",
    "JournalError",
    # the MOC session (SPEC 5.2)
    "ClosingPrice", "CloseRefused", "MocSettings",
    # conditional orders (SPEC 5.1)
    "FirmUpInvited", "FirmUpTimer",
]
