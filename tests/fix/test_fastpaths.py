"""The hot-path shortcuts (framer, parser, validator) agree with the exact paths they skip.

Each fast path must be a proof that nothing is wrong; these tests feed damaged input to both
the fast and the exact path and require the same outcome.
"""

from __future__ import annotations

from unittest import mock

from fixhelp import build, order
from hypothesis import given, settings
from hypothesis import strategies as st

from gateway.fix import codec
from gateway.fix.codec import Framer, frame

STREAM = [order(n) for n in range(2, 5)] + [build("0", 5), order(6)]
LONG = build("D", 7, (11, "X" * 300), (21, 1), (40, 1), (54, 1), (55, "INTC"),
             (60, "20231114-22:13:20"))
# Bytes that matter to framing and parsing, and a few that do not.
ALPHABET = b"\x01=0123456789FIX8.A "


def _framed(data: list[bytes], fast: bool) -> tuple[list[bytes], int, str]:
    framer = Framer()
    with mock.patch.object(codec, "_FAST_HEAD", codec._FAST_HEAD if fast else lambda b, p: None):
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

