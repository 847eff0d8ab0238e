"""Requests that arrive while a long resend is under way, seen by a strict counterparty.

The counterparty is behind (it expects our MsgSeqNum 1) and checks every number as a FIX engine
does: a message above the one it expects is a gap it would have to ask for again.
"""

from __future__ import annotations

from fixhelp import SEC, T0, build, events, logged_on

from gateway.fix.codec import Message, parse
from gateway.fix.session import Action, Send, Session

STORED = 3000


def _history() -> Session:
    s = logged_on()
    for i in range(STORED):
        assert s.send_app("8", b"17=E%d\x0158=%s\x01" % (i, b"x" * 100), T0) is not None
    return s


def sends(actions: list[Action]) -> list[Message]:
    """What goes on the wire (a message held behind the resend is an empty Send)."""
    return [parse(a.data) for a in actions if isinstance(a, Send) and a.data]


class Strict:
    """A counterparty that takes our messages in MsgSeqNum order and nothing else."""

    def __init__(self) -> None:
        self.expected = 1
        self.content: dict[int, bytes] = {}

    def take(self, msgs: list[Message]) -> None:
        for m in msgs:
            seq = int(m.get(34) or 0)
            assert seq <= self.expected, f"a gap: MsgSeqNum {seq} while expecting {self.expected}"
            if seq < self.expected:
                assert m.get(43) == "Y", f"{seq} again without PossDupFlag"
                continue
            if m.msg_type == "4" and m.get(123) == "Y":
                self.expected = int(m.get(36) or 0)
            else:
                self.expected += 1

    def pump(self, s: Session, first: list[Action], now: int = T0 + 5 * SEC) -> None:
        self.take(sends(first))
        while s.resend_pending:
            self.take(sends(s.resend_chunk(now)))


def test_a_shorter_second_request_does_not_cut_the_first_short() -> None:
    s = _history()
    peer = Strict()
    peer.take(sends(s.receive(build("2", 2, (7, 1), (16, 0)), T0 + SEC)))
    assert s.resend_pending and 1 < peer.expected < STORED  # the first chunk went out
    # a second request for a few old numbers (its engine re-checks them) replaces the first
    peer.pump(s, s.receive(build("2", 3, (7, 1), (16, 5)), T0 + 2 * SEC))
    assert peer.expected == s.next_sender_seq  # everything, in order, no gap left


def test_a_second_request_ahead_of_the_cursor_leaves_no_gap_behind_it() -> None:
    s = _history()
    peer = Strict()
    peer.take(sends(s.receive(build("2", 2, (7, 1), (16, 0)), T0 + SEC)))
    ahead = peer.expected + 500
    peer.pump(s, s.receive(build("2", 3, (7, ahead), (16, ahead + 10)), T0 + 2 * SEC))
    assert peer.expected == s.next_sender_seq


def test_the_same_request_again_restarts_it_without_a_gap() -> None:
    s = _history()
    peer = Strict()
    peer.take(sends(s.receive(build("2", 2, (7, 1), (16, 0)), T0 + SEC)))
    assert s.send_app("8", b"17=HELD\x01", T0 + SEC) is None
    peer.pump(s, s.receive(build("2", 3, (7, 1), (16, 0)), T0 + 2 * SEC))
    assert peer.expected == s.next_sender_seq


def test_a_gap_fill_with_an_out_of_range_new_seq_no_during_a_resend_is_rejected() -> None:
    s = _history()
    peer = Strict()
    peer.take(sends(s.receive(build("2", 2, (7, 1), (16, 0)), T0 + SEC)))
    acts = s.receive(build("4", 3, (123, "Y"), (36, 2**64)), T0 + 2 * SEC)
    assert [e.detail["reason"] for e in events(acts, "reject")] == [6]
    assert s.next_target_seq == 3  # as QuickFIX: a rejected SequenceReset takes no number
    peer.pump(s, acts)  # the resend went on to its end
    assert peer.expected == s.next_sender_seq
    # the largest number that fits is taken, and the session goes on with it
    s.receive(build("4", 3, (123, "Y"), (36, 2**31 - 1)), T0 + 3 * SEC)
    assert s.next_target_seq == 2**31 - 1
    peer.take(sends(s.receive(build("1", 2**31 - 1, (112, "TOP")), T0 + 3 * SEC)))
    assert s.next_target_seq == 2**31


def test_a_burst_of_resend_requests_in_one_read_costs_one_chunk() -> None:
    s = _history()
    peer = Strict()
    burst = [build("2", seq, (7, 1), (16, 0)) for seq in range(2, 502)]
    acts, done = s.receive_batch(burst, 0, T0 + SEC)
    assert done == len(burst) and s.next_target_seq == 502
    out = [a.data for a in acts if isinstance(a, Send)]
    assert sum(map(len, out)) < 2 * 256 * 1024  # one chunk, not 500 of them
    peer.pump(s, acts)
    assert peer.expected == s.next_sender_seq


def test_a_burst_of_short_resend_requests_in_one_read_costs_one_chunk() -> None:
    s = _history()
    peer = Strict()
    peer.take(sends(s.receive(build("2", 2, (7, 1), (16, 0)), T0 + SEC)))
    while s.resend_pending:
        peer.take(sends(s.resend_chunk(T0 + SEC)))
    # each of these is done in one chunk: answered at once, each used to cost a whole chunk
    burst = [build("2", seq, (7, 1), (16, 500)) for seq in range(3, 503)]
    acts, done = s.receive_batch(burst, 0, T0 + 2 * SEC)
    assert done == len(burst)
    out = [a.data for a in acts if isinstance(a, Send)]
    assert sum(map(len, out)) < 2 * 256 * 1024
    peer.pump(s, acts)
    assert peer.expected == s.next_sender_seq
