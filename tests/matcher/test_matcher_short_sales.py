"""Reg SHO: locates (Rule 203(b)(1)) and the Rule 201 Assigned Limit Price."""

from matcher_harness import Harness, P, fills, trades

from matcher import Accepted, Rejected


def test_broker_dealer_short_sale_needs_locate(h: Harness) -> None:
    """Each short sale order entered on behalf of a broker-dealer Participants must specify
    that a locate has been obtained in accordance with Regulation SHO Rule 203(b)(1)."""
    ev = h.new("short", 100, "10.00", part="B", locate_reqd=None)
    assert isinstance(ev[0], Rejected) and "LocateReqd (114)=N" in ev[0].text
    assert isinstance(h.new("short", 100, "10.00", part="B", locate_reqd=False)[0], Accepted)
    assert isinstance(h.new("exempt", 100, "10.00", part="B", locate_broker="GS")[0], Accepted)


def test_non_broker_dealer_short_sale_names_locate_broker(h: Harness) -> None:
    """For non-broker-dealer Participants, the ATS will reject any short sale order that does
    not identify the broker-dealer that provided the locate."""
    ev = h.new("short", 100, "10.00", part="C", locate_reqd=False)
    assert isinstance(ev[0], Rejected) and "LocateBroker (5700)" in ev[0].text
    assert isinstance(h.new("short", 100, "10.00", part="C", locate_broker="GS")[0], Accepted)


def test_rule_201_alp_is_lowest_permissible_price(h: Harness) -> None:
    """The Assigned Limit Price will be the lowest permissible price in compliance with Rule
    201, including any permissible sub-penny increments."""
    h.quote("10.00", "10.02")
    h.status(ssr=True)
    short = h.new("short", 100, None, part="B")  # market short: ALP would be the NBB
    assert h.alp(short) == P("10.0001")
    long_sale = h.new("sell", 100, None, part="D")
    assert h.alp(long_sale) == P("10.00")
    exempt = h.new("exempt", 100, None, part="D")
    assert h.alp(exempt) == P("10.00")


def test_rule_201_executes_at_or_above_floor(h: Harness) -> None:
    """Such orders are executed at the Assigned Limit Price if there is an available
    contra-side order or, if not, they are held for matching at the new Assigned Limit Price
    or better."""
    h.quote("0.5000", "0.5010", "SUB")
    h.status("SUB", ssr=True)
    h.new("buy", 100, "0.5000", part="C", sym="SUB")  # bid at the NBB only
    short = h.new("short", 100, None, part="B", sym="SUB")
    assert not fills(short)  # never at or below the NBB
    ev = h.new("buy", 100, "0.5001", part="C", sym="SUB")
    assert trades(ev) == [(short[0].order_id, ev[0].order_id, 100, P("0.5001"))]


def test_rule_201_follows_nbb_down_to_original_limit(h: Harness) -> None:
    """As quoted prices change, the Assigned Limit Price is updated to the lowest permissible
    price for matching under Rule 201 down to an order's original limit price."""
    h.quote("10.00", "10.02")
    h.status(ssr=True)
    short = h.new("short", 100, "9.90", part="B")
    assert h.alp(short) == P("10.0001")
    h.quote("9.95", "9.97")
    assert h.alp(short) == P("9.9501")
    h.quote("9.80", "9.85")
    assert h.alp(short) == P("9.90")
    h.status(ssr=False)
    assert h.alp(short) == P("9.90")


def test_rule_201_repricing_keeps_original_priority(h: Harness) -> None:
    """An order that is re-priced in this manner under Rule 201 does not have its original
    priority changed. Instead, the priority of such an order is established based on its
    original Assigned Limit Price."""
    h.quote("0.5000", "0.5010", "SUB")
    h.status("SUB", ssr=True)
    h.new("sell", 100, "0.5001", part="D", sym="SUB")  # earlier, ALP 0.5001
    short = h.new("short", 100, None, part="B", sym="SUB")  # original ALP 0.5000 -> 0.5001
    assert h.alp(short) == P("0.5001")
    ev = h.new("buy", 100, "0.5005", part="C", sym="SUB")
    assert trades(ev)[0][0] == short[0].order_id
