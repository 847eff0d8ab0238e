"""One read, several messages: replies are numbered after what earlier messages caused."""

from __future__ import annotations

from fixhelp import T0, build, delivered, logged_on, order, sends

from gateway.fix.session import Deliver


def test_a_batch_stops_before_a_message_the_session_answers_after_deliveries() -> None:
    s = logged_on()
    raws = [order(2), order(3), build("1", 4, (112, "PING")), order(5)]
    acts, nxt = s.receive_batch(raws, 0, T0)
    assert [type(a) for a in acts] == [Deliver, Deliver] and nxt == 2
    # the application answers the two orders now: its reports take 34=2 and 34=3
    assert s.send_app("8", b"17=E1\x01", T0) is not None
    assert s.send_app("8", b"17=E2\x01", T0) is not None
    acts, nxt = s.receive_batch(raws, nxt, T0)
    [heartbeat] = sends(acts)
    assert (heartbeat.get(112), heartbeat.get(34)) == ("PING", "4")
    assert [m.get(34) for m in delivered(acts)] == ["5"] and nxt == 4


def test_a_batch_of_orders_is_one_call() -> None:
    s = logged_on()
    raws = [order(seq) for seq in range(2, 12)]
    acts, nxt = s.receive_batch(raws, 0, T0)
    assert len(delivered(acts)) == 10 and nxt == 10
