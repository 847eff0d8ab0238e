"""Shared harness for matcher tests: a small world of participants and symbols."""

from __future__ import annotations

import itertools
from typing import Any

from matcher import (
    Engine,
    Event,
    Filled,
    NewOrder,
    OrdType,
    Participant,
    Peg,
    QuoteUpdate,
    SecurityStatus,
    Side,
    SymbolConfig,
    parse_price,
)

PARTICIPANTS = {
    "A": Participant("A", broker_dealer=True, broker_group="GA", affiliate_group="FAM"),
    "A2": Participant("A2", broker_dealer=True, broker_group="GA", affiliate_group="FAM"),
    "B": Participant("B", broker_dealer=True),
    "C": Participant("C"),  # not a broker-dealer
    "D": Participant("D", broker_dealer=True),
    "OP": Participant("OP", broker_dealer=True, operator=True),
    "OPA": Participant("OPA", broker_dealer=True, operator_affiliate=True),
    "T1": Participant("T1", broker_dealer=True, taker_level=1),
    "T3": Participant("T3", broker_dealer=True, taker_level=3),
    "MOC": Participant("MOC", broker_dealer=True, moc_opt_in=True),
}

SYMBOLS = {
    "X": SymbolConfig("X", max_spread=parse_price("0.50")),
    "SUB": SymbolConfig("SUB", max_spread=parse_price("0.05")),
    "WIDE": SymbolConfig("WIDE"),
    "RST": SymbolConfig("RST", restricted=True),
    "ADR": SymbolConfig("ADR", adr_ftt=True),
    "PTP": SymbolConfig("PTP", ptp=True),
    "NOCNS": SymbolConfig("NOCNS", cns_eligible=False),
}

P = parse_price
SIDES = {"buy": Side.BUY, "sell": Side.SELL, "short": Side.SELL_SHORT,
         "exempt": Side.SELL_SHORT_EXEMPT}
PEGS = {"mid": Peg.MIDPOINT, "primary": Peg.PRIMARY, "market": Peg.MARKET}


class Harness:
    """Drive an Engine with terse calls; every order gets a fresh ClOrdID."""

    def __init__(self, **engine_kw: Any) -> None:
        self.t = itertools.count(1_000, 1_000)
        self.engine = Engine(PARTICIPANTS, SYMBOLS, lambda: next(self.t), **engine_kw)
        self.ids = itertools.count(1)

    def quote(self, bid: str | None, ask: str | None, symbol: str = "X") -> list[Event]:
        return self.engine.apply(QuoteUpdate(symbol, None if bid is None else P(bid), 100,
                                             None if ask is None else P(ask), 100))

    def status(self, symbol: str = "X", **kw: Any) -> list[Event]:
        return self.engine.apply(SecurityStatus(symbol, **kw))

    def new(self, side: str, qty: int, px: str | None = None, peg: str | None = None,
            part: str = "A", sym: str = "X", **kw: Any) -> list[Event]:
        """A limit order when px is given, a pegged order when peg is, else market."""
        cl = kw.pop("cl", None) or f"o{next(self.ids)}"
        session = kw.pop("session", None) or f"{part}-s"
        if "ord_type" not in kw:
            kw["ord_type"] = (OrdType.PEGGED if peg else
                              OrdType.LIMIT if px is not None else OrdType.MARKET)
        if SIDES[side] in (Side.SELL_SHORT, Side.SELL_SHORT_EXEMPT) and "locate_reqd" not in kw:
            kw.setdefault("locate_broker", "LOC")
        return self.engine.apply(NewOrder(
            session, part, cl, sym, SIDES[side], qty, limit=None if px is None else P(px),
            peg=PEGS[peg] if peg else Peg.NONE, **kw))

    def alp(self, ev: list[Event]) -> int | None:
        return self.engine.assigned_limit_price(ev[0].session, ev[0].cl_ord_id)  # type: ignore


def fills(events: list[Event]) -> list[Filled]:
    return [e for e in events if isinstance(e, Filled)]


def trades(events: list[Event]) -> list[tuple[int, int, int, int]]:
    """(resting order id, taker order id, qty, px) per match."""
    f = fills(events)
    pairs = zip(f[::2], f[1::2], strict=True)
    return [(a.order_id, b.order_id, a.last_qty, a.last_px) for a, b in pairs]
