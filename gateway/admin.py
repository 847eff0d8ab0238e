"""The operator's surface: Prometheus metrics, health and readiness, JSON status views.

Served over HTTP on its own port (``[admin]`` in the config; loopback by default), on the
gateway's event loop. Everything here only reads what the gateway and the order path expose
(plain-int counters, session state, the engine's read access): a view never changes state, and
the hot path never calls the Prometheus client (the collector reads the counters at scrape
time).

| path | what |
| --- | --- |
| ``/metrics`` | Prometheus text exposition |
| ``/health`` | 200 while storage is writable, else 503 with the reason (JSON) |
| ``/ready`` | 200 once the FIX port listens and storage is fine, else 503 |
| ``/sessions`` | each session: state, sequence numbers, last message in and out, counters |
| ``/symbols`` | each symbol: NBBO, market state, resting depth per side |
| ``/status`` | the three above in one document |
"""

from __future__ import annotations

import asyncio
import json
import os
import time
from collections.abc import Callable, Iterator
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import structlog
from prometheus_client import CollectorRegistry, generate_latest
from prometheus_client.core import (
    CounterMetricFamily,
    GaugeMetricFamily,
    HistogramMetricFamily,
    Metric,
)
from prometheus_client.registry import Collector

from gateway.app import OrderApplication
from gateway.config import AdminConfig
from gateway.fix._build import BUILD, huge_arena_bytes, memory
from gateway.server import Gateway, SessionRuntime
from gateway.stats import LatencyHistogram
from matcher import format_price

log = structlog.get_logger("gateway.admin")

#: a request head larger than this is refused; so is one that takes longer than the timeout
MAX_REQUEST_BYTES = 8192
REQUEST_TIMEOUT_S = 5.0
#: admin connections served at once; more are closed unanswered
MAX_CONNECTIONS = 16

_REASONS = {200: "OK", 400: "Bad Request", 404: "Not Found", 405: "Method Not Allowed",
            503: "Service Unavailable"}
_PROMETHEUS_TYPE = "text/plain; version=0.0.4; charset=utf-8"


def _iso(ns: int | None) -> str | None:
    if not ns:
        return None
    return datetime.fromtimestamp(ns / 1e9, UTC).isoformat(timespec="milliseconds")


class Views:
    """What the operator sees, read from the gateway (and its order path when it has one)."""

    def __init__(self, gateway: Gateway, clock: Callable[[], int] = time.time_ns) -> None:
        self.gateway = gateway
        self.clock = clock

    @property
    def app(self) -> OrderApplication | None:
        app = self.gateway.app
        return app if isinstance(app, OrderApplication) else None

    # -- health --------------------------------------------------------------------------------

    def health(self) -> tuple[bool, dict[str, Any]]:
        """Storage checks: no write or fsync error seen, and the data directories take a write."""
        checks: dict[str, str] = {}
        gw = self.gateway
        checks["storage"] = "ok" if gw.storage_error is None else gw.storage_error
        dirs = {"sessions": gw.data_dir / "sessions"}
        app = self.app
        if app is not None:
            dirs["journal"] = app.journal_dir
            journal = app.engine.journal
            if journal is not None:
                checks["journal_file"] = _still_linked(journal.fileno(), journal.path)
        for name, directory in dirs.items():
            checks[f"{name}_dir"] = _probe_write(directory)
        for rt in gw.runtimes.values():
            if rt.store.fileno() >= 0:
                problem = _still_linked(rt.store.fileno(), str(rt.store.path))
                if problem != "ok":
                    checks[f"store {rt.key}"] = problem
        ok = all(v == "ok" for v in checks.values())
        return ok, {"status": "ok" if ok else "failing", "checks": checks}

    def ready(self) -> tuple[bool, dict[str, Any]]:
        """Ready to take FIX traffic: listening, and healthy."""
        healthy, health = self.health()
        listening = self.gateway.listening
        ok = healthy and listening is not None
        doc: dict[str, Any] = {"status": "ok" if ok else "not ready",
                               "listening": None if listening is None else
                               {"host": listening[0], "port": listening[1]},
                               "checks": health["checks"]}
        return ok, doc

    # -- status views --------------------------------------------------------------------------

    def sessions(self) -> list[dict[str, Any]]:
        app = self.app
        return [self._session(rt, app) for rt in self.gateway.runtimes.values()]

    def _session(self, rt: SessionRuntime, app: OrderApplication | None) -> dict[str, Any]:
        s, cfg = rt.session, rt.config
        state = "logged_on" if s.logged_on else "connected" if s.is_connected else "disconnected"
        conn = rt.conn
        doc: dict[str, Any] = {
            "session": rt.key,
            "sender_comp_id": cfg.sender_comp_id,
            "target_comp_id": cfg.target_comp_id,
            "role": cfg.role,
            "state": state,
            "peer": None if conn is None else f"{conn.peer}:{conn.peer_port}",
            "next_sender_seq": s.next_sender_seq,
            "next_target_seq": s.next_target_seq,
            "heartbeat_interval": s.heartbeat_interval,
            "last_received": _iso(s.last_received_ns) if s.is_connected else None,
            "last_sent": _iso(s.last_sent_ns) if s.is_connected else None,
            "messages_received": rt.msgs_in,
            "messages_sent": rt.msgs_out,
            "events": dict(sorted(rt.events.items())),
        }
        if cfg.role == "order_entry":
            doc["participant"] = cfg.participant
            if app is not None:
                doc["orders_received"] = app.orders_received.get(rt.key, 0)
                doc["fills"] = app.fills.get(rt.key, 0)
                doc["open_orders"] = len(app.engine.open_orders(rt.key))
        return doc

    def symbols(self) -> list[dict[str, Any]]:
        app = self.app
        if app is None:
            return []
        out = []
        for symbol in app.engine.symbols():
            m = app.engine.market(symbol)
            out.append({
                "symbol": symbol,
                "nbb": _px(m.nbb),
                "nbo": _px(m.nbo),
                "matching": m.can_match,
                "halted": m.halted,
                "luld_state": m.luld,
                "short_sale_restriction": m.ssr,
                "bids": {"orders": m.buy_orders, "qty": m.buy_qty},
                "offers": {"orders": m.sell_orders, "qty": m.sell_qty},
            })
        return out

    def status(self) -> dict[str, Any]:
        healthy, health = self.health()
        return {"time": _iso(self.clock()), "health": health, "sessions": self.sessions(),
                "symbols": self.symbols()}


def _px(price: int | None) -> str | None:
    """A price as quoted: at least two decimals (10.1 -> "10.10")."""
    if price is None:
        return None
    whole, _, frac = format_price(price).partition(".")
    return f"{whole}.{frac.ljust(2, '0')}"


def _probe_write(directory: Path) -> str:
    """Create, write and remove a small file in the directory: "ok" or why it failed."""
    probe = directory / ".health-probe"
    try:
        fd = os.open(probe, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o644)
        try:
            os.write(fd, b"ok\n")
        finally:
            os.close(fd)
        os.unlink(probe)
    except OSError as exc:
        return f"cannot write in {directory}: {exc.strerror or exc}"
    return "ok"


def _still_linked(fd: int, path: str) -> str:
    """A file we append to must still be the one at its path (not deleted or replaced)."""
    try:
        ours = os.fstat(fd)
    except OSError as exc:
        return f"{path}: {exc.strerror or exc}"
    try:
        there = os.stat(path)
    except OSError:
        return f"{path} is gone: writes go to a deleted file"
    if (ours.st_dev, ours.st_ino) != (there.st_dev, there.st_ino):
        return f"{path} was replaced: writes go to a file no longer at that path"
    return "ok"


class GatewayCollector(Collector):
    """Prometheus metrics built at scrape time from the gateway's plain counters."""

    def __init__(self, views: Views) -> None:
        self.views = views

    def collect(self) -> Iterator[Metric]:
        gw = self.views.gateway
        runtimes = list(gw.runtimes.values())
        yield _gauge("ats_sessions_connected", "Sessions logged on now",
                     sum(rt.session.logged_on for rt in runtimes))
        up = GaugeMetricFamily("ats_session_logged_on", "1 while the session is logged on",
                               labels=["session"])
        recv = CounterMetricFamily("ats_messages_received", "FIX messages received",
                                   labels=["session"])
        sent = CounterMetricFamily("ats_messages_sent", "FIX messages sent (resends included)",
                                   labels=["session"])
        resends = CounterMetricFamily("ats_resend_requests", "ResendRequests answered",
                                      labels=["session"])
        events = CounterMetricFamily("ats_session_events", "Session events (as logged)",
                                     labels=["session", "event"])
        for rt in runtimes:
            up.add_metric([rt.key], int(rt.session.logged_on))
            recv.add_metric([rt.key], rt.msgs_in)
            sent.add_metric([rt.key], rt.msgs_out)
            resends.add_metric([rt.key], rt.events.get("resend", 0))
            for kind, n in sorted(rt.events.items()):
                events.add_metric([rt.key, kind], n)
        yield from (up, recv, sent, resends, events)
        refused = CounterMetricFamily("ats_connections_refused",
                                      "Connections closed before logon (see connection_refused)")
        refused.add_metric([], gw.refused)
        yield refused
        healthy, _ = self.views.health()
        yield _gauge("ats_storage_ok", "1 while stores and journal are writable", int(healthy))
        info = GaugeMetricFamily("ats_build_info", "The hot path's build and the memory Python's "
                                 "objects live on, as the listening line says",
                                 labels=["build", "memory"])
        info.add_metric([BUILD, memory()], 1)
        yield info
        yield _gauge("ats_memory_huge_reserved_bytes",
                     "Memory reserved for Python's objects on huge pages (its peak: what the "
                     "process frees is kept for reuse)", huge_arena_bytes())
        app = self.views.app
        if app is not None:
            yield from self._orders(app, [rt.key for rt in runtimes
                                          if rt.config.role == "order_entry"])

    def _orders(self, app: OrderApplication, order_sessions: list[str]) -> Iterator[Metric]:
        orders = CounterMetricFamily("ats_orders_received", "NewOrderSingle received",
                                     labels=["session"])
        fills = CounterMetricFamily("ats_fills", "Fills (each side of a match counts)",
                                    labels=["session"])
        for key in order_sessions:
            orders.add_metric([key], app.orders_received.get(key, 0))
            fills.add_metric([key], app.fills.get(key, 0))
        yield orders
        yield fills
        yield _by_reason("ats_order_rejects", "Orders rejected (ExecType 8), by OrdRejReason",
                         app.rejects)
        yield _by_reason("ats_cancel_rejects", "Cancels and replaces rejected, by CxlRejReason",
                         app.cancel_rejects)
        yield _histogram("ats_ack_latency_seconds",
                         "NewOrderSingle read to its report committed for sending",
                         app.ack_latency)
        yield _histogram("ats_commit_seconds",
                         "Group commit of stores and journal (write + fdatasync), per loop turn "
                         "that carried matcher commands", app.commit_latency)
        resting = GaugeMetricFamily("ats_resting_orders", "Orders resting in the book",
                                    labels=["symbol"])
        for symbol in app.engine.symbols():
            resting.add_metric([symbol], app.engine.resting(symbol))
        yield resting


def _gauge(name: str, doc: str, value: int) -> GaugeMetricFamily:
    return GaugeMetricFamily(name, doc, value=value)


def _by_reason(name: str, doc: str, counts: dict[tuple[str, str], int]) -> CounterMetricFamily:
    family = CounterMetricFamily(name, doc, labels=["session", "reason"])
    for (session, reason), n in sorted(counts.items()):
        family.add_metric([session, reason], n)
    return family


def _histogram(name: str, doc: str, h: LatencyHistogram) -> HistogramMetricFamily:
    buckets = [("+Inf" if bound is None else repr(bound / 1e9), count)
               for bound, count in h.cumulative()]
    return HistogramMetricFamily(name, doc, buckets=buckets, sum_value=h.sum_ns / 1e9)


class AdminServer:
    """A small HTTP/1.1 server (GET and HEAD, one request per connection) for the views."""

    def __init__(self, gateway: Gateway, config: AdminConfig) -> None:
        self.config = config
        self.views = Views(gateway)
        self.registry = CollectorRegistry(auto_describe=False)
        self.registry.register(GatewayCollector(self.views))
        self._server: asyncio.AbstractServer | None = None
        self._active = 0

    async def start(self, host: str | None = None, port: int | None = None) -> int:
        """Listen; returns the bound port (port 0: any free one, logged)."""
        bind_host = host or self.config.host
        self._server = await asyncio.start_server(
            self._serve, bind_host, self.config.port if port is None else port,
            limit=MAX_REQUEST_BYTES)
        bound = int(self._server.sockets[0].getsockname()[1])
        log.info("admin_listening", host=bind_host, port=bound,
                 paths=["/metrics", "/health", "/ready", "/sessions", "/symbols", "/status"])
        return bound

    async def close(self) -> None:
        if self._server is not None:
            self._server.close()
            await self._server.wait_closed()

    async def _serve(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        if self._active >= MAX_CONNECTIONS:
            writer.close()
            return
        self._active += 1
        try:
            head = await asyncio.wait_for(reader.readuntil(b"\r\n\r\n"), REQUEST_TIMEOUT_S)
            status, ctype, body, method = self._answer(head)
        except (asyncio.IncompleteReadError, asyncio.LimitOverrunError, TimeoutError,
                ConnectionError):
            writer.close()
            self._active -= 1
            return
        try:
            writer.write(b"HTTP/1.1 %d %s\r\nContent-Type: %s\r\nContent-Length: %d\r\n"
                         b"Cache-Control: no-store\r\nConnection: close\r\n\r\n"
                         % (status, _REASONS[status].encode(), ctype.encode(), len(body)))
            if method != "HEAD":
                writer.write(body)
            await writer.drain()
        except ConnectionError:
            pass
        finally:
            writer.close()
            self._active -= 1

    def _answer(self, head: bytes) -> tuple[int, str, bytes, str]:
        """(status, content type, body, method) for a request head."""
        parts = head.split(b"\r\n", 1)[0].decode("latin-1").split()
        if len(parts) != 3 or not parts[2].startswith("HTTP/"):
            return _json(400, {"error": "not an HTTP request"}) + ("GET",)
        method, target = parts[0], parts[1].split("?", 1)[0]
        if method not in ("GET", "HEAD"):
            return _json(405, {"error": "only GET and HEAD"}) + (method,)
        return self.route(target) + (method,)

    def route(self, path: str) -> tuple[int, str, bytes]:
        """(status, content type, body) for a path."""
        v = self.views
        if path == "/metrics":
            return 200, _PROMETHEUS_TYPE, generate_latest(self.registry)
        if path in ("/health", "/healthz"):
            ok, doc = v.health()
            return _json(200 if ok else 503, doc)
        if path in ("/ready", "/readyz"):
            ok, doc = v.ready()
            return _json(200 if ok else 503, doc)
        if path == "/sessions":
            return _json(200, v.sessions())
        if path == "/symbols":
            return _json(200, v.symbols())
        if path in ("/status", "/"):
            return _json(200, v.status())
        return _json(404, {"error": f"no such path {path!r}",
                           "paths": ["/metrics", "/health", "/ready", "/sessions", "/symbols",
                                     "/status"]})


def _json(status: int, doc: object) -> tuple[int, str, bytes]:
    return status, "application/json", (json.dumps(doc, indent=2) + "\n").encode()
