"""Lean hot-path FIX codec: framing, parsing, templated encoding, UTC timestamps.

Values are ``str`` (the frame is decoded once as latin-1, one C call): measured faster than
``bytes`` once the order path reads ~15 tags, and no per-field decode is needed downstream.
"""

from __future__ import annotations

import calendar
import re
import struct
import time
import zlib
from collections.abc import Iterable
from operator import attrgetter
from typing import Final

from gateway.fix._build import speedups

SOH = "\x01"
BEGIN_STRING: Final = "FIX.4.2"
_START = b"8=FIX"
_CHECKSUM_FIELD = b"\x0110="
MAX_BODY_LENGTH = 1 << 20  # a declared BodyLength above this is garbled, not waited for
# The longest frame we wait for: the longest body plus header and trailer (BeginString of at
# most 32 characters, BodyLength of at most 9 digits, CheckSum). A frame with no CheckSum
# within this many bytes of its start can never end: the stream is given up (close_reason).
MAX_MESSAGE_SIZE = MAX_BODY_LENGTH + 64
# INT fields (MsgSeqNum, NewSeqNo, BeginSeqNo, HeartBtInt...) hold signed 32-bit values, as
# in QuickFIX; a larger number is an incorrect data format, never a number we act on.
MAX_INT = (1 << 31) - 1
MIN_INT = -(1 << 31)

# Fast framing of a well-formed frame at the current offset: BeginString (short), then
# BodyLength of at most 6 digits (< MAX_BODY_LENGTH). Anything else takes the exact path.
_FAST_HEAD = re.compile(rb"8=FIX[^\x01]{0,32}\x019=([0-9]{1,6})\x01").match
_CHECKSUM_TEXT = tuple(b"%03d" % i for i in range(256))
_adler32 = zlib.adler32


def byte_sum(data: bytes) -> int:
    """Sum of the bytes (the FIX CheckSum before ``% 256``), computed in C.

    Adler-32 started at 0 keeps the plain byte sum modulo 65521 in its low half: exact while
    the sum stays below 65521, i.e. for at most 256 bytes; longer data is summed in pieces.
    """
    if len(data) <= 256:
        return _adler32(data, 0) & 0xFFFF
    view = memoryview(data)
    if len(data) <= 512:  # an ExecutionReport: two pieces, no generator
        return (_adler32(view[:256], 0) & 0xFFFF) + (_adler32(view[256:], 0) & 0xFFFF)
    return sum(_adler32(view[i : i + 256], 0) & 0xFFFF for i in range(0, len(data), 256))


class ParseError(ValueError):
    """A framed message that is not well-formed FIX (treated as garbled: ignored)."""


class Framer:
    """Split a TCP byte stream into raw FIX messages (``8=...|9=len|...|10=nnn|``).

    Follows QuickFIX's parser: after ``9=len`` it takes everything up to the first CheckSum
    field at or after the declared body end. A frame whose BodyLength or CheckSum is wrong,
    and junk between frames, is dropped and counted in ``garbled`` (``last_reason`` says
    why); framing resumes at the next ``8=FIX``. ``feed`` never raises.

    Two things end the stream for good (``close_reason`` says why; ``feed`` then returns
    nothing more and the caller closes the connection): a frame that has no CheckSum within
    ``MAX_MESSAGE_SIZE`` bytes of its start (it would be held forever), and a garbled Logon
    (QuickFIX disconnects on an invalid Logon, case 1d_InvalidLogonLengthInvalid).
    """

    __slots__ = ("_buf", "garbled", "last_reason", "close_reason")

    def __init__(self) -> None:
        self._buf = b""
        self.garbled = 0
        self.last_reason = ""
        self.close_reason: str | None = None

    def _drop(self, reason: str) -> None:
        self.garbled += 1
        self.last_reason = reason

    def _give_up(self, reason: str) -> None:
        self._drop(reason)
        self.close_reason = reason

    def _drop_frame(self, reason: str, logon: bool) -> None:
        """A complete but bad frame is dropped; a bad Logon ends the stream."""
        if logon:
            self._give_up(reason + " in a Logon")
        else:
            self._drop(reason)

    def feed(self, data: bytes) -> list[bytes]:
        """Return the complete, checksum-verified raw messages now available."""
        # (a local: mypy would narrow the attribute to None for the whole method, and the
        # mypyc-compiled code would then refuse the str that _drop_frame may set below)
        closed = self.close_reason
        if closed is not None:
            return []
        buf = self._buf + data if self._buf else bytes(data)
        out: list[bytes] = []
        pos = 0
        n = len(buf)
        find = buf.find
        while pos < n:
            # Fast path: the well-formed frames right here (no junk, 3-digit CheckSum that
            # matches); it proves exactly what the checks below prove, else they decide.
            pos = _scan(buf, pos, out)
            if pos >= n:
                break
            start = find(_START, pos)
            if start < 0:
                keep = max(pos, n - 4)  # the tail may be the start of "8=FIX"
                if keep > pos and buf[pos:keep].strip(b"\r\n\x00 "):
                    self._drop("junk between messages")
                pos = keep
                break
            if start > pos and buf[pos:start].strip(b"\r\n\x00 "):
                self._drop("junk between messages")
            pos = start
            soh1 = find(b"\x01", start)
            if soh1 < 0:
                if n - start > 32:
                    self._drop("BeginString not terminated")
                    pos = start + 1
                    continue
                break
            if n < soh1 + 3:
                break
            if buf[soh1 + 1 : soh1 + 3] != b"9=":
                self._drop("BodyLength(9) is not the second field")
                pos = start + 1
                continue
            soh2 = find(b"\x01", soh1 + 3)
            if soh2 < 0:
                if n - soh1 > 16:
                    self._drop("BodyLength not terminated")
                    pos = start + 1
                    continue
                break
            digits = buf[soh1 + 3 : soh2]
            if not digits.isdigit() or len(digits) > 9 or int(digits) > MAX_BODY_LENGTH:
                self._drop("bad BodyLength value")
                pos = start + 1
                continue
            body_end = soh2 + 1 + int(digits)
            if n < body_end:
                break
            limit = start + MAX_MESSAGE_SIZE
            cks = find(_CHECKSUM_FIELD, body_end - 1, limit)
            soh3 = find(b"\x01", cks + 4, limit) if cks >= 0 else -1
            if soh3 < 0:
                if n >= limit:
                    self._give_up(f"no CheckSum(10) within {MAX_MESSAGE_SIZE} bytes")
                    pos = n
                break
            frame = buf[start : soh3 + 1]
            pos = soh3 + 1
            logon = buf.startswith(b"35=A\x01", soh2 + 1)
            if cks != body_end - 1:
                self._drop_frame("BodyLength(9) does not match the message length", logon)
            elif len(value := buf[cks + 4 : soh3]) != 3 or not value.isdigit():
                self._drop_frame("CheckSum(10) is not three digits", logon)
            elif byte_sum(frame[: cks + 1 - start]) & 255 != int(value):
                self._drop_frame("CheckSum(10) mismatch", logon)
            else:
                out.append(frame)
                continue
            if self.close_reason is not None:
                pos = n
                break
        self._buf = buf[pos:] if pos < n else b""
        return out

    @property
    def pending(self) -> int:
        """Bytes held back waiting for the rest of a message."""
        return len(self._buf)


def _scan_py(buf: bytes, pos: int, out: list[bytes]) -> int:
    """Append the well-formed frames starting at ``pos`` to ``out``; return where they end.

    A frame is taken here only when it is exactly right: ``8=FIX`` and a short BeginString,
    BodyLength of at most 6 digits, ``10=`` right at the declared end and a CheckSum that
    matches. At anything else (junk, damage, an incomplete frame) it stops: ``Framer.feed``'s
    exact path decides there. ``_speedups.scan`` is the compiled twin.
    """
    n = len(buf)
    fast_head = _FAST_HEAD
    while pos < n:
        m = fast_head(buf, pos)
        if m is None:
            return pos
        body_end = m.end() + int(m[1])
        end = body_end + 7
        if (
            end <= n
            and buf[end - 1] == 1
            and buf.startswith(b"\x0110=", body_end - 1)
            and buf[body_end + 3 : body_end + 6]
            == _CHECKSUM_TEXT[byte_sum(buf[pos:body_end]) & 255]
        ):
            out.append(buf[pos:end])
            pos = end
        else:
            return pos
    return pos


_scan = speedups.scan if speedups is not None else _scan_py


# str(tag) -> int for the usual tags; filled lazily, bounded.
_TAG_CACHE: dict[str, int] = {str(i): i for i in range(1, 1000)}
INVALID_TAG = 0


def _tag_number(text: str) -> int:
    """Tag text -> int; a non-numeric tag becomes INVALID_TAG (0), '-1' stays -1."""
    t = _TAG_CACHE.get(text)
    if t is not None:
        return t
    body = text[1:] if text[:1] == "-" else text
    if not body.isdigit() or not body.isascii() or len(body) > 9:
        return INVALID_TAG
    value = int(text)
    if len(_TAG_CACHE) < 20000:
        _TAG_CACHE[text] = value
    return value


class Message:
    """A parsed FIX message: ``fields`` in wire order (str values), ``get(tag)``, ``raw``.

    ``get`` returns the last occurrence of a tag; use ``group`` for repeating groups.
    ``fields`` (a list of (int tag, value) tuples) is built on first use. A message the C
    parser read without a repeated tag reads its values through its layout's index (tag ->
    place in the flat list, one per layout, shared: ``_layout_index``); its tag -> value map
    (``_map``) is built only when something asks for it.
    """

    __slots__ = ("raw", "msg_type", "_dict", "_flat", "_fields", "no_value", "layout_key",
                 "_index")

    def __init__(
        self,
        raw: bytes,
        flat: list[str],
        tag_map: dict[int, str] | None,
        no_value: int = 0,
        fields: list[tuple[int, str]] | None = None,
        layout_key: bytes | None = None,
        index: bytes | None = None,
    ) -> None:
        self.raw = raw
        self._flat = flat  # tag text, value, tag text, value... as on the wire
        self._dict = tag_map  # None: made from flat on first use (``_map``)
        self._fields = fields
        self.msg_type: str = flat[5]
        self.no_value = no_value  # first tag sent without a value ("56=" or "56"), else 0
        # layout_key(msg_type, tag_map) when the parser made it (no tag repeated), else None:
        # the key of validate's plan for this layout
        self.layout_key = layout_key
        # tag (< 1000) -> place of its value in flat (0: absent), the layout's; or None
        self._index = index

    @property
    def _map(self) -> dict[int, str]:
        """tag -> value (the last occurrence), built on first use where the parser did not."""
        tag_map = self._dict
        if tag_map is None:
            flat = self._flat
            tag_map = self._dict = dict(zip(map(_tag_number, flat[0::2]), flat[1::2], strict=True))
        return tag_map

    @property
    def fields(self) -> list[tuple[int, str]]:
        """(tag, value) pairs in wire order."""
        fields = self._fields
        if fields is None:
            flat = self._flat
            fields = self._fields = list(zip(map(_tag_number, flat[0::2]), flat[1::2], strict=True))
        return fields

    @property
    def field_count(self) -> int:
        """Number of fields on the wire (repeated tags counted each time)."""
        return len(self._flat) >> 1

    def get(self, tag: int) -> str | None:
        """Value of ``tag`` or None."""
        index = self._index
        if index is not None:  # no tag repeated, every tag below 1000
            if 0 < tag < 1000:
                at = index[tag]
                if at:
                    return self._flat[at]
            return None
        return self._map.get(tag)

    def __contains__(self, tag: object) -> bool:
        if self._index is not None and isinstance(tag, int):
            return self.get(tag) is not None
        return tag in self._map

    @property
    def seq_num(self) -> int | None:
        """MsgSeqNum(34) as int, None if missing or not an integer."""
        tag_map = self._dict  # (the pure build: a dict's get, not the property's)
        v = tag_map.get(34) if tag_map is not None else self.get(34)
        if v is None or len(v) > 10 or not v.isdigit() or not v.isascii():  # "²" is a digit
            return None
        seq = int(v)
        return seq if seq <= MAX_INT else None

    @property
    def poss_dup(self) -> bool:
        """PossDupFlag(43) == 'Y'."""
        tag_map = self._dict
        return (tag_map.get(43) if tag_map is not None else self.get(43)) == "Y"

    def group(self, count_tag: int) -> list[dict[int, str]]:
        """Instances of the repeating group introduced by ``count_tag`` (first field delimits)."""
        out: list[dict[int, str]] = []
        fields = self.fields
        for i, (tag, _) in enumerate(fields):
            if tag != count_tag:
                continue
            if i + 1 >= len(fields):
                return out
            delim = fields[i + 1][0]
            current: dict[int, str] = {}
            for t, v in fields[i + 1 :]:
                if t == 10:
                    break
                if t == delim:
                    current = {}
                    out.append(current)
                elif t in current and t != delim:
                    break
                current[t] = v
            return out
        return out

    def __repr__(self) -> str:
        return "Message(" + self.raw.decode("latin-1").replace(SOH, "|") + ")"


if __file__.endswith(".py"):
    # The source runs (not mypyc): ``msg.get(tag)`` becomes the tag map's own ``get``, reached
    # without a Python frame (the order path reads ~20 tags per message through it). Compiled,
    # the method above is a native call already. (Not compiled, every message has its map:
    # ``parse`` takes the index path only where Message is compiled, ``_LAZY_MAP``.)
    setattr(Message, "get", property(attrgetter("_dict.get")))  # noqa: B010 (mypy: a method)


# Fast-path proof that splitting at every '=' and SOH pairs tags with values: keeping only
# those two bytes must leave "=\x01=\x01..." and the last byte be SOH (so each field has
# exactly one '=').
_NOT_SEPARATOR = bytes(c for c in range(256) if c not in (0x01, 0x3D))
_ALTERNATING = b"=\x01" * 4096
_tag_of = _TAG_CACHE.__getitem__


def parse(raw: bytes) -> Message:
    """Parse one framed raw message. Raises ParseError if it is not well-formed FIX:
    a field without '=', or 8, 9, 35 not the first three fields, or 10 not the last."""
    if _LAZY_MAP:
        flat_key = _parse_flat(raw)
        if flat_key is not None:
            # (by index: compiled, unpacking the pair would be a generic iteration)
            flat = flat_key[0]
            key = flat_key[1]
            index = _layout_index(key, flat) if key is not None else None
            return Message(raw, flat, None, 0, None, key, index)
        return _parse_slow(raw)
    parsed = _parse_fast(raw)
    if parsed is not None:
        return Message(raw, parsed[0], parsed[1], 0, None, parsed[2])
    return _parse_slow(raw)


#: struct of n tags, for n up to 63 (a longer layout is packed with its own)
_TAGS = [struct.Struct(">%di" % n) for n in range(64)]
#: MsgType -> the key's head (its length, then it), for the types seen (bounded)
_KEY_HEAD: dict[str, bytes] = {}


def layout_key(msg_type: str, present: dict[int, str]) -> bytes | None:
    """The key of a layout (validate's plan for it): the length of MsgType (one byte), MsgType
    (latin-1), then each tag of ``present`` in order as 4 bytes (big-endian, signed); None
    where that cannot be written (MsgType over 255 characters or not latin-1, a tag outside
    32 bits): such a message takes the exact walk. ``_speedups.plan_key`` is the compiled
    twin (and ``_speedups.parse`` makes it while it parses)."""
    head = _KEY_HEAD.get(msg_type)
    if head is None:
        if len(msg_type) > 255:
            return None
        try:
            head = bytes((len(msg_type),)) + msg_type.encode("latin-1")
        except UnicodeEncodeError:
            return None
        if len(_KEY_HEAD) < 256:
            _KEY_HEAD[msg_type] = head
    n = len(present)
    try:
        return head + (_TAGS[n] if n < 64 else struct.Struct(">%di" % n)).pack(*present)
    except struct.error:
        return None


def _parse_fast_py(raw: bytes) -> tuple[list[str], dict[int, str], bytes | None] | None:
    """(flat, tag map, layout key) of a message whose every field is plainly ``tag=value`` (a
    known tag, a value without '=' and not empty) with 8, 9, 35 first and 10 last; else None,
    and ``_parse_slow`` decides. The layout key is ``layout_key(MsgType, tag map)`` when no
    tag is repeated, else None. ``_speedups.parse`` is the compiled twin."""
    seps = raw.translate(None, _NOT_SEPARATOR)
    if (
        seps == _ALTERNATING[: len(seps)]
        and raw[-1:] == b"\x01"
        and b"=\x01" not in raw
    ):
        # All in C: one decode, one split, tags through the cache, the map built by dict().
        flat = raw.decode("latin-1").replace(SOH, "=").split("=")
        flat.pop()
        it = iter(flat)
        try:
            tag_map = dict(zip(map(_tag_of, it), it, strict=True))
        except KeyError:  # a tag not seen before (or not a number): the exact path below
            pass
        else:
            if (
                len(flat) >= 8
                and flat[0] == "8"
                and flat[2] == "9"
                and flat[4] == "35"
                and flat[-2] == "10"
            ):
                key = layout_key(flat[5], tag_map) if len(tag_map) << 1 == len(flat) else None
                return flat, tag_map, key
    return None


# (Final: compiled, a static read, not a lookup in the module's dict per call; likewise below)
_parse_fast: Final = speedups.parse if speedups is not None else _parse_fast_py


def _parse_flat_py(raw: bytes) -> tuple[list[str], bytes | None] | None:
    """(flat, layout key) of ``_parse_fast_py``, without the tag map (``Message.get`` reads
    through the layout's index instead). ``_speedups.parse_flat`` is the compiled twin."""
    parsed = _parse_fast_py(raw)
    return None if parsed is None else (parsed[0], parsed[2])


_parse_flat: Final = speedups.parse_flat if speedups is not None else _parse_flat_py
#: the map is left to be built on demand only where Message is compiled (its ``get`` reads the
#: index natively) and the C parser runs; else ``parse`` builds it as it parses
_LAZY_MAP: Final = speedups is not None and not __file__.endswith(".py")
#: layout key -> its index (``_layout_index``); bounded
_INDEXES: Final[dict[bytes, bytes | None]] = {}
_MAX_INDEXES = 4096


def _layout_index(key: bytes, flat: list[str]) -> bytes | None:
    """The index of a layout (its key ``key``, ``flat`` a message of it, no tag repeated, every
    tag 1..999 as the C parser takes them): byte ``t`` is the place of tag ``t``'s value in the
    flat list, 0 when absent. None when a place would not fit in a byte (over 127 fields):
    such a message reads its tag map. Made once per layout, shared by its messages."""
    index = _INDEXES.get(key, b"")
    if index is not None and not index:
        if len(flat) > 256:
            index = None
        else:
            table = bytearray(1000)
            for at in range(1, len(flat), 2):
                table[int(flat[at - 1])] = at
            index = bytes(table)
        if len(_INDEXES) >= _MAX_INDEXES:
            _INDEXES.clear()
        _INDEXES[key] = index
    return index


def _parse_slow(raw: bytes) -> Message:
    parts = raw.decode("latin-1").split(SOH)
    if parts[-1] != "":
        raise ParseError("message does not end with SOH")
    parts.pop()
    flat: list[str] = []
    fields: list[tuple[int, str]] = []
    no_value = 0
    for p in parts:
        tag, sep, val = p.partition("=")
        if not sep:
            raise ParseError(f"field without '=': {p[:20]!r}")
        t = _tag_number(tag)
        if not val and not no_value:
            no_value = t
        flat += (tag, val)
        fields.append((t, val))
    if len(fields) < 4 or fields[0][0] != 8 or fields[1][0] != 9 or fields[2][0] != 35:
        raise ParseError("BeginString, BodyLength, MsgType must be the first three fields")
    if fields[-1][0] != 10:
        raise ParseError("CheckSum must be the last field")
    return Message(raw, flat, dict(fields), no_value, fields)

# ---------------------------------------------------------------------------------------
# Encoding


def _frame_py(body: bytes, begin: bytes) -> bytes:
    msg = b"%s9=%d\x01%s" % (begin, len(body), body)
    return b"%s10=%s\x01" % (msg, _CHECKSUM_TEXT[byte_sum(msg) & 255])


def _build_py(
    begin: bytes, msg_type: bytes, seq: int, mid: bytes, ts: bytes, tail: bytes, extra: bytes,
    body: bytes,
) -> bytes:
    return _frame_py(b"35=%s\x0134=%d%s%s%s%s%s" % (msg_type, seq, mid, ts, tail, extra, body),
                     begin)


_frame = speedups.frame if speedups is not None else _frame_py
#: ``build(begin, msg_type, seq, mid, ts, tail, extra, body)``: a whole message in one step,
#: ``frame(b"35=<msg_type>|34=<seq>" + mid + ts + tail + extra + body, begin)`` (``mid`` is
#: ``|49=..|52=``, ``ts`` the SendingTime, ``tail`` ``|56=..|``); ``_speedups.build`` is the
#: compiled twin of ``_build_py``.
build = speedups.build if speedups is not None else _build_py


def frame(body: bytes, begin: bytes = b"8=FIX.4.2\x01") -> bytes:
    """Wrap ``body`` (starting at 35=) with BeginString, BodyLength and CheckSum."""
    return _frame(body, begin)


def encode_value(value: str | bytes | int) -> bytes:
    """One value as wire bytes."""
    if isinstance(value, bytes):
        return value
    if isinstance(value, int):
        return b"%d" % value
    return value.encode("latin-1")


def encode_body(pairs: Iterable[tuple[int, str | bytes | int]]) -> bytes:
    """``tag=value\\x01`` for each pair, in the order given."""
    return b"".join(b"%d=%s\x01" % (tag, encode_value(v)) for tag, v in pairs)


def encode_fields(*pairs: tuple[int, str | bytes | int]) -> bytes:
    """Varargs form of ``encode_body``."""
    return encode_body(pairs)


# ---------------------------------------------------------------------------------------
# UTCTimestamp

_fmt_cache_sec = -1
_fmt_cache_prefix = ""


def format_utc(ns: int, precision: str = "ms") -> str:
    """FIX UTCTimestamp: ``YYYYMMDD-HH:MM:SS.sss`` ("ms") or 9 fractional digits ("ns")."""
    global _fmt_cache_sec, _fmt_cache_prefix
    sec, frac = divmod(ns, 1_000_000_000)
    if sec != _fmt_cache_sec:
        _fmt_cache_prefix = time.strftime("%Y%m%d-%H:%M:%S", time.gmtime(sec))
        _fmt_cache_sec = sec
    if precision == "ns":
        return f"{_fmt_cache_prefix}.{frac:09d}"
    return f"{_fmt_cache_prefix}.{frac // 1_000_000:03d}"


_parse_cache: Final[dict[str, int]] = {}  # valid "YYYYMMDD-HH:MM:SS" -> seconds since the epoch
_FRACTION = re.compile(r"\.[0-9]{1,9}").fullmatch  # [0-9]: ASCII digits only
_FRACTION_SCALE = (0, 100_000_000, 10_000_000, 1_000_000, 100_000, 10_000, 1000, 100, 10, 1)


# Recently parsed valid timestamps, whole: at a high message rate many messages carry the
# same millisecond (SendingTime, TransactTime), so most lookups hit. Bounded.
_recent: Final[dict[str, int]] = {}


def parse_utc(text: str) -> int | None:
    """UTCTimestamp (with no fraction or 1-9 fractional digits) -> ns since epoch, or None."""
    ns = _recent.get(text)
    if ns is not None:
        return ns
    secs = _parse_cache.get(text[:17])
    if secs is None:
        secs = _parse_utc_seconds(text)
        if secs is None:
            return None
    n = len(text)
    if n == 17:
        ns = secs * 1_000_000_000
    elif _FRACTION(text, 17) is None:
        return None
    else:
        ns = secs * 1_000_000_000 + int(text[18:]) * _FRACTION_SCALE[n - 18]
    if len(_recent) >= 1024:
        _recent.clear()
    _recent[text] = ns
    return ns


def utc_timestamp_ok(text: str) -> bool:
    """Whether ``text`` is a valid UTCTimestamp (``parse_utc`` would not return None)."""
    return text in _recent or parse_utc(text) is not None


def _parse_utc_seconds(text: str) -> int | None:
    """Seconds of a valid "YYYYMMDD-HH:MM:SS" prefix (then cached), else None."""
    if len(text) < 17 or text[8] != "-" or text[11] != ":" or text[14] != ":":
        return None
    d, h, m, s = text[:8], text[9:11], text[12:14], text[15:17]
    if not (d.isdigit() and h.isdigit() and m.isdigit() and s.isdigit() and d.isascii()
            and h.isascii() and m.isascii() and s.isascii()):
        return None
    year, month, day = int(d[:4]), int(d[4:6]), int(d[6:8])
    hour, minute, second = int(h), int(m), int(s)
    if not (1 <= month <= 12 and 1 <= day <= calendar.monthrange(year, month)[1]):
        return None
    if hour > 23 or minute > 59 or second > 60:
        return None
    secs = calendar.timegm((year, month, day, hour, minute, second, 0, 0, 0))
    if len(_parse_cache) > 4096:
        _parse_cache.clear()
    _parse_cache[text[:17]] = secs
    return secs
