"""A FIX initiator over asyncio for the project's own tools (ats-feed, ats-client).

It runs the same sans-IO `Session` as the acceptor, in initiator mode, with a durable store, so
a tool that reconnects continues its sequence numbers and receives, through normal resend, what
the gateway sent while it was away. Inbound messages are checked against the dialect the venue
ships (config/FIX42-ATS.xml, see ``ats_tools.dialect``), not the stock FIX 4.2 enumerations.
The tool's ``on_message`` sees every application message and, besides, the gateway's
session-level Rejects (35=3) and its Logout (35=5, whose Text says why the session ends).
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import Callable, Sequence
from pathlib import Path

from ats_tools.dialect import app_msg_types, dialect_validator
from gateway.config import Config, SessionConfig
from gateway.fix import (
    Action,
    Deliver,
    Disconnect,
    FileStore,
    Framer,
    MemoryStore,
    Message,
    MessageStore,
    ParseError,
    Send,
    Session,
    SessionEvent,
    SessionSettings,
    parse,
)


class InitiatorError(Exception):
    """The session could not be established (refused, logged out, timed out)."""


def find_session(cfg: Config, target: str | None, role: str) -> SessionConfig:
    """The configured session the tool plays the counterparty of (by its CompID, or by role)."""
    for s in cfg.sessions:
        if (target is None and s.role == role) or s.target_comp_id == target:
            return s
    wanted = f"session {target!r}" if target else f"a {role} session"
    raise InitiatorError(f"{cfg.source} has no {wanted}")


class Initiator:
    """The client side of one configured session."""

    def __init__(
        self,
        session_cfg: SessionConfig,
        on_message: Callable[[Message], None],
        state_dir: Path | None = None,
        reset: bool = False,
        heartbeat: int = 30,
        on_event: Callable[[SessionEvent], None] | None = None,
    ) -> None:
        settings = SessionSettings(
            sender_comp_id=session_cfg.target_comp_id,
            target_comp_id=session_cfg.sender_comp_id,
            heartbeat_interval=heartbeat,
            reset_on_logon=reset,
            password=session_cfg.password,
            app_msg_types=app_msg_types(),
            initiator=True,
            validator=dialect_validator().validate,
        )
        store: MessageStore
        if state_dir is None:
            store = MemoryStore()
        else:
            store = FileStore(state_dir, f"{settings.sender_comp_id}-{settings.target_comp_id}")
        self.session = Session(settings, store)
        self.store = store
        self.on_message = on_message
        self.on_event = on_event
        self.framer = Framer()
        self.reader: asyncio.StreamReader | None = None
        self.writer: asyncio.StreamWriter | None = None
        self.logged_on = asyncio.Event()
        self.closed = asyncio.Event()
        self.logout_text: str | None = None  # the gateway's Logout Text, once it sent one
        self.logout_requested = False  # we started the Logout (so a close is not a loss)
        self._tasks: list[asyncio.Task[None]] = []

    async def connect(self, host: str, port: int, timeout: float = 10.0) -> None:
        """Connect, log on, and keep the session running in the background."""
        self.reader, self.writer = await asyncio.open_connection(host, port)
        now = time.time_ns()
        self.session.connected(now)
        self._handle(self.session.start_logon(now))
        self._tasks = [
            asyncio.create_task(self._read_loop()),
            asyncio.create_task(self._tick_loop()),
        ]
        done, _ = await asyncio.wait(
            [asyncio.create_task(self.logged_on.wait()), asyncio.create_task(self.closed.wait())],
            timeout=timeout,
            return_when=asyncio.FIRST_COMPLETED,
        )
        if not self.logged_on.is_set():
            await self.close()
            raise InitiatorError(f"no Logon answer from {host}:{port} (refused or timed out)")

    def send(self, msg_type: str, body: bytes) -> None:
        """Send an application message (stored, so a resend request can be answered)."""
        data = self.session.send_app(msg_type, body, time.time_ns())
        if data is not None and self.writer is not None:
            self.writer.write(data)
        self._sync()

    def _sync(self) -> None:
        if isinstance(self.store, FileStore):
            self.store.flush()

    def _handle(self, actions: Sequence[Action]) -> None:
        for action in actions:
            if isinstance(action, Send):
                if self.writer is not None:
                    self.writer.write(action.data)
            elif isinstance(action, Deliver):
                self.on_message(action.msg)
            elif isinstance(action, SessionEvent):
                if action.kind == "logon":
                    self.logged_on.set()
                if self.on_event is not None:
                    self.on_event(action)
            elif isinstance(action, Disconnect):
                if self.writer is not None:
                    self.writer.close()
        self._sync()

    async def _read_loop(self) -> None:
        assert self.reader is not None
        try:
            while True:
                data = await self.reader.read(65536)
                if not data:
                    break
                now = time.time_ns()
                for raw in self.framer.feed(data):
                    expected = self.session.next_target_seq
                    self._handle(self.session.receive(raw, now))
                    while self.session.resend_pending:  # the rest of a resend, chunk by chunk
                        self._handle(self.session.resend_chunk(now))
                    if b"\x0135=3\x01" in raw[:32] or b"\x0135=5\x01" in raw[:32]:
                        self._admin_received(raw, expected)
        except (ConnectionError, OSError):
            pass
        finally:
            self.session.disconnected(time.time_ns())
            self.closed.set()

    def _admin_received(self, raw: bytes, expected: int) -> None:
        """Show a Reject (unless a duplicate) or a Logout from the gateway to the tool."""
        try:
            msg = parse(raw)
        except ParseError:
            return
        if msg.msg_type == "5":
            self.logout_text = msg.get(58) or ""
            if self.logout_requested:  # the answer to our own Logout: nothing to show
                return
        elif (msg.seq_num or 0) < expected:
            return
        self.on_message(msg)

    async def _tick_loop(self) -> None:
        while not self.closed.is_set():
            await asyncio.sleep(0.5)
            self._handle(self.session.tick(time.time_ns()))

    async def logout(self, text: str = "", timeout: float = 5.0) -> None:
        """Logout handshake, then close."""
        self.logout_requested = True
        if self.session.logged_on:
            self._handle(self.session.logout(text, time.time_ns()))
            try:
                await asyncio.wait_for(self.closed.wait(), timeout)
            except TimeoutError:
                pass
        await self.close()

    async def close(self) -> None:
        if self.writer is not None:
            self.writer.close()
            try:
                await self.writer.wait_closed()
            except (ConnectionError, OSError):
                pass
        for task in self._tasks:
            task.cancel()
        if isinstance(self.store, FileStore):
            self.store.flush()
            self.store.sync()
            self.store.close()
