"""`ats-feed`: replay an NBBO CSV into the gateway over its FIX market-data session.

CSV columns: ts,symbol,bid,bid_size,ask,ask_size[,luld,ssr][,close], named by the header line.
Each row becomes a MarketDataSnapshotFullRefresh (W) with a bid and an offer entry (an empty
price leaves that side out: the NBBO side is missing); a non-empty luld or ssr, when it changes,
becomes a SecurityStatus (f). A non-empty close is the symbol's official closing price: a W of
its own with the one entry 269=5 (it triggers the MOC cross), sent after the row's NBBO W, or
instead of it when the row's bid and ask are both empty. Rows are paced by their timestamps
(--speed), or sent at once (--speed 0).
"""

from __future__ import annotations

import argparse
import asyncio
import csv
import sys
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path

from ats_tools.initiator import Initiator, InitiatorError, find_session
from gateway.config import ConfigError, load_config
from gateway.fix import Message
from gateway.orders import MAX_PRICE, MAX_PRICE_TEXT
from matcher import format_price, parse_price

REQUIRED = ("ts", "symbol", "bid", "bid_size", "ask", "ask_size")


class FeedError(Exception):
    """A CSV that cannot be replayed (file, line and reason in the message)."""


@dataclass(frozen=True, slots=True)
class Row:
    line: int
    ts: float
    symbol: str
    bid: str
    bid_size: int
    ask: str
    ask_size: int
    luld: str
    ssr: str
    close: str = ""  # the official closing price, when the row carries one


def read_rows(path: Path) -> Iterator[Row]:
    """Parse and check every row first, so a bad file is refused before anything is sent."""
    try:
        handle = path.open(newline="", encoding="utf-8")
    except OSError as exc:
        raise FeedError(f"{path}: cannot read: {exc.strerror}") from exc
    with handle:
        reader = csv.DictReader(handle)
        missing = [c for c in REQUIRED if c not in (reader.fieldnames or [])]
        if missing:
            raise FeedError(f"{path}: missing column(s) {', '.join(missing)}")
        for n, rec in enumerate(reader, start=2):
            yield _row(path, n, rec)


def _row(path: Path, n: int, rec: dict[str, str]) -> Row:
    def bad(what: str) -> FeedError:
        return FeedError(f"{path}:{n}: {what}")

    try:
        ts = datetime.fromisoformat(rec["ts"].replace("Z", "+00:00")).timestamp()
    except ValueError:
        raise bad(f"ts {rec['ts']!r} is not an ISO-8601 time") from None
    prices = {}
    for col in ("bid", "ask"):
        text = (rec.get(col) or "").strip()
        if text:
            try:
                prices[col] = format_price(parse_price(text))
            except ValueError:
                raise bad(f"{col} {text!r} is not a price") from None
        else:
            prices[col] = ""
    sizes = {}
    for col in ("bid_size", "ask_size"):
        text = (rec.get(col) or "0").strip() or "0"
        if not text.isdigit():
            raise bad(f"{col} {text!r} is not a whole number")
        sizes[col] = int(text)
    luld = (rec.get("luld") or "").strip()
    if luld not in ("", "0", "1", "2"):
        raise bad(f"luld {luld!r} must be 0, 1 or 2")
    ssr = (rec.get("ssr") or "").strip().upper()
    if ssr not in ("", "Y", "N"):
        raise bad(f"ssr {ssr!r} must be Y or N")
    symbol = (rec.get("symbol") or "").strip()
    if not symbol:
        raise bad("symbol is empty")
    close = (rec.get("close") or "").strip()
    if close:
        try:
            price = parse_price(close)
        except ValueError:
            raise bad(f"close {close!r} is not a price") from None
        if not 0 < price <= MAX_PRICE:
            raise bad(f"close {close!r} must be above 0 and at most {MAX_PRICE_TEXT}")
        close = format_price(price)
    return Row(
        n,
        ts,
        symbol,
        prices["bid"],
        sizes["bid_size"],
        prices["ask"],
        sizes["ask_size"],
        luld,
        ssr,
        close,
    )


def snapshot_body(row: Row) -> bytes:
    """MarketDataSnapshotFullRefresh (W) body for one NBBO row."""
    entries = []
    if row.bid:
        entries.append(b"269=0\x01270=%s\x01271=%d\x01" % (row.bid.encode(), row.bid_size))
    if row.ask:
        entries.append(b"269=1\x01270=%s\x01271=%d\x01" % (row.ask.encode(), row.ask_size))
    return b"55=%s\x01268=%d\x01" % (row.symbol.encode(), len(entries)) + b"".join(entries)


def closing_price_body(row: Row) -> bytes:
    """The closing price W: one entry, 269=5 (the gateway takes it only alone)."""
    return b"55=%s\x01268=1\x01269=5\x01270=%s\x01" % (row.symbol.encode(), row.close.encode())


def status_body(symbol: str, luld: str, ssr: str) -> bytes:
    """SecurityStatus (f) body: LULD state and short-sale restriction."""
    body = b"55=%s\x01" % symbol.encode()
    if luld:
        body += b"7101=%s\x01" % luld.encode()
    if ssr:
        body += b"7102=%s\x01" % ssr.encode()
    return body


async def replay(initiator: Initiator, rows: list[Row], speed: float, loop: bool) -> int:
    """Send the rows; returns how many messages were sent."""
    sent = 0
    state: dict[str, tuple[str, str]] = {}
    while True:
        start = asyncio.get_running_loop().time()
        for row in rows:
            if speed > 0:
                due = start + (row.ts - rows[0].ts) / speed
                delay = due - asyncio.get_running_loop().time()
                if delay > 0:
                    await asyncio.sleep(delay)
            if initiator.closed.is_set():
                why = f": {initiator.logout_text}" if initiator.logout_text else ""
                raise InitiatorError(f"the gateway closed the market-data session{why}")
            previous = state.get(row.symbol, ("", ""))
            luld = row.luld if row.luld and row.luld != previous[0] else ""
            ssr = row.ssr if row.ssr and row.ssr != previous[1] else ""
            if luld or ssr:
                initiator.send("f", status_body(row.symbol, luld, ssr))
                state[row.symbol] = (row.luld or previous[0], row.ssr or previous[1])
                sent += 1
            if row.bid or row.ask or not row.close:
                initiator.send("W", snapshot_body(row))
                sent += 1
            if row.close:
                initiator.send("W", closing_price_body(row))
                sent += 1
            await asyncio.sleep(0)
        if not loop:
            return sent


def build_parser() -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(prog="ats-feed", description=__doc__.splitlines()[0])
    p.add_argument("--config", type=Path, required=True, help="the gateway's config TOML")
    p.add_argument(
        "file",
        type=Path,
        help="NBBO CSV: ts,symbol,bid,bid_size,ask,ask_size[,luld,ssr][,close]",
    )
    p.add_argument("--session", help="TargetCompID of the market_data session (default: the first)")
    p.add_argument("--host", help="gateway address (default: the config's)")
    p.add_argument("--port", type=int, help="gateway port (default: the config's)")
    p.add_argument(
        "--speed",
        type=float,
        default=1.0,
        help="replay speed against the CSV's timestamps; 0 sends at once (default 1)",
    )
    p.add_argument("--loop", action="store_true", help="replay the file again and again")
    return p


async def run(args: argparse.Namespace) -> int:
    cfg = load_config(args.config)
    session_cfg = find_session(cfg, args.session, "market_data")
    rows = list(read_rows(args.file))
    if not rows:
        raise FeedError(f"{args.file}: no rows")
    rejects: list[str] = []

    def on_message(msg: Message) -> None:
        if msg.msg_type in ("j", "3"):
            rejects.append(msg.get(58) or "")
            print(f"gateway rejected a message: {msg.get(58)}", file=sys.stderr)

    initiator = Initiator(session_cfg, on_message, reset=True)
    host = args.host or cfg.gateway.host
    await initiator.connect(host, args.port or cfg.gateway.port)
    sent = await replay(initiator, rows, args.speed, args.loop)
    await asyncio.sleep(0.2)
    await initiator.logout("feed done")
    print(f"sent {sent} messages from {len(rows)} rows; {len(rejects)} rejected")
    return 1 if rejects else 0


def main(argv: list[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    try:
        return asyncio.run(run(args))
    except (ConfigError, FeedError, InitiatorError, OSError) as exc:
        print(f"ats-feed: {exc}", file=sys.stderr)
        return 2


if __name__ == "__main__":
    sys.exit(main())
