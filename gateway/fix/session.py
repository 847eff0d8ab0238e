"""FIX 4.2 session state machine, sans-IO: raw messages and a clock in, actions out.

Behaviour follows the FIX 4.2 session protocol and QuickFIX where the spec is loose (the
published session-level test cases, QuickFIX's acceptance suite). The caller owns sockets,
timers and logging: it feeds ``receive``/``tick`` and carries out the returned actions.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass, field

from gateway.fix.codec import Message, ParseError, build, format_utc, parse, parse_utc
from gateway.fix.dictionary import (
    ADMIN_MSG_TYPES,
    MESSAGES,
    REJECT_TEXT,
    RejectReason,
    field_name,
)
from gateway.fix.store import FileStore, MemoryStore, MessageStore
from gateway.fix.validate import STANDARD_VALIDATOR, Problem, Validator, validate

BEGIN_STRING = "FIX.4.2"
_BEGIN = b"8=FIX.4.2\x01"
TEST_REQ_ID = "TEST"
_NS = 1_000_000_000
#: HeartBtInt(108) a Logon may ask for: 0 (no heartbeats, as FIX and QuickFIX allow) to an hour
MAX_HEARTBEAT_INTERVAL = 3600
#: values quoted from a counterparty's message in logs and Texts are cut to this many characters
LOG_VALUE_MAX = 64
# Routing tags reversed on our replies (FIX 4.2: OnBehalfOf* <-> DeliverTo*), as QuickFIX does.
_REVERSE_ROUTE = ((115, 128), (116, 129), (144, 145), (128, 115), (129, 116), (145, 144))
_INTEGER = re.compile(r"-?[0-9]+").fullmatch


def clip(value: object, limit: int = LOG_VALUE_MAX) -> str:
    """``value`` as text for a log line, cut to ``limit`` characters (its length said)."""
    text = value if isinstance(value, str) else repr(value)
    if len(text) <= limit:
        return text
    return f"{text[:limit]}...({len(text)} chars)"
#: a resend is handed out in chunks of at most this many messages / about this many bytes
RESEND_CHUNK_MESSAGES = 1000
RESEND_CHUNK_BYTES = 256 * 1024
_WINDOW = 64  # stored messages read at a time while making a chunk


@dataclass(frozen=True, slots=True)
class SessionSettings:
    """One session's configuration (QuickFIX-style names)."""

    sender_comp_id: str  # ours, e.g. "ISLD"/"ATS"
    target_comp_id: str  # theirs, e.g. "TW42"
    heartbeat_interval: int = 30  # initiator's HeartBtInt; an acceptor uses the Logon's
    reset_on_logon: bool = False
    reset_on_logout: bool = False
    reset_on_disconnect: bool = False
    check_latency: bool = True
    max_latency: int = 120
    password: str = ""  # if set, Logon must carry it in RawData(96)/RawDataLength(95)
    timestamp_precision: str = "ms"  # "ms" | "ns" for 52/122 we send
    app_msg_types: frozenset[str] = frozenset()  # inbound application types we take
    logon_timeout: int = 10
    logout_timeout: int = 2
    initiator: bool = False
    # SessionRejectReason 13-16 are FIX 4.3 values; QuickFIX omits 373 for them on 4.2
    # (its acceptance tests 14g/14h/14i expect no 373). True sends them anyway.
    reject_reason_above_11: bool = False
    # Messages held above a sequence gap until it is filled; past either bound: Logout.
    max_queued_messages: int = 10_000
    max_queued_bytes: int = 16 << 20
    # The dictionary check of inbound messages (None: the acceptor's, ``validate``); the tools'
    # initiator passes a ``Validator`` of the dialect they ship (config/FIX42-ATS.xml).
    validator: Callable[[Message], Problem | None] | None = None


@dataclass(frozen=True, slots=True)
class Send:
    """Write these bytes to the connection."""

    data: bytes


class Deliver:
    """An application message, in sequence, for the application (``msg.poss_dup`` visible).

    A plain class with its own ``__init__`` (one per delivered message: a frozen dataclass's
    ``__init__`` costs more, and mypyc makes this a native class); treat it as read-only."""

    __slots__ = ("msg",)

    def __init__(self, msg: Message) -> None:
        self.msg = msg

    def __eq__(self, other: object) -> bool:
        return type(other) is Deliver and other.msg == self.msg

    def __hash__(self) -> int:
        return hash(self.msg)

    def __repr__(self) -> str:
        return f"Deliver(msg={self.msg!r})"


@dataclass(frozen=True, slots=True)
class Disconnect:
    """Close the connection (after writing any Send before it)."""

    reason: str


@dataclass(frozen=True, slots=True)
class SessionEvent:
    """Something to log: logon, logout, reject, resend, seq_gap, garbled, timeout..."""

    kind: str
    detail: dict[str, object] = field(default_factory=dict)


Action = Send | Deliver | Disconnect | SessionEvent

#: what a send returns while the session holds its output behind a resend: nothing to write
#: now (the message is stored and goes out when the resend reaches it)
_HELD = Send(b"")


@dataclass(slots=True)
class _Resend:
    """A ResendRequest being answered: a cursor over the store, handed out in chunks."""

    next: int  # the next MsgSeqNum to send
    end: int  # the last one sent again as a PossDup copy (or gap-filled)
    live_from: int  # from here on: messages made during the resend, sent as they were stored
    gap: int | None = None  # start of an open run of admin messages to gap-fill
    chunks: int = 0
    messages: int = 0



def identify_logon(raw: bytes) -> tuple[str, str] | None:
    """(SenderCompID, TargetCompID) of a well-formed FIX 4.2 Logon, else None."""
    try:
        msg = parse(raw)
    except ParseError:
        return None
    sender, target = msg.get(49), msg.get(56)
    if msg.msg_type != "A" or msg.get(8) != BEGIN_STRING or not sender or not target:
        return None
    return sender, target


class Session:
    """One FIX session (acceptor by default; ``settings.initiator`` for the client side)."""

    def __init__(self, settings: SessionSettings, store: MessageStore) -> None:
        self.settings = settings
        self.store = store
        self.heartbeat_interval = settings.heartbeat_interval
        self._mid = b"\x0149=%s\x0152=" % settings.sender_comp_id.encode()
        self._tail = b"\x0156=%s\x01" % settings.target_comp_id.encode()
        self._precision = settings.timestamp_precision
        self._app_types = settings.app_msg_types | {"j"}
        self._max_latency_ns = settings.max_latency * _NS
        self._type_bytes: dict[str, bytes] = {}
        # SendingTime of the last message built, formatted once per millisecond ("ms") or
        # nanosecond ("ns"): the unit of time it shows, and which one it was
        self._stamp_unit = 1 if self._precision == "ns" else 1_000_000
        self._stamp_tick = -(1 << 61)
        self._stamp = b""
        # Application types handled by the fast lane of receive (never an admin type).
        self._fast_types = self._app_types - ADMIN_MSG_TYPES
        self._validate = settings.validator or validate
        # the acceptor's validator, called natively by the fast lane where compiled (None
        # when the settings name another check: then _validate is called)
        self._validator: Validator | None = (
            STANDARD_VALIDATOR if settings.validator is None else None)
        self._connected = False
        self._inline_resend_ns = -1  # when a ResendRequest was last answered at once
        # the last SendingTime text the fast lane parsed, and its value (parse_utc of it)
        self._sent_text: str | None = None
        self._sent_ns = 0
        self._reset_connection_state(0)

    def _reset_connection_state(self, now_ns: int) -> None:
        self._logon_received = False
        self._logon_sent = False
        self._logout_sent_ns: int | None = None
        self._connected_ns = now_ns
        self._last_sent_ns = now_ns
        self._last_recv_ns = now_ns
        self._test_requests = 0
        self._queue: dict[int, Message] = {}
        self._queued_bytes = 0
        self._resend_range: tuple[int, int] | None = None
        self._resend_out: _Resend | None = None
        self._sent_reset = False

    # -- public state -------------------------------------------------------------------

    @property
    def logged_on(self) -> bool:
        """Logon exchanged on the current connection."""
        return self._connected and self._logon_received and self._logon_sent

    @property
    def is_connected(self) -> bool:
        """A connection is attached (the server refuses a second one)."""
        return self._connected

    @property
    def resend_pending(self) -> bool:
        """A resend is under way: the caller pulls the rest with ``resend_chunk``.

        Until it is done every new message is stored and held, so that the counterparty
        receives MsgSeqNums in order."""
        return self._resend_out is not None

    @property
    def next_sender_seq(self) -> int:
        """MsgSeqNum of the next message we send."""
        return self.store.next_sender_seq

    @property
    def next_target_seq(self) -> int:
        """MsgSeqNum we expect next."""
        return self.store.next_target_seq

    @property
    def last_received_ns(self) -> int:
        """When the counterparty last sent a message (or the connection was made)."""
        return self._last_recv_ns

    @property
    def last_sent_ns(self) -> int:
        """When we last sent a message (or the connection was made)."""
        return self._last_sent_ns

    # -- connection lifecycle -----------------------------------------------------------

    def connected(self, now_ns: int) -> None:
        """A TCP connection was attached."""
        self._connected = True
        self._reset_connection_state(now_ns)

    def disconnected(self, now_ns: int) -> None:
        """The TCP connection is gone."""
        self._connected = False
        self._reset_connection_state(now_ns)
        if self.settings.reset_on_disconnect:
            self.store.reset()

    def start_logon(self, now_ns: int) -> list[Action]:
        """Initiator: send Logon (HeartBtInt, and 141=Y when reset_on_logon)."""
        body = b"98=0\x01108=%d\x01" % self.heartbeat_interval
        if self.settings.reset_on_logon:
            self.store.reset()
            self._sent_reset = True
            body += b"141=Y\x01"
        if self.settings.password:
            pw = self.settings.password.encode()
            body += b"95=%d\x0196=%s\x01" % (len(pw), pw)
        self._logon_sent = True
        return [self._send_admin("A", body, now_ns)]

    def logout(self, text: str, now_ns: int) -> list[Action]:
        """Start a Logout (e.g. server shutdown); the caller then waits for the answer/tick."""
        if not self.logged_on:
            return [Disconnect(text or "logout before logon")] if self._connected else []
        if self._logout_sent_ns is not None:
            return []
        return self._logout(text, now_ns)

    def abort(self, text: str, now_ns: int) -> list[Action]:
        """End the connection now (its input cannot be read any more): Logout if logged on."""
        if not self._connected:
            return []
        acts: list[Action] = []
        if self.logged_on and self._logout_sent_ns is None:
            acts = self._logout(text, now_ns)
        return [*acts, Disconnect(text)]

    # -- sending ------------------------------------------------------------------------

    def _build(
        self, msg_type: str, seq: int, now_ns: int, rest: bytes, extra: bytes = b""
    ) -> bytes:
        mt = self._type_bytes.get(msg_type)
        if mt is None:
            mt = self._type_bytes[msg_type] = msg_type.encode()
        tick = now_ns // self._stamp_unit
        if tick != self._stamp_tick:  # the messages of one millisecond share its SendingTime
            self._stamp = format_utc(now_ns, self._precision).encode()
            self._stamp_tick = tick
        return build(_BEGIN, mt, seq, self._mid, self._stamp, self._tail, extra, rest)

    def send_app(
        self, msg_type: str, body: bytes, now_ns: int, header_extra: bytes = b""
    ) -> bytes | None:
        """Number, store (always) and return an application message; None if not logged on."""
        store = self.store
        if isinstance(store, FileStore):  # the server's store: native calls where compiled
            seq = store.next_sender_seq
            raw = self._build(msg_type, seq, now_ns, body, header_extra)
            store.save(seq, raw)
        else:
            seq = store.next_sender_seq
            raw = self._build(msg_type, seq, now_ns, body, header_extra)
            store.save(seq, raw)
        if (self._logon_received and self._logon_sent and self._connected
                and self._resend_out is None):
            self._last_sent_ns = now_ns
            return raw
        return None

    def _send_admin(self, msg_type: str, body: bytes, now_ns: int) -> Send:
        seq = self.store.next_sender_seq
        raw = self._build(msg_type, seq, now_ns, body)
        self.store.save(seq, raw)
        self._last_sent_ns = now_ns
        if self._resend_out is not None:
            return _HELD
        return Send(raw)

    def _logout(self, text: str, now_ns: int) -> list[Action]:
        body = b"58=%s\x01" % text.encode("latin-1", "replace") if text else b""
        self._logout_sent_ns = now_ns
        self._resend_out = None  # the session ends: the Logout is not held behind a resend
        return [
            self._send_admin("5", body, now_ns),
            SessionEvent("logout_sent", {"text": text}),
        ]

    def _reject(self, msg: Message, problem: Problem, now_ns: int, text: str = "") -> list[Action]:
        """Session-level Reject(3); consumes the rejected MsgSeqNum when it was expected."""
        reason, tag = problem.reason, problem.tag
        seq = msg.seq_num
        if not text:
            text = REJECT_TEXT[reason]
            if tag is not None:
                text += f": {field_name(tag)}({tag})"
        parts = [_reverse_route(msg)]
        if seq is not None:
            parts.append(b"45=%d\x01" % seq)
        parts.append(b"58=%s\x01" % text.encode("latin-1", "replace"))
        if tag is not None:
            parts.append(b"371=%d\x01" % tag)
        parts.append(b"372=%s\x01" % msg.msg_type.encode("latin-1", "replace"))
        if reason <= RejectReason.INVALID_MSG_TYPE or self.settings.reject_reason_above_11:
            parts.append(b"373=%d\x01" % reason)
        if msg.msg_type not in ("A", "4") and seq == self.store.next_target_seq:
            self.store.set_next_target_seq(seq + 1)
        return [
            self._send_admin("3", b"".join(parts), now_ns),
            SessionEvent(
                "reject", {"ref_seq": seq, "reason": int(reason), "tag": tag, "text": text}
            ),
        ]

    def _business_reject(self, msg: Message, now_ns: int) -> list[Action]:
        seq = msg.seq_num or 0
        mdef = MESSAGES[msg.msg_type]
        text = f"Unsupported Message Type: {mdef.name}({msg.msg_type})"
        mt = msg.msg_type.encode("latin-1", "replace")
        body = _reverse_route(msg) + b"45=%d\x0158=%s\x01372=%s\x01380=3\x01" % (
            seq, text.encode(), mt)
        self.store.set_next_target_seq(seq + 1)
        return [
            self._send_admin("j", body, now_ns),
            SessionEvent("business_reject", {"ref_seq": seq, "msg_type": msg.msg_type}),
        ]

    def _resend_request(self, begin: int, seq: int, now_ns: int) -> list[Action]:
        self._resend_range = (begin, seq - 1)
        return [
            self._send_admin("2", b"7=%d\x0116=0\x01" % begin, now_ns),
            SessionEvent("seq_gap", {"expected": begin, "received": seq}),
        ]

    # -- timers -------------------------------------------------------------------------

    def tick(self, now_ns: int) -> list[Action]:
        """Heartbeats, TestRequest, logon/logout/heartbeat timeouts."""
        if not self._connected:
            return []
        s = self.settings
        if not self._logon_received:
            if now_ns - self._connected_ns >= s.logon_timeout * _NS:
                return self._timeout("no Logon within logon_timeout")
            return []
        if self._logout_sent_ns is not None:
            if now_ns - self._logout_sent_ns >= s.logout_timeout * _NS:
                return self._timeout("Logout not answered within logout_timeout")
            return []
        hb = self.heartbeat_interval * _NS
        if hb <= 0:
            return []
        silent = now_ns - self._last_recv_ns
        if silent >= 2.4 * hb:
            return self._timeout(f"no message received for {silent / _NS:.1f}s")
        if silent >= 1.2 * (self._test_requests + 1) * hb:
            self._test_requests += 1
            return [
                self._send_admin("1", b"112=%s\x01" % TEST_REQ_ID.encode(), now_ns),
                SessionEvent("test_request", {"silent_s": silent / _NS}),
            ]
        if now_ns - self._last_sent_ns >= hb and not self._test_requests:
            return [self._send_admin("0", b"", now_ns)]
        return []

    def _timeout(self, why: str) -> list[Action]:
        return [SessionEvent("timeout", {"reason": why}), Disconnect(why)]

    # -- receiving ----------------------------------------------------------------------

    def receive(self, raw: bytes, now_ns: int) -> list[Action]:
        """Process one framed raw message."""
        try:
            msg = parse(raw)
        except ParseError as e:
            return [SessionEvent("garbled", {"reason": str(e)})]
        if self._accept_in_sequence_app(msg, now_ns):
            return [Deliver(msg)]
        if not self._logon_received:
            return self._on_logon(msg, now_ns)
        return self._process(msg, now_ns)

    def receive_many(self, raws: list[bytes], now_ns: int) -> list[Action]:
        """``receive`` for each message of one read, actions concatenated in order.

        Stops after the first message whose actions include a Disconnect: the messages
        after it are not processed (the connection is being closed).
        """
        acts: list[Action] = []
        for raw in raws:
            try:
                msg = parse(raw)
            except ParseError as e:
                acts.append(SessionEvent("garbled", {"reason": str(e)}))
                continue
            if self._accept_in_sequence_app(msg, now_ns):
                acts.append(Deliver(msg))
                continue
            more = self._on_logon(msg, now_ns) if not self._logon_received else (
                self._process(msg, now_ns))
            acts += more
            for a in more:
                if type(a) is Disconnect:
                    return acts
        return acts

    def receive_batch(self, raws: list[bytes], start: int, now_ns: int) -> tuple[list[Action], int]:
        """``receive_many`` from ``raws[start]`` on, stopping where the order of replies needs it.

        Returns the actions and the index of the first message not processed (``len(raws)``
        when all were, or after a Disconnect). It stops before a message that takes the full
        path (one the session may answer itself, such as a TestRequest) once the batch has
        delivered application messages: the caller first hands those to the application,
        whose replies take the next MsgSeqNums, then calls again with the rest. So a reply
        is numbered, and goes out, after everything the messages before it caused.
        """
        acts: list[Action] = []
        delivered = False
        i, n = start, len(raws)
        while i < n:
            try:
                msg = parse(raws[i])
            except ParseError as e:
                acts.append(SessionEvent("garbled", {"reason": str(e)}))
                i += 1
                continue
            if self._accept_in_sequence_app(msg, now_ns):
                acts.append(Deliver(msg))
                delivered = True
                i += 1
                continue
            if delivered:
                return acts, i
            more = self._on_logon(msg, now_ns) if not self._logon_received else (
                self._process(msg, now_ns))
            acts += more
            i += 1
            for a in more:
                if type(a) is Disconnect:
                    return acts, n
                if type(a) is Deliver:
                    delivered = True
        return acts, n

    def _accept_in_sequence_app(self, msg: Message, now_ns: int) -> bool:
        """Fast lane: the expected application message, valid, with nothing pending.

        True only when ``_process`` would deliver it and do nothing else; then the same
        state changes are made here. Any doubt returns False and the full path decides.
        """
        if (
            msg.msg_type not in self._fast_types
            or not self._logon_received
            or self._queue
            or self._resend_range is not None
        ):
            return False
        store = self.store
        # the concrete stores called natively where compiled (through the Protocol an
        # attribute is a generic lookup); one isinstance each, reused for the update below
        fstore = store if isinstance(store, FileStore) else None
        mstore = store if fstore is None and isinstance(store, MemoryStore) else None
        if fstore is not None:
            seq = fstore.next_target_seq
        elif mstore is not None:
            seq = mstore.next_target_seq
        else:
            seq = store.next_target_seq
        # The header: through the map where the parser made one (the pure build: a dict's own
        # get, where msg.get is a property), else through the layout's index (compiled)
        tag_map = msg._dict
        if tag_map is not None:
            seq_text, begin, sender, target, sent_text = (
                tag_map.get(34), tag_map.get(8), tag_map.get(49), tag_map.get(56),
                tag_map.get(52))
        else:
            seq_text, begin, sender, target, sent_text = (
                msg.get(34), msg.get(8), msg.get(49), msg.get(56), msg.get(52))
        s = self.settings
        if (
            seq_text != str(seq)
            or begin != BEGIN_STRING
            or sender != s.target_comp_id
            or target != s.sender_comp_id
        ):
            return False
        validator = self._validator
        if (validator.validate(msg) if validator is not None else self._validate(msg)) is not None:
            return False
        # SendingTime: the C parser gives a value equal to the last one of its tag as the same
        # str, so a run of messages sent in one millisecond is parsed once
        if sent_text is not None and sent_text is self._sent_text:
            sent = self._sent_ns
        else:
            parsed = parse_utc(sent_text or "")
            if parsed is None:
                return False
            sent = parsed
            self._sent_text = sent_text
            self._sent_ns = sent
        if s.check_latency:  # abs() of an int is a generic call where compiled: two compares
            late, limit = now_ns - sent, self._max_latency_ns
            if late > limit or -late > limit:
                return False
        self._last_recv_ns = now_ns
        self._test_requests = 0
        if fstore is not None:
            fstore.set_next_target_seq(seq + 1)
        elif mstore is not None:
            mstore.set_next_target_seq(seq + 1)
        else:
            store.set_next_target_seq(seq + 1)
        return True

    def _refuse(self, why: str) -> list[Action]:
        return [SessionEvent("logon_refused", {"reason": why}), Disconnect(why)]

    def _on_logon(self, msg: Message, now_ns: int) -> list[Action]:
        s = self.settings
        if msg.msg_type != "A":
            return self._refuse(f"first message is not a Logon (35={clip(msg.msg_type)})")
        if msg.get(8) != BEGIN_STRING:
            return self._refuse(f"Logon with BeginString {clip(msg.get(8))}")
        if msg.get(49) != s.target_comp_id or msg.get(56) != s.sender_comp_id:
            return self._refuse(
                f"Logon from unexpected CompIDs {clip(msg.get(49))}->{clip(msg.get(56))}")
        heartbeat = _heartbeat_problem(msg.get(108))
        if heartbeat:
            return self._refuse_with_logout(heartbeat, now_ns)
        problem = self._validate(msg) or self._time_problem(msg, now_ns)
        if problem is not None:
            return self._refuse(f"invalid Logon: {REJECT_TEXT[problem.reason]} ({problem.tag})")
        seq = msg.seq_num
        if seq is None:
            return self._refuse("Logon without a valid MsgSeqNum")
        if s.password and not self._password_ok(msg):
            return self._refuse_with_logout("Invalid password", now_ns)
        reset = msg.get(141) == "Y"
        if (reset and not self._sent_reset) or (not s.initiator and s.reset_on_logon):
            self.store.reset()
        expected = self.store.next_target_seq
        if seq < expected and not reset:
            text = f"MsgSeqNum too low, expecting {expected} but received {seq}"
            self._logon_sent = True
            return [*self._logout(text, now_ns), Disconnect(text)]
        self.heartbeat_interval = int(msg.get(108) or 0)
        self._logon_received = True
        self._last_recv_ns = now_ns
        acts: list[Action] = []
        if not s.initiator:
            body = b"98=0\x01108=%d\x01" % self.heartbeat_interval
            if reset:
                body += b"141=Y\x01"
            acts.append(self._send_admin("A", body, now_ns))
            self._logon_sent = True
        self._sent_reset = False
        acts.append(SessionEvent("logon", {"seq": seq, "heartbeat": self.heartbeat_interval,
                                           "reset": reset}))
        if seq > expected and not reset:
            self._hold(seq, msg)
            acts.extend(self._resend_request(expected, seq, now_ns))
        else:
            self.store.set_next_target_seq(self.store.next_target_seq + 1)
        return acts

    def _refuse_with_logout(self, text: str, now_ns: int) -> list[Action]:
        """Refuse a Logon with a Logout that says why and leaves the session as it was.

        The Logout carries the next MsgSeqNum but is neither stored nor counted (QuickFIX
        sends it as a normal message): whoever failed to log on must not use up the real
        counterparty's sequence numbers, which would then see a gap.
        """
        body = b"58=%s\x01" % text.encode("latin-1", "replace")
        raw = self._build("5", self.store.next_sender_seq, now_ns, body)
        return [Send(raw), SessionEvent("logon_refused", {"reason": text}), Disconnect(text)]

    def _password_ok(self, msg: Message) -> bool:
        data, length = msg.get(96), msg.get(95)
        if data != self.settings.password:
            return False
        return length is None or length == str(len(data))

    def _time_problem(self, msg: Message, now_ns: int) -> Problem | None:
        sent = parse_utc(msg.get(52) or "")
        if sent is None:
            return Problem(RejectReason.INCORRECT_DATA_FORMAT, 52)
        if self.settings.check_latency and abs(now_ns - sent) > self._max_latency_ns:
            return Problem(RejectReason.SENDING_TIME_ACCURACY)
        return None

    def _process(self, msg: Message, now_ns: int) -> list[Action]:
        mt = msg.msg_type
        if msg.get(8) != BEGIN_STRING:
            if mt == "5":
                return self._on_logout(msg, now_ns)
            self.store.set_next_target_seq(self.store.next_target_seq + 1)
            return self._logout("Incorrect BeginString", now_ns)
        seq = msg.seq_num
        if seq is None:
            reason = RejectReason.REQUIRED_TAG_MISSING if 34 not in msg else (
                RejectReason.INCORRECT_DATA_FORMAT)
            return self._reject(msg, Problem(reason, 34), now_ns)
        self._last_recv_ns = now_ns
        self._test_requests = 0
        if mt == "5":
            return self._checked(msg, now_ns) or self._on_logout(msg, now_ns)
        if mt == "4" and msg.get(123) != "Y":
            return self._checked(msg, now_ns) or self._on_sequence_reset(msg, now_ns)
        if mt == "2":
            return self._checked(msg, now_ns) or self._on_resend_request(msg, seq, now_ns)
        expected = self.store.next_target_seq
        if seq > expected:
            return self._too_high(msg, seq, expected, now_ns)
        if seq < expected:
            return self._too_low(msg, seq, expected, now_ns)
        acts = self._in_sequence(msg, now_ns)
        if self._queue:
            acts.extend(self._drain_queue(now_ns))
        return acts

    def _checked(self, msg: Message, now_ns: int) -> list[Action]:
        """Dictionary, SendingTime and CompID checks; the actions if the message fails."""
        problem = self._validate(msg)
        if problem is not None:
            return self._reject(msg, problem, now_ns)
        problem = self._time_problem(msg, now_ns)
        if problem is None and (
            msg.get(49) != self.settings.target_comp_id
            or msg.get(56) != self.settings.sender_comp_id
        ):
            problem = Problem(RejectReason.COMPID_PROBLEM)
        if problem is not None:
            acts = self._reject(msg, problem, now_ns)
            fatal = problem.reason != RejectReason.INCORRECT_DATA_FORMAT
            if fatal and self._logout_sent_ns is None:
                acts.extend(self._logout("", now_ns))
            return acts
        return []

    def _in_sequence(self, msg: Message, now_ns: int) -> list[Action]:
        """The message carries the expected MsgSeqNum: check it and act on it."""
        failed = self._checked(msg, now_ns)
        if failed:
            return failed
        seq = self.store.next_target_seq
        if self._resend_range is not None and seq >= self._resend_range[1]:
            self._resend_range = None
        mt = msg.msg_type
        if mt in self._app_types:
            self.store.set_next_target_seq(seq + 1)
            return [Deliver(msg)]
        if mt == "0":
            self.store.set_next_target_seq(seq + 1)
            return []
        if mt == "3":
            self.store.set_next_target_seq(seq + 1)
            return [_reject_received(msg)]
        if mt == "1":
            self.store.set_next_target_seq(seq + 1)
            test_id = (msg.get(112) or "").encode("latin-1")
            return [self._send_admin("0", _reverse_route(msg) + b"112=%s\x01" % test_id, now_ns)]
        if mt == "4":
            return self._on_sequence_reset(msg, now_ns)
        if mt == "A":
            return self._refuse("Logon received on a logged-on session")
        return self._business_reject(msg, now_ns)

    def _hold(self, seq: int, msg: Message) -> None:
        """Queue a message above the gap (a repeated MsgSeqNum replaces the earlier one)."""
        old = self._queue.get(seq)
        if old is not None:
            self._queued_bytes -= len(old.raw)
        self._queue[seq] = msg
        self._queued_bytes += len(msg.raw)

    def _too_high(self, msg: Message, seq: int, expected: int, now_ns: int) -> list[Action]:
        self._hold(seq, msg)
        s = self.settings
        count, size = len(self._queue), self._queued_bytes
        if count > s.max_queued_messages or size > s.max_queued_bytes:
            text = (f"{count} messages ({size} bytes) queued behind the gap at MsgSeqNum "
                    f"{expected}, over the limit of {s.max_queued_messages} messages / "
                    f"{s.max_queued_bytes} bytes")
            self._queue.clear()
            self._queued_bytes = 0
            return [*self._logout(text, now_ns), Disconnect(text)]
        rr = self._resend_range
        if rr is not None and seq >= rr[0]:
            return [SessionEvent("seq_gap_queued", {"expected": expected, "received": seq})]
        return self._resend_request(expected, seq, now_ns)

    def _too_low(self, msg: Message, seq: int, expected: int, now_ns: int) -> list[Action]:
        if not msg.poss_dup:
            text = f"MsgSeqNum too low, expecting {expected} but received {seq}"
            return [*self._logout(text, now_ns), Disconnect(text)]
        if msg.msg_type != "4":
            orig = msg.get(122)
            if orig is None:
                return self._reject(msg, Problem(RejectReason.REQUIRED_TAG_MISSING, 122), now_ns)
            orig_ns, sent_ns = parse_utc(orig), parse_utc(msg.get(52) or "")
            if orig_ns is None:
                return self._reject(msg, Problem(RejectReason.INCORRECT_DATA_FORMAT, 122), now_ns)
            if sent_ns is not None and orig_ns > sent_ns:
                problem = Problem(RejectReason.SENDING_TIME_ACCURACY)
                return [*self._reject(msg, problem, now_ns), *self._logout("", now_ns)]
        return [SessionEvent("duplicate_ignored", {"seq": seq})]

    def _drain_queue(self, now_ns: int) -> list[Action]:
        acts: list[Action] = []
        queue = self._queue
        while True:
            expected = self.store.next_target_seq
            for old in [s for s in queue if s < expected]:
                self._queued_bytes -= len(queue.pop(old).raw)
            msg = queue.pop(expected, None)
            if msg is None:
                return acts
            self._queued_bytes -= len(msg.raw)
            if msg.msg_type in ("A", "2"):
                self.store.set_next_target_seq(expected + 1)
                continue
            acts.extend(self._in_sequence(msg, now_ns))
            if any(isinstance(a, Disconnect) for a in acts):
                return acts

    def _on_logout(self, msg: Message, now_ns: int) -> list[Action]:
        self.store.set_next_target_seq(self.store.next_target_seq + 1)
        if self._logout_sent_ns is not None:
            acts: list[Action] = [SessionEvent("logout", {"initiated_by": "us"})]
        else:
            acts = [*self._logout("", now_ns), SessionEvent("logout", {"initiated_by": "them"})]
        if self.settings.reset_on_logout:
            self.store.reset()
        acts.append(Disconnect("logout"))
        return acts

    def _on_sequence_reset(self, msg: Message, now_ns: int) -> list[Action]:
        new_seq = int(msg.get(36) or 0)
        expected = self.store.next_target_seq
        if new_seq > expected:
            self.store.set_next_target_seq(new_seq)
            acts: list[Action] = [SessionEvent("seq_reset", {"from": expected, "to": new_seq})]
            if self._resend_range is not None and new_seq > self._resend_range[1]:
                self._resend_range = None
            if self._queue:
                acts.extend(self._drain_queue(now_ns))
            return acts
        if new_seq < expected:
            text = f"{REJECT_TEXT[5]}: NewSeqNo {new_seq} is below the expected {expected}"
            return self._reject(msg, Problem(RejectReason.VALUE_INCORRECT), now_ns, text)
        return []

    def _on_resend_request(self, msg: Message, seq: int, now_ns: int) -> list[Action]:
        begin, end = int(msg.get(7) or 0), int(msg.get(16) or 0)
        last = self.store.next_sender_seq - 1
        if end == 0 or end > last:
            end = last
        acts: list[Action] = [SessionEvent("resend", {"begin": begin, "end": end})]
        if begin >= 1 and begin <= end:
            # A cursor, not the whole range at once: the first chunk goes out now, the caller
            # pulls the rest (resend_chunk) as the connection drains. A resend already under
            # way is replaced; what it had not sent yet of the held messages still goes out
            # after the new range (everything below its cursor went out already).
            held = self._resend_out
            live_from = (max(held.live_from, held.next) if held is not None
                         else self.store.next_sender_seq)
            if held is not None and held.next <= held.end:
                # the part of its range the one under way has not sent yet is still owed:
                # the new one covers it too, or the counterparty is left with a gap
                owed = held.gap if held.gap is not None else held.next
                begin, end = min(begin, owed), max(end, held.end)
            self._resend_out = _Resend(begin, end, live_from)
            # The first chunk goes out at once, but only one per reading of the clock (the
            # server takes one per read): after it, and while a resend is under way, the caller
            # pulls the next chunk, which follows the newest cursor. So a burst of requests in
            # one read costs one chunk, not a chunk each.
            if held is None and self._inline_resend_ns != now_ns:
                self._inline_resend_ns = now_ns
                acts.extend(self.resend_chunk(now_ns))
        expected = self.store.next_target_seq
        if seq == expected:
            self.store.set_next_target_seq(seq + 1)
            if self._queue:
                acts.extend(self._drain_queue(now_ns))
        elif seq > expected:
            acts.extend(self._too_high(msg, seq, expected, now_ns))
        return acts

    def resend_chunk(
        self,
        now_ns: int,
        max_messages: int = RESEND_CHUNK_MESSAGES,
        max_bytes: int = RESEND_CHUNK_BYTES,
    ) -> list[Action]:
        """The next part of the resend under way: at most ``max_messages`` messages, and
        stopping once ``max_bytes`` are reached (empty when no resend is pending).

        Stored application messages up to the requested end go out as PossDup copies, runs of
        admin messages as one SequenceReset-GapFill (merged across chunks); then the messages
        made while the resend was going on, as they were stored. The last chunk ends the
        resend (``resend_pending`` turns False) and live sending resumes.
        """
        r = self._resend_out
        if r is None:
            return []
        acts: list[Action] = []
        size = 0
        store = self.store
        while len(acts) < max_messages and size < max_bytes:
            if r.next <= r.end:
                hi = min(r.end, r.next + min(max_messages - len(acts), _WINDOW) - 1)
                stored = dict(store.get(r.next, hi))
                seq = r.next
                while seq <= hi and len(acts) < max_messages and size < max_bytes:
                    out = self._resend_one(r, seq, stored.get(seq), now_ns)
                    acts += out
                    size += sum(len(a.data) for a in out)
                    seq += 1
                r.next = seq
                continue
            if r.gap is not None:
                gap_fill = self._gap_fill(r.gap, r.end + 1, now_ns)
                r.gap = None
                acts.append(gap_fill)
                size += len(gap_fill.data)
                continue
            start = max(r.next, r.live_from)
            last = store.next_sender_seq - 1
            if start > last:
                self._resend_out = None
                break
            hi = min(last, start + min(max_messages - len(acts), _WINDOW) - 1)
            r.next = hi + 1
            for seq, raw in store.get(start, hi):
                if len(acts) >= max_messages or size >= max_bytes:
                    r.next = seq
                    break
                acts.append(Send(raw))
                size += len(raw)
        r.chunks += 1
        r.messages += len(acts)
        if self._resend_out is None and r.chunks > 1:
            acts.append(SessionEvent("resend_complete", {"chunks": r.chunks,
                                                         "messages": r.messages}))
        self._last_sent_ns = now_ns
        return acts

    def _resend_one(self, r: _Resend, seq: int, raw: bytes | None, now_ns: int) -> list[Send]:
        """One MsgSeqNum of the requested range: a PossDup copy, or part of a gap fill."""
        msg: Message | None = None
        if raw is not None:
            try:
                msg = parse(raw)
            except ParseError:
                msg = None
        if msg is None or msg.msg_type in ADMIN_MSG_TYPES:
            if r.gap is None:
                r.gap = seq
            return []
        out: list[Send] = []
        if r.gap is not None:
            out.append(self._gap_fill(r.gap, seq, now_ns))
            r.gap = None
        out.append(Send(self._possdup_copy(msg, seq, now_ns)))
        return out

    def _gap_fill(self, seq: int, new_seq: int, now_ns: int) -> Send:
        orig = format_utc(now_ns, self._precision).encode()
        rest = b"43=Y\x01122=%s\x0136=%d\x01123=Y\x01" % (orig, new_seq)
        return Send(self._build("4", seq, now_ns, rest))

    def _possdup_copy(self, msg: Message, seq: int, now_ns: int) -> bytes:
        """The stored message again, with PossDupFlag=Y and OrigSendingTime."""
        raw = msg.raw
        start = raw.find(self._tail)  # we built it: 35, 34, 49, 52, 56, then the rest
        start = start + len(self._tail) if start >= 0 else len(raw) - 7
        rest = raw[start : raw.rfind(b"10=", 0, len(raw) - 1)]
        orig = (msg.get(52) or "").encode()
        return self._build(msg.msg_type, seq, now_ns, b"43=Y\x01122=%s\x01%s" % (orig, rest))


def _reverse_route(msg: Message) -> bytes:
    """The routing tags of a reply to ``msg``: OnBehalfOf* <-> DeliverTo* (empty ones not)."""
    pairs = sorted((ours, value) for theirs, ours in _REVERSE_ROUTE
                   if (value := msg.get(theirs)))
    return b"".join(b"%d=%s\x01" % (tag, v.encode("latin-1")) for tag, v in pairs)


def _heartbeat_problem(value: str | None) -> str:
    """Why a Logon's HeartBtInt(108) is refused ("" if it is fine or left to validation)."""
    if value is None or _INTEGER(value) is None:
        return ""  # missing or not a number: the Logon is invalid (validate says so)
    if len(value) <= 12 and 0 <= int(value) <= MAX_HEARTBEAT_INTERVAL:
        return ""
    return f"HeartBtInt(108) must be 0 to {MAX_HEARTBEAT_INTERVAL} seconds, not {clip(value)}"


def _reject_received(msg: Message) -> SessionEvent:
    """The counterparty rejected one of our messages (35=3): what and why, for the log."""
    return SessionEvent("reject_received", {
        "ref_seq": msg.get(45), "ref_msg_type": msg.get(372), "ref_tag": msg.get(371),
        "reason": msg.get(373), "text": clip(msg.get(58) or "")})
