"""FIX order messages into matcher commands: every tag SPEC section 3 names, and precise errors."""

from __future__ import annotations

import pytest

from gateway import orders
from gateway.config import SessionConfig
from gateway.fix import Message, frame, parse, parse_utc
from gateway.orders import OrderError, cancel, market_data, new_order, replace, security_status
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

SESSION = SessionConfig(
    target_comp_id="ACME1",
    sender_comp_id="ATS",
    role="order_entry",
    participant="ACME",
    dncp=True,
    self_match_prevention=False,
    smp_scope="affiliates",
    default_inclusion_level=3,
)
KEY = SESSION.key


def msg(msg_type: str, *fields: tuple[int, str]) -> Message:
    body = b"35=%s\x0149=ACME1\x0156=ATS\x0134=2\x0152=20260101-00:00:00\x01" % msg_type.encode()
    body += b"".join(b"%d=%s\x01" % (t, v.encode()) for t, v in fields)
    return parse(frame(body))


BASE = ((11, "C1"), (21, "1"), (55, "AAPL"), (54, "1"), (38, "100"), (60, "20260101-00:00:00"))


def test_limit_order_with_every_dialect_tag() -> None:
    cmd = new_order(
        msg(
            "D",
            *BASE,
            (40, "2"),
            (44, "10.05"),
            (59, "3"),
            (110, "50"),
            (7012, "C"),
            (47, "P"),
            (7001, "F"),
            (7010, "N"),
            (7011, "2"),
            (7013, "Y"),
            (18, "6"),
        ),
        KEY,
        SESSION,
    )
    assert isinstance(cmd, NewOrder)
    assert cmd.session == KEY and cmd.participant == "ACME" and cmd.cl_ord_id == "C1"
    assert cmd.side is Side.BUY and cmd.qty == 100 and cmd.ord_type is OrdType.LIMIT
    assert cmd.limit == parse_price("10.05") and cmd.tif is TimeInForce.IOC
    assert cmd.min_qty == 50 and cmd.min_qty_instruction is MinQtyInstruction.CANCEL
    assert cmd.capacity is Capacity.PRINCIPAL and cmd.order_class is OrderClass.FIRM
    assert cmd.dncp is False and cmd.inclusion_level == 2 and cmd.conditional_interaction
    assert cmd.post_only and cmd.peg is Peg.NONE
    # the session's defaults travel with the order
    assert cmd.session_dncp is True and cmd.smp is False and cmd.smp_scope == "affiliates"
    assert cmd.default_inclusion_level == 3


def test_pegged_order_and_defaults() -> None:
    cmd = new_order(msg("D", *BASE, (40, "P"), (18, "M")), KEY, SESSION)
    assert isinstance(cmd, NewOrder)
    assert cmd.ord_type is OrdType.PEGGED and cmd.peg is Peg.MIDPOINT and cmd.limit is None
    assert cmd.tif is TimeInForce.DAY and cmd.capacity is None and cmd.dncp is None
    assert cmd.inclusion_level is None and cmd.min_qty_instruction is MinQtyInstruction.AON
    short = new_order(
        msg(
            "D", *BASE[:3], (54, "5"), (38, "10"), (60, "x"), (40, "1"), (114, "N"), (5700, "LOC1")
        ),
        KEY,
        SESSION,
    )
    assert isinstance(short, NewOrder)
    assert short.side is Side.SELL_SHORT and short.locate_reqd is False
    assert short.locate_broker == "LOC1"


@pytest.mark.parametrize(
    ("fields", "text"),
    [
        (((40, "2"),), "Price (44) is required on a limit order (40=2)"),
        (((40, "1"), (44, "10")), "Price (44) is not allowed on a market order (40=1)"),
        (((40, "P"),), "a pegged order (40=P) needs ExecInst (18) M, R or P"),
        (((40, "3"),), "OrdType (40) value '3' is not supported; use one of 1, 2, P, 5"),
        (((40, "2"), (44, "abc")), "Price (44) 'abc' is not a valid price"),
        (((40, "2"), (44, "-1")), "Price (44) must be positive, got '-1'"),
        (((40, "P"), (18, "M G")), "ExecInst (18) instruction 'G' is not supported"),
        (((40, "P"), (18, "M R")), "ExecInst (18) 'M R' names two peg instructions"),
        (((40, "1"), (59, "1")), "TimeInForce (59) value '1' is not supported; use one of 0, 3"),
        (((40, "1"), (47, "I")), "Rule80A (47) value 'I' is not supported; use one of A, P, R"),
        (((40, "1"), (7011, "x")), "InclusionLevel (7011) must be 1..5, got 'x'"),
        (((40, "1"), (110, "0")), "MinQty (110) must be a positive whole number of shares"),
    ],
)
def test_bad_orders_get_a_precise_text(fields: tuple[tuple[int, str], ...], text: str) -> None:
    result = new_order(msg("D", *BASE, *fields), KEY, SESSION)
    assert isinstance(result, OrderError)
    assert result.text.startswith(text)


def test_quantity_must_be_a_positive_whole_number() -> None:
    fields = [f for f in BASE if f[0] != 38]
    for qty in ("0", "-5", "1.5", "abc"):
        result = new_order(msg("D", *fields, (38, qty), (40, "1")), KEY, SESSION)
        assert isinstance(result, OrderError) and result.reason == 3, qty
        assert (
            f"OrderQty (38) must be a positive whole number of shares, got {qty!r}" in result.text
        )
    whole = new_order(msg("D", *fields, (38, "100.0"), (40, "1")), KEY, SESSION)
    assert isinstance(whole, NewOrder) and whole.qty == 100
    missing = new_order(msg("D", *fields, (40, "1")), KEY, SESSION)
    assert isinstance(missing, OrderError) and missing.text == "OrderQty (38) is required"


def test_side_outside_the_dialect_is_rejected() -> None:
    fields = [f for f in BASE if f[0] != 54]
    result = new_order(msg("D", *fields, (54, "3"), (40, "1")), KEY, SESSION)
    assert isinstance(result, OrderError)
    assert result.text == "Side (54) value '3' is not supported; use one of 1, 2, 5, 6"


def test_cancel_and_replace() -> None:
    c = cancel(msg("F", (41, "C1"), (11, "C2"), (55, "AAPL"), (54, "1"), (60, "x")), KEY)
    assert c == Cancel(
        session=KEY, cl_ord_id="C2", orig_cl_ord_id="C1", symbol="AAPL", side=Side.BUY
    )
    r = replace(
        msg(
            "G",
            (41, "C1"),
            (11, "C3"),
            (21, "1"),
            (55, "AAPL"),
            (54, "5"),
            (38, "50"),
            (40, "2"),
            (44, "0.5001"),
            (60, "x"),
        ),
        KEY,
    )
    assert isinstance(r, Replace)
    assert r.qty == 50 and r.side is Side.SELL_SHORT and r.limit == parse_price("0.5001")
    bad = replace(
        msg(
            "G",
            (41, "C1"),
            (11, "C3"),
            (21, "1"),
            (55, "AAPL"),
            (54, "1"),
            (40, "2"),
            (44, "10"),
            (60, "x"),
        ),
        KEY,
    )
    assert isinstance(bad, OrderError) and "OrderQty (38) is required" == bad.text


def test_market_data_snapshot_and_status() -> None:
    w = market_data(
        msg(
            "W",
            (55, "AAPL"),
            (268, "2"),
            (269, "0"),
            (270, "10.00"),
            (271, "300"),
            (269, "1"),
            (270, "10.02"),
            (271, "200"),
        )
    )
    sent = parse_utc("20260101-00:00:00")  # the SendingTime (52) and MsgSeqNum (34) of msg()
    assert w == QuoteUpdate("AAPL", parse_price("10.00"), 300, parse_price("10.02"), 200,
                            source_time=sent, source_seq=2)
    one_sided = market_data(
        msg("W", (55, "AAPL"), (268, "1"), (269, "1"), (270, "10.02"), (271, "200"))
    )
    assert one_sided == QuoteUpdate("AAPL", None, 0, parse_price("10.02"), 200, sent, 2)
    bad = market_data(msg("W", (55, "AAPL"), (268, "1"), (269, "2"), (270, "1"), (271, "1")))
    assert isinstance(bad, OrderError) and "MDEntryType (269) '2'" in bad.text
    halt = security_status(msg("f", (55, "AAPL"), (326, "2")))
    assert halt == SecurityStatus("AAPL", halted=True, luld_state=None, ssr=None,
                                  source_time=sent, source_seq=2)
    luld = security_status(msg("f", (55, "AAPL"), (326, "17"), (7101, "1"), (7102, "Y")))
    assert luld == SecurityStatus("AAPL", halted=False, luld_state=1, ssr=True,
                                  source_time=sent, source_seq=2)
    odd = security_status(msg("f", (55, "AAPL"), (326, "5")))
    assert isinstance(odd, OrderError) and "SecurityTradingStatus (326) '5'" in odd.text


def test_a_possdup_copy_of_market_data_carries_its_original_send_time() -> None:
    copy = market_data(msg("W", (43, "Y"), (122, "20251231-23:59:59.500"), (55, "AAPL"),
                           (268, "1"), (269, "0"), (270, "10.00"), (271, "100")))
    assert isinstance(copy, QuoteUpdate)
    assert (copy.source_time, copy.source_seq) == (parse_utc("20251231-23:59:59.500"), 2)


# -- bounds (README "Limits") ----------------------------------------------------------------

def _without(*tags: int) -> list[tuple[int, str]]:
    return [f for f in BASE if f[0] not in tags]


@pytest.mark.parametrize(
    ("fields", "text"),
    [
        (((38, "100000000000000000000"), (40, "1")),
         "OrderQty (38) 100000000000000000000 is above the limit of 1000000000 shares"),
        (((38, "1000000001"), (40, "1")),
         "OrderQty (38) 1000000001 is above the limit of 1000000000 shares"),
        (((38, "1" * 5000 + ".0"), (40, "1")), "OrderQty (38) 1111111111111111"),
        (((38, "100"), (40, "2"), (44, "100000000000000000000.00")),
         "Price (44) 100000000000000000000.00 is above the limit of 1000000.00"),
        (((38, "100"), (40, "2"), (44, "1000000.01")),
         "Price (44) 1000000.01 is above the limit of 1000000.00"),
        (((38, "100"), (40, "1"), (110, "1000000001")),
         "MinQty (110) 1000000001 is above the limit of 1000000000 shares"),
    ],
)
def test_quantities_and_prices_past_the_bounds_are_rejected(
    fields: tuple[tuple[int, str], ...], text: str
) -> None:
    result = new_order(msg("D", *_without(38), *fields), KEY, SESSION)
    assert isinstance(result, OrderError), result
    assert result.text.startswith(text), result.text
    assert len(result.text) < 200


def test_the_bounds_themselves_are_accepted() -> None:
    at_limit = new_order(msg("D", *_without(38), (38, "1000000000"), (40, "2"),
                             (44, "1000000.00")), KEY, SESSION)
    assert isinstance(at_limit, NewOrder)
    assert (at_limit.qty, at_limit.limit) == (1_000_000_000, parse_price("1000000"))
    long_id = new_order(msg("D", *_without(11), (11, "C" * 64), (40, "1")), KEY, SESSION)
    assert isinstance(long_id, NewOrder) and long_id.cl_ord_id == "C" * 64


@pytest.mark.parametrize(("tag", "name"), [(11, "ClOrdID"), (41, "OrigClOrdID"),
                                           (5700, "LocateBroker"), (7002, "ConditionalOrderRef")])
def test_identifiers_longer_than_64_characters_are_rejected(tag: int, name: str) -> None:
    value = "I" * (1 << 20) if tag == 11 else "I" * 65
    fields = [*_without(11), (11, value if tag == 11 else "C1"), (40, "1")]
    if tag != 11:
        fields.append((tag, value))
    want = f"{name} ({tag}) is {len(value)} characters long; the limit is 64"
    for translate in (lambda m: new_order(m, KEY, SESSION), lambda m: replace(m, KEY)):
        result = translate(msg("D", *fields, *(((41, "C0"),) if tag != 41 else ())))
        assert isinstance(result, OrderError) and result.text == want
    cancelled = cancel(msg("F", (41, value if tag == 41 else "C0"),
                           (11, value if tag == 11 else "C2"), (55, "AAPL"), (54, "1")), KEY)
    if tag in (11, 41):
        assert isinstance(cancelled, OrderError) and cancelled.text == want


def test_market_data_past_the_bounds_is_refused() -> None:
    def quote(px: str, size: str, sym: str = "AAPL") -> object:
        return market_data(msg("W", (55, sym), (268, "1"), (269, "0"), (270, px), (271, size)))

    too_high = quote("1000000.0001", "100")
    assert isinstance(too_high, OrderError)
    assert too_high.text == "MDEntryPx (270) 1000000.0001 is above the limit of 1000000.00"
    too_big = quote("10.00", "1000000001")
    assert isinstance(too_big, OrderError)
    assert too_big.text == "MDEntrySize (271) 1000000001 is above the limit of 1000000000"
    long_symbol = quote("10.00", "100", sym="S" * 65)
    assert isinstance(long_symbol, OrderError)
    assert long_symbol.text == "Symbol (55) is 65 characters long; the limit is 64"
    assert isinstance(quote("1000000.00", "1000000000"), QuoteUpdate)
def test_moc_order_time_in_force() -> None:
    """SPEC 5.2: a MOC order takes TimeInForce absent, 0 or 7 (At the Close); 7 is for MOC only."""
    def order(*extra: tuple[int, str], ord_type: str = "5") -> NewOrder | OrderError:
        return new_order(msg("D", (11, "M1"), (21, "1"), (55, "AAPL"), (54, "1"), (38, "100"),
                             (40, ord_type), *extra, (60, "x")), KEY, SESSION)

    for extra in ((), ((59, "0"),), ((59, "7"),)):
        o = order(*extra)
        assert isinstance(o, NewOrder), extra
        assert (o.ord_type, o.tif) == (OrdType.MARKET_ON_CLOSE, TimeInForce.DAY)
    assert order((59, "3")).tif is TimeInForce.IOC  # type: ignore[union-attr]  # matcher rejects
    bad = order((59, "7"), (44, "10"), ord_type="2")
    assert bad == OrderError("TimeInForce (59) 7 (At the Close) is only for market-on-close "
                             "orders (40=5)")
    gtc = order((59, "1"))
    assert isinstance(gtc, OrderError) and "TimeInForce (59) value '1'" in gtc.text
    priced = order((44, "10"))
    assert isinstance(priced, OrderError) and "Price (44) is not allowed" in priced.text


def test_closing_price_snapshot() -> None:
    """SPEC 5.2: a W with an entry 269=5 is the symbol's official closing price."""
    def w(*entries: tuple[int, str], count: str = "1") -> object:
        return market_data(msg("W", (55, "AAPL"), (268, count), *entries))

    assert w((269, "5"), (270, "187.43")) == ClosingPrice("AAPL", parse_price("187.43"))
    assert w((269, "5"), (270, "187.43"), (271, "0")) == ClosingPrice("AAPL", 187_430_000)
    for bad, text in (
        (w((269, "5")), "MDEntryPx (270) is required on a closing price (269=5)"),
        (w((269, "5"), (270, "x")), "MDEntryPx (270) 'x' is not a valid price"),
        (w((269, "5"), (270, "1000000.01")),
         "MDEntryPx (270) 1000000.01 is above the limit of 1000000.00"),
        (w((269, "0"), (270, "1"), (271, "1"), (269, "5"), (270, "1"), count="2"),
         "a closing price (269=5) comes alone: one entry in its own W, not with the NBBO"),
    ):
        assert bad == OrderError(text)


def test_exec_inst_table_is_the_parser() -> None:
    """The ExecInst values new_order looks up are what the parser makes of them."""
    for text, parsed in orders._EXEC_INSTS.items():
        assert orders._parse_exec_inst(text) == parsed
    assert orders._exec_inst(None) == orders._parse_exec_inst("")


def test_too_long_names_the_first_long_tag() -> None:
    long = "X" * (orders.MAX_ID_LENGTH + 1)
    ok = "X" * orders.MAX_ID_LENGTH
    assert orders._too_long(ok, None, ok, None, ok) is None
    for i, (tag, _) in enumerate(orders._BOUNDED_TEXT):
        values: list[str | None] = [None, ok, None, ok, None]
        values[i] = long
        err = orders._too_long(*values)
        assert err is not None and f"({tag})" in err.text
