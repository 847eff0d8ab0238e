"""Logon, Logout, heartbeat and TestRequest (published cases 1, 4, 6, 13 and options)."""

from __future__ import annotations

from fixhelp import (
    SEC,
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

from gateway.fix.codec import format_utc, parse
from gateway.fix.session import Session, SessionSettings, identify_logon
from gateway.fix.store import MemoryStore


def test_1a_valid_logon_answered_with_logon_and_heartbtint() -> None:
    s = new_session()
    acts = s.receive(build("A", 1, (98, 0), (108, 30)), T0)
    [reply] = sends(acts)
    assert reply.msg_type == "A"
    assert (reply.get(34), reply.get(49), reply.get(56)) == ("1", "ISLD", "TW42")
    assert (reply.get(98), reply.get(108)) == ("0", "30")
    assert s.logged_on and s.next_target_seq == 2 and s.next_sender_seq == 2
    assert events(acts, "logon")


def test_1a_heartbtint_taken_from_counterparty_logon() -> None:
    s = new_session(heartbeat_interval=30)
    [reply] = sends(s.receive(build("A", 1, (98, 0), (108, 3)), T0))
    assert reply.get(108) == "3"
    assert types(s.tick(T0 + 3 * SEC)) == ["0"]


def test_1a_logon_seq_too_high_logon_then_resend_request() -> None:
    s = new_session()
    acts = s.receive(build("A", 5, (98, 0), (108, 30)), T0)
    logon, rr = sends(acts)
    assert logon.msg_type == "A" and rr.msg_type == "2"
    assert (rr.get(34), rr.get(7), rr.get(16)) == ("2", "1", "0")
    # the gap is filled, then the queued Logon (5) counts and 6 is expected
    s.receive(build("4", 1, (36, 5), (123, "Y"), header=((43, "Y"), (122, format_utc(T0)))), T0)
    assert s.next_target_seq == 6
    acts = s.receive(build("5", 6), T0)
    assert types(acts) == ["5"] and disconnects(acts)


def test_1b_identify_logon_reports_compids_for_server_lookup() -> None:
    assert identify_logon(build("A", 1, (98, 0), (108, 30))) == ("TW42", "ISLD")
    assert identify_logon(build("0", 1)) is None
    assert identify_logon(build("A", 1, (98, 0), (108, 30), begin="FIX.3.9")) is None
    assert identify_logon(b"garbage") is None


def test_1b_second_logon_on_logged_on_session_disconnects() -> None:
    s = logged_on()
    acts = s.receive(build("A", 2, (98, 0), (108, 30)), T0)
    assert disconnects(acts) and not sends(acts)


def test_1c_invalid_target_compid_disconnects_without_answer() -> None:
    s = new_session()
    acts = s.receive(build("A", 1, (98, 0), (108, 30), target="DLSI"), T0)
    assert not sends(acts) and disconnects(acts) and not s.logged_on


def test_1c_invalid_sender_compid_disconnects_without_answer() -> None:
    s = new_session()
    acts = s.receive(build("A", 1, (98, 0), (108, 30), sender="WT"), T0)
    assert not sends(acts) and disconnects(acts)


def test_1d_logon_bad_sending_time_disconnects() -> None:
    s = new_session()
    acts = s.receive(build("A", 1, (98, 0), (108, 30), sending_time="20010101-00:00:00"), T0)
    assert not sends(acts) and disconnects(acts)


def test_1d_logon_wrong_begin_string_disconnects() -> None:
    s = new_session()
    acts = s.receive(build("A", 1, (98, 0), (108, 30), begin="FIX.3.9"), T0)
    assert not sends(acts) and disconnects(acts)


def test_1d_logon_missing_heartbtint_disconnects() -> None:
    s = new_session()
    acts = s.receive(build("A", 1, (98, 0)), T0)
    assert not sends(acts) and disconnects(acts)


def test_1d_logon_seq_too_low_logs_out() -> None:
    store = MemoryStore()
    store.set_next_target_seq(5)
    s = new_session(store)
    acts = s.receive(build("A", 2, (98, 0), (108, 30)), T0)
    [logout] = sends(acts)
    assert logout.msg_type == "5" and "too low" in (logout.get(58) or "")
    assert disconnects(acts)


def test_1e_first_message_not_logon_disconnects() -> None:
    s = new_session()
    acts = s.receive(build("0", 1), T0)
    assert not sends(acts) and disconnects(acts)
    assert "not a Logon" in disconnects(acts)[0].reason


def test_logon_password_in_rawdata_accepted() -> None:
    s = new_session(password="s3cret")
    acts = s.receive(build("A", 1, (98, 0), (108, 30), (95, 6), (96, "s3cret")), T0)
    assert types(acts) == ["A"] and s.logged_on


def test_logon_bad_password_logged_out_and_disconnected() -> None:
    s = new_session(password="s3cret")
    acts = s.receive(build("A", 1, (98, 0), (108, 30), (95, 5), (96, "wrong")), T0)
    [logout] = sends(acts)
    assert logout.msg_type == "5" and "password" in (logout.get(58) or "")
    assert disconnects(acts) and not s.logged_on


def test_logon_missing_password_refused() -> None:
    s = new_session(password="s3cret")
    acts = s.receive(build("A", 1, (98, 0), (108, 30)), T0)
    assert disconnects(acts) and not s.logged_on


def test_logon_reset_seq_num_flag_resets_both_sequences() -> None:
    store = MemoryStore()
    store.set_next_target_seq(40)
    store.save(9, b"old")
    s = new_session(store)
    [reply] = sends(s.receive(build("A", 1, (98, 0), (108, 30), (141, "Y")), T0))
    assert reply.get(141) == "Y" and reply.get(34) == "1"
    assert s.next_target_seq == 2 and s.next_sender_seq == 2
    assert store.get(9, 9) == []


def test_reset_on_logon_option_resets_sequences() -> None:
    store = MemoryStore()
    store.set_next_target_seq(7)
    store.set_next_sender_seq(9)
    s = new_session(store, reset_on_logon=True)
    [reply] = sends(s.receive(build("A", 1, (98, 0), (108, 30)), T0))
    assert reply.get(34) == "1" and s.next_target_seq == 2


def test_without_reset_sequences_continue_across_connections() -> None:
    store = MemoryStore()
    s = logged_on(store=store)
    s.receive(build("5", 2), T0)
    s.disconnected(T0)
    s.connected(T0)
    [reply] = sends(s.receive(build("A", 3, (98, 0), (108, 30)), T0))
    assert reply.get(34) == "3" and s.next_target_seq == 4


def test_reset_on_logout_option() -> None:
    s = logged_on(reset_on_logout=True)
    s.receive(build("5", 2), T0)
    assert s.next_sender_seq == 1 and s.next_target_seq == 1


def test_reset_on_disconnect_option() -> None:
    s = logged_on(reset_on_disconnect=True)
    s.disconnected(T0)
    assert s.next_sender_seq == 1 and s.next_target_seq == 1 and not s.logged_on


def test_logon_timeout_disconnects_silent_connection() -> None:
    s = new_session(logon_timeout=10)
    assert s.tick(T0 + 9 * SEC) == []
    assert disconnects(s.tick(T0 + 10 * SEC))


def test_4a_heartbeat_after_interval_of_silence() -> None:
    s = logged_on(hb=3)
    assert s.tick(T0 + 2 * SEC) == []
    [hb] = sends(s.tick(T0 + 3 * SEC))
    assert hb.msg_type == "0" and hb.get(34) == "2" and hb.get(112) is None
    s.receive(build("0", 2, now=T0 + 3 * SEC), T0 + 3 * SEC)
    assert types(s.tick(T0 + 6 * SEC)) == ["0"]


def test_4b_test_request_answered_with_heartbeat_112() -> None:
    s = logged_on()
    [hb] = sends(s.receive(build("1", 2, (112, "HELLO")), T0))
    assert hb.msg_type == "0" and hb.get(112) == "HELLO"
    assert s.next_target_seq == 3


def test_6_send_test_request_then_disconnect_without_answer() -> None:
    s = logged_on(hb=3)
    assert types(s.tick(T0 + 3 * SEC)) == ["0"]
    s.receive(build("0", 2, now=T0 + 3 * SEC), T0 + 3 * SEC)
    assert types(s.tick(T0 + 6 * SEC)) == ["0"]
    # 1.2 x HeartBtInt without inbound traffic -> TestRequest 112=TEST
    [tr] = sends(s.tick(T0 + int(6.6 * SEC)))
    assert tr.msg_type == "1" and tr.get(112) == "TEST"
    assert s.tick(T0 + 7 * SEC) == []  # no heartbeat while a TestRequest is outstanding
    s.receive(build("0", 3, (112, "TEST"), now=T0 + 7 * SEC), T0 + 7 * SEC)
    assert types(s.tick(T0 + int(9.7 * SEC))) == ["0"]
    [tr] = sends(s.tick(T0 + int(10.6 * SEC)))
    assert tr.msg_type == "1"
    acts = s.tick(T0 + int(14.2 * SEC))  # 2.4 x HeartBtInt of silence
    assert disconnects(acts) and events(acts, "timeout")


def test_13a_logout_initiated_by_us_waits_for_answer() -> None:
    s = logged_on()
    [logout] = sends(s.logout("shutting down", T0))
    assert logout.msg_type == "5" and logout.get(58) == "shutting down"
    acts = s.receive(build("5", 2), T0)
    assert not sends(acts) and disconnects(acts)


def test_13a_logout_not_answered_times_out() -> None:
    s = logged_on(logout_timeout=2)
    s.logout("bye", T0)
    assert s.tick(T0 + 1 * SEC) == []
    assert disconnects(s.tick(T0 + 2 * SEC))


def test_13b_unsolicited_logout_answered_then_disconnect() -> None:
    s = logged_on()
    acts = s.receive(build("5", 2), T0)
    [logout] = sends(acts)
    assert logout.msg_type == "5" and logout.get(34) == "2"
    assert disconnects(acts)


def test_send_app_stored_and_sent_when_logged_on() -> None:
    s = logged_on()
    raw = s.send_app("8", b"37=1\x0117=E1\x01", T0, header_extra=b"115=ACME\x01")
    assert raw is not None
    m = parse(raw)
    assert (m.msg_type, m.get(34), m.get(115), m.get(17)) == ("8", "2", "ACME", "E1")
    assert s.store.get(2, 2) == [(2, raw)]


def test_send_app_stored_but_not_sent_when_not_logged_on() -> None:
    store = MemoryStore()
    s = Session(SessionSettings("ISLD", "TW42"), store)
    assert s.send_app("8", b"17=E1\x01", T0) is None
    assert s.next_sender_seq == 2 and len(store.get(1, 1)) == 1


def test_initiator_start_logon_and_response() -> None:
    store = MemoryStore()
    cfg = SessionSettings("TW42", "ISLD", heartbeat_interval=5, reset_on_logon=True,
                          initiator=True, app_msg_types=frozenset({"8"}))
    s = Session(cfg, store)
    s.connected(T0)
    [logon] = sends(s.start_logon(T0))
    assert (logon.get(108), logon.get(141), logon.get(49)) == ("5", "Y", "TW42")
    acts = s.receive(build("A", 1, (98, 0), (108, 5), (141, "Y"), sender="ISLD",
                           target="TW42"), T0)
    assert not sends(acts) and s.logged_on
    er = build("8", 2, (37, "1"), (17, "e"), (20, 0), (150, 0), (39, 0), (55, "X"),
               (54, 1), (151, 1), (14, 0), (6, 0), sender="ISLD", target="TW42")
    assert len(delivered(s.receive(er, T0))) == 1
    reject, logout = sends(s.receive(order(3), T0))  # CompIDs reversed for this side
    assert (reject.msg_type, reject.get(373), logout.msg_type) == ("3", "9", "5")
