"""FIX 4.2 wire format and session protocol (sans-IO). Knows nothing of orders or sockets.

Modules and public API:

- ``codec``: hot-path codec. ``Framer().feed(bytes) -> list[bytes]`` (garbled frames dropped and
  counted in ``framer.garbled`` / ``framer.last_reason``, never raises); ``parse(raw) -> Message``
  (``msg_type: str``, ``get(tag) -> str | None``, ``fields: list[tuple[int, str]]`` in wire order
  (built on first use), ``field_count``, ``raw``, ``seq_num``, ``poss_dup``, ``group(count_tag)``);
  ``frame(body)``, ``encode_body``, ``encode_fields`` for templated encoding;
  ``format_utc(ns, "ms"|"ns")``, ``parse_utc(text)``, ``utc_timestamp_ok(text)``.
  Values are ``str`` (one latin-1 decode per message, measured in bench/session.py).
  Framer, parse and validate each have a C-heavy fast path that only proves a message is
  fine; anything else takes the exact path (tests/fix/test_fastpaths.py compares the two).
- ``dictionary``: FIX 4.2 fields/types/enums/messages (generated from QuickFIX's FIX42.xml by
  ``gen_dictionary.py``) plus the dialect tags of SPEC section 3; ``RejectReason`` (373 codes);
  ``load_dictionary(xml)`` reads another DataDictionary (the tools read config/FIX42-ATS.xml).
- ``validate``: ``validate(msg) -> Problem | None`` (SessionRejectReason + RefTagID);
  ``Validator(dictionary).validate`` the same against another dictionary
  (``SessionSettings.validator``).
- ``store``: ``MessageStore`` protocol, ``MemoryStore``, ``FileStore(dir, name, fsync)``,
  ``StoreError`` (a failed write or fsync).
- ``session``: ``SessionSettings``, ``Session`` (``connected``, ``receive``, ``receive_many``
  (one read's messages, stops after a Disconnect), ``tick``,
  ``send_app``, ``logout``, ``abort`` (Logout if logged on, then Disconnect),
  ``disconnected``, ``start_logon`` for initiators), the actions ``Send``, ``Deliver``,
  ``Disconnect``, ``SessionEvent``, ``identify_logon(raw)`` and ``clip(value)`` (a value cut
  for a log line). ``Framer.close_reason`` is set when the stream cannot be framed any more.
"""

from gateway.fix.codec import (
    Framer,
    Message,
    ParseError,
    encode_body,
    encode_fields,
    format_utc,
    frame,
    parse,
    parse_utc,
)
from gateway.fix.dictionary import MESSAGES, RejectReason
from gateway.fix.session import (
    Action,
    Deliver,
    Disconnect,
    Send,
    Session,
    SessionEvent,
    SessionSettings,
    clip,
    identify_logon,
)
from gateway.fix.store import FileStore, MemoryStore, MessageStore, StoreError
from gateway.fix.validate import Problem, validate

__all__ = [
    "MESSAGES",
    "Action",
    "Deliver",
    "Disconnect",
    "FileStore",
    "Framer",
    "MemoryStore",
    "Message",
    "MessageStore",
    "ParseError",
    "Problem",
    "RejectReason",
    "Send",
    "Session",
    "SessionEvent",
    "SessionSettings",
    "clip",
    "StoreError",
    "encode_body",
    "encode_fields",
    "format_utc",
    "frame",
    "identify_logon",
    "parse",
    "parse_utc",
    "validate",
]
