"""Framer, parser, encoder and timestamps."""

from __future__ import annotations

import simplefix
from fixhelp import T0, build, order
from hypothesis import given, settings
from hypothesis import strategies as st

from gateway.fix.codec import (
    Framer,
    ParseError,
    encode_fields,
    format_utc,
    frame,
    parse,
    parse_utc,
)

GOOD = [build("0", n) for n in range(2, 6)] + [order(6)]


def test_framer_splits_pipelined_stream() -> None:
    framer = Framer()
    assert framer.feed(b"".join(GOOD)) == GOOD and framer.garbled == 0


def test_framer_reassembles_byte_by_byte() -> None:
    framer = Framer()
    out = [m for b in b"".join(GOOD) for m in framer.feed(bytes([b]))]
    assert out == GOOD and framer.pending == 0


def test_framer_body_length_too_short_drops_only_that_message() -> None:
    bad = b"8=FIX.4.2\x019=30\x01" + order(2).split(b"\x01", 2)[2]
    framer = Framer()
    assert framer.feed(bad + order(3)) == [order(3)]
    assert framer.garbled == 1 and "BodyLength" in framer.last_reason


def test_framer_body_length_too_long_swallows_next_message_like_quickfix() -> None:
    head, rest = order(4).split(b"\x01", 2)[0], order(4).split(b"\x01", 2)[2]
    bad = head + b"\x019=%d\x01" % (len(rest) - 7 + 16) + rest
    framer = Framer()
    assert framer.feed(bad + order(5) + order(6)) == [order(6)]
    assert framer.garbled == 1


def test_framer_bad_checksum_dropped_and_resyncs() -> None:
    bad = order(2)[:-4] + b"000\x01"
    framer = Framer()
    assert framer.feed(b"junk" + bad + order(3)) == [order(3)]
    assert framer.garbled == 2 and framer.last_reason == "CheckSum(10) mismatch"


@settings(max_examples=300, deadline=None)
@given(st.binary(max_size=400), st.lists(st.integers(1, 60), max_size=20))
def test_framer_never_raises_and_recovers_after_junk(junk: bytes, cuts: list[int]) -> None:
    framer = Framer()
    framer.feed(junk)
    stream = b"\x01" + b"".join(GOOD)
    out: list[bytes] = []
    pos = 0
    for c in cuts:
        out.extend(framer.feed(stream[pos : pos + c]))
        pos += c
    out.extend(framer.feed(stream[pos:]))
    # whatever the junk swallowed, the tail of the good stream comes out intact
    assert out[-1] == GOOD[-1]
    assert all(m in GOOD for m in out[1:])


@settings(max_examples=300, deadline=None)
@given(st.binary(max_size=2000))
def test_framer_any_bytes_never_raise(data: bytes) -> None:
    framer = Framer()
    for m in framer.feed(data + b"8=FIX.4.2\x019=5\x0135=0\x0110=000\x01"):
        assert m.startswith(b"8=FIX")


def test_parse_fields_in_wire_order() -> None:
    msg = parse(order(2))
    assert msg.msg_type == "D" and msg.get(34) == "2" and msg.get(55) == "INTC"
    assert [t for t, _ in msg.fields][:4] == [8, 9, 35, 34]
    assert msg.seq_num == 2 and not msg.poss_dup and msg.get(9999) is None


def test_parse_rejects_message_type_not_third() -> None:
    raw = frame(b"34=2\x0135=0\x01")
    try:
        parse(raw)
    except ParseError:
        return
    raise AssertionError("35 not third must be a ParseError")


def test_encoded_message_is_read_by_simplefix() -> None:
    raw = frame(b"35=8\x01" + encode_fields((34, 7), (55, "AAPL"), (44, b"10.5"), (58, "x y")))
    p = simplefix.FixParser()
    p.append_buffer(raw)
    m = p.get_message()
    assert m is not None and m.get(55) == b"AAPL" and m.get(34) == b"7"
    assert raw.endswith(b"10=%s\x01" % m.get(10))


def test_format_utc_ms_and_ns() -> None:
    assert format_utc(T0 + 123_456_789) == "20231114-22:13:20.123"
    assert format_utc(T0 + 123_456_789, "ns") == "20231114-22:13:20.123456789"


def test_parse_utc_variants() -> None:
    assert parse_utc("20231114-22:13:20") == T0
    assert parse_utc("20231114-22:13:20.123") == T0 + 123_000_000
    assert parse_utc("20231114-22:13:20.123456789") == T0 + 123_456_789
    for bad in ("20231314-22:13:20", "20231114-25:13:20", "20231114 22:13:20", "2023",
                "20231114-22:13:20.", "20231114-22:13:20.1234567890", "20230231-00:00:00"):
        assert parse_utc(bad) is None, bad


def test_latin1_superscript_digits_are_not_numbers() -> None:
    # "²" (0xB2) decodes to a str that isdigit() accepts but int() refuses.
    assert parse_utc("20231114-²2:13:20") is None
    assert parse_utc("20231114-22:13:20.²") is None
    assert parse(build("0", None, header=((34, "\xb2"),))).seq_num is None


def test_parse_utc_memo_gives_same_answers_and_stays_bounded() -> None:
    from gateway.fix import codec

    stamps = [format_utc(T0 + i * 1_000_003, "ns") for i in range(3000)]
    first = [parse_utc(s) for s in stamps]
    assert first == [T0 + i * 1_000_003 for i in range(3000)]
    assert [parse_utc(s) for s in stamps] == first  # now partly from the memo
    assert parse_utc("20231114-22:13:20.") is None and parse_utc("20231114-22:13:20.") is None
    assert len(codec._recent) <= 1024
