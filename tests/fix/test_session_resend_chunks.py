"""A long resend is a cursor handed out in bounded chunks; new messages wait behind it."""

from __future__ import annotations

from fixhelp import SEC, T0, build, logged_on, sends

from gateway.fix.codec import Message
from gateway.fix.session import Send, Session

STORED = 5000


def _history() -> Session:
    """Logon (1), then STORED reports (2..), with a run of Heartbeats across seq 1000."""
    s = logged_on()
    for i in range(STORED):
        if i == 995:
            for _ in range(15):  # answered with Heartbeats: admin messages, gap-filled
                s.receive(build("1", s.next_target_seq, (112, "HB")), T0)
        raw = s.send_app("8", b"17=E%d\x0158=%s\x01" % (i, b"x" * 100), T0)
        assert raw is not None
    return s


def _covered(msgs: list[Message]) -> list[int]:
    """The MsgSeqNums a resend covers, in the order it covers them."""
    out: list[int] = []
    for m in msgs:
        seq = int(m.get(34) or 0)
        if m.msg_type == "4":
            out.extend(range(seq, int(m.get(36) or 0)))
        else:
            out.append(seq)
    return out


def test_full_resend_comes_in_bounded_chunks_in_order() -> None:
    s = _history()
    last = s.next_sender_seq - 1
    first = s.receive(build("2", s.next_target_seq, (7, 1), (16, 0)), T0 + SEC)
    assert s.resend_pending
    got = sends(first)
    assert 0 < len(got) <= 1000  # not the whole store at once
    chunks = 0
    while s.resend_pending:
        acts = s.resend_chunk(T0 + SEC, max_messages=200, max_bytes=16 * 1024)
        data = [a.data for a in acts if isinstance(a, Send)]
        assert len(data) <= 200 and sum(map(len, data)) < 16 * 1024 + 1024
        got += sends(acts)
        chunks += 1
    assert chunks > 10
    assert _covered(got) == list(range(1, last + 1))
    gap_fills = [m for m in got if m.msg_type == "4"]
    # the Logon, and the run of Heartbeats as one gap fill
    assert [(m.get(34), m.get(36)) for m in gap_fills][:1] == [("1", "2")]
    assert len(gap_fills) == 2
    assert all(m.get(43) == "Y" for m in got)


def test_messages_made_during_a_resend_follow_it_in_order() -> None:
    s = _history()
    s.receive(build("2", s.next_target_seq, (7, 1), (16, 0)), T0 + SEC)
    assert s.resend_pending
    # the application sends a report and the counterparty a TestRequest meanwhile
    assert s.send_app("8", b"17=LIVE\x01", T0 + 2 * SEC) is None  # stored, held
    answer = s.receive(build("1", s.next_target_seq, (112, "PING")), T0 + 2 * SEC)
    assert sends([a for a in answer if isinstance(a, Send) and a.data]) == []
    rest: list[Message] = []
    while s.resend_pending:
        rest += sends(s.resend_chunk(T0 + 3 * SEC))
    live, heartbeat = rest[-2:]
    assert (live.get(17), live.get(43)) == ("LIVE", None)  # as sent, not a PossDup copy
    assert (heartbeat.msg_type, heartbeat.get(112), heartbeat.get(43)) == ("0", "PING", None)
    assert int(heartbeat.get(34) or 0) == int(live.get(34) or 0) + 1 == s.next_sender_seq - 1
    # and then the session sends live again
    raw = s.send_app("8", b"17=AFTER\x01", T0 + 4 * SEC)
    assert raw is not None and b"\x0134=%d\x01" % (s.next_sender_seq - 1) in raw


def test_logout_is_not_held_behind_a_resend() -> None:
    s = _history()
    s.receive(build("2", s.next_target_seq, (7, 1), (16, 0)), T0 + SEC)
    [logout] = sends(s.logout("shutting down", T0 + 2 * SEC))
    assert logout.msg_type == "5" and not s.resend_pending


def test_a_second_resend_request_replaces_the_first_and_sends_nothing_twice_live() -> None:
    s = _history()
    s.receive(build("2", s.next_target_seq, (7, 1), (16, 0)), T0 + SEC)
    live = s.send_app("8", b"17=LIVE\x01", T0 + 2 * SEC)
    assert live is None and s.resend_pending
    while s.resend_pending:  # the first resend runs to its end: LIVE goes out once
        got = sends(s.resend_chunk(T0 + 2 * SEC))
    assert got[-1].get(17) == "LIVE"
    s.receive(build("2", s.next_target_seq, (7, 10), (16, 20)), T0 + 3 * SEC)
    assert not s.resend_pending  # a short one is answered at once
    s.receive(build("2", s.next_target_seq, (7, 1), (16, 3000)), T0 + 3 * SEC)
    assert s.send_app("8", b"17=HELD\x01", T0 + 4 * SEC) is None
    rest = sends(s.receive(build("2", s.next_target_seq, (7, 2990), (16, 2995)), T0 + 4 * SEC))
    while s.resend_pending:
        rest += sends(s.resend_chunk(T0 + 5 * SEC))
    assert [m.get(17) for m in rest if m.get(43) is None] == ["HELD"]


def test_a_resend_request_during_the_held_part_does_not_repeat_it() -> None:
    s = _history()
    s.receive(build("2", s.next_target_seq, (7, 1), (16, 0)), T0 + SEC)
    for i in range(10):
        assert s.send_app("8", b"17=H%d\x01" % i, T0 + 2 * SEC) is None
    originals: list[str] = []
    while not originals:  # small chunks until the held messages start going out
        originals = [m.get(17) or "" for m in sends(s.resend_chunk(T0 + 2 * SEC, 7))
                     if m.get(43) is None]
    assert s.resend_pending and originals == [f"H{i}" for i in range(len(originals))]
    rest = sends(s.receive(build("2", s.next_target_seq, (7, 2), (16, 3)), T0 + 3 * SEC))
    while s.resend_pending:
        rest += sends(s.resend_chunk(T0 + 3 * SEC))
    assert [(m.get(34), m.get(43)) for m in rest[:2]] == [("2", "Y"), ("3", "Y")]
    assert originals + [m.get(17) for m in rest[2:]] == [f"H{i}" for i in range(10)]
