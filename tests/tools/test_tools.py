"""ats-feed's CSV reading and ats-client's command language."""

from __future__ import annotations

import asyncio
from pathlib import Path

import pytest

from ats_tools.client import CommandError, Commands, describe
from ats_tools.dialect import app_msg_types, dialect_validator
from ats_tools.feed import (
    FeedError,
    closing_price_body,
    read_rows,
    replay,
    snapshot_body,
    status_body,
)
from gateway.fix import Message, frame, parse, parse_utc

SAMPLE = Path(__file__).resolve().parents[2] / "config" / "sample_nbbo.csv"


def fields(msg_type: str, body: bytes) -> list[tuple[int, str]]:
    return parse(frame(b"35=" + msg_type.encode() + b"\x01" + body)).fields[3:-1]


def test_sample_csv_replays_cleanly() -> None:
    rows = list(read_rows(SAMPLE))
    assert len(rows) > 40
    assert all(a.ts <= b.ts for a, b in zip(rows, rows[1:], strict=False))


def test_snapshot_has_bid_and_offer_entries(tmp_path: Path) -> None:
    csv = tmp_path / "q.csv"
    csv.write_text(
        "ts,symbol,bid,bid_size,ask,ask_size,luld,ssr\n"
        "2026-01-01T14:30:00.000Z,AAPL,10.00,300,10.02,200,1,Y\n"
        "2026-01-01T14:30:01.000Z,AAPL,,0,10.02,200,,\n"
    )
    first, second = read_rows(csv)
    assert fields("W", snapshot_body(first)) == [
        (55, "AAPL"),
        (268, "2"),
        (269, "0"),
        (270, "10"),
        (271, "300"),
        (269, "1"),
        (270, "10.02"),
        (271, "200"),
    ]
    assert fields("W", snapshot_body(second)) == [
        (55, "AAPL"),
        (268, "1"),
        (269, "1"),
        (270, "10.02"),
        (271, "200"),
    ]
    assert fields("f", status_body("AAPL", "1", "Y")) == [(55, "AAPL"), (7101, "1"), (7102, "Y")]


@pytest.mark.parametrize(
    ("row", "error"),
    [
        ("yesterday,AAPL,1,1,2,1", ":2: ts 'yesterday' is not an ISO-8601 time"),
        ("2026-01-01T00:00:00Z,AAPL,abc,1,2,1", ":2: bid 'abc' is not a price"),
        ("2026-01-01T00:00:00Z,AAPL,1,x,2,1", ":2: bid_size 'x' is not a whole number"),
        ("2026-01-01T00:00:00Z,AAPL,1,1,2,1,7", ":2: luld '7' must be 0, 1 or 2"),
    ],
)
def test_bad_rows_name_file_and_line(tmp_path: Path, row: str, error: str) -> None:
    csv = tmp_path / "q.csv"
    csv.write_text("ts,symbol,bid,bid_size,ask,ask_size,luld,ssr\n" + row + "\n")
    with pytest.raises(FeedError) as err:
        list(read_rows(csv))
    assert str(err.value) == f"{csv}{error}"


def test_missing_columns(tmp_path: Path) -> None:
    csv = tmp_path / "q.csv"
    csv.write_text("ts,symbol,bid\n")
    with pytest.raises(FeedError, match="missing column"):
        list(read_rows(csv))


def test_client_commands() -> None:
    c = Commands("T")
    msg_type, body = c.parse("new buy AAPL 100 peg=mid post minqty=50 inclusion=2 id=B1")  # type: ignore[misc]
    f = dict(fields(msg_type, body))
    assert msg_type == "D"
    assert (f[11], f[54], f[55], f[38], f[40], f[18], f[110], f[7011]) == (
        "B1",
        "1",
        "AAPL",
        "100",
        "P",
        "M 6",
        "50",
        "2",
    )
    msg_type, body = c.parse("replace B1 qty=60")  # type: ignore[misc]
    f = dict(fields(msg_type, body))
    assert msg_type == "G" and f[41] == "B1" and f[38] == "60" and f[18] == "M 6"
    msg_type, body = c.parse("cancel B1")  # type: ignore[misc]
    f = dict(fields(msg_type, body))
    assert msg_type == "F" and f[41] == "B1" and f[55] == "AAPL" and f[11].startswith("T-")
    assert c.parse("# a comment") is None
    assert c.parse("wait 0.5") == 0.5
    with pytest.raises(CommandError, match="usage: new"):
        c.parse("new buy AAPL")
    with pytest.raises(CommandError, match="unknown option"):
        c.parse("new sell AAPL 1 colour=red")
    with pytest.raises(CommandError, match="peg=sideways"):
        c.parse("new sell AAPL 1 peg=sideways")


def sent(c: Commands, line: str) -> dict[int, str]:
    parsed = c.parse(line)
    assert isinstance(parsed, tuple)
    msg_type, body = parsed
    assert msg_type == "D"
    return dict(fields(msg_type, body))


def firm_up_request(*extra: tuple[int, str], resent: bool = False) -> Message:
    """A FirmUpRequest (UF) as the gateway sends it (SPEC 5.1)."""
    header = [(35, "UF"), (34, "7"), (49, "ATS"), (52, "20261202-15:04:00.120"), (56, "ACME1")]
    if resent:
        header += [(43, "Y"), (122, "20261202-15:04:00.120")]
    body = [(11, "CB"), (37, "1"), (17, "3"), (55, "AAPL"), (54, "1"), (38, "200"),
            (126, "20261202-15:04:01.120"), (60, "20261202-15:04:00.120"), *extra]
    return parse(frame(b"".join(b"%d=%s\x01" % (t, v.encode()) for t, v in header + body)))


def test_a_conditional_order_and_an_eligible_firm_order() -> None:
    c = Commands("T")
    co = sent(c, "new buy AAPL 300 peg=mid class=C id=CB")
    assert (co[11], co[54], co[38], co[40], co[18], co[7001]) == ("CB", "1", "300", "P", "M", "C")
    assert 7013 not in co and 59 not in co
    firm = sent(c, "new sell AAPL 100 limit=190.01 eligible id=E1")
    assert (firm[40], firm[44], firm[7013]) == ("2", "190.01", "Y") and 7001 not in firm
    assert sent(c, "new sell AAPL 100 limit=190.01 eligible=n")[7013] == "N"
    assert sent(c, "new sell AAPL 100 class=firm")[7001] == "F"
    with pytest.raises(CommandError, match="class=X: use one of"):
        c.parse("new buy AAPL 1 class=X")
    # a replace of a CO with new terms keeps its class (the gateway would keep it anyway)
    parsed = c.parse("replace CB limit=190.02 id=CB2")
    assert isinstance(parsed, tuple)
    rep = dict(fields(*parsed))
    assert (rep[41], rep[40], rep[44], rep[7001]) == ("CB", "2", "190.02", "C")


def test_market_on_close_orders() -> None:
    c = Commands("T")
    moc = sent(c, "new buy AAPL 300 moc id=M1")
    assert (moc[40], moc[38]) == ("5", "300")
    assert 44 not in moc and 18 not in moc and 59 not in moc
    assert sent(c, "new sell AAPL 200 moc tif=close")[59] == "7"
    for bad in ("new buy AAPL 1 moc limit=190", "new buy AAPL 1 moc peg=mid",
                "new buy AAPL 1 moc post"):
        with pytest.raises(CommandError, match="market-on-close order takes no limit"):
            c.parse(bad)
    # a replace (a quantity decrease) keeps the order a MOC order
    parsed = c.parse("replace M1 qty=250")
    assert isinstance(parsed, tuple)
    rep = dict(fields(*parsed))
    assert (rep[41], rep[38], rep[40]) == ("M1", "250", "5") and 44 not in rep


def test_firmup_answers_an_invitation_with_the_cos_own_terms() -> None:
    c = Commands("T")
    sent(c, "new buy AAPL 300 peg=mid minqty=100 capacity=agency class=C id=CB")
    c.invited(firm_up_request())
    f = sent(c, "firmup CB id=FB")
    # SPEC 5.1: 7002 = the CO's ClOrdID, its Symbol and Side, the invited quantity, always IOC
    assert (f[11], f[7002], f[55], f[54], f[38], f[59]) == ("FB", "CB", "AAPL", "1", "200", "3")
    # its own terms: the CO's peg, MinQty and capacity; not the CO's class
    assert (f[40], f[18], f[110], f[47]) == ("P", "M", "100", "A")
    assert 7001 not in f and 7013 not in f
    # a different quantity and price when asked
    g = sent(c, "firmup CB qty=150 limit=190.05")
    assert (g[38], g[40], g[44], g[59], g[7002]) == ("150", "2", "190.05", "3", "CB")
    assert 18 not in g and 110 not in g


def test_firmup_without_an_invitation_or_a_record() -> None:
    c = Commands("T")
    sent(c, "new sell MSFT 500 limit=414.50 class=C id=CS")
    f = sent(c, "firmup CS")  # no invitation seen (yet): the CO's own quantity
    assert (f[7002], f[55], f[54], f[38], f[40], f[44], f[59]) == (
        "CS", "MSFT", "2", "500", "2", "414.50", "3")
    # an invitation resent after a restart of the client: no record of the CO, the UF says
    fresh = Commands("U")
    fresh.invited(firm_up_request())
    g = sent(fresh, "firmup CB peg=mid")
    assert (g[7002], g[55], g[54], g[38], g[40], g[18], g[59]) == (
        "CB", "AAPL", "1", "200", "P", "M", "3")
    with pytest.raises(CommandError, match="firmup NOPE: no conditional order or invitation"):
        fresh.parse("firmup NOPE")
    for bad in ("firmup CB tif=day", "firmup CB class=C", "firmup CB post", "firmup CB moc"):
        with pytest.raises(CommandError, match="a firm-up is a firm IOC order"):
            fresh.parse(bad)
    with pytest.raises(CommandError, match="usage: firmup"):
        fresh.parse("firmup")


def test_an_invitation_prints_on_one_line() -> None:
    line = describe(firm_up_request())
    assert line == ("INVITED    CO=CB  BUY AAPL  qty=200 expires=20261202-15:04:01.120  "
                    "order=1 exec=3 time=20261202-15:04:00.120")
    assert "(resent)" in describe(firm_up_request(resent=True))


def test_the_dialect_takes_a_firm_up_request() -> None:
    """The client validates against config/FIX42-ATS.xml: a UF there is shown, not refused."""
    assert "UF" in app_msg_types()
    assert dialect_validator().validate(firm_up_request()) is None
    assert dialect_validator().validate(firm_up_request(resent=True)) is None


def test_a_close_column_sends_the_closing_price_alone(tmp_path: Path) -> None:
    csv = tmp_path / "close.csv"
    csv.write_text(
        "ts,symbol,bid,bid_size,ask,ask_size,close\n"
        "2026-01-01T20:50:00.000Z,AAPL,190.00,300,190.02,200,\n"
        "2026-01-01T21:00:00.000Z,AAPL,,,,,190.0100\n"
        "2026-01-01T21:00:00.000Z,MSFT,414.50,100,414.55,100,414.52\n"
    )
    nbbo, close, both = read_rows(csv)
    assert nbbo.close == "" and close.close == "190.01" and both.close == "414.52"
    # SPEC 5.2: a W whose one entry is 269=5 with the price
    assert fields("W", closing_price_body(close)) == [
        (55, "AAPL"), (268, "1"), (269, "5"), (270, "190.01")]


def test_feed_sends_close_rows_after_or_instead_of_the_nbbo(tmp_path: Path) -> None:
    csv = tmp_path / "close.csv"
    csv.write_text(
        "ts,symbol,bid,bid_size,ask,ask_size,close\n"
        "2026-01-01T20:50:00.000Z,AAPL,190.00,300,190.02,200,\n"
        "2026-01-01T21:00:00.000Z,AAPL,,,,,190.01\n"
        "2026-01-01T21:00:00.000Z,MSFT,414.50,100,414.55,100,414.52\n"
        "2026-01-01T21:00:01.000Z,MSFT,,,,,\n"
    )

    class Recorder:
        closed = asyncio.Event()

        def __init__(self) -> None:
            self.sent: list[list[tuple[int, str]]] = []

        def send(self, msg_type: str, body: bytes) -> None:
            self.sent.append([(35, msg_type), *fields(msg_type, body)])

    rec = Recorder()
    count = asyncio.run(replay(rec, list(read_rows(csv)), speed=0, loop=False))  # type: ignore[arg-type]
    entry_types = [[v for t, v in m if t == 269] for m in rec.sent]
    assert count == 5
    # the NBBO; AAPL's close alone (no empty NBBO W that would wipe the quote); MSFT's NBBO
    # then its close; a row with neither still clears the NBBO, as before
    assert entry_types == [["0", "1"], ["5"], ["0", "1"], ["5"], []]
    assert [dict(m)[55] for m in rec.sent] == ["AAPL", "AAPL", "MSFT", "MSFT", "MSFT"]


@pytest.mark.parametrize(
    ("close", "error"),
    [
        ("abc", "close 'abc' is not a price"),
        ("0", "close '0' must be above 0 and at most 1000000.00"),
        ("1000000.01", "close '1000000.01' must be above 0"),
    ],
)
def test_bad_close_prices_name_file_and_line(tmp_path: Path, close: str, error: str) -> None:
    csv = tmp_path / "q.csv"
    csv.write_text("ts,symbol,bid,bid_size,ask,ask_size,luld,ssr,close\n"
                   f"2026-01-01T00:00:00Z,AAPL,1,1,2,1,,,{close}\n")
    with pytest.raises(FeedError) as err:
        list(read_rows(csv))
    assert str(err.value).startswith(f"{csv}:2: {error}")


def test_flags_are_lower_case_words_and_symbols_are_not_flags() -> None:
    c = Commands("T")
    f = sent(c, "new buy MOC 100 limit=10")
    assert (f[55], f[40], f[44]) == ("MOC", "2", "10")
    assert sent(c, "new buy AAPL 100 moc")[40] == "5"


def test_an_invitation_past_its_deadline_is_known_as_expired() -> None:
    """--auto-firmup leaves an invitation alone once its ExpireTime (126) has passed (one
    resent after a reconnect, say): the gateway would reject the firm-up as late."""
    inv = Commands("T").invited(firm_up_request(resent=True))
    deadline = parse_utc("20261202-15:04:01.120")
    assert deadline is not None
    assert not inv.expired(deadline - 1)
    assert inv.expired(deadline) and inv.expired(deadline + 10**9)
