"""The asyncio acceptor: a thin shell around the sans-IO FIX sessions.

One `Gateway` owns every configured session (state, durable store, message log) and one listening
socket. Each TCP connection is an `asyncio.Protocol`: its reads are framed and handed to its session
in a batch; whatever the sessions and the application want to send is collected and written once per
event-loop turn, after the stores (and the application's journal) were made durable: group commit,
so nothing the counterparty sees can be lost by a crash.
"""

from __future__ import annotations

import asyncio
import ipaddress
import os
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import cast

import structlog

from gateway.config import Config, SessionConfig
from gateway.fix import (
    Action,
    Deliver,
    Disconnect,
    FileStore,
    Framer,
    Message,
    Send,
    Session,
    SessionEvent,
    SessionSettings,
    identify_logon,
)
from gateway.msglog import MessageLog

log = structlog.get_logger("gateway")

Clock = Callable[[], int]

#: application message types each role takes in; anything else gets BusinessMessageReject
ROLE_APP_TYPES: dict[str, frozenset[str]] = {
    "order_entry": frozenset({"D", "F", "G"}),
    "drop_copy": frozenset(),
    "market_data": frozenset({"W", "f"}),
}

#: a connection whose unsent output grows past this is dropped (its messages stay in the store)
MAX_WRITE_BUFFER = 64 * 1024 * 1024
TICK_SECONDS = 0.5
#: a connection that has not sent a valid Logon within this many seconds is closed
LOGON_TIMEOUT_NS = 10 * 1_000_000_000


class Application:
    """QuickFIX-style callbacks behind the sessions; the order path subclasses this.

    The defaults accept sessions and drop application messages: the session layer on its own.
    """

    def on_logon(self, key: str, now_ns: int) -> None:
        """A session logged on."""

    def on_logout(self, key: str, now_ns: int) -> None:
        """A logged-on session logged out or lost its connection."""

    def from_app(self, key: str, msg: Message, now_ns: int) -> None:
        """An application message, in sequence."""

    def before_send(self) -> object:
        """Once per loop turn, before the stores are synced: hand input to the OS here.

        Returns a token for `after_commit`: what this turn's commit covers."""
        return None

    def durable_fds(self) -> list[int]:
        """Files to fsync with the stores in each group commit (the matcher journal)."""
        return []

    def sync(self) -> None:
        """fsync = "always": make the application's input durable now."""

    def after_commit(self, token: object) -> None:
        """After the stores were synced (up to `token`) and before the sockets are written."""

    def close(self) -> None:
        """At shutdown, after the stores were closed."""


def session_settings(cfg: SessionConfig) -> SessionSettings:
    """The FIX-level settings of a configured session."""
    return SessionSettings(
        sender_comp_id=cfg.sender_comp_id,
        target_comp_id=cfg.target_comp_id,
        heartbeat_interval=cfg.heartbeat_interval,
        reset_on_logon=cfg.reset_on_logon,
        reset_on_logout=cfg.reset_on_logout,
        reset_on_disconnect=cfg.reset_on_disconnect,
        check_latency=cfg.check_latency,
        max_latency=cfg.max_latency,
        password=cfg.password,
        timestamp_precision=cfg.timestamp_precision,
        app_msg_types=ROLE_APP_TYPES[cfg.role],
    )


@dataclass(slots=True, eq=False)
class SessionRuntime:
    """A configured session: its state machine, store, message log and current connection."""

    config: SessionConfig
    session: Session
    store: FileStore
    msglog: MessageLog | None
    conn: Connection | None = None
    out: list[bytes] = field(default_factory=list)
    out_last_seq: int = 0  # MsgSeqNum of the last message put in `out`
    out_unordered: bool = False  # `out` needs sorting by MsgSeqNum before it is written
    close_after_flush: str | None = None

    @property
    def key(self) -> str:
        return self.config.key


class Connection(asyncio.Protocol):
    """One TCP connection; attached to a session once its first message, a Logon, names one."""

    def __init__(self, gateway: Gateway) -> None:
        self.gateway = gateway
        self.framer = Framer()
        self.transport: asyncio.Transport | None = None
        self.peer = ""
        self.runtime: SessionRuntime | None = None
        self.closed = False
        self.writing_paused = False
        self.opened_ns = gateway.clock()

    def connection_made(self, transport: asyncio.BaseTransport) -> None:
        self.transport = cast(asyncio.Transport, transport)  # uvloop's is not a subclass
        peer = self.transport.get_extra_info("peername")
        self.peer = str(peer[0]) if peer else ""
        self.gateway.connections.add(self)

    def data_received(self, data: bytes) -> None:
        gw = self.gateway
        now = gw.clock()
        garbled = self.framer.garbled
        messages = self.framer.feed(data)
        if self.framer.garbled != garbled:
            log.warning(
                "garbled",
                session=self.runtime.key if self.runtime else None,
                peer=self.peer,
                reason=self.framer.last_reason,
            )
        if not messages or self.closed:
            return
        rt = self.runtime
        if rt is None:
            rt = self._attach(messages[0], now)
            if rt is None:
                return
        if rt.msglog is not None:
            for raw in messages:
                rt.msglog.incoming(raw, now)
        # The whole read in as few calls as the order of replies allows (see receive_batch);
        # it stops after a message that ends the connection.
        start, session = 0, rt.session
        while start < len(messages):
            actions, start = session.receive_batch(messages, start, now)
            gw.handle_actions(rt, actions, now)
        # The expected inbound MsgSeqNum moved: it is made durable with this turn's commit (with
        # the journal of what the messages did), also when nothing is sent back, so a restart
        # asks the counterparty only for what was never applied.
        gw._dirty.add(rt)
        gw.schedule_flush()

    def _attach(self, raw: bytes, now: int) -> SessionRuntime | None:
        gw = self.gateway
        pair = identify_logon(raw)
        if pair is None:
            self.refuse("first message is not a valid Logon")
            return None
        sender, target = pair
        rt = gw.runtime_for(sender, target)
        if rt is None:
            self.refuse(f"unknown CompID pair {sender}->{target}")
            return None
        if not _ip_allowed(self.peer, rt.config.allowed_ips):
            self.refuse(f"address {self.peer} not in allowed_ips of {rt.key}")
            return None
        if rt.conn is not None:
            self.refuse(f"session {rt.key} is already connected")
            return None
        self.runtime = rt
        rt.conn = self
        rt.session.connected(now)
        return rt

    def refuse(self, reason: str) -> None:
        """Close without a word, as the session test cases expect of an unknown counterparty."""
        log.warning("connection_refused", peer=self.peer, reason=reason)
        self.close()

    def close(self) -> None:
        if not self.closed and self.transport is not None:
            self.closed = True
            self.transport.close()

    def pause_writing(self) -> None:
        # A slow reader: stop taking its input until its output drains. During a resend this
        # is the flow control that paces the chunks: not worth a log line each time.
        self.writing_paused = True
        resending = self.gateway.resending(self.runtime)
        (log.debug if resending else log.info)(
            "slow_consumer_paused",
            session=self.runtime.key if self.runtime else None,
            peer=self.peer,
        )
        if self.transport is not None:
            self.transport.pause_reading()

    def resume_writing(self) -> None:
        self.writing_paused = False
        resending = self.gateway.resending(self.runtime)
        (log.debug if resending else log.info)(
            "slow_consumer_resumed", session=self.runtime.key if self.runtime else None
        )
        if self.transport is not None and not self.closed:
            self.transport.resume_reading()
        if resending:
            self.gateway.schedule_resend()

    def connection_lost(self, exc: Exception | None) -> None:
        self.closed = True
        self.gateway.connections.discard(self)
        rt = self.runtime
        if rt is not None and rt.conn is self:
            self.gateway.detach(rt, "peer closed" if exc is None else str(exc))


def _seq_of(data: bytes) -> int:
    """MsgSeqNum of a message we built (34 follows 35 near the start)."""
    start = data.find(b"\x0134=") + 4
    return int(data[start : data.find(b"\x01", start)])


def _take_output(rt: SessionRuntime, now: int) -> bytes:
    """The turn's output of a session in MsgSeqNum order, logged; `out` is emptied."""
    out = rt.out
    if rt.out_unordered:
        out.sort(key=_seq_of)  # stable: a resent range keeps its order
        rt.out_unordered = False
    rt.out_last_seq = 0
    if rt.msglog is not None:
        for data in out:
            rt.msglog.outgoing(data, now)
    data = b"".join(out)
    out.clear()
    return data


def _ip_allowed(peer: str, allowed: tuple[str, ...]) -> bool:
    if not allowed:
        return True
    try:
        addr = ipaddress.ip_address(peer)
    except ValueError:
        return False
    return any(addr in ipaddress.ip_network(net, strict=False) for net in allowed)


class Gateway:
    """Every session, the listening socket, and the per-turn group commit."""

    def __init__(
        self,
        config: Config,
        data_dir: Path,
        app: Application | None = None,
        clock: Clock = time.time_ns,
    ) -> None:
        self.config = config
        self.data_dir = data_dir
        self.app: Application = app or Application()
        self.clock = clock
        self.fsync = config.gateway.fsync
        self.logon_timeout_ns = LOGON_TIMEOUT_NS
        self.connections: set[Connection] = set()
        self.runtimes: dict[str, SessionRuntime] = {}
        self._by_pair: dict[tuple[str, str], SessionRuntime] = {}
        self._dirty: set[SessionRuntime] = set()
        self._flush_scheduled = False
        self._resending: set[SessionRuntime] = set()
        self._resend_scheduled = False
        self._server: asyncio.AbstractServer | None = None
        self._ticker: asyncio.Task[None] | None = None
        for cfg in config.sessions:
            self._add_runtime(cfg)

    def _add_runtime(self, cfg: SessionConfig) -> None:
        store = FileStore(self.data_dir / "sessions", cfg.key, fsync=self.fsync)
        for warning in store.warnings:
            log.warning("store_recovered", session=cfg.key, detail=warning)
        msglog = None
        if cfg.message_log and self.config.gateway.message_log:
            msglog = MessageLog(self.data_dir / "log" / f"{cfg.key}.messages.log")
        rt = SessionRuntime(cfg, Session(session_settings(cfg), store), store, msglog)
        self.runtimes[cfg.key] = rt
        # keyed as the counterparty sends it: their SenderCompID is our target
        self._by_pair[(cfg.target_comp_id, cfg.sender_comp_id)] = rt

    def runtime_for(self, their_sender: str, their_target: str) -> SessionRuntime | None:
        return self._by_pair.get((their_sender, their_target))

    # -- serving -------------------------------------------------------------------------------

    async def start(self, host: str | None = None, port: int | None = None) -> int:
        """Listen; returns the bound port (useful with port 0)."""
        loop = asyncio.get_running_loop()
        self._server = await loop.create_server(
            lambda: Connection(self),
            host or self.config.gateway.host,
            self.config.gateway.port if port is None else port,
        )
        self._ticker = asyncio.create_task(self._tick_loop())
        bound = int(self._server.sockets[0].getsockname()[1])
        log.info(
            "listening",
            host=host or self.config.gateway.host,
            port=bound,
            sessions=len(self.runtimes),
            data_dir=str(self.data_dir),
        )
        return bound

    async def _tick_loop(self) -> None:
        while True:
            await asyncio.sleep(TICK_SECONDS)
            now = self.clock()
            for rt in list(self.runtimes.values()):
                if rt.conn is not None:
                    self.handle_actions(rt, rt.session.tick(now), now)
            for conn in list(self.connections):
                if conn.runtime is None and now - conn.opened_ns > self.logon_timeout_ns:
                    conn.refuse("no Logon within 10 seconds")
            self.schedule_flush()

    # -- actions from sessions -----------------------------------------------------------------

    def handle_actions(self, rt: SessionRuntime, actions: Sequence[Action], now: int) -> None:
        for action in actions:
            if isinstance(action, Send):
                self._queue(rt, action.data, now)
            elif isinstance(action, Deliver):
                self.app.from_app(rt.key, action.msg, now)
            elif isinstance(action, SessionEvent):
                self._session_event(rt, action, now)
            elif isinstance(action, Disconnect):
                rt.close_after_flush = action.reason
                self._dirty.add(rt)
        if rt.session.resend_pending and rt not in self._resending:
            self._resending.add(rt)
            self.schedule_resend()

    def _session_event(self, rt: SessionRuntime, ev: SessionEvent, now: int) -> None:
        log.info(ev.kind, session=rt.key, **ev.detail)
        if ev.kind == "logon":
            self.app.on_logon(rt.key, now)

    def _queue(self, rt: SessionRuntime, data: bytes, now: int) -> None:
        if not data:  # held by the session behind a resend: stored, sent when it is reached
            return
        # A session numbers its own replies (a Heartbeat) while it reads a batch, before the
        # application numbers what the batch's earlier messages caused: note when a message
        # comes out below one already queued, so the turn's output is sorted before it goes.
        seq = _seq_of(data)
        if seq < rt.out_last_seq:
            rt.out_unordered = True
        else:
            rt.out_last_seq = seq
        rt.out.append(data)
        self._dirty.add(rt)

    # -- resends in chunks ---------------------------------------------------------------------

    def resending(self, rt: SessionRuntime | None) -> bool:
        """A resend of this session is being pumped out."""
        return rt is not None and rt in self._resending

    def schedule_resend(self) -> None:
        if not self._resend_scheduled:
            self._resend_scheduled = True
            asyncio.get_running_loop().call_soon(self._pump_resends)

    def _pump_resends(self) -> None:
        """One chunk of each resend under way whose connection can take more, then yield.

        A chunk is queued like any output and written by the turn's flush; the next chunk is
        made in a later loop turn, after other connections were served, and only while the
        connection is not paused by its transport's flow control (resume_writing comes back
        here). So a long resend never holds up other sessions nor piles up in memory.
        """
        self._resend_scheduled = False
        now = self.clock()
        more = False
        for rt in list(self._resending):
            conn = rt.conn
            if conn is None or conn.closed or not rt.session.resend_pending:
                self._resending.discard(rt)
                continue
            if conn.writing_paused:
                continue
            self.handle_actions(rt, rt.session.resend_chunk(now), now)
            if rt.session.resend_pending:
                more = True
            else:
                self._resending.discard(rt)
        self.schedule_flush()
        if more:
            self.schedule_resend()

    def send(self, key: str, msg_type: str, body: bytes, header_extra: bytes = b"") -> None:
        """Send an application message on a session; stored even when it is not connected."""
        rt = self.runtimes[key]
        now = self.clock()
        data = rt.session.send_app(msg_type, body, now, header_extra)
        self._dirty.add(rt)
        if data is not None:
            self._queue(rt, data, now)
        self.schedule_flush()

    def stored_messages(self, key: str) -> list[bytes]:
        """Every message the session's store holds (recovery looks for reports in them)."""
        store = self.runtimes[key].store
        return [raw for _, raw in store.get(1, store.next_sender_seq - 1)]

    # -- group commit --------------------------------------------------------------------------

    def schedule_flush(self) -> None:
        if not self._flush_scheduled:
            self._flush_scheduled = True
            asyncio.get_running_loop().call_soon(self.flush)

    def flush(self) -> None:
        """Group commit: hand this turn's writes to the OS, make them durable, then send.

        With fsync = "batch" every file written this turn (the dirty session stores and the
        matcher journal) is fdatasync'ed once, here, before any of the turn's output is written
        to a socket: nothing a counterparty sees can be lost by a crash. Measured with
        bench/e2e.py, doing the fdatasyncs in worker threads (in parallel, or in one sync
        thread) cost more CPU per order in thread hand-offs and gave worse latency than doing
        them inline. With "always" the stores fsync each message themselves; with "never"
        output goes out at once.
        """
        self._flush_scheduled = False
        token = self.app.before_send()
        dirty = list(self._dirty)
        self._dirty.clear()
        batch: list[tuple[SessionRuntime, Connection | None, bytes, str | None]] = []
        for rt in dirty:
            rt.store.flush()
            if rt.out or rt.close_after_flush is not None:
                batch.append((rt, rt.conn, _take_output(rt, self.clock()), rt.close_after_flush))
                rt.close_after_flush = None
            if rt.msglog is not None:
                rt.msglog.flush()
        if self.fsync == "batch":
            fds = {rt.store.fileno() for rt in dirty}
            fds.update(self.app.durable_fds())
            for fd in fds:
                try:
                    os.fdatasync(fd)
                except OSError as exc:
                    log.error("fsync_failed", error=str(exc))
        elif self.fsync == "always":
            self.app.sync()
        self.app.after_commit(token)
        self._write(batch)

    def _write(
        self, batch: list[tuple[SessionRuntime, Connection | None, bytes, str | None]]
    ) -> None:
        """Send each connection's output in one write; close where the session said so."""
        for rt, conn, data, close_reason in batch:
            # output belongs to the connection it was produced for: a newer one logs on afresh
            alive = conn is not None and conn is rt.conn and not conn.closed
            if data and alive and conn is not None and conn.transport is not None:
                conn.transport.write(data)
                if conn.transport.get_write_buffer_size() > MAX_WRITE_BUFFER:
                    log.warning("slow_consumer_disconnected", session=rt.key)
                    conn.close()
            if close_reason is not None and conn is not None:
                log.info("disconnecting", session=rt.key, reason=close_reason)
                conn.close()

    def detach(self, rt: SessionRuntime, reason: str) -> None:
        now = self.clock()
        was_logged_on = rt.session.logged_on
        rt.conn = None
        rt.out.clear()
        rt.out_last_seq, rt.out_unordered = 0, False
        self._resending.discard(rt)
        rt.session.disconnected(now)
        log.info("disconnect", session=rt.key, reason=reason)
        if was_logged_on:
            self.app.on_logout(rt.key, now)
        self._dirty.add(rt)
        self.schedule_flush()

    # -- shutdown ------------------------------------------------------------------------------

    async def shutdown(self, grace: float = 2.0) -> None:
        """Stop accepting, send Logout to every session, wait for replies, flush stores."""
        if self._server is not None:
            self._server.close()
        now = self.clock()
        for rt in self.runtimes.values():
            if rt.conn is not None and rt.session.logged_on:
                self.handle_actions(rt, rt.session.logout("gateway shutting down", now), now)
        self.flush()
        deadline = time.monotonic() + grace
        while any(rt.conn is not None for rt in self.runtimes.values()):
            if time.monotonic() > deadline:
                break
            await asyncio.sleep(0.02)
        for conn in list(self.connections):
            conn.close()
        if self._ticker is not None:
            self._ticker.cancel()
        await asyncio.sleep(0)
        self.flush()
        for rt in self.runtimes.values():
            rt.store.flush()
            rt.store.sync()
            rt.store.close()
            if rt.msglog is not None:
                rt.msglog.close()
        self.app.close()
        if self._server is not None:
            await self._server.wait_closed()
        log.info("stopped")
