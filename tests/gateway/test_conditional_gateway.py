"""Conditional orders at the gateway's edges (SPEC 5.1, 6): config keys, translation of 7013 and
7001, the FirmUpRequest (UF) body, and UF in the session layer's dictionary."""

from __future__ import annotations

import pytest

from gateway.config import ConfigError, SessionConfig, loads_config
from gateway.fix import MESSAGES, Message, format_utc, frame, parse
from gateway.fix.validate import validate
from gateway.orders import new_order, replace
from gateway.reports import firm_up_request_body
from matcher import FirmUpInvited, NewOrder, OrderClass, Replace, Side

VENUE = """
[gateway]
{gateway}
[[participants]]
id = "ACME"

[[sessions]]
target_comp_id = "ACME1"
participant = "ACME"
{session}
"""


def _session(conditional_interaction: bool) -> SessionConfig:
    return SessionConfig(target_comp_id="ACME1", sender_comp_id="ATS", role="order_entry",
                         participant="ACME", conditional_interaction=conditional_interaction)


def _msg(msg_type: str, *fields: tuple[int, str]) -> Message:
    body = b"35=%s\x0149=ACME1\x0156=ATS\x0134=2\x0152=20260101-00:00:00\x01" % msg_type.encode()
    body += b"".join(b"%d=%s\x01" % (t, v.encode()) for t, v in fields)
    return parse(frame(body))


ORDER = ((11, "C1"), (21, "1"), (55, "AAPL"), (54, "1"), (38, "100"), (60, "20260101-00:00:00"),
         (40, "2"), (44, "10.05"))


def test_config_keys_and_defaults() -> None:
    """firm_up_window_ms (default 1000) in [gateway]; conditional_interaction (default false)
    per session."""
    cfg = loads_config(VENUE.format(gateway="", session=""))
    assert cfg.gateway.firm_up_window_ms == 1000
    assert cfg.sessions[0].conditional_interaction is False
    cfg = loads_config(VENUE.format(gateway="firm_up_window_ms = 300",
                                    session="conditional_interaction = true"))
    assert cfg.gateway.firm_up_window_ms == 300 and cfg.sessions[0].conditional_interaction


@pytest.mark.parametrize("value", ["0", "3600001", '"1s"'])
def test_firm_up_window_is_bounded(value: str) -> None:
    with pytest.raises(ConfigError) as err:
        loads_config(VENUE.format(gateway=f"firm_up_window_ms = {value}", session=""))
    assert "gateway.firm_up_window_ms" in str(err.value)


@pytest.mark.parametrize(("session", "tag", "eligible"), [
    (False, None, False), (True, None, True), (True, "N", False), (False, "Y", True)])
def test_eligible_frs_order_the_order_7013_wins(session: bool, tag: str | None,
                                                 eligible: bool) -> None:
    """"firm orders with 7013=Y, or from a session with conditional_interaction = true
    (default false; the order's 7013 wins when sent: 7013=N makes it ineligible)"."""
    fields = ORDER + (((7013, tag),) if tag else ())
    cmd = new_order(_msg("D", *fields), "ATS-ACME1", _session(session))
    assert isinstance(cmd, NewOrder) and cmd.conditional_interaction is eligible


def test_conditional_order_and_firm_up_translate() -> None:
    cmd = new_order(_msg("D", *ORDER, (7001, "C")), "ATS-ACME1", _session(False))
    assert isinstance(cmd, NewOrder) and cmd.order_class is OrderClass.CONDITIONAL
    cmd = new_order(_msg("D", *ORDER, (7002, "C0")), "ATS-ACME1", _session(False))
    assert isinstance(cmd, NewOrder) and cmd.conditional_ref == "C0"


def test_replace_carries_7001_when_repeated() -> None:
    """"7001 may be repeated on the G"; the matcher refuses a different class."""
    g = ((41, "C1"), (11, "C2"), (21, "1"), (55, "AAPL"), (54, "1"), (38, "50"), (40, "2"),
         (44, "10.01"), (60, "20260101-00:00:00"))
    cmd = replace(_msg("G", *g, (7001, "C")), "ATS-ACME1")
    assert isinstance(cmd, Replace) and cmd.order_class is OrderClass.CONDITIONAL
    cmd = replace(_msg("G", *g), "ATS-ACME1")
    assert isinstance(cmd, Replace) and cmd.order_class is None


TS = 1_763_769_600_123_456_789


@pytest.mark.parametrize("precision", ["ms", "ns"])
def test_firm_up_request_fields(precision: str) -> None:
    """FirmUpRequest: ClOrdID (11) and OrderID (37) of the CO, Symbol (55), Side (54), OrderQty
    (38) = the invited quantity, ExpireTime (126) = the deadline, TransactTime (60) = the
    invitation time, both in the session's precision; nothing about the contra."""
    ev = FirmUpInvited(TS, 41, 9, "ATS-ACME1", "C7", "ACME", "AAPL", Side.SELL_SHORT, 200,
                       TS + 500_000_000)
    body = firm_up_request_body(ev, precision)
    fields = dict(parse(frame(b"35=UF\x01" + body)).fields)
    assert fields[11] == "C7" and fields[37] == "9" and fields[55] == "AAPL"
    assert fields[54] == "5" and fields[38] == "200" and fields[17] == "41"
    assert fields[126] == format_utc(TS + 500_000_000, precision)
    assert fields[60] == format_utc(TS, precision)
    assert set(fields) == {35, 11, 37, 17, 55, 54, 38, 126, 60, 9, 10, 8}


def test_uf_is_in_the_dictionary() -> None:
    """A FirmUpRequest is a known application message: a session that gets one validates it
    (and an acceptor role that does not take it answers BusinessMessageReject, not 373=11)."""
    assert MESSAGES["UF"].name == "FirmUpRequest" and MESSAGES["UF"].category == "app"
    good = b"35=UF\x0149=ATS\x0156=ACME1\x0134=2\x0152=20260101-00:00:00\x01"
    good += b"11=C7\x0137=9\x0117=41\x0155=AAPL\x0154=1\x0138=200\x01"
    good += b"126=20260101-00:00:01.000\x0160=20260101-00:00:00.500\x01"
    assert validate(parse(frame(good))) is None
    missing = good.replace(b"126=20260101-00:00:01.000\x01", b"")
    problem = validate(parse(frame(missing)))
    assert problem is not None and problem.tag == 126
