"""ats-feed's CSV reading and ats-client's command language."""

from __future__ import annotations

from pathlib import Path

import pytest

from ats_tools.client import CommandError, Commands
from ats_tools.feed import FeedError, read_rows, snapshot_body, status_body
from gateway.fix import frame, parse

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
