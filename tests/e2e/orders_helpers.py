"""Shared steps of the order-path e2e tests: venue configs, the NBBO feed, order entry, reports.

Synchronisation never sleeps: `Peer.drain()` sends a TestRequest and collects everything the
gateway sent before the matching Heartbeat. The gateway handles a connection's messages in
order and queues every report of a command before it reads the next message, so whatever an
order or a quote caused on any session has been written by the time the barrier's Heartbeat is.
"""

from __future__ import annotations

import asyncio
import itertools
import json
import re
from collections.abc import Iterable
from dataclasses import dataclass, field
from typing import TypeAlias

from simplefix import FixMessage

from tests.e2e.conftest import GatewayProcess
from tests.e2e.fixclient import FixClient, tag, utc_now

Msg: TypeAlias = FixMessage
Fields = Iterable[tuple[int, str]]

#: tags every ExecutionReport carries (SPEC 3) and the ones fills add
REPORT_TAGS = (37, 17, 20, 150, 39, 55, 54, 38, 151, 14, 6, 60)
FILL_TAGS = (32, 31, 851)
MS_TIME = re.compile(r"^\d{8}-\d{2}:\d{2}:\d{2}\.\d{3}$")
NS_TIME = re.compile(r"^\d{8}-\d{2}:\d{2}:\d{2}\.\d{9}$")

_GATEWAY = """[gateway]
host = "127.0.0.1"
port = 0
data_dir = "data"
sender_comp_id = "ATS"
fsync = "batch"

[admin]
port = 0
"""
_barrier_ids = itertools.count(1)


# -- venue configs ---------------------------------------------------------------------------

def _toml(value: object) -> str:
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, int):
        return str(value)
    if isinstance(value, (list, tuple)):
        return "[" + ", ".join(_toml(v) for v in value) + "]"
    return json.dumps(str(value))


def _table(name: str, **keys: object) -> str:
    return f"\n[[{name}]]\n" + "".join(f"{k} = {_toml(v)}\n" for k, v in keys.items())


def participant(pid: str, **opts: object) -> str:
    """A [[participants]] table (broker_dealer, broker_group, taker_level, operator, ...)."""
    return _table("participants", id=pid, **opts)


def order_session(target: str, pid: str, **opts: object) -> str:
    """An order_entry [[sessions]] table for participant `pid`; `target` is the client's 49."""
    return _table("sessions", target_comp_id=target, role="order_entry", participant=pid, **opts)


def drop_copy_session(target: str, participants: tuple[str, ...] = ("*",), **opts: object) -> str:
    return _table("sessions", target_comp_id=target, role="drop_copy",
                  participants=list(participants), **opts)


def symbol(name: str, **opts: object) -> str:
    return _table("symbols", symbol=name, **opts)


def venue(*tables: str) -> str:
    """A whole config: the gateway table, the MD1 market-data session, then `tables`."""
    return _GATEWAY + _table("sessions", target_comp_id="MD1", role="market_data") + "".join(
        tables)


def two_party_venue(*extra: str) -> str:
    """ACME (broker-dealer, session ACME1) and BETA (session BETA1) trading AAPL."""
    return venue(participant("ACME", broker_dealer=True), participant("BETA"),
                 order_session("ACME1", "ACME"), order_session("BETA1", "BETA"),
                 symbol("AAPL"), *extra)


# -- a FIX counterparty ----------------------------------------------------------------------

@dataclass
class Peer:
    """One logged-on FIX session over TCP; remembers the last MsgSeqNum it received."""

    fix: FixClient
    last_in: int = 0
    received: list[Msg] = field(default_factory=list)

    async def recv(self, timeout: float = 5.0) -> Msg:
        msg = await self.fix.recv(timeout)
        assert msg is not None, f"{self.fix.sender}: connection closed by the gateway"
        self.last_in = int(tag(msg, 34) or 0)
        self.received.append(msg)
        return msg

    async def expect(self, msg_type: str, timeout: float = 5.0) -> Msg:
        """The next message that is not a Heartbeat; it must be of `msg_type`."""
        while True:
            msg = await self.recv(timeout)
            if tag(msg, 35) == "0" and msg_type != "0":
                continue
            assert tag(msg, 35) == msg_type, f"expected 35={msg_type}, got {_show(msg)}"
            return msg

    async def drain(self) -> list[Msg]:
        """Everything the gateway sent before answering a TestRequest (Heartbeats left out)."""
        test_id = f"SYNC-{next(_barrier_ids)}"
        await self.fix.send("1", (112, test_id))
        got: list[Msg] = []
        for _ in range(10_000):
            msg = await self.recv()
            if tag(msg, 35) == "0":
                if tag(msg, 112) == test_id:
                    return got
                continue
            got.append(msg)
        raise AssertionError("no Heartbeat for the TestRequest")

    async def quiet(self) -> None:
        """Assert the gateway has sent this session nothing new."""
        pending = await self.drain()
        assert pending == [], f"{self.fix.sender} got {[_show(m) for m in pending]}"

    async def logout(self) -> None:
        """Logout handshake, then wait for the gateway to close the connection."""
        await self.fix.send("5")
        await self.expect("5")
        assert await self.fix.closed()
        await self.fix.close()

    # -- order entry -----------------------------------------------------------------------

    async def send_order(self, clid: str, side: str, qty: int | str, price: str | None = None,
                         *, sym: str = "AAPL", ord_type: str | None = None,
                         extra: Fields = (), header: tuple[tuple[int, str], ...] = (),
                         seq: int | None = None) -> None:
        """NewOrderSingle: limit when a price is given, else market unless `ord_type` says."""
        fields: list[tuple[int, str]] = [(11, clid), (21, "1"), (55, sym), (54, side),
                                         (38, str(qty))]
        fields.append((40, ord_type or ("2" if price is not None else "1")))
        if price is not None:
            fields.append((44, price))
        fields += [*extra, (60, utc_now())]
        await self.fix.send("D", *fields, header=header, seq=seq)

    async def ack(self, clid: str, side: str, qty: int | str, price: str | None = None,
                  *, sym: str = "AAPL", ord_type: str | None = None, extra: Fields = ()) -> Msg:
        """Send an order and return its New report (150=0)."""
        await self.send_order(clid, side, qty, price, sym=sym, ord_type=ord_type, extra=extra)
        report = await self.expect("8")
        assert tag(report, 150) == "0", f"{clid} not accepted: {_show(report)}"
        assert tag(report, 11) == clid
        return report

    async def rejected(self, clid: str, side: str, qty: int | str, price: str | None = None,
                       *, sym: str = "AAPL", ord_type: str | None = None,
                       extra: Fields = ()) -> Msg:
        """Send an order that must be rejected; return its reject report (150=8 39=8)."""
        await self.send_order(clid, side, qty, price, sym=sym, ord_type=ord_type, extra=extra)
        report = await self.expect("8")
        assert (tag(report, 150), tag(report, 39)) == ("8", "8"), _show(report)
        assert tag(report, 11) == clid
        return report

    async def fill(self, clid: str | None = None) -> Msg:
        """The next report, which must be a fill (150=1 or 2) of `clid` when given."""
        report = await self.expect("8")
        assert tag(report, 150) in ("1", "2"), f"expected a fill, got {_show(report)}"
        if clid is not None:
            assert tag(report, 11) == clid, _show(report)
        return report

    async def cancel(self, clid: str, orig: str, side: str, sym: str = "AAPL") -> None:
        await self.fix.send("F", (41, orig), (11, clid), (55, sym), (54, side),
                            (60, utc_now()))

    async def cancelled(self, clid: str, orig: str, side: str, sym: str = "AAPL") -> Msg:
        """Cancel an open order; return its Cancelled report (150=4)."""
        await self.cancel(clid, orig, side, sym)
        report = await self.expect("8")
        assert tag(report, 150) == "4" and tag(report, 41) == orig, _show(report)
        return report

    async def replace(self, clid: str, orig: str, side: str, qty: int, price: str,
                      sym: str = "AAPL") -> None:
        """OrderCancelReplaceRequest of a limit order."""
        await self.fix.send("G", (41, orig), (11, clid), (21, "1"), (55, sym), (54, side),
                            (38, str(qty)), (40, "2"), (44, price), (60, utc_now()))

    # -- market data -----------------------------------------------------------------------

    async def nbbo(self, bid: str, ask: str, sym: str = "AAPL", size: int = 500) -> None:
        """MarketDataSnapshotFullRefresh with the NBB and NBO, applied when this returns."""
        await self.fix.send("W", (55, sym), (268, "2"), (269, "0"), (270, bid), (271, str(size)),
                            (269, "1"), (270, ask), (271, str(size)))
        await self.quiet()  # a BusinessMessageReject would show up here

    async def status(self, sym: str = "AAPL", *, trading: str | None = None,
                     luld: str | None = None, ssr: str | None = None) -> None:
        """SecurityStatus: 326 trading status, 7101 LULD state, 7102 short sale restriction."""
        fields = [(55, sym)] + [(t, v) for t, v in ((326, trading), (7101, luld), (7102, ssr))
                                if v is not None]
        await self.fix.send("f", *fields)
        await self.quiet()

    # -- resend ----------------------------------------------------------------------------

    async def resend(self, begin: int, through: int) -> list[Msg]:
        """ResendRequest begin..0; the application messages resent up to MsgSeqNum `through`.

        Gap fills are followed; each resent application message must carry PossDupFlag=Y.
        """
        await self.fix.send("2", (7, str(begin)), (16, "0"))
        expected, out = begin, list[Msg]()
        for _ in range(10_000):
            if expected > through:
                return out
            msg = await self.recv()
            seq, mtype = int(tag(msg, 34) or 0), tag(msg, 35)
            if mtype == "4" and tag(msg, 123) == "Y":
                assert seq == expected, f"gap fill at {seq}, expected {expected}"
                expected = int(tag(msg, 36) or 0)
            elif seq == expected:
                assert tag(msg, 43) == "Y", f"resent without PossDupFlag: {_show(msg)}"
                if mtype not in ("0", "1", "2", "3", "4", "5", "A"):
                    out.append(msg)
                expected += 1
            # a live message (Heartbeat) interleaved with the resend is skipped
        raise AssertionError("resend did not complete")


async def connect(gp: GatewayProcess, sender: str, *, reset: bool = True,
                  next_seq: int = 1) -> tuple[Peer, Msg]:
    """Log on as `sender` (to ATS); with reset=False the sequence continues at `next_seq`."""
    client = FixClient(sender, "ATS", next_seq=1 if reset else next_seq)
    await client.connect(gp.port)
    peer = Peer(client)
    await client.send("A", (98, "0"), (108, "30"), *([(141, "Y")] if reset else []))
    logon = await peer.expect("A")
    return peer, logon


async def session(gp: GatewayProcess, sender: str) -> Peer:
    """A freshly reset, logged-on session."""
    peer, _ = await connect(gp, sender)
    return peer


async def logged(gp: GatewayProcess, event: str, count: int, timeout: float = 5.0,
                 **fields: object) -> None:
    """Wait until the gateway has logged `event` (with these fields) `count` times."""
    loop = asyncio.get_running_loop()
    deadline = loop.time() + timeout
    while loop.time() < deadline:
        seen = [e for e in gp.events(event) if all(e.get(k) == v for k, v in fields.items())]
        if len(seen) >= count:
            return
        await asyncio.sleep(0.01)
    raise AssertionError(f"the gateway did not log {event} {fields} {count} times")


def exec_ids(reports: Iterable[Msg]) -> list[str]:
    return [tag(r, 17) or "" for r in reports if tag(r, 35) == "8"]


def reports_of(messages: Iterable[Msg]) -> list[Msg]:
    return [m for m in messages if tag(m, 35) == "8"]


def _show(msg: Msg) -> str:
    return str(msg).replace("\x01", "|")
