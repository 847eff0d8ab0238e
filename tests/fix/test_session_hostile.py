"""The session layer under hostile input: every input bounded, none of it crashes or leaks state.

Out-of-range numbers, a frame that never ends, an unfilled gap with endless traffic behind it,
absurd HeartBtInt, failed logons, huge CompIDs; plus the last conformance cases (QuickFIX's
1d_InvalidLogonLengthInvalid, ReverseRoute, ReverseRouteWithEmptyRoutingTags).
"""

from __future__ import annotations

from pathlib import Path

import pytest
from fixhelp import (
    T0,
    build,
    delivered,
    disconnects,
    events,
    logged_on,
    new_session,
    order,
    sends,
    types,
)

from gateway.fix.codec import MAX_BODY_LENGTH, MAX_MESSAGE_SIZE, Framer, format_utc, frame
from gateway.fix.session import LOG_VALUE_MAX, MAX_HEARTBEAT_INTERVAL, clip
from gateway.fix.store import FileStore, MemoryStore

HUGE = str(2**64)  # one past the largest unsigned 64-bit number
LOGON = ((98, 0), (108, 30))

# -- item 4: the framer is bounded ------------------------------------------------------------


def test_frame_that_never_ends_is_given_up_at_the_max_message_size() -> None:
    framer = Framer()
    assert framer.feed(b"8=FIX.4.2\x019=5\x0135=0\x01") == []
    chunk = b"x" * 65536
    fed = 0
    while framer.close_reason is None and fed < 4 * MAX_MESSAGE_SIZE:
        assert framer.feed(chunk) == []
        assert framer.pending <= MAX_MESSAGE_SIZE  # never more held than one message
        fed += len(chunk)
    assert framer.close_reason is not None and "CheckSum" in framer.close_reason
    assert fed < MAX_MESSAGE_SIZE + len(chunk)
    assert framer.pending == 0
    # the stream is over: even a good message is no longer framed
    assert framer.feed(build("0", 2)) == []


def test_never_ending_checksum_value_is_given_up_too() -> None:
    framer = Framer()
    framer.feed(b"8=FIX.4.2\x019=5\x0135=0\x0110=" + b"1" * (MAX_MESSAGE_SIZE + 10))
    assert framer.close_reason is not None and framer.pending == 0


def test_the_bound_does_not_depend_on_how_the_bytes_arrive() -> None:
    endless = b"8=FIX.4.2\x019=5\x0135=0\x01" + b"y" * MAX_MESSAGE_SIZE
    whole, pieces = Framer(), Framer()
    whole.feed(endless)
    for i in range(0, len(endless), 4096):
        pieces.feed(endless[i : i + 4096])
    assert whole.close_reason == pieces.close_reason is not None


def test_largest_body_is_still_framed() -> None:
    head = b"35=0\x0134=2\x0149=TW42\x0152=%s\x0156=ISLD\x01" % format_utc(T0).encode()
    body = head + b"58=" + b"z" * (MAX_BODY_LENGTH - len(head) - 4) + b"\x01"
    assert len(body) == MAX_BODY_LENGTH
    big = frame(body, begin=b"8=FIX.4.2" + b"x" * 23 + b"\x01")  # the longest BeginString
    framer = Framer()
    assert framer.feed(big[:70000]) == []
    assert framer.feed(big[70000:]) == [big] and framer.close_reason is None


def test_heartbtint_0_session_still_closed_by_a_frame_that_never_ends() -> None:
    s = logged_on(hb=0)
    framer = Framer()
    framer.feed(b"8=FIX.4.2\x019=5\x0135=0\x01" + b"q" * (MAX_MESSAGE_SIZE + 1))
    assert framer.close_reason is not None
    acts = s.abort(f"garbled: {framer.close_reason}", T0)
    [logout] = sends(acts)
    assert logout.msg_type == "5" and "CheckSum" in (logout.get(58) or "")
    assert disconnects(acts)


# -- item 8: 1d_InvalidLogonLengthInvalid ------------------------------------------------------


def _with_body_length(raw: bytes, length: int) -> bytes:
    head, _, rest = raw.split(b"\x01", 2)
    return head + b"\x019=%d\x01" % length + rest


def test_1d_logon_with_wrong_body_length_ends_the_connection_at_once() -> None:
    bad = _with_body_length(build("A", 1, *LOGON, sender="TW"), 40)
    framer = Framer()
    assert framer.feed(bad) == []
    assert framer.close_reason is not None and "Logon" in framer.close_reason
    assert "BodyLength" in framer.close_reason
    # nothing is framed after it: the connection is closed, not waited on until the timeout
    assert framer.feed(build("A", 1, *LOGON)) == []


def test_1d_logon_with_bad_checksum_ends_the_connection() -> None:
    raw = build("A", 1, *LOGON)
    framer = Framer()
    framer.feed(raw[:-4] + b"%03d\x01" % ((int(raw[-4:-1]) + 1) % 256))
    assert framer.close_reason is not None


def test_2m_other_garbled_messages_are_still_only_dropped() -> None:
    framer = Framer()
    bad = _with_body_length(build("0", 2), 20)
    assert framer.feed(bad + build("0", 2)) == [build("0", 2)]
    assert framer.garbled == 1 and framer.close_reason is None


def test_abort_before_logon_disconnects_without_a_word() -> None:
    s = new_session()
    acts = s.abort("garbled: BodyLength(9) does not match the message length in a Logon", T0)
    assert not sends(acts) and disconnects(acts) and s.next_sender_seq == 1


# -- item 5: the queue behind a gap is bounded --------------------------------------------------


def test_queue_behind_a_gap_is_bounded_by_count_then_logout_with_reason() -> None:
    s = logged_on(max_queued_messages=5)
    acts = s.receive(order(10), T0)
    assert types(acts) == ["2"]
    for seq in range(11, 15):
        assert not disconnects(s.receive(order(seq), T0))
    acts = s.receive(order(15), T0)  # the sixth message held above the gap at 2
    [logout] = sends(acts)
    assert logout.msg_type == "5" and "queued behind the gap" in (logout.get(58) or "")
    assert "5 messages" in (logout.get(58) or "") and disconnects(acts)
    assert s.next_target_seq == 2  # nothing beyond the gap was taken: it is asked again later


def test_queue_behind_a_gap_is_bounded_by_bytes() -> None:
    s = logged_on(max_queued_bytes=10_000)
    big = [build("D", seq, (11, "X" * 3000), (21, 1), (40, 1), (54, 1), (55, "INTC"),
                 (60, format_utc(T0))) for seq in range(10, 14)]
    assert types(s.receive(big[0], T0)) == ["2"]
    assert not disconnects(s.receive(big[1], T0))
    assert not disconnects(s.receive(big[2], T0))
    acts = s.receive(big[3], T0)
    assert types(acts) == ["5"] and "10000 bytes" in (sends(acts)[0].get(58) or "")
    assert disconnects(acts)


def test_queue_bound_counts_what_is_released() -> None:
    s = logged_on(max_queued_messages=3)
    for round_start in (10, 20, 30):  # three gaps, each filled: the queue empties each time
        expected = s.next_target_seq
        for seq in range(round_start, round_start + 3):
            assert not disconnects(s.receive(order(seq), T0))
        fill = build("4", expected, (36, round_start), (123, "Y"),
                     header=((43, "Y"), (122, format_utc(T0))))
        acts = s.receive(fill, T0)
        assert len(delivered(acts)) == 3 and not disconnects(acts)
    assert s.next_target_seq == 33


# -- item 3: numbers out of range are Rejects ---------------------------------------------------


def test_sequence_reset_to_2_pow_64_rejected_and_store_still_flushes(tmp_path: Path) -> None:
    store = FileStore(tmp_path, "s")
    s = logged_on(store=store)
    acts = s.receive(build("4", 2, (36, HUGE)), T0)
    [reject] = sends(acts)
    assert (reject.msg_type, reject.get(373), reject.get(371)) == ("3", "6", "36")
    assert s.next_target_seq == 2
    store.flush()  # this raised struct.error, losing every later message of the session
    [msg] = delivered(s.receive(order(2), T0))
    assert msg.get(11) == "ID"
    store.close()
    again = FileStore(tmp_path, "s")
    assert again.next_target_seq == 3 and again.next_sender_seq == 3
    again.close()


@pytest.mark.parametrize("tag", [7, 16])
def test_resend_request_with_out_of_range_seq_rejected(tag: int) -> None:
    s = logged_on()
    fields = {7: "1", 16: "0"}
    fields[tag] = HUGE
    acts = s.receive(build("2", 2, *fields.items()), T0)
    [reject] = sends(acts)
    assert (reject.get(373), reject.get(371)) == ("6", str(tag))
    assert s.next_target_seq == 3


def test_msg_seq_num_out_of_range_rejected_as_bad_format() -> None:
    store = MemoryStore()
    s = logged_on(store=store)
    acts = s.receive(build("0", 2**64), T0)
    [reject] = sends(acts)
    assert (reject.get(373), reject.get(371)) == ("6", "34")
    assert s.next_target_seq == 2 and not disconnects(acts)
    assert s.receive(build("0", 2), T0) == [] and s.next_target_seq == 3


def test_int_fields_beyond_32_bits_rejected() -> None:
    s = logged_on()
    assert delivered(s.receive(order(2), T0))
    raw = build("D", 3, (11, "X"), (21, 1), (40, 1), (54, 1), (55, "INTC"),
                (60, format_utc(T0)), (7011, 2**31))
    [reject] = sends(s.receive(raw, T0))
    assert (reject.get(373), reject.get(371)) == ("6", "7011")
    ok = build("D", 4, (11, "Y"), (21, 1), (40, 1), (54, 1), (55, "INTC"),
               (60, format_utc(T0)), (7011, 2**31 - 1))
    assert delivered(s.receive(ok, T0))


# -- item 9: HeartBtInt range --------------------------------------------------------------------


@pytest.mark.parametrize("value", ["-1", str(MAX_HEARTBEAT_INTERVAL + 1), str(10**30),
                                   "9" * 100_000])
def test_heartbtint_out_of_range_refused_with_logout_that_says_why(value: str) -> None:
    store = MemoryStore()
    s = new_session(store)
    acts = s.receive(build("A", 1, (98, 0), (108, value)), T0)
    [logout] = sends(acts)
    text = logout.get(58) or ""
    assert logout.msg_type == "5" and "HeartBtInt(108)" in text and len(text) < 200
    assert disconnects(acts) and not s.logged_on
    assert (store.next_sender_seq, store.next_target_seq, store.get(1, 10)) == (1, 1, [])


@pytest.mark.parametrize("value", [0, 1, MAX_HEARTBEAT_INTERVAL])
def test_heartbtint_in_range_accepted(value: int) -> None:
    s = new_session()
    [reply] = sends(s.receive(build("A", 1, (98, 0), (108, value)), T0))
    assert reply.msg_type == "A" and reply.get(108) == str(value) and s.logged_on


# -- item 11: a failed logon leaves the session as it was ----------------------------------------


def test_wrong_password_logout_neither_stored_nor_counted() -> None:
    store = MemoryStore()
    store.set_next_sender_seq(7)
    store.set_next_target_seq(4)
    s = new_session(store, password="s3cret")
    for _ in range(3):
        acts = s.receive(build("A", 4, *LOGON, (95, 5), (96, "wrong")), T0)
        [logout] = sends(acts)
        assert logout.get(34) == "7" and "password" in (logout.get(58) or "")
        assert disconnects(acts)
        s.disconnected(T0)
        s.connected(T0)
    assert (store.next_sender_seq, store.next_target_seq, store.get(1, 100)) == (7, 4, [])
    # the real client logs on and sees no gap: our Logon carries 7
    [reply] = sends(s.receive(build("A", 4, *LOGON, (95, 6), (96, "s3cret")), T0))
    assert reply.msg_type == "A" and reply.get(34) == "7"


def test_wrong_password_does_not_reset_a_reset_on_logon_session() -> None:
    store = MemoryStore()
    store.set_next_target_seq(9)
    s = new_session(store, password="s3cret", reset_on_logon=True)
    s.receive(build("A", 1, *LOGON, (141, "Y"), (96, "nope")), T0)
    assert store.next_target_seq == 9


def test_megabyte_compid_is_cut_in_what_is_logged() -> None:
    s = new_session()
    acts = s.receive(build("A", 1, *LOGON, sender="C" * 1_000_000), T0)
    [refused] = events(acts, "logon_refused")
    reason = str(refused.detail["reason"])
    assert len(reason) < 3 * LOG_VALUE_MAX + 100 and "1000000 chars" in reason
    assert len(disconnects(acts)[0].reason) < 3 * LOG_VALUE_MAX + 100


def test_clip_keeps_short_values_and_cuts_long_ones() -> None:
    assert clip("ACME1") == "ACME1"
    assert clip("x" * 1000) == "x" * LOG_VALUE_MAX + "...(1000 chars)"


# -- item 8: ReverseRoute, ReverseRouteWithEmptyRoutingTags ---------------------------------------


def _bad_order(seq: int, *routing: tuple[int, str], ord_type: str = "w") -> bytes:
    body = ((11, "ID"), (21, 3), (38, 100), (40, ord_type), (54, 1), (55, "INTC"),
            (60, format_utc(T0)))
    return build("D", seq, *body, header=routing)


ROUTE_CASES = [
    (((115, "JCD"),), {128: "JCD"}),
    (((128, "JCD"),), {115: "JCD"}),
    (((115, "JCD"), (116, "CS")), {128: "JCD", 129: "CS"}),
    (((128, "JCD"), (129, "CS")), {115: "JCD", 116: "CS"}),
    (((115, "JCD"), (116, "CS"), (144, "CHI")), {128: "JCD", 129: "CS", 145: "CHI"}),
    (((128, "JCD"), (129, "CS"), (145, "CHI")), {115: "JCD", 116: "CS", 144: "CHI"}),
]
ROUTING = (115, 116, 144, 128, 129, 145)


def _routing(msg: object) -> dict[int, str]:
    from gateway.fix.codec import Message
    assert isinstance(msg, Message)
    return {t: v for t, v in msg.fields if t in ROUTING}


@pytest.mark.parametrize(("routing", "reversed_"), ROUTE_CASES)
def test_reverse_route_on_reject(routing: tuple[tuple[int, str], ...],
                                 reversed_: dict[int, str]) -> None:
    s = logged_on()
    [reject] = sends(s.receive(_bad_order(2, *routing), T0))
    assert (reject.msg_type, reject.get(373), reject.get(371)) == ("3", "5", "40")
    assert _routing(reject) == reversed_
    assert [t for t, _ in reject.fields][:7] == [8, 9, 35, 34, 49, 52, 56]


EMPTY_CASES = [
    (((115, ""),), {}, 115),
    (((128, ""),), {}, 128),
    (((115, "JCD"), (116, "")), {128: "JCD"}, 116),
    (((128, "JCD"), (129, "")), {115: "JCD"}, 129),
    (((115, "JCD"), (116, "CS"), (144, "")), {128: "JCD", 129: "CS"}, 144),
    (((128, "JCD"), (129, "CS"), (145, "")), {115: "JCD", 116: "CS"}, 145),
]


@pytest.mark.parametrize(("routing", "reversed_", "empty"), EMPTY_CASES)
def test_reverse_route_leaves_out_empty_routing_tags(
    routing: tuple[tuple[int, str], ...], reversed_: dict[int, str], empty: int
) -> None:
    s = logged_on()
    [reject] = sends(s.receive(_bad_order(2, *routing, ord_type="1"), T0))
    assert (reject.get(373), reject.get(371)) == ("4", str(empty))
    assert _routing(reject) == reversed_


def test_reverse_route_on_heartbeat_answering_test_request() -> None:
    s = logged_on()
    [hb] = sends(s.receive(build("1", 2, (112, "T1"), header=((115, "JCD"), (116, "CS"))), T0))
    assert hb.msg_type == "0" and hb.get(112) == "T1"
    assert _routing(hb) == {128: "JCD", 129: "CS"}


def test_reverse_route_on_business_message_reject() -> None:
    s = logged_on()
    raw = build("8", 2, (37, "id"), (17, "id"), (20, 0), (150, 0), (39, 0), (55, "WLRI"),
                (54, 1), (151, 100), (14, 0), (6, "0.0"), header=((128, "JCD"),))
    [bmr] = sends(s.receive(raw, T0))
    assert bmr.msg_type == "j" and _routing(bmr) == {115: "JCD"}


def test_replies_without_routing_tags_carry_none() -> None:
    s = logged_on()
    [reject] = sends(s.receive(_bad_order(2), T0))
    assert _routing(reject) == {}
