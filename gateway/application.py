"""The callbacks behind the FIX sessions (the order path subclasses `Application`), and the
per-message half of the server's output path.

A module of its own so that mypyc can compile it with the order path (gateway/app.py) while the
asyncio server (gateway/server.py, which re-exports `Application` and `SessionRuntime`) stays
Python: `SessionRuntime` and `Outbound.send` run once or more per message, so they are native
classes here; the per-turn work (flush, writes, sockets) stays in the server.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import Any

from gateway.config import SessionConfig
from gateway.fix import Action, Deliver, FileStore, Message, Send, Session
from gateway.msglog import MessageLog


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
        """Once per loop turn, before the stores are written: hand input to the OS here
        (an OSError is a storage failure). Returns a token for `after_commit`: what this
        turn's commit covers."""
        return None

    def sync(self) -> None:
        """Make the application's input durable now (fsync = "batch": once per turn, before
        the stores are written; "always": also before each message is stored)."""

    def after_commit(self, token: object) -> None:
        """After the stores were synced (up to `token`) and before the sockets are written."""

    def close(self) -> None:
        """At shutdown, after the stores were closed."""


class SessionRuntime:
    """A configured session: its state machine, store, message log and current connection."""

    def __init__(self, config: SessionConfig, session: Session, store: FileStore,
                 msglog: MessageLog | None, conn: Any = None) -> None:
        self.config = config
        self.key: str = config.key
        self.session = session
        self.store = store
        self.msglog = msglog
        self.conn: Any = conn  # the server's Connection, or None
        self.out: list[bytes] = []
        self.out_last_seq = 0  # MsgSeqNum of the last message put in `out`
        self.out_unordered = False  # `out` needs sorting by MsgSeqNum before it is written
        self.close_after_flush: str | None = None
        # counters for the operator surface (gateway/admin.py reads them at scrape time)
        self.msgs_in = 0
        self.msgs_out = 0
        self.events: dict[str, int] = {}

    def __repr__(self) -> str:
        return f"SessionRuntime({self.key!r})"


def seq_of(data: bytes) -> int:
    """MsgSeqNum of a message we built (34 follows 35 near the start)."""
    start = data.find(b"\x0134=") + 4
    end = data.find(b"\x01", start)
    return int(data[start:end])


class Outbound:
    """`Gateway.send`: number, store and queue an application message for the turn's write;
    and the per-message part of `Gateway.handle_actions` (a session's replies are queued, its
    application messages go to the application).

    The server owns the state it reads and keeps it current: the sessions by key, the set of
    sessions with work for the turn's flush (shared with the server), the clock reading of the
    read being handled (0: none), whether a flush is scheduled, and `stopped` once a storage
    failure or the shutdown means nothing more may be stored.
    """

    def __init__(self, runtimes: dict[str, SessionRuntime], dirty: set[SessionRuntime],
                 clock: Callable[[], int], schedule_flush: Callable[[], None],
                 sync_input: Callable[[], bool] | None,
                 other_action: Callable[[SessionRuntime, Action, int], None],
                 app: Application) -> None:
        self.runtimes = runtimes
        self.dirty = dirty
        self.clock = clock
        self.schedule_flush = schedule_flush
        #: fsync = "always": make the input durable before each message is stored (False:
        #: that failed, the message is not sent)
        self.sync_input = sync_input
        #: what the server does with a SessionEvent or a Disconnect (rare: left to Python)
        self.other_action = other_action
        self.app = app
        self.read_now = 0
        self.flush_scheduled = False
        self.stopped = False

    def handle(self, rt: SessionRuntime, actions: Sequence[Action], now: int) -> None:
        """A session's actions in order: replies queued, application messages delivered,
        the rest to `other_action`."""
        app = self.app
        for action in actions:
            if isinstance(action, Deliver):
                app.from_app(rt.key, action.msg, now)
            elif isinstance(action, Send):
                self.queue(rt, action.data)
            else:
                self.other_action(rt, action, now)

    def queue(self, rt: SessionRuntime, data: bytes, seq: int = 0) -> None:
        """Queue a message for the turn's write; `seq` is its MsgSeqNum when the caller knows
        it (0: read it from the message)."""
        if not data:  # held by the session behind a resend: stored, sent when it is reached
            return
        # A session numbers its own replies (a Heartbeat) while it reads a batch, before the
        # application numbers what the batch's earlier messages caused: note when a message
        # comes out below one already queued, so the turn's output is sorted before it goes.
        if not seq:
            seq = seq_of(data)
        if seq < rt.out_last_seq:
            rt.out_unordered = True
        else:
            rt.out_last_seq = seq
        rt.out.append(data)
        self.dirty.add(rt)

    def send(self, key: str, msg_type: str, body: bytes, header_extra: bytes = b"") -> None:
        """Send an application message on a session; stored even when it is not connected."""
        if self.stopped:
            return
        sync_input = self.sync_input
        if sync_input is not None and not sync_input():
            return
        rt = self.runtimes[key]
        now = self.read_now
        if not now:
            now = self.clock()
        data = rt.session.send_app(msg_type, body, now, header_extra)
        self.dirty.add(rt)
        if data is not None:  # numbered and stored just now: the store's last MsgSeqNum
            seq = rt.store.next_sender_seq - 1
            # as in `queue`
            if seq < rt.out_last_seq:
                rt.out_unordered = True
            else:
                rt.out_last_seq = seq
            rt.out.append(data)
        if not self.flush_scheduled:  # one check per message, the call once per turn
            self.schedule_flush()
