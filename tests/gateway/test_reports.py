"""Matcher events into ExecutionReport / OrderCancelReject fields (SPEC section 3)."""

from __future__ import annotations

from hypothesis import given, settings
from hypothesis import strategies as st

from gateway.fix import format_utc, frame, parse
from gateway.reports import PRICE_TEXT_CACHE, cancel_reject_body, exec_report_body, price_text
from matcher import (
    Accepted,
    Cancelled,
    CancelReason,
    CancelRejected,
    CxlRejReason,
    Filled,
    Liquidity,
    Rejected,
    RejectReason,
    Replaced,
    Side,
    format_price,
    parse_price,
)

TS = 1_763_769_600_123_456_789  # 2025-11-22 00:00:00.123456789 UTC
COMMON = dict(
    ts=TS,
    exec_id=7,
    order_id=3,
    session="ATS-ACME1",
    cl_ord_id="C1",
    participant="ACME",
    symbol="AAPL",
    side=Side.SELL_SHORT,
    order_qty=100,
)


def fields(body: bytes, precision: str = "ms") -> dict[int, str]:
    raw = frame(b"35=8\x01" + body + b"60=" + format_utc(TS, precision).encode() + b"\x01")
    return dict(parse(raw).fields)


def test_ack_carries_every_required_field() -> None:
    f = fields(
        exec_report_body(Accepted(**COMMON, cum_qty=0, leaves_qty=100, avg_px=0, notional=0))
    )
    for tag in (37, 11, 17, 20, 150, 39, 55, 54, 38, 151, 14, 6, 60):
        assert tag in f, tag
    assert (f[37], f[17], f[150], f[39], f[54], f[151], f[14], f[6]) == (
        "3",
        "7",
        "0",
        "0",
        "5",
        "100",
        "0",
        "0",
    )
    assert f[60] == "20251122-00:00:00.123"


def test_fills_partial_and_full_with_liquidity() -> None:
    px = parse_price("10.005")
    part = fields(
        exec_report_body(
            Filled(
                **COMMON,
                cum_qty=40,
                leaves_qty=60,
                avg_px=px,
                notional=40 * px,
                last_qty=40,
                last_px=px,
                liquidity=Liquidity.ADDED,
                contra_order_id=9,
            )
        )
    )
    assert (part[150], part[39], part[32], part[31], part[851], part[6]) == (
        "1",
        "1",
        "40",
        "10.005",
        "1",
        "10.005",
    )
    full = fields(
        exec_report_body(
            Filled(
                **COMMON,
                cum_qty=100,
                leaves_qty=0,
                avg_px=px,
                notional=100 * px,
                last_qty=60,
                last_px=px,
                liquidity=Liquidity.REMOVED,
                contra_order_id=9,
            )
        )
    )
    assert (full[150], full[39], full[851]) == ("2", "2", "2")


def test_reject_cancel_replace() -> None:
    rej = fields(
        exec_report_body(
            Rejected(
                **{**COMMON, "order_id": 0},
                cum_qty=0,
                leaves_qty=0,
                avg_px=0,
                notional=0,
                reason=RejectReason.UNKNOWN_SYMBOL,
                text="unknown symbol 'ZZZ'",
            )
        )
    )
    assert (rej[37], rej[150], rej[39], rej[103], rej[58]) == (
        "NONE",
        "8",
        "8",
        "1",
        "unknown symbol 'ZZZ'",
    )
    cxl = fields(
        exec_report_body(
            Cancelled(
                **COMMON,
                cum_qty=40,
                leaves_qty=0,
                avg_px=0,
                notional=0,
                orig_cl_ord_id="C0",
                reason=CancelReason.IOC,
                text="IOC",
            )
        )
    )
    assert (cxl[150], cxl[39], cxl[41], cxl[58]) == ("4", "4", "C0", "IOC")
    rep = fields(
        exec_report_body(
            Replaced(**COMMON, cum_qty=40, leaves_qty=20, avg_px=0, notional=0, orig_cl_ord_id="C0")
        )
    )
    assert (rep[150], rep[39], rep[41]) == ("5", "1", "C0")


def test_nanosecond_transact_time() -> None:
    f = fields(
        exec_report_body(Accepted(**COMMON, cum_qty=0, leaves_qty=100, avg_px=0, notional=0)), "ns"
    )
    assert f[60] == "20251122-00:00:00.123456789"


def test_cancel_reject() -> None:
    body = cancel_reject_body(
        CancelRejected(
            ts=TS,
            session="S",
            cl_ord_id="C2",
            orig_cl_ord_id="C1",
            order_id=0,
            is_replace=True,
            reason=CxlRejReason.UNKNOWN_ORDER,
            text="unknown order C1",
        )
    )
    f = dict(parse(frame(b"35=9\x01" + body)).fields)
    assert (f[37], f[11], f[41], f[39], f[434], f[102], f[58]) == (
        "NONE",
        "C2",
        "C1",
        "8",
        "2",
        "1",
        "unknown order C1",
    )
    filled = cancel_reject_body(
        CancelRejected(
            ts=TS,
            session="S",
            cl_ord_id="C2",
            orig_cl_ord_id="C1",
            order_id=4,
            is_replace=False,
            reason=CxlRejReason.TOO_LATE,
            text="done",
            cum_qty=100,
            leaves_qty=0,
        ),
        order_qty=100,
    )
    f = dict(parse(frame(b"35=9\x01" + filled)).fields)
    assert (f[37], f[39], f[434], f[102]) == ("4", "2", "1", "0")
    cancelled = cancel_reject_body(
        CancelRejected(
            ts=TS,
            session="S",
            cl_ord_id="C2",
            orig_cl_ord_id="C1",
            order_id=4,
            is_replace=False,
            reason=CxlRejReason.TOO_LATE,
            text="done",
            cum_qty=40,
            leaves_qty=0,
        ),
        order_qty=100,
    )
    assert dict(parse(frame(b"35=9\x01" + cancelled)).fields)[39] == "4"


@settings(max_examples=25)
@given(st.integers(min_value=0, max_value=10**14))
def test_price_text_is_format_price(price: int) -> None:
    """The bounded cache answers what format_price answers, also after it was cleared."""
    assert price_text(price) == format_price(price)
    assert price_text(price) == format_price(price)  # from the cache
    for p in range(price, price + PRICE_TEXT_CACHE + 1):  # fills it past its bound
        price_text(p)
    assert price_text(price) == format_price(price)


# The %-format the f-strings of exec_report_body replaced: the reference they must equal.
_REF_COMMON = (
    "37=%s\x0111=%s\x01%s17=%d\x0120=0\x01150=%s\x0139=%s\x0155=%s\x0154=%d\x0138=%d"
    "\x01151=%d\x0114=%d\x016=%s\x01"
)


def _reference_body(ev: Accepted | Filled | Cancelled | Replaced | Rejected) -> bytes:
    extra = orig = ""
    if isinstance(ev, Filled):
        exec_type = status = "2" if ev.leaves_qty == 0 else "1"
        extra = "32=%d\x0131=%s\x01851=%d\x01" % (ev.last_qty, format_price(ev.last_px),
                                                   ev.liquidity)
    elif isinstance(ev, Accepted):
        exec_type = status = "0"
    elif isinstance(ev, Cancelled):
        exec_type = status = "4"
        orig = ev.orig_cl_ord_id or ""
        if ev.text:
            extra = "58=%s\x01" % ev.text.replace("\x01", " ")
    elif isinstance(ev, Replaced):
        exec_type = "5"
        status = ("1" if ev.cum_qty else "0") if ev.leaves_qty else "2"
        orig = ev.orig_cl_ord_id
    else:
        exec_type = status = "8"
        extra = "103=%d\x0158=%s\x01" % (ev.reason, ev.text.replace("\x01", " "))
    body = _REF_COMMON % (ev.order_id or "NONE", ev.cl_ord_id, "41=%s\x01" % orig if orig else "",
                          ev.exec_id, exec_type, status, ev.symbol, ev.side, ev.order_qty,
                          ev.leaves_qty, ev.cum_qty,
                          format_price(ev.avg_px) if ev.cum_qty else "0")
    return (body + extra).encode("utf-8", "replace")


_text = st.text(max_size=12)
_qty = st.integers(min_value=0, max_value=10**9)


@settings(max_examples=200)
@given(kind=st.sampled_from(["ack", "fill", "cancel", "replace", "reject"]),
       order_id=st.integers(min_value=0, max_value=10**12), cl=_text, orig=_text, text=_text,
       symbol=_text, side=st.sampled_from(list(Side)), qty=_qty, cum=_qty, leaves=_qty,
       px=st.integers(min_value=0, max_value=10**12), liq=st.sampled_from(list(Liquidity)),
       reason=st.sampled_from(list(RejectReason)), exec_id=st.integers(0, 10**15))
def test_exec_report_body_equals_the_percent_format(
        kind: str, order_id: int, cl: str, orig: str, text: str, symbol: str, side: Side,
        qty: int, cum: int, leaves: int, px: int, liq: Liquidity, reason: RejectReason,
        exec_id: int) -> None:
    common = dict(ts=TS, exec_id=exec_id, order_id=order_id, session="S", cl_ord_id=cl,
                  participant="P", symbol=symbol, side=side, order_qty=qty, cum_qty=cum,
                  leaves_qty=leaves, avg_px=px, notional=0)
    ev: Accepted | Filled | Cancelled | Replaced | Rejected
    if kind == "ack":
        ev = Accepted(**common)  # type: ignore[arg-type]
    elif kind == "fill":
        ev = Filled(**common, last_qty=qty, last_px=px, liquidity=liq)  # type: ignore[arg-type]
    elif kind == "cancel":
        ev = Cancelled(**common, orig_cl_ord_id=orig or None, reason=CancelReason.USER,  # type: ignore[arg-type]
                       text=text)
    elif kind == "replace":
        ev = Replaced(**common, orig_cl_ord_id=orig)  # type: ignore[arg-type]
    else:
        ev = Rejected(**common, reason=reason, text=text)  # type: ignore[arg-type]
    assert exec_report_body(ev) == _reference_body(ev)
