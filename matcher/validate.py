"""Order acceptance checks (SPEC 3): each returns a reject reason and a readable text."""

from __future__ import annotations

from typing import Final

from matcher.prices import format_price, is_rule612_tick, tick_of
from matcher.types import (
    OrdType,
    Participant,
    Peg,
    RejectReason,
    Side,
    SymbolConfig,
    TimeInForce,
)

Problem = tuple[RejectReason, str]
SHORT_SIDES: Final = (Side.SELL_SHORT, Side.SELL_SHORT_EXEMPT)


def check_symbol(symbol: str, cfg: SymbolConfig | None) -> Problem | None:
    """Unknown or ineligible symbol (Part III Item 11(a) eligible NMS Stocks)."""
    if cfg is None:
        return RejectReason.UNKNOWN_SYMBOL, f"unknown symbol {symbol}"
    why = []
    if cfg.restricted:
        why.append("restricted from trading")
    if cfg.adr_ftt:
        why.append("an ADR requiring Financial Transaction Tax withholding")
    if cfg.ptp:
        why.append("a publicly traded partnership")
    if not cfg.cns_eligible:
        why.append("not eligible for CNS settlement")
    if why:
        return RejectReason.BROKER_OPTION, f"symbol {symbol} is not eligible: {', '.join(why)}"
    return None


def check_terms(
    side: Side, qty: int, ord_type: OrdType, limit: int | None, peg: Peg,
    min_qty: int | None, post_only: bool, tif: TimeInForce, incl: int,
) -> Problem | None:
    """Quantity, price (Rule 612), type / peg consistency, MinQty, post only, inclusion."""
    bad = RejectReason.OTHER
    if qty <= 0:
        return bad, f"order quantity {qty} must be positive"
    if ord_type is OrdType.MARKET:
        if limit is not None:
            return bad, "a market order must not carry a price"
        if peg is not Peg.NONE:
            return bad, "a market order cannot carry a peg instruction"
    elif ord_type is OrdType.LIMIT:
        if limit is None:
            return bad, "a limit order needs a price (44)"
    elif ord_type is OrdType.PEGGED:
        if peg is Peg.NONE:
            return bad, "a pegged order needs ExecInst (18) M, R or P"
    else:
        return bad, f"order type {ord_type.value} is not supported here"
    if limit is not None:
        if limit <= 0:
            return bad, f"price {format_price(limit)} must be positive"
        if not is_rule612_tick(limit):
            return bad, (f"price {format_price(limit)} is not a multiple of "
                         f"{tick_of(limit)} (Rule 612)")
    if min_qty is not None and not 0 < min_qty <= qty:
        return bad, f"MinQty {min_qty} must be between 1 and the order quantity {qty}"
    if post_only and tif is TimeInForce.IOC:
        return bad, "a post only order cannot be IOC"
    if not 1 <= incl <= 5:
        return bad, f"Inclusion Level {incl} is outside 1..5"
    return None


def check_locate(
    side: Side, part: Participant, locate_reqd: bool | None, locate_broker: str | None
) -> Problem | None:
    """Reg SHO Rule 203(b)(1): a short sale must show its locate."""
    if side not in SHORT_SIDES:
        return None
    if part.broker_dealer:
        if locate_reqd is False or locate_broker:
            return None
        return RejectReason.BROKER_OPTION, (
            "short sale without locate: a broker-dealer must send LocateReqd (114)=N "
            "or a LocateBroker (5700)")
    if locate_broker:
        return None
    return RejectReason.BROKER_OPTION, (
        "short sale without locate: name the broker-dealer that provided it in LocateBroker (5700)")
