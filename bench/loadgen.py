"""The load generator process: pipelined NewOrderSingles over FIX sessions, replies timed.

`run_worker(plan, ready, go, results)` is the entry point of one generator process (started by
bench/e2e.py with multiprocessing). It connects its sessions on its own uvloop, logs them on,
reports ready, waits for the go signal, then drives either

- closed mode: each order session keeps `window` orders outstanding (an order is outstanding until
  its first report, the ack 150=0 or a reject 150=8), or
- open mode: each order session sends at `rate` orders/s on a fixed schedule whatever the replies,
  in the writes of a ~1 ms pacing tick (the schedule lag is reported so a client that falls
  behind is visible).

Every ExecutionReport's ExecID (17) is timed on arrival on the order session and on the drop-copy
session, so the parent can compute the drop-copy lag. Times are CLOCK_MONOTONIC (time.monotonic_ns),
which every process on the machine shares.
"""

from __future__ import annotations

import asyncio
import random
import time
from array import array
from dataclasses import dataclass, field
from typing import Any

import uvloop

from bench.fixwire import Clock, OrderTemplate, logon, split

mono = time.monotonic_ns


@dataclass(frozen=True, slots=True)
class SessionPlan:
    """One client session: its CompIDs and whether it sends orders or reads a drop copy."""

    sender: str
    target: str = "ATS"
    drop_copy: bool = False


@dataclass(frozen=True, slots=True)
class Plan:
    """What one generator process does."""

    port: int
    sessions: tuple[SessionPlan, ...]
    mode: str = "closed"          # closed | open
    count: int = 10_000           # orders per order session at most
    window: int = 50              # closed mode: outstanding orders per session
    rate: float = 1000.0          # open mode: orders/s per session
    duration: float = 10.0        # stop issuing new orders after this many seconds
    logon: bool = True            # False for the echo server
    symbol: str = "AAPL"
    seed: int = 42
    heartbeat: int = 300
    overload_seconds: float = 2.0  # open mode: stop offering when this much is unanswered


@dataclass(slots=True)
class SessionResult:
    """What one session saw (arrays of int64 so the result pickles small and fast)."""

    sender: str
    drop_copy: bool
    sent: int = 0
    acked: int = 0
    rejected: int = 0
    fills: int = 0
    other: dict[str, int] = field(default_factory=dict)
    latency: array[int] = field(default_factory=lambda: array("q"))       # ack latency, ns
    send_lag: array[int] = field(default_factory=lambda: array("q"))  # open: behind schedule
    exec_ids: array[int] = field(default_factory=lambda: array("q"))
    exec_times: array[int] = field(default_factory=lambda: array("q"))
    first_send: int = 0
    last_ack: int = 0
    reject_text: str = ""
    overloaded: bool = False


class Client(asyncio.Protocol):
    """One FIX session of the generator."""

    def __init__(self, plan: Plan, sp: SessionPlan, index: int, clock: Clock) -> None:
        self.plan = plan
        self.sp = sp
        self.res = SessionResult(sp.sender, sp.drop_copy)
        self.clock = clock
        self.buf = b""
        self.transport: asyncio.Transport | None = None
        self.logged_on: asyncio.Future[None] = asyncio.get_running_loop().create_future()
        self.closed = asyncio.get_running_loop().create_future()
        self.templates: list[OrderTemplate] = []
        self.send_ts = array("q")
        self.next = 0
        self.issuing = True
        if not sp.drop_copy:
            rnd = random.Random(plan.seed * 1000 + index)
            sender, target, sym = sp.sender.encode(), sp.target.encode(), plan.symbol.encode()
            first_seq = 2 if plan.logon else 1
            self.templates = [
                OrderTemplate(sender, target, first_seq + n, n, b"1" if rnd.random() < 0.5
                              else b"2", sym)
                for n in range(plan.count)
            ]
            self.send_ts = array("q", bytes(8 * plan.count))

    # -- asyncio.Protocol ----------------------------------------------------------------------

    def connection_made(self, transport: asyncio.BaseTransport) -> None:
        self.transport = transport  # type: ignore[assignment]

    def connection_lost(self, exc: Exception | None) -> None:
        if not self.closed.done():
            self.closed.set_result(None)
        if self.plan.logon and not self.logged_on.done():
            self.logged_on.set_exception(ConnectionError(f"{self.sp.sender}: closed before logon"))

    def data_received(self, data: bytes) -> None:
        now = mono()
        buf = self.buf + data if self.buf else data
        spans, rest = split(buf)
        self.buf = buf[rest:]
        res = self.res
        find = buf.find
        answered = 0
        for a, b in spans:
            j = find(b"\x0135=", a, b) + 4
            mtype = buf[j:find(b"\x01", j, b)]
            if mtype != b"8":
                self._admin(mtype.decode(), buf, a, b)
                continue
            k = find(b"\x0117=", j, b) + 4
            res.exec_ids.append(int(buf[k:find(b"\x01", k, b)]))
            res.exec_times.append(now)
            if self.sp.drop_copy:
                continue
            k = find(b"\x01150=", j, b) + 5
            et = buf[k]
            if et == 48 or et == 56:  # ack (0) or reject (8): the order's first answer
                k = find(b"\x0111=", j, b) + 4
                n = int(buf[k:find(b"\x01", k, b)])
                answered += 1
                if et == 48:
                    res.latency.append(now - self.send_ts[n])
                else:
                    res.rejected += 1
                    if not res.reject_text:
                        k = find(b"\x0158=", j, b)
                        res.reject_text = buf[k + 4:find(b"\x01", k + 4, b)].decode() if k >= 0 \
                            else "?"
            elif et == 49 or et == 50:
                res.fills += 1
        if answered:
            res.acked += answered
            res.last_ack = now
            if self.plan.mode == "closed" and self.issuing:
                self.send_orders(answered)

    def _admin(self, mtype: str, buf: bytes, a: int, b: int) -> None:
        if mtype == "A" and not self.logged_on.done():
            self.logged_on.set_result(None)
            return
        self.res.other[mtype] = self.res.other.get(mtype, 0) + 1
        if mtype == "5" and not self.logged_on.done():
            self.logged_on.set_exception(ConnectionError(
                f"{self.sp.sender}: logout {buf[a:b]!r}"))

    # -- sending -------------------------------------------------------------------------------

    def send_orders(self, k: int) -> int:
        """Send the next `k` orders (fewer at the end) in one write; returns how many."""
        start = self.next
        stop = min(start + k, len(self.templates))
        if stop <= start or self.transport is None:
            return 0
        ts, ts_sum = self.clock.now()
        tpl = self.templates
        data = b"".join([tpl[i].encode(ts, ts_sum) for i in range(start, stop)])
        now = mono()
        send_ts = self.send_ts
        for i in range(start, stop):
            send_ts[i] = now
        self.next = stop
        self.res.sent = stop
        if not self.res.first_send:
            self.res.first_send = now
        self.transport.write(data)
        return stop - start


async def _connect(plan: Plan, clients: list[Client]) -> None:
    loop = asyncio.get_running_loop()
    for c in clients:
        await loop.create_connection(lambda c=c: c, "127.0.0.1", plan.port)  # type: ignore[misc]
        if plan.logon:
            ts, _ = c.clock.now()
            assert c.transport is not None
            c.transport.write(logon(c.sp.sender.encode(), c.sp.target.encode(), plan.heartbeat,
                                    ts))
    if plan.logon:
        await asyncio.wait_for(asyncio.gather(*(c.logged_on for c in clients)), 10)


async def _closed(plan: Plan, orders: list[Client]) -> None:
    for c in orders:
        c.send_orders(plan.window)
    deadline = time.monotonic() + plan.duration
    while time.monotonic() < deadline:
        if all(c.next >= len(c.templates) for c in orders):
            break
        await asyncio.sleep(0.05)
    for c in orders:
        c.issuing = False


async def _open(plan: Plan, orders: list[Client]) -> None:
    interval = 1e9 / plan.rate
    t0 = mono()
    deadline = t0 + int(plan.duration * 1e9)
    # An open loop does not slow down for the server; but a server far behind would only build
    # a backlog that takes minutes to drain, so stop offering once 2 s worth is unanswered.
    backlog = max(plan.window, int(plan.rate * plan.overload_seconds))
    # Independent clients are not in step: spread the sessions' schedules over one interval.
    phases = [int(interval * i / len(orders)) for i in range(len(orders))]
    while True:
        now = mono()
        if now >= deadline or all(c.next >= len(c.templates) for c in orders):
            break
        if any(c.next - c.res.acked > backlog for c in orders):
            for c in orders:
                c.res.overloaded = True
            break
        for c, phase in zip(orders, phases, strict=True):
            due = int((now - t0 - phase) // interval) + 1  # floor: not before its time
            k = min(due, len(c.templates)) - c.next
            if k > 0:
                first = c.next
                c.send_orders(k)
                lag = c.res.send_lag
                for i in range(first, c.next):
                    lag.append(now - (t0 + phase + int(i * interval)))
        await asyncio.sleep(0.001)  # libuv timers have 1 ms resolution


async def _drain(orders: list[Client], drops: list[Client], timeout: float) -> None:
    """Wait for every sent order's answer, then for the drop copies to catch up."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if all(c.res.acked >= c.next for c in orders):
            break
        await asyncio.sleep(0.01)
    total = sum(len(c.res.exec_ids) for c in orders)
    end = time.monotonic() + 3.0
    while drops and time.monotonic() < end:
        if sum(len(d.res.exec_ids) for d in drops) >= total:
            break
        await asyncio.sleep(0.01)


async def _run(plan: Plan, ready: Any, go: Any) -> tuple[list[SessionResult], float, float]:
    clock = Clock()
    clients = [Client(plan, sp, i, clock) for i, sp in enumerate(plan.sessions)]
    await _connect(plan, clients)
    ready.put("ready")
    # Blocking wait on purpose: nothing else should happen in this process until the start.
    go.wait(60)
    cpu0, wall0 = time.process_time(), time.monotonic()
    orders = [c for c in clients if not c.sp.drop_copy]
    drops = [c for c in clients if c.sp.drop_copy]
    if plan.mode == "closed":
        await _closed(plan, orders)
    else:
        await _open(plan, orders)
    await _drain(orders, drops, timeout=15.0)
    for c in clients:
        if c.transport is not None:
            c.transport.close()
    return [c.res for c in clients], time.process_time() - cpu0, time.monotonic() - wall0


def run_worker(plan: Plan, ready: Any, go: Any, results: Any) -> None:
    """Process entry point: put ([SessionResult], cpu seconds, wall seconds) on `results`, or an
    error string."""
    try:
        results.put(uvloop.run(_run(plan, ready, go)))
    except BaseException as exc:  # the parent must hear about any failure, not hang
        ready.put(f"error: {exc!r}")
        results.put(f"error: {exc!r}")
