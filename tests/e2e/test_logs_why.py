"""The log answers "why": rejects decided by the matcher, Rejects received, refused peers, debug."""

from __future__ import annotations

import asyncio

from tests.e2e.fixclient import FixClient
from tests.e2e.orders_helpers import logged, session, two_party_venue


async def test_matcher_rejects_are_logged_with_reason_and_text(gateway) -> None:  # type: ignore[no-untyped-def]
    gp = gateway(two_party_venue())
    acme = await session(gp, "ACME1")
    await acme.ack("A1", "1", 100, "10.05")
    await acme.rejected("A1", "1", 100, "10.05")  # duplicate ClOrdID
    await acme.rejected("S1", "5", 100, "10.05")  # short sale without a locate
    await acme.rejected("I1", "1", 100, "10.05", extra=((7011, "6"),))  # inclusion level
    await acme.rejected("P1", "1", 100, "10.001")  # Rule 612
    await logged(gp, "order_rejected", 4, session="ATS-ACME1")
    seen = {e["cl_ord_id"]: (e["reason"], e["text"]) for e in gp.events("order_rejected")}
    assert seen["A1"][0] == "duplicate_order" and "duplicate ClOrdID A1" in str(seen["A1"][1])
    assert "LocateReqd (114)=N or a LocateBroker (5700)" in str(seen["S1"][1])
    assert "Inclusion Level 6 is outside 1..5" in str(seen["I1"][1])
    assert "Rule 612" in str(seen["P1"][1])
    assert all(e["symbol"] == "AAPL" for e in gp.events("order_rejected"))


async def test_cancel_reject_is_logged(gateway) -> None:  # type: ignore[no-untyped-def]
    gp = gateway(two_party_venue())
    acme = await session(gp, "ACME1")
    await acme.cancel("C1", "NOPE", "1")
    await acme.expect("9")
    await logged(gp, "cancel_rejected", 1, session="ATS-ACME1", cl_ord_id="C1",
                 orig_cl_ord_id="NOPE", reason="unknown_order")


async def test_reject_received_from_the_counterparty_is_logged(gateway) -> None:  # type: ignore[no-untyped-def]
    gp = gateway(two_party_venue())
    acme = await session(gp, "ACME1")
    await acme.fix.send("3", (45, "1"), (371, "108"), (372, "A"), (373, "5"),
                        (58, "HeartBtInt out of range"))
    await logged(gp, "reject_received", 1, session="ATS-ACME1", ref_seq="1", ref_tag="108",
                 ref_msg_type="A", reason="5", text="HeartBtInt out of range")
    await acme.fix.send("j", (45, "1"), (372, "8"), (380, "0"), (58, "not expected"))
    await logged(gp, "business_reject_received", 1, session="ATS-ACME1", ref_msg_type="8",
                 text="not expected")
    await acme.quiet()  # nothing comes back for either


async def test_refused_connection_names_the_peer_port(gateway) -> None:  # type: ignore[no-untyped-def]
    gp = gateway(two_party_venue())
    stranger = FixClient("NOBODY", "ATS")
    await stranger.connect(gp.port)
    writer = stranger.writer
    assert writer is not None
    local_port = writer.get_extra_info("sockname")[1]
    await stranger.send("A", (98, "0"), (108, "30"))
    assert await stranger.closed()
    await logged(gp, "connection_refused", 1, peer="127.0.0.1", peer_port=local_port)


async def test_debug_level_logs_each_order_and_report(gateway) -> None:  # type: ignore[no-untyped-def]
    gp = gateway(two_party_venue(), log_level="debug")
    acme = await session(gp, "ACME1")
    await acme.ack("D1", "1", 100, "10.05")
    await logged(gp, "app_message", 1, session="ATS-ACME1", msg_type="D", cl_ord_id="D1")
    await logged(gp, "report", 1, session="ATS-ACME1", cl_ord_id="D1", kind="Accepted")
    assert gp.events("connection_opened")


async def test_info_level_has_no_per_message_lines(gateway) -> None:  # type: ignore[no-untyped-def]
    gp = gateway(two_party_venue())
    acme = await session(gp, "ACME1")
    await acme.ack("D1", "1", 100, "10.05")
    await acme.quiet()
    await asyncio.sleep(0.1)
    assert not gp.events("app_message") and not gp.events("report")
