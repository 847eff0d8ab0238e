"""Matcher events into ExecutionReport (8), OrderCancelReject (9) and FirmUpRequest (UF) bodies.

A body is built once per event with its TransactTime (60) left out; the order path adds 60 in
the precision of each session it goes to, so an order-entry session in ms and a drop copy in ns
share everything else byte for byte.
"""

from __future__ import annotations

from gateway.fix import format_utc
from matcher import (
    Accepted,
    Cancelled,
    CancelRejected,
    Filled,
    FirmUpInvited,
    OrderEvent,
    Rejected,
    Replaced,
    format_price,
)

_SOH = b"\x01"

#: price (integer ticks) -> its FIX text: an order's fills repeat its few prices. Bounded
#: (cleared when full), so a long day of distinct prices costs no memory.
_PRICE_TEXT: dict[int, str] = {}
PRICE_TEXT_CACHE = 4096


def price_text(price: int) -> str:
    """format_price, remembered for the last few thousand prices."""
    text = _PRICE_TEXT.get(price)
    if text is None:
        if len(_PRICE_TEXT) >= PRICE_TEXT_CACHE:
            _PRICE_TEXT.clear()
        text = _PRICE_TEXT[price] = format_price(price)
    return text


def _int_text(value: int) -> str:
    """An int (a Side or Liquidity too: IntEnums) as its decimal text; compiled, the value
    is unboxed at the call, with no call of int()."""
    return str(int(value))


def exec_report_body(ev: OrderEvent) -> bytes:
    """The ExecutionReport fields of a per-order event, TransactTime excepted:
    37 11 [41] 17 20 150 39 55 54 38 151 14 6, then the kind's own fields.

    f-strings, not %-formatting: compiled, mypyc builds them in one step with native int
    to text (a third of the instructions of the same % format)."""
    extra = ""
    orig = ""
    kind = type(ev)
    if kind is Filled:
        assert isinstance(ev, Filled)
        exec_type = status = "2" if ev.leaves_qty == 0 else "1"
        extra = (f"32={ev.last_qty}\x0131={price_text(ev.last_px)}\x01"
                 f"851={_int_text(ev.liquidity)}\x01")
    elif kind is Accepted:
        exec_type = status = "0"
    elif kind is Cancelled:
        assert isinstance(ev, Cancelled)
        exec_type = status = "4"
        orig = ev.orig_cl_ord_id or ""
        if ev.text:
            extra = f"58={_clean(ev.text)}\x01"
    elif kind is Replaced:
        assert isinstance(ev, Replaced)
        exec_type = "5"
        # a replace leaves the order open, or (quantity at or below the filled) filled
        status = ("1" if ev.cum_qty else "0") if ev.leaves_qty else "2"
        orig = ev.orig_cl_ord_id
    elif kind is Rejected:
        assert isinstance(ev, Rejected)
        exec_type = status = "8"
        extra = f"103={int(ev.reason)}\x0158={_clean(ev.text)}\x01"
    else:  # pragma: no cover - every OrderEvent subclass is listed above
        raise TypeError(f"no ExecutionReport for {type(ev).__name__}")
    order_id = str(ev.order_id) if ev.order_id else "NONE"
    orig_field = f"41={orig}\x01" if orig else ""
    avg_px = price_text(ev.avg_px) if ev.cum_qty else "0"
    body = (
        f"37={order_id}\x0111={ev.cl_ord_id}\x01{orig_field}17={ev.exec_id}\x0120=0\x01"
        f"150={exec_type}\x0139={status}\x0155={ev.symbol}\x0154={_int_text(ev.side)}\x01"
        f"38={ev.order_qty}\x01151={ev.leaves_qty}\x0114={ev.cum_qty}\x016={avg_px}\x01{extra}"
    )
    return body.encode("utf-8", "replace")


def cancel_reject_body(ev: CancelRejected, order_qty: int | None = None) -> bytes:
    """OrderCancelReject (9) for a cancel or replace that cannot be done.

    OrdStatus (39) is the order's current status: 8 when the order is unknown, 0/1 while it is
    open, 2 when it filled completely (cum = `order_qty`), else 4 (cancelled).
    """
    if ev.order_id == 0:
        status = b"8"
    elif ev.leaves_qty > 0:
        status = b"1" if ev.cum_qty > 0 else b"0"
    else:
        status = b"2" if order_qty is not None and ev.cum_qty >= order_qty > 0 else b"4"
    return b"".join(
        [
            b"37=",
            str(ev.order_id).encode() if ev.order_id else b"NONE",
            b"\x0111=",
            ev.cl_ord_id.encode(),
            b"\x0141=",
            ev.orig_cl_ord_id.encode(),
            b"\x0139=",
            status,
            b"\x01434=",
            b"2" if ev.is_replace else b"1",
            b"\x01102=",
            str(int(ev.reason)).encode(),
            b"\x0158=",
            _text(ev.text),
            _SOH,
        ]
    )


def gateway_reject_body(
    exec_id: bytes, cl_ord_id: str, symbol: str, side: str, qty: str, reason: int, text: str
) -> bytes:
    """ExecutionReport reject (150=8) for an order the gateway could not translate.

    Side and OrderQty are echoed when they are well-formed, else 54=1 / 38=0 keep the report
    valid FIX; the Text says what was wrong.
    """
    return b"".join(
        [
            b"37=NONE\x0111=",
            cl_ord_id.encode(),
            b"\x0117=",
            exec_id,
            b"\x0120=0\x01150=8\x0139=8\x0155=",
            symbol.encode(),
            b"\x0154=",
            (side if side in ("1", "2", "5", "6") else "1").encode(),
            b"\x0138=",
            (qty if qty.isdigit() else "0").encode(),
            b"\x01151=0\x0114=0\x016=0\x01103=",
            str(reason).encode(),
            b"\x0158=",
            _text(text),
            _SOH,
        ]
    )


def firm_up_request_body(ev: FirmUpInvited, precision: str) -> bytes:
    """FirmUpRequest (UF) to a conditional order's session (SPEC 5.1), complete.

    ClOrdID and OrderID of the CO, Symbol, Side, OrderQty = the invited quantity, ExpireTime
    (126) = the deadline and TransactTime (60) = the invitation time in the session's
    precision. ExecID (17) identifies the invitation (from the ExecID sequence), so recovery
    finds it in the session store like a report. The contra is never named.
    """
    return b"11=%s\x0137=%d\x0117=%d\x0155=%s\x0154=%d\x0138=%d\x01126=%s\x0160=%s\x01" % (
        ev.cl_ord_id.encode(),
        ev.order_id,
        ev.exec_id,
        ev.symbol.encode(),
        ev.side,
        ev.qty,
        format_utc(ev.deadline_ns, precision).encode(),
        format_utc(ev.ts, precision).encode(),
    )


def _clean(text: str) -> str:
    # SOH inside a Text would break framing; nothing else needs escaping in FIX 4.2 strings.
    return text.replace("\x01", " ")


def _text(text: str) -> bytes:
    return _clean(text).encode("utf-8", "replace")
