"""Matcher events into ExecutionReport (8) and OrderCancelReject (9) bodies.

A body is built once per event with its TransactTime (60) left out; `with_time` adds 60 in the
precision of the session it goes to, so an order-entry session in ms and a drop copy in ns share
everything else byte for byte.
"""

from __future__ import annotations

from gateway.fix import format_utc
from matcher import (
    Accepted,
    Cancelled,
    CancelRejected,
    Filled,
    OrderEvent,
    Rejected,
    Replaced,
    format_price,
)

_SOH = b"\x01"


def _ord_status(cum: int, leaves: int, done_status: bytes) -> bytes:
    if leaves > 0:
        return b"1" if cum > 0 else b"0"
    return b"2" if cum > 0 and done_status != b"4" else done_status


def exec_report_body(ev: OrderEvent) -> bytes:
    """The ExecutionReport fields of a per-order event, TransactTime excepted."""
    if isinstance(ev, Filled):
        exec_type = b"2" if ev.leaves_qty == 0 else b"1"
        status = exec_type
    elif isinstance(ev, Accepted):
        exec_type = status = b"0"
    elif isinstance(ev, Cancelled):
        exec_type = status = b"4"
    elif isinstance(ev, Replaced):
        exec_type = b"5"
        status = _ord_status(ev.cum_qty, ev.leaves_qty, b"2")
    elif isinstance(ev, Rejected):
        exec_type = status = b"8"
    else:  # pragma: no cover - every OrderEvent subclass is listed above
        raise TypeError(f"no ExecutionReport for {type(ev).__name__}")
    order_id = str(ev.order_id).encode() if ev.order_id else b"NONE"
    parts = [
        b"37=",
        order_id,
        b"\x0111=",
        ev.cl_ord_id.encode(),
    ]
    orig = getattr(ev, "orig_cl_ord_id", None)
    if orig:
        parts += [b"\x0141=", orig.encode()]
    parts += [
        b"\x0117=",
        str(ev.exec_id).encode(),
        b"\x0120=0\x01150=",
        exec_type,
        b"\x0139=",
        status,
        b"\x0155=",
        ev.symbol.encode(),
        b"\x0154=",
        str(int(ev.side)).encode(),
        b"\x0138=",
        str(ev.order_qty).encode(),
        b"\x01151=",
        str(ev.leaves_qty).encode(),
        b"\x0114=",
        str(ev.cum_qty).encode(),
        b"\x016=",
        format_price(ev.avg_px).encode(),
    ]
    if isinstance(ev, Filled):
        parts += [
            b"\x0132=",
            str(ev.last_qty).encode(),
            b"\x0131=",
            format_price(ev.last_px).encode(),
            b"\x01851=",
            str(int(ev.liquidity)).encode(),
        ]
    elif isinstance(ev, Rejected):
        parts += [b"\x01103=", str(int(ev.reason)).encode(), b"\x0158=", _text(ev.text)]
    elif isinstance(ev, Cancelled) and ev.text:
        parts += [b"\x0158=", _text(ev.text)]
    parts.append(_SOH)
    return b"".join(parts)


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


def with_time(body: bytes, ts: int, precision: str) -> bytes:
    """Append TransactTime (60) in the receiving session's precision."""
    return body + b"60=" + format_utc(ts, precision).encode() + _SOH


def _text(text: str) -> bytes:
    # SOH inside a Text would break framing; nothing else needs escaping in FIX 4.2 strings.
    return text.replace("\x01", " ").encode("utf-8", "replace")
