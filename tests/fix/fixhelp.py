"""Test helpers: a counterparty that builds raw FIX messages, a clock, action filters."""

from __future__ import annotations

from gateway.fix.codec import Message, format_utc, frame, parse
from gateway.fix.session import (
    Action,
    Deliver,
    Disconnect,
    Send,
    Session,
    SessionEvent,
    SessionSettings,
)
from gateway.fix.store import MemoryStore, MessageStore

SEC = 1_000_000_000
T0 = 1_700_000_000 * SEC  # 2023-11-14T22:13:20Z

Field = tuple[int, str | int]


def settings(**kw: object) -> SessionSettings:
    """The acceptance-test session: we are ISLD, the client is TW42."""
    base: dict[str, object] = {"sender_comp_id": "ISLD", "target_comp_id": "TW42",
                               "app_msg_types": frozenset({"D", "F", "G"})}
    base.update(kw)
    return SessionSettings(**base)  # type: ignore[arg-type]


def build(
    msg_type: str,
    seq: int | None,
    *body: Field,
    now: int = T0,
    sender: str | None = "TW42",
    target: str | None = "ISLD",
    header: tuple[Field, ...] = (),
    begin: str = "FIX.4.2",
    sending_time: str | None = None,
) -> bytes:
    """A framed message as the counterparty would send it (correct 9 and 10)."""
    fields: list[Field] = [(35, msg_type)]
    if seq is not None:
        fields.append((34, seq))
    if sender is not None:
        fields.append((49, sender))
    fields.append((52, sending_time if sending_time is not None else format_utc(now)))
    if target is not None:
        fields.append((56, target))
    fields.extend(header)
    fields.extend(body)
    data = b"".join(f"{t}={v}\x01".encode("latin-1") for t, v in fields)
    return frame(data, begin=f"8={begin}\x01".encode())


def order(seq: int, now: int = T0, **kw: object) -> bytes:
    """A NewOrderSingle like the acceptance tests' (11, 21, 40, 54, 55, 60)."""
    body: tuple[Field, ...] = ((11, "ID"), (21, 3), (40, 1), (54, 1), (55, "INTC"),
                               (60, format_utc(now)))
    return build("D", seq, *body, now=now, **kw)  # type: ignore[arg-type]


def sends(actions: list[Action]) -> list[Message]:
    """The messages a list of actions sends, parsed."""
    return [parse(a.data) for a in actions if isinstance(a, Send)]


def delivered(actions: list[Action]) -> list[Message]:
    """Application messages handed to the application."""
    return [a.msg for a in actions if isinstance(a, Deliver)]


def disconnects(actions: list[Action]) -> list[Disconnect]:
    """Disconnect actions."""
    return [a for a in actions if isinstance(a, Disconnect)]


def events(actions: list[Action], kind: str) -> list[SessionEvent]:
    """SessionEvents of one kind."""
    return [a for a in actions if isinstance(a, SessionEvent) and a.kind == kind]


def types(actions: list[Action]) -> list[str]:
    """MsgTypes sent, in order."""
    return [m.msg_type for m in sends(actions)]


def new_session(store: MessageStore | None = None, **kw: object) -> Session:
    """A connected acceptor session."""
    s = Session(settings(**kw), store if store is not None else MemoryStore())
    s.connected(T0)
    return s


def logged_on(hb: int = 30, store: MessageStore | None = None, **kw: object) -> Session:
    """A session after a Logon exchange with seq 1 each way."""
    s = new_session(store, **kw)
    acts = s.receive(build("A", 1, (98, 0), (108, hb)), T0)
    assert types(acts) == ["A"], acts
    return s
