"""MsgSeqNum handling, SequenceReset, ResendRequest (published cases 2, 7, 8, 10, 11, 19, 20)."""

from __future__ import annotations

from fixhelp import (
    SEC,
    T0,
    build,
    delivered,
    disconnects,
    logged_on,
    order,
    sends,
    types,
)

from gateway.fix.codec import Framer, format_utc
from gateway.fix.store import MemoryStore

ORIG = ((43, "Y"), (122, format_utc(T0 - SEC)))


def test_2a_msg_seq_num_correct_delivered_in_order() -> None:
    s = logged_on()
    [msg] = delivered(s.receive(order(2), T0))
    assert msg.msg_type == "D" and msg.get(55) == "INTC" and not msg.poss_dup
    assert s.next_target_seq == 3


def test_2b_msg_seq_num_too_high_resend_request_and_queue() -> None:
    s = logged_on()
    for seq in (2, 3, 4):
        assert s.receive(build("0", seq), T0) == []
    acts = s.receive(order(10), T0)
    [rr] = sends(acts)
    assert (rr.msg_type, rr.get(7), rr.get(16)) == ("2", "5", "0")
    assert not delivered(acts)
    # a second message beyond the gap: no second ResendRequest
    assert sends(s.receive(build("0", 11), T0)) == []
    for seq in (5, 6, 7, 8):
        assert s.receive(build("0", seq), T0) == []
    acts = s.receive(build("0", 9), T0)
    [queued] = delivered(acts)  # the queued order comes out after the gap is filled
    assert queued.seq_num == 10
    assert s.next_target_seq == 12


def test_2c_msg_seq_num_too_low_without_possdup_logs_out() -> None:
    s = logged_on()
    for seq in (2, 3, 4):
        s.receive(build("0", seq), T0)
    acts = s.receive(build("0", 2), T0)
    [logout] = sends(acts)
    assert logout.msg_type == "5"
    assert logout.get(58) == "MsgSeqNum too low, expecting 5 but received 2"
    assert disconnects(acts)


def test_2d_garbled_message_ignored_no_seqnum_consumed() -> None:
    s = logged_on()
    framer = Framer()
    good = build("0", 2)
    garbled = good.replace(b"|", b"").replace(b"49=TW42", b"49garbled=TW42")
    assert framer.feed(garbled) == [] and framer.garbled == 1
    [raw] = framer.feed(good)
    assert s.receive(raw, T0) == [] and s.next_target_seq == 3


def test_2d_unparseable_frame_is_ignored_by_session() -> None:
    s = logged_on()
    from gateway.fix.codec import frame
    acts = s.receive(frame(b"35=0\x0134=2\x01garbage\x01"), T0)
    assert not sends(acts) and s.next_target_seq == 2


def test_2e_possdup_already_received_ignored() -> None:
    s = logged_on()
    s.receive(build("0", 2), T0)
    acts = s.receive(build("0", 2, header=ORIG), T0)
    assert sends(acts) == [] and not disconnects(acts)
    assert s.next_target_seq == 3


def test_2e_possdup_not_received_processed() -> None:
    s = logged_on()
    s.receive(build("0", 2), T0)
    [msg] = delivered(s.receive(order(3, header=ORIG), T0))
    assert msg.poss_dup and s.next_target_seq == 4


def test_2f_possdup_orig_sending_time_too_high_reject_and_logout() -> None:
    s = logged_on()
    s.receive(order(2), T0)
    s.receive(order(3), T0)
    late = ((43, "Y"), (122, format_utc(T0 + 10 * SEC)))
    acts = s.receive(order(2, header=late), T0)
    reject, logout = sends(acts)
    assert (reject.msg_type, reject.get(45), reject.get(372), reject.get(373)) == (
        "3", "2", "D", "10")
    assert logout.msg_type == "5"
    assert disconnects(s.receive(build("5", 4), T0))


def test_2g_possdup_without_orig_sending_time_rejected_373_1() -> None:
    s = logged_on()
    s.receive(order(2), T0)
    s.receive(order(3), T0)
    acts = s.receive(order(2, header=((43, "Y"),)), T0)
    [reject] = sends(acts)
    assert (reject.get(45), reject.get(371), reject.get(372), reject.get(373)) == (
        "2", "122", "D", "1")
    assert s.next_target_seq == 4  # not incremented by the reject
    [hb] = sends(s.receive(build("1", 4, (112, "HELLO")), T0))
    assert hb.get(112) == "HELLO"


def test_7_receive_reject_increments_seqnum() -> None:
    s = logged_on()
    acts = s.receive(build("3", 2, (45, 1), (58, "bad value")), T0)
    # nothing is sent back; the Reject is reported (the server logs it) with what it refers to
    assert [(a.kind, a.detail["ref_seq"], a.detail["text"]) for a in acts  # type: ignore[attr-defined]
            ] == [("reject_received", "1", "bad value")]
    assert s.next_target_seq == 3


def _admin_then_app_history() -> tuple[object, list[bytes]]:
    """Case 8 set-up: seq 1 Logon, 2-4 heartbeats, 5-6 orders, 7-8 heartbeats, 9 order."""
    s = logged_on()
    for seq in (2, 3, 4):
        s.receive(build("1", seq, (112, "HELLO")), T0)
    apps = [s.send_app("8", b"17=E%d\x01" % i, T0) for i in (5, 6)]
    for seq in (5, 6):
        s.receive(build("1", seq, (112, "HELLO")), T0)
    apps.append(s.send_app("8", b"17=E9\x01", T0))
    assert s.next_sender_seq == 10
    return s, [a for a in apps if a is not None]


def test_8_only_admin_messages_one_gap_fill() -> None:
    s = logged_on()
    for seq in (2, 3, 4):
        s.receive(build("1", seq, (112, "HELLO")), T0)
    [gf] = sends(s.receive(build("2", 5, (7, 1), (16, 4)), T0 + SEC))
    assert (gf.msg_type, gf.get(34), gf.get(36), gf.get(123), gf.get(43)) == (
        "4", "1", "5", "Y", "Y")
    assert gf.get(122) is not None
    [gf] = sends(s.receive(build("2", 6, (7, 1), (16, 0)), T0))  # EndSeqNo 0 = infinity
    assert (gf.get(34), gf.get(36)) == ("1", "5")


def test_8_admin_and_application_messages_replayed() -> None:
    s, apps = _admin_then_app_history()
    acts = s.receive(build("2", 7, (7, 2), (16, 0)), T0 + 5 * SEC)
    out = sends(acts)
    summary = [(m.msg_type, m.get(34), m.get(36)) for m in out]
    assert summary == [("4", "2", "5"), ("8", "5", None), ("8", "6", None),
                       ("4", "7", "9"), ("8", "9", None)]
    replay = out[1]
    assert replay.get(43) == "Y" and replay.get(17) == "E5"
    assert replay.get(122) == format_utc(T0)  # the original SendingTime
    assert replay.get(52) == format_utc(T0 + 5 * SEC)
    assert s.next_sender_seq == 10  # replays do not consume sequence numbers
    [hb] = sends(s.receive(build("1", 8, (112, "X")), T0))
    assert hb.get(34) == "10"


def test_8_resend_range_ending_on_admin_messages_gap_fills_to_end() -> None:
    s, _ = _admin_then_app_history()
    out = sends(s.receive(build("2", 7, (7, 2), (16, 8)), T0))
    assert [(m.msg_type, m.get(34), m.get(36)) for m in out] == [
        ("4", "2", "5"), ("8", "5", None), ("8", "6", None), ("4", "7", "9")]


def test_10_gap_fill_seq_greater_than_expected_requests_resend() -> None:
    s = logged_on()
    [rr] = sends(s.receive(build("4", 10, (36, 20), (123, "Y")), T0))
    assert (rr.get(7), rr.get(16)) == ("2", "0")
    assert sends(s.receive(build("1", 20, (112, "HELLO")), T0)) == []
    acts = s.receive(build("5", 2), T0)
    assert types(acts) == ["5"] and disconnects(acts)


def test_10_gap_fill_seq_equal_moves_expected_seqnum() -> None:
    s = logged_on()
    assert sends(s.receive(build("4", 2, (36, 20), (123, "Y")), T0)) == []
    assert s.next_target_seq == 20
    [hb] = sends(s.receive(build("1", 20, (112, "HELLO")), T0))
    assert hb.get(112) == "HELLO"


def test_10_gap_fill_seq_less_than_expected() -> None:
    s = logged_on()
    orig = ((43, "Y"), (122, format_utc(T0 - SEC)))
    assert sends(s.receive(build("4", 1, (36, 20), (123, "Y"), header=orig), T0)) == []
    [hb] = sends(s.receive(build("1", 2, (112, "HELLO")), T0))
    assert hb.get(112) == "HELLO"
    acts = s.receive(build("4", 1, (36, 20), (123, "Y")), T0)
    [logout] = sends(acts)
    assert logout.get(58) == "MsgSeqNum too low, expecting 3 but received 1"
    assert disconnects(acts)


def test_11a_sequence_reset_new_seq_no_greater_ignores_msg_seq_num() -> None:
    s = logged_on()
    assert sends(s.receive(build("4", 0, (36, 25)), T0)) == []
    assert s.next_target_seq == 25
    s.receive(build("4", 0, (36, 50), (123, "N")), T0)
    assert s.next_target_seq == 50


def test_11b_sequence_reset_new_seq_no_equal_no_change() -> None:
    s = logged_on()
    assert sends(s.receive(build("4", 0, (36, 2)), T0)) == []
    assert s.next_target_seq == 2


def test_11c_sequence_reset_new_seq_no_less_rejected_373_5() -> None:
    s = logged_on()
    acts = s.receive(build("4", 0, (36, 1)), T0)
    [reject] = sends(acts)
    assert (reject.msg_type, reject.get(45), reject.get(372), reject.get(373)) == (
        "3", "0", "4", "5")
    assert "NewSeqNo" in (reject.get(58) or "")
    assert s.next_target_seq == 2
    [hb] = sends(s.receive(build("1", 2, (112, "HELLO")), T0))
    assert hb.get(34) == "3"


def test_19a_poss_resend_delivered_with_flag_for_application() -> None:
    s = logged_on()
    s.receive(order(2), T0)
    [msg] = delivered(s.receive(order(3, header=((97, "Y"),)), T0))
    assert msg.get(97) == "Y"  # the application checks ClOrdID to drop it


def test_19b_poss_resend_not_seen_processed() -> None:
    s = logged_on()
    [msg] = delivered(s.receive(order(2, header=((97, "Y"),)), T0))
    assert msg.get(11) == "ID"


def test_20_simultaneous_resend_request() -> None:
    s = logged_on()
    s.receive(order(2), T0)
    s.send_app("8", b"17=E2\x01", T0)
    s.receive(order(3), T0)
    s.send_app("8", b"17=E3\x01", T0)
    [rr] = sends(s.receive(build("0", 7), T0))
    assert (rr.get(34), rr.get(7), rr.get(16)) == ("4", "4", "0")
    out = sends(s.receive(build("2", 8, (7, 2), (16, 3)), T0))
    assert [(m.msg_type, m.get(34), m.get(43)) for m in out] == [("8", "2", "Y"), ("8", "3", "Y")]
    for seq in (4, 5, 6):
        s.receive(build("0", seq, header=ORIG), T0)
    assert s.next_target_seq == 9  # queued 7 and 8 processed
    acts = s.receive(build("5", 9), T0)
    [logout] = sends(acts)
    assert logout.get(34) == "5"


def test_reject_resent_message_then_queued_processed_in_order() -> None:
    s = logged_on()
    [rr] = sends(s.receive(build("1", 3, (112, "HELLO1")), T0))
    assert rr.get(7) == "2"
    bad = build("D", 2, (11, "ID"), (21, 3), (38, 100), (40, 1), (54, 1), (55, "IVP"),
                (60, format_utc(T0)), (126, "20040415"), header=ORIG)
    reject, hb1 = sends(s.receive(bad, T0))
    assert (reject.get(45), reject.get(371), reject.get(373)) == ("2", "126", "6")
    assert hb1.get(112) == "HELLO1"
    [hb2] = sends(s.receive(build("1", 4, (112, "HELLO2")), T0))
    assert hb2.get(112) == "HELLO2"


def test_resend_request_answered_from_file_store_after_restart(tmp_path: object) -> None:
    from pathlib import Path

    from fixhelp import settings

    from gateway.fix.session import Session
    from gateway.fix.store import FileStore

    store = FileStore(Path(str(tmp_path)), "ISLD-TW42")
    s = logged_on(store=store)
    s.send_app("8", b"17=E2\x01", T0)
    store.sync()
    store.close()
    store2 = FileStore(Path(str(tmp_path)), "ISLD-TW42")
    s2 = Session(settings(), store2)
    s2.connected(T0)
    [logon] = sends(s2.receive(build("A", 2, (98, 0), (108, 30)), T0))
    assert logon.get(34) == "3"
    out = sends(s2.receive(build("2", 3, (7, 1), (16, 0)), T0))
    assert [(m.msg_type, m.get(34)) for m in out] == [("4", "1"), ("8", "2"), ("4", "3")]
    assert out[2].get(36) == "4"


def test_too_high_then_sequence_reset_gap_fill_releases_queue() -> None:
    s = logged_on(store=MemoryStore())
    s.receive(order(5), T0)
    acts = s.receive(build("4", 2, (36, 5), (123, "Y"), header=ORIG), T0)
    [msg] = delivered(acts)
    assert msg.seq_num == 5 and s.next_target_seq == 6
