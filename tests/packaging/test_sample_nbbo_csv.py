"""config/sample_nbbo.csv: the NBBO file the sandbox feed replays (SPEC section 1)."""

from __future__ import annotations

import csv
import tomllib
from datetime import datetime
from decimal import Decimal
from pathlib import Path

import pytest

CONFIG = Path(__file__).parents[2] / "config"
COLUMNS = ["ts", "symbol", "bid", "bid_size", "ask", "ask_size", "luld", "ssr"]


@pytest.fixture(scope="module")
def rows() -> list[dict[str, str]]:
    with (CONFIG / "sample_nbbo.csv").open(newline="", encoding="utf-8") as f:
        reader = csv.DictReader(f)
        assert reader.fieldnames == COLUMNS
        return list(reader)


def _ts(text: str) -> datetime:
    assert text.endswith("Z") and len(text) == len("2026-11-20T14:30:00.000Z"), text
    return datetime.strptime(text, "%Y-%m-%dT%H:%M:%S.%f%z")


def test_rows_are_complete_and_timestamps_increase(rows: list[dict[str, str]]) -> None:
    assert 50 <= len(rows) <= 80
    stamps = [_ts(r["ts"]) for r in rows]
    assert all(a < b for a, b in zip(stamps, stamps[1:], strict=False))


def test_symbols_are_configured_venue_symbols(rows: list[dict[str, str]]) -> None:
    venue = tomllib.loads((CONFIG / "docker.toml").read_text(encoding="utf-8"))
    configured = {s["symbol"] for s in venue["symbols"]}
    assert {r["symbol"] for r in rows} == {"AAPL", "MSFT", "PENNY"}
    assert {r["symbol"] for r in rows} <= configured


def test_prices_are_decimals_on_the_quoting_grid(rows: list[dict[str, str]]) -> None:
    for r in rows:
        for key in ("bid", "ask"):
            px = Decimal(r[key])
            assert px > 0, r
            # Rule 612: pennies at or above $1.00, 0.0001 below.
            tick = Decimal("0.01") if px >= 1 else Decimal("0.0001")
            assert px % tick == 0, r
        assert int(r["bid_size"]) > 0 and int(r["ask_size"]) > 0, r


def test_penny_trades_below_a_dollar(rows: list[dict[str, str]]) -> None:
    penny = [Decimal(r["bid"]) for r in rows if r["symbol"] == "PENNY"]
    assert penny and max(penny) < 1


def test_locked_crossed_and_wide_markets_occur(rows: list[dict[str, str]]) -> None:
    spreads = [(r["symbol"], Decimal(r["ask"]) - Decimal(r["bid"])) for r in rows]
    assert any(s == 0 for _, s in spreads), "no locked row"
    assert any(s < 0 for _, s in spreads), "no crossed row"
    venue = tomllib.loads((CONFIG / "docker.toml").read_text(encoding="utf-8"))
    max_spread = {s["symbol"]: Decimal(s.get("max_spread", "inf")) for s in venue["symbols"]}
    wide = [sym for sym, s in spreads if s > max_spread[sym]]
    assert wide and {max_spread[sym] for sym in wide} == {Decimal("0.50")}, "no wide row"


def _states(rows: list[dict[str, str]], column: str) -> dict[str, list[str]]:
    """Per symbol, the sequence of values set in `column` (empty cells mean unchanged)."""
    seen: dict[str, list[str]] = {}
    for r in rows:
        if r[column]:
            seen.setdefault(r["symbol"], []).append(r[column])
    return seen


def test_every_symbol_starts_with_explicit_state(rows: list[dict[str, str]]) -> None:
    first: dict[str, dict[str, str]] = {}
    for r in rows:
        first.setdefault(r["symbol"], r)
    assert all(r["luld"] == "0" and r["ssr"] == "N" for r in first.values())


def test_luld_limit_state_entered_and_left(rows: list[dict[str, str]]) -> None:
    assert all(v in {"0", "1", "2"} for r in rows for v in [r["luld"]] if v)
    cycles = [s for s in _states(rows, "luld").values() if "1" in s and s[-1] == "0"]
    assert cycles, "no symbol goes into limit state and back to normal"


def test_short_sale_restriction_flips_on(rows: list[dict[str, str]]) -> None:
    assert all(v in {"Y", "N"} for r in rows for v in [r["ssr"]] if v)
    flips = [s for s in _states(rows, "ssr").values() if s[0] == "N" and "Y" in s]
    assert len(flips) == 1
