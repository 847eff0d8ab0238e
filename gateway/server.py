"""The asyncio acceptor: a thin shell around the sans-IO FIX sessions.

One `Gateway` owns every configured session (state, durable store, message log) and one listening
socket. Each TCP connection is an `asyncio.Protocol`: its reads are framed and handed to its session
in a batch; whatever the sessions and the application want to send is collected and written once per
event-loop turn, after the stores (and the application's journal) were made durable: group commit,
so nothing the counterparty sees can be lost by a crash. A failed write or fsync is fail-stop
(see gateway.storage): nothing of that turn is sent, and the gateway stops.
"""

from __future__ import annotations

import asyncio
import ipaddress
import time
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import cast

import structlog

from gateway.application import Application, Outbound, SessionRuntime, seq_of
from gateway.config import Config, SessionConfig
from gateway.fix import (
    Action,
    Disconnect,
    FileStore,
    Framer,
    Send,
    Session,
    SessionEvent,
    SessionSettings,
    clip,
    identify_logon,
)
from gateway.fix._build import BUILD, memory
from gateway.msglog import MessageLog
from gateway.storage import EXIT_STORAGE_FAILED, NO_SPACE, describe, release_reserve

log = structlog.get_logger("gateway")

__all__ = ["Application", "Connection", "Gateway", "SessionRuntime", "session_settings"]

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
#: how every FIX 4.x stream begins; a connection whose first bytes differ is refused at once
_FIX_START = b"8=FIX"


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


class Connection(asyncio.Protocol):
    """One TCP connection; attached to a session once its first message, a Logon, names one."""

    def __init__(self, gateway: Gateway) -> None:
        self.gateway = gateway
        self.framer = Framer()
        self._head = b""  # the connection's first bytes, until they show a FIX stream
        self._fix_seen = False
        self.transport: asyncio.Transport | None = None
        self.peer = ""
        self.peer_port = 0
        self.runtime: SessionRuntime | None = None
        self.closed = False
        self.writing_paused = False
        self.opened_ns = gateway.clock()

    def connection_made(self, transport: asyncio.BaseTransport) -> None:
        self.transport = cast(asyncio.Transport, transport)  # uvloop's is not a subclass
        peer = self.transport.get_extra_info("peername")
        self.peer = str(peer[0]) if peer else ""
        self.peer_port = int(peer[1]) if peer and len(peer) > 1 else 0
        self.gateway.connections.add(self)
        log.debug("connection_opened", peer=self.peer, peer_port=self.peer_port)

    def data_received(self, data: bytes) -> None:
        gw = self.gateway
        now = gw.clock()
        if self.runtime is None and not self._fix_seen and self._not_fix(data):
            return
        garbled = self.framer.garbled
        messages = self.framer.feed(data)
        if self.framer.garbled != garbled:
            log.warning(
                "garbled",
                session=self.runtime.key if self.runtime else None,
                peer=self.peer,
                reason=self.framer.last_reason,
            )
        if messages and not self.closed and gw.failure is None:
            self._receive(messages, now)
        if self.framer.close_reason is not None and not self.closed:
            self._give_up(self.framer.close_reason, now)

    def _not_fix(self, data: bytes) -> bool:
        """A connection's first bytes must begin a FIX message (`8=FIX`): anything else (an
        HTTP probe, a TLS hello, a port scan) is refused at once instead of waiting for the
        logon timeout. True when the connection was refused."""
        head = self._head = self._head + data[: len(_FIX_START) - len(self._head)]
        if _FIX_START.startswith(head):
            self._fix_seen = len(head) == len(_FIX_START)
            return False
        self.refuse(f"not a FIX stream: first bytes {clip(repr(head))}")
        return True

    def _receive(self, messages: list[bytes], now: int) -> None:
        gw = self.gateway
        rt = self.runtime
        if rt is None:
            rt = self._attach(messages[0], now)
            if rt is None:
                return
        rt.msgs_in += len(messages)
        if rt.msglog is not None:
            rt.msglog.incoming_many(messages, now)
        # The whole read in as few calls as the order of replies allows (see receive_batch);
        # it stops after a message that ends the connection.
        start, session = 0, rt.session
        out = gw.outbound
        out.read_now = now
        try:
            while start < len(messages):
                actions, start = session.receive_batch(messages, start, now)
                gw.handle_actions(rt, actions, now)
        finally:
            out.read_now = 0
        # The expected inbound MsgSeqNum moved: it is made durable with this turn's commit (with
        # the journal of what the messages did), also when nothing is sent back, so a restart
        # asks the counterparty only for what was never applied.
        gw._dirty.add(rt)
        gw.schedule_flush()

    def _give_up(self, reason: str, now: int) -> None:
        """The framer cannot go on (a frame that never ends, a garbled Logon): close."""
        rt = self.runtime
        if rt is None or rt.conn is not self:
            self.refuse(f"garbled: {reason}")
            return
        self.gateway.handle_actions(rt, rt.session.abort(f"garbled: {reason}", now), now)
        self.gateway.schedule_flush()

    def _attach(self, raw: bytes, now: int) -> SessionRuntime | None:
        gw = self.gateway
        pair = identify_logon(raw)
        if pair is None:
            self.refuse("first message is not a valid Logon")
            return None
        sender, target = pair
        rt = gw.runtime_for(sender, target)
        if rt is None:
            self.refuse(f"unknown CompID pair {clip(sender)}->{clip(target)}")
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
        log.warning("connection_refused", peer=self.peer, peer_port=self.peer_port, reason=reason)
        self.gateway.refused += 1
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


def _take_output(rt: SessionRuntime, now: int) -> bytes:
    """The turn's output of a session in MsgSeqNum order, logged; `out` is emptied."""
    out = rt.out
    if rt.out_unordered:
        _sort_live(out)
        rt.out_unordered = False
    rt.out_last_seq = 0
    rt.msgs_out += len(out)
    if rt.msglog is not None:
        rt.msglog.outgoing_many(out, now)  # one line-buffer entry for the turn's output
    data = b"".join(out)
    out.clear()
    return data


def _drop_copy_last(rt: SessionRuntime) -> bool:
    return rt.config.role == "drop_copy"


def _sort_live(out: list[bytes]) -> None:
    """Put the live messages of a turn in MsgSeqNum order, each in a slot a live one had.

    Resent messages (PossDupFlag=Y: copies and gap fills, numbered below everything live)
    keep their places: a reply made before a ResendRequest was read goes out before the
    resend, not in the middle of it."""
    live = [i for i, data in enumerate(out) if b"\x0143=Y\x01" not in data]
    for i, data in zip(live, sorted((out[i] for i in live), key=seq_of), strict=True):
        out[i] = data


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
        self.clock = clock
        self.fsync = config.gateway.fsync
        self.logon_timeout_ns = LOGON_TIMEOUT_NS
        self.connections: set[Connection] = set()
        self.runtimes: dict[str, SessionRuntime] = {}
        self._by_pair: dict[tuple[str, str], SessionRuntime] = {}
        self._dirty: set[SessionRuntime] = set()
        self._resending: set[SessionRuntime] = set()
        self._resend_scheduled = False
        # the per-message half of `send`, compiled (gateway/application.py); it also holds the
        # clock reading of the read being handled (its replies share it: one SendingTime and
        # message-log stamp formatted per read, not per message) and whether a flush is due
        self.outbound = Outbound(self.runtimes, self._dirty, clock, self.schedule_flush,
                                 self._sync_input if self.fsync == "always" else None,
                                 self._other_action, app or Application())
        # the application calls the compiled send directly (one native call per message)
        self.send = self.outbound.send  # type: ignore[method-assign]
        self._server: asyncio.AbstractServer | None = None
        self._ticker: asyncio.Task[None] | None = None
        # read by the operator surface (gateway/admin.py)
        self.listening: tuple[str, int] | None = None
        self.refused = 0
        #: the last storage (store / journal) write or fsync error; None while storage is fine
        self.storage_error: str | None = None
        #: the storage failure that stopped the gateway (the process then exits with
        #: `exit_status`); `_deferred` holds one met outside `flush`, raised by the next flush
        self.failure: OSError | None = None
        self._deferred: OSError | None = None
        self._failed = asyncio.Event()
        self._closed = False  # after shutdown closed the stores: nothing is written any more
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

    @property
    def app(self) -> Application:
        """The application behind the sessions (`Outbound` delivers to it)."""
        return self.outbound.app

    @app.setter
    def app(self, app: Application) -> None:
        self.outbound.app = app

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
        self.listening = (host or self.config.gateway.host, bound)
        log.info(
            "listening",
            host=host or self.config.gateway.host,
            port=bound,
            sessions={rt.key: rt.config.role for rt in self.runtimes.values()},
            data_dir=str(self.data_dir),
            build=BUILD,  # "compiled" hot path (gateway/fix/_speedups.c) or "pure" Python
            memory=memory(),  # "huge-page arenas" or "default" (gateway.fix._build)
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
        self.outbound.handle(rt, actions, now)  # compiled: Send and Deliver; the rest comes back
        if rt.session.resend_pending and rt not in self._resending:
            self._resending.add(rt)
            self.schedule_resend()

    def _other_action(self, rt: SessionRuntime, action: Action, now: int) -> None:
        if isinstance(action, SessionEvent):
            self._session_event(rt, action, now)
        elif isinstance(action, Disconnect):
            rt.close_after_flush = action.reason
            self._dirty.add(rt)

    def _session_event(self, rt: SessionRuntime, ev: SessionEvent, now: int) -> None:
        log.info(ev.kind, session=rt.key, **ev.detail)
        rt.events[ev.kind] = rt.events.get(ev.kind, 0) + 1
        if ev.kind == "logon":
            self.app.on_logon(rt.key, now)

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
        """Send an application message on a session; stored even when it is not connected.

        `Outbound.send` does it (an instance attribute of the same name calls it directly)."""
        self.outbound.send(key, msg_type, body, header_extra)

    def _sync_input(self) -> bool:
        """fsync = "always": the stores fsync each message as it is stored, the input it
        answers first; False (and the gateway stops at the next flush) when that failed."""
        try:
            self.app.sync()
        except OSError as exc:
            self._deferred = exc
            self.outbound.stopped = True
            self.schedule_flush()
            return False
        return True

    def stored_messages(self, key: str) -> list[bytes]:
        """Every message the session's store holds (recovery looks for reports in them)."""
        store = self.runtimes[key].store
        return [raw for _, raw in store.get(1, store.next_sender_seq - 1)]

    # -- group commit --------------------------------------------------------------------------

    def schedule_flush(self) -> None:
        out = self.outbound
        if not out.flush_scheduled:
            out.flush_scheduled = True
            asyncio.get_running_loop().call_soon(self.flush)

    def flush(self) -> None:
        """Group commit: hand this turn's writes to the OS, make them durable, then send.

        With fsync = "batch" the matcher journal is written and fdatasync'ed first, then each
        dirty session store, all before any of the turn's output is written to a socket:
        nothing a counterparty sees can be lost by a crash, and no store ever holds a report
        of a command the journal does not (the journal first). Measured with bench/e2e.py,
        doing the fdatasyncs in worker threads cost more CPU per order in thread hand-offs and
        gave worse latency than doing them inline. With "always" the stores also fsync each
        message themselves; with "never" nothing is fsynced. A failed write or fsync
        (`StoreError`, `JournalError`) sends nothing of the turn: see `_storage_failed`.
        """
        self.outbound.flush_scheduled = False
        if self.failure is not None or self._closed:
            return
        dirty = list(self._dirty)
        self._dirty.clear()
        if len(dirty) > 1:
            # order sessions before drop copies: a copy never leaves before its original
            # (a set's order is its members' addresses: it decided this before)
            dirty.sort(key=_drop_copy_last)
        batch: list[tuple[SessionRuntime, Connection | None, bytes, str | None]] = []
        now = self.clock()  # one message-log stamp for the turn's output
        for rt in dirty:
            if rt.out or rt.close_after_flush is not None:
                batch.append((rt, rt.conn, _take_output(rt, now), rt.close_after_flush))
                rt.close_after_flush = None
        input_durable = False
        try:
            if self._deferred is not None:
                raise self._deferred
            token = self.app.before_send()
            if self.fsync != "never":
                self.app.sync()
            input_durable = True
            for rt in dirty:
                rt.store.sync()  # flush + fdatasync (only the flush with fsync = "never")
        except OSError as exc:
            self._storage_failed(exc, input_durable)
            return
        for rt in dirty:
            if rt.msglog is not None and not rt.msglog.flush():
                rt.msglog = None  # it failed and said so once: a convenience, not a record
        self.app.after_commit(token)
        self._write(batch)

    # -- storage failure -------------------------------------------------------------------------

    @property
    def exit_status(self) -> int:
        """0, or `EXIT_STORAGE_FAILED` after a storage failure."""
        return 0 if self.failure is None else EXIT_STORAGE_FAILED

    async def wait_failed(self) -> None:
        """Return once a storage failure has stopped the gateway."""
        await self._failed.wait()

    def _storage_failed(self, exc: OSError, input_durable: bool = False) -> None:
        """Fail-stop: take no more input, send nothing of this turn, tell the sessions why in
        a Logout that is durably stored first, and let the process exit for a restart.

        `input_durable`: the journal holds this turn's input, so the sessions may record
        the inbound MsgSeqNums they took (else the counterparty sends those messages again)."""
        self.failure = exc
        self.outbound.stopped = True
        self.storage_error = f"{getattr(exc, 'op', 'write')} failed: {exc}"
        self._failed.set()
        freed = exc.errno in NO_SPACE and release_reserve(self.data_dir)
        log.error(
            "storage_failed",
            **describe(exc),
            reserve_freed=freed,
            next=(
                "nothing of this turn is sent; connected sessions get a Logout and the "
                f"gateway exits with status {EXIT_STORAGE_FAILED}: restart it once the data "
                "dir is writable, it recovers from its journal and stores"
            ),
        )
        if self._server is not None:
            self._server.close()
        if self._ticker is not None:
            self._ticker.cancel()
        text = f"gateway storage failure: {exc.strerror or exc}"
        now = self.clock()
        for rt in self.runtimes.values():
            rt.out.clear()
            rt.close_after_flush = None
            conn = rt.conn
            if conn is None or conn.closed or conn.transport is None:
                continue
            data = self._durable_logout(rt, text, now, input_durable)
            if data and conn.transport.can_write_eof():
                # the Logout, then FIN; input is still read (and ignored) until the peer
                # closes, so closing on unread input cannot reset the connection under it
                conn.transport.write(data)
                conn.transport.write_eof()
            else:
                conn.close()
        for conn in list(self.connections):
            if conn.runtime is None:
                conn.close()

    def _durable_logout(
        self, rt: SessionRuntime, text: str, now: int, input_durable: bool
    ) -> bytes:
        """A Logout for the session, stored durably; empty when that cannot be done.

        The store first forgets whatever did not reach its file, so the Logout follows only
        stored messages; a report left out is sent after the restart from the journal (its
        ExecID is above the delivered mark), under a MsgSeqNum never sent before."""
        expected = rt.store.next_target_seq
        try:
            rt.store.reload()
            if input_durable and expected > rt.store.next_target_seq:
                rt.store.set_next_target_seq(expected)
            for warning in rt.store.warnings:
                log.warning("store_recovered", session=rt.key, detail=warning)
            rt.store.warnings.clear()
            actions = rt.session.logout(text, now)
            rt.store.sync()
        except OSError:
            return b""
        return b"".join(a.data for a in actions if isinstance(a, Send))

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
        if self.failure is not None or self._closed:
            rt.conn = None  # stopped: no session or order state changes any more
            return
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
        """Stop accepting, send Logout to every session, wait for replies, flush stores.

        After a storage failure it only waits (briefly) for the connections to close."""
        if self._server is not None:
            self._server.close()
        if self.failure is None:
            now = self.clock()
            for rt in self.runtimes.values():
                if rt.conn is not None and rt.session.logged_on:
                    self.handle_actions(rt, rt.session.logout("gateway shutting down", now), now)
            self.flush()
            deadline = time.monotonic() + grace
            while any(rt.conn is not None for rt in self.runtimes.values()):
                if time.monotonic() > deadline or self.failure is not None:
                    break
                await asyncio.sleep(0.02)
        if self.failure is None:
            for conn in list(self.connections):
                conn.close()
        if self._ticker is not None:
            self._ticker.cancel()
        # connection_lost comes after the transport has written what it holds: wait for it
        # (bounded), so what a disconnect does (cancel_on_disconnect) is committed below;
        # after a storage failure, for the peers to read their Logout and close
        deadline = time.monotonic() + (grace if self.failure is not None else 1.0)
        while self.connections and time.monotonic() < deadline:
            await asyncio.sleep(0.02)
        for conn in list(self.connections):
            if conn.transport is not None:
                conn.transport.abort()
        await asyncio.sleep(0)
        self.flush()
        self._closed = True  # a late callback must not write to the closed files
        self.outbound.stopped = True
        if self.failure is None:
            try:
                for rt in self.runtimes.values():
                    rt.store.close()
                self.app.close()
            except OSError as exc:
                self._storage_failed(exc)
        for rt in self.runtimes.values():
            if rt.msglog is not None and self.failure is None:
                rt.msglog.close()
        if self._server is not None:
            await self._server.wait_closed()
        log.info("stopped", exit_status=self.exit_status)
