"""FirmUpRequest (UF, SPEC 5.1) in the session layer: a known application message type."""

from __future__ import annotations

from fixhelp import T0, build, delivered, logged_on, sends

from gateway.fix.codec import format_utc

NOW = format_utc(T0)
UF_BODY = ((11, "C7"), (37, "9"), (17, "41"), (55, "AAPL"), (54, 1), (38, 200), (126, NOW),
           (60, NOW))


def test_uf_to_a_session_that_does_not_take_it_is_business_rejected() -> None:
    """An acceptor's order session does not take UF: BusinessMessageReject 380=3 naming the
    message, not a session Reject for an invalid MsgType (373=11)."""
    s = logged_on()
    [bmr] = sends(s.receive(build("UF", 2, *UF_BODY), T0))
    assert (bmr.msg_type, bmr.get(372), bmr.get(380)) == ("j", "UF", "3")
    assert "FirmUpRequest(UF)" in (bmr.get(58) or "")


def test_uf_is_delivered_to_a_session_that_takes_it() -> None:
    """An initiator that lists UF among its application types gets the message, validated."""
    s = logged_on(app_msg_types=frozenset({"8", "UF"}))
    [msg] = delivered(s.receive(build("UF", 2, *UF_BODY), T0))
    assert msg.msg_type == "UF" and msg.get(11) == "C7" and msg.get(126) == NOW
    missing = tuple(f for f in UF_BODY if f[0] != 126)
    [reject] = sends(s.receive(build("UF", 3, *missing), T0))
    assert (reject.msg_type, reject.get(371), reject.get(373)) == ("3", "126", "1")
