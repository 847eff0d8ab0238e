"""The hot-path shortcuts (framer, parser, validator) agree with the exact paths they skip.

Each fast path must be a proof that nothing is wrong; these tests feed damaged input to both
the fast and the exact path and require the same outcome.
"""

from __future__ import annotations

from unittest import mock

from fixhelp import T0, build, disconnects, logged_on, order
from hypothesis import given, settings
from hypothesis import strategies as st

from gateway.fix import codec
from gateway.fix.codec import Framer, frame
from gateway.fix.session import Deliver
from gateway.fix.validate import SESSION_CHECKED, _validate_walk, validate

STREAM = [order(n) for n in range(2, 5)] + [build("0", 5), order(6)]
LONG = build("D", 7, (11, "X" * 300), (21, 1), (40, 1), (54, 1), (55, "INTC"),
             (60, "20231114-22:13:20"))
# Bytes that matter to framing and parsing, and a few that do not.
ALPHABET = b"\x01=0123456789FIX8.A "


def _framed(data: list[bytes], fast: bool) -> tuple[list[bytes], int, str]:
    framer = Framer()
    with mock.patch.object(codec, "_scan", codec._scan if fast else lambda b, p, o: p):
        out = [m for chunk in data for m in framer.feed(chunk)]
    return out, framer.garbled, framer.last_reason


def _mutate(raw: bytes, edits: list[tuple[int, int, int]]) -> bytes:
    for kind, where, byte in edits:
        i = where % (len(raw) + 1)
        b = bytes([ALPHABET[byte % len(ALPHABET)]])
        if kind == 0:
            raw = raw[:i] + b + raw[i + 1 :]
        elif kind == 1:
            raw = raw[:i] + b + raw[i:]
        else:
            raw = raw[:i] + raw[i + 1 :]
    return raw


EDITS = st.lists(st.tuples(st.integers(0, 2), st.integers(0, 5000), st.integers(0, 255)),
                 min_size=1, max_size=4)


@settings(max_examples=400, deadline=None)
@given(EDITS, st.lists(st.integers(1, 300), max_size=12))
def test_framer_fast_path_matches_exact_path_on_damaged_streams(
    edits: list[tuple[int, int, int]], cuts: list[int]
) -> None:
    stream = _mutate(b"".join(STREAM) + LONG, edits)
    chunks, pos = [], 0
    for c in cuts:
        chunks.append(stream[pos : pos + c])
        pos += c
    chunks.append(stream[pos:])
    assert _framed(chunks, fast=True) == _framed(chunks, fast=False)


def test_framer_fast_path_matches_exact_path_for_every_single_byte_edit() -> None:
    raw, tail = order(2), order(3)
    for i in range(len(raw) + 1):
        for byte in range(len(ALPHABET)):
            for kind in (0, 1, 2):
                chunks = [_mutate(raw, [(kind, i, byte)]) + tail]
                assert _framed(chunks, fast=True) == _framed(chunks, fast=False), (i, kind)


def test_framer_checks_checksum_of_frames_longer_than_256_bytes() -> None:
    assert len(LONG) > 300
    assert _framed([LONG], fast=True) == ([LONG], 0, "")
    cks = int(LONG[-4:-1])
    bad = LONG[:-4] + b"%03d\x01" % ((cks + 1) % 256)
    assert _framed([bad], fast=True) == ([], 1, "CheckSum(10) mismatch")


def test_framer_accepts_checksum_with_leading_zeros_and_not_four_digits() -> None:
    body = next(b"35=0\x0134=%d\x01" % i for i in range(1000)
                if sum(frame(b"35=0\x0134=%d\x01" % i)[:-7]) % 256 < 10)
    raw = frame(body)
    assert raw[-7:-4] == b"10=" and raw[-4:-3] == b"0"
    assert _framed([raw], fast=True) == ([raw], 0, "")
    four = raw[:-4] + b"0" + raw[-4:]
    assert _framed([four], fast=True) == ([], 1, "CheckSum(10) is not three digits")


def _parsed(raw: bytes, fast: bool) -> object:
    try:
        msg = codec.parse(raw) if fast else codec._parse_slow(raw)
    except codec.ParseError as e:
        return ("ParseError", str(e) if not fast else None)
    return (msg.fields, msg._map, msg.msg_type, msg.no_value, msg.field_count, msg._flat)


def _same_parse(raw: bytes) -> None:
    fast, exact = _parsed(raw, True), _parsed(raw, False)
    if isinstance(exact, tuple) and exact[0] == "ParseError":
        assert isinstance(fast, tuple) and fast[0] == "ParseError", raw
    else:
        assert fast == exact, raw


ODD = [
    build("D", 2, (11, "a=b"), (21, 1), (55, "X")),  # '=' inside a value
    build("D", 2, (11, ""), (21, 1)),  # empty value
    build("D", 2, (11, "A"), (98765, "x")),  # a tag the cache has not seen
    order(2).replace(b"\x0134=", b"\x01034="),  # tag with a leading zero
    order(2).replace(b"\x0134=", b"\x01-34="),
    order(2).replace(b"\x0134=", b"\x01=").replace(b"\x0110=", b"\x01010="),
    order(2) + b"x",
]


def test_parse_fast_path_matches_exact_parse_for_odd_messages() -> None:
    for raw in ODD:
        _same_parse(raw)


def test_parse_fast_path_matches_exact_parse_for_every_single_byte_edit() -> None:
    raw = order(2)
    for i in range(len(raw) + 1):
        for byte in range(len(ALPHABET)):
            for kind in (0, 1, 2):
                _same_parse(_mutate(raw, [(kind, i, byte)]))


@settings(max_examples=300, deadline=None)
@given(EDITS)
def test_parse_fast_path_matches_exact_parse_on_damaged_messages(
    edits: list[tuple[int, int, int]],
) -> None:
    _same_parse(_mutate(ODD[0], edits))
    _same_parse(_mutate(order(3), edits))


def _same_validation(raw: bytes) -> None:
    try:
        msg = codec.parse(raw)
    except codec.ParseError:
        return
    fast, exact = validate(msg), _validate_walk(msg)
    if exact is not None and exact.tag in SESSION_CHECKED and exact.reason == 6:
        assert fast in (None, exact), raw  # their format is the session's to check
    else:
        assert fast == exact, raw


VALID = [
    order(2),
    build("D", 3, (11, "A"), (21, 1), (40, 2), (44, "10.5"), (54, 5), (55, "X"), (38, 100),
          (60, "20231114-22:13:20.123"), (18, "M 1"), (7010, "Y"), header=((43, "N"),)),
    build("G", 4, (11, "B"), (41, "A"), (21, 1), (40, 2), (44, "10.5"), (54, 1), (55, "X"),
          (38, 100), (60, "20231114-22:13:20")),
    build("W", 5, (262, "R"), (55, "X"), (268, 2), (269, 0), (270, "1.5"), (269, 1),
          (270, "1.6")),
    build("0", 6, (112, "T")),
]


def test_validation_fast_path_matches_walk_for_every_single_byte_edit() -> None:
    for raw in VALID[:2]:
        assert validate(codec.parse(raw)) is None
        for i in range(len(raw) - 7):  # the CheckSum field is the framer's
            for byte in range(len(ALPHABET)):
                for kind in (0, 1, 2):
                    _same_validation(_mutate(raw, [(kind, i, byte)]))


FIELD = st.tuples(st.sampled_from([11, 18, 21, 38, 40, 43, 44, 47, 54, 59, 60, 97, 7010, 7011,
                                   52, 34, 269, 5, 9999, 10, 8]),
                  st.sampled_from(["1", "2", "Y", "N", "M 1", "1.5", "x", "-3", "0",
                                   "20231114-22:13:20", "20231114-22:13:61", "²"]))


@settings(max_examples=400, deadline=None)
@given(st.sampled_from(VALID), st.lists(st.tuples(st.integers(0, 30), FIELD), max_size=4))
def test_validation_fast_path_matches_walk_with_fields_inserted(
    raw: bytes, inserts: list[tuple[int, tuple[int, str]]]
) -> None:
    parts = raw.split(b"\x01")[3:-2]  # between MsgType and CheckSum
    for where, (tag, value) in inserts:
        parts.insert(where % (len(parts) + 1), b"%d=%s" % (tag, value.encode("latin-1")))
    _same_validation(frame(b"".join(p + b"\x01" for p in [raw.split(b"\x01")[2], *parts])))


def _script(kinds: list[int]) -> list[bytes]:
    """Counterparty messages after Logon: mostly in-sequence orders, with trouble mixed in."""
    out: list[bytes] = []
    seq = 2
    for k in kinds:
        if k == 0:
            out.append(order(seq))
        elif k == 1:
            out.append(order(seq + 2))  # gap
            seq -= 1
        elif k == 2:
            out.append(order(seq, sender="XX"))  # CompID problem
        elif k == 3:
            out.append(order(seq, sending_time="20231114-20:13:20"))  # stale SendingTime
        elif k == 4:
            out.append(order(seq).replace(b"\x0154=1", b"\x0154=Z"))  # bad enum
        elif k == 5:
            out.append(build("D", seq, (11, "A"), (21, 1), (40, 1), (54, 1), (55, "X"),
                             (60, "x")))  # bad timestamp
        elif k == 6:
            out.append(build("0", seq))
        elif k == 7:
            out.append(order(seq - 1, header=((43, "Y"), (122, "20231114-22:13:19"))))
            seq -= 1
        else:
            out.append(build("E", seq, (66, "L"), (394, 1), (82, 1), (67, 1), (11, "A"),
                             (21, 1), (55, "X"), (54, 1), (40, 1)))  # not an accepted type
        seq += 1
    return out


def _run(raws: list[bytes], fast: bool, many: bool) -> tuple[list[object], int]:
    s = logged_on()
    if not fast:
        # no type takes the fast lane (an attribute, so the same works on the mypyc-compiled
        # Session, whose methods cannot be patched)
        s._fast_types = frozenset()
    if many:
        acts = s.receive_many(raws, T0)
    else:
        acts = []
        for raw in raws:
            got = s.receive(raw, T0)
            acts += got
            if disconnects(got):
                break
    return [a.msg.raw if isinstance(a, Deliver) else a for a in acts], s.next_target_seq


@settings(max_examples=200, deadline=None)
@given(st.lists(st.integers(0, 8), max_size=12))
def test_session_fast_lane_and_receive_many_match_the_full_path(kinds: list[int]) -> None:
    raws = _script(kinds)
    exact = _run(raws, fast=False, many=False)
    assert _run(raws, fast=True, many=False) == exact
    assert _run(raws, fast=True, many=True) == exact
    assert _run(raws, fast=False, many=True) == exact
