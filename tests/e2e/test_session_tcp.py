"""The session layer over real TCP against the real gateway process."""

from __future__ import annotations

import asyncio
import signal

from tests.e2e.conftest import GatewayProcess
from tests.e2e.fixclient import FixClient, tag


async def test_logon_heartbeat_and_test_request(gateway) -> None:  # type: ignore[no-untyped-def]
    gp: GatewayProcess = gateway()
    c = FixClient("TW42", "ISLD")
    await c.connect(gp.port)
    reply = await c.logon(heartbeat=1, reset=True)
    assert tag(reply, 108) == "1" and tag(reply, 49) == "ISLD" and tag(reply, 56) == "TW42"
    assert tag(reply, 34) == "1"
    # with HeartBtInt=1 the gateway heartbeats on its own within a couple of seconds
    hb = await c.recv(timeout=4)
    assert hb is not None and tag(hb, 35) in ("0", "1")
    await c.send("1", (112, "PING-1"))
    while True:
        msg = await c.recv(timeout=4)
        assert msg is not None
        if tag(msg, 35) == "0" and tag(msg, 112) == "PING-1":
            break
    await c.send("5", (58, "bye"))
    assert (await c.expect("5")) is not None
    assert await c.closed()
    await c.close()
    assert gp.stop() == 0
    assert gp.events("logon") and gp.events("logout")


async def test_unknown_comp_ids_get_no_answer(gateway) -> None:  # type: ignore[no-untyped-def]
    gp: GatewayProcess = gateway()
    c = FixClient("NOBODY", "ISLD")
    await c.connect(gp.port)
    await c.send("A", (98, "0"), (108, "30"))
    assert await c.recv(timeout=5) is None  # closed without a Logon or Logout
    await c.close()
    gp.stop()
    refused = gp.events("connection_refused")
    assert refused and "NOBODY" in str(refused[0]["reason"])


async def test_second_connection_does_not_disturb_the_first(gateway) -> None:  # type: ignore[no-untyped-def]
    gp: GatewayProcess = gateway()
    first = FixClient("ACME1", "ATS")
    await first.connect(gp.port)
    await first.logon(reset=True)
    second = FixClient("ACME1", "ATS")
    await second.connect(gp.port)
    await second.send("A", (98, "0"), (108, "30"), (141, "Y"), seq=1)
    assert await second.recv(timeout=5) is None
    await first.send("1", (112, "STILL-THERE"))
    hb = await first.expect("0")
    assert tag(hb, 112) == "STILL-THERE"
    await first.close()
    await second.close()
    gp.stop()


async def test_password_is_required_when_configured(gateway) -> None:  # type: ignore[no-untyped-def]
    gp: GatewayProcess = gateway()
    bad = FixClient("BETA1", "ATS")
    await bad.connect(gp.port)
    await bad.send("A", (98, "0"), (108, "30"), (95, "5"), (96, "wrong"))
    msg = await bad.recv(timeout=5)
    assert msg is None or tag(msg, 35) == "5"
    assert await bad.closed()
    await bad.close()
    good = FixClient("BETA1", "ATS")
    await good.connect(gp.port)
    reply = await good.logon(extra=((95, "6"), (96, "s3cret")))
    assert tag(reply, 35) == "A"
    await good.close()
    gp.stop()


async def test_drop_copy_session_rejects_application_messages(gateway) -> None:  # type: ignore[no-untyped-def]
    gp: GatewayProcess = gateway()
    c = FixClient("DC1", "ATS")
    await c.connect(gp.port)
    await c.logon(reset=True)
    await c.send(
        "D",
        (11, "X1"),
        (21, "1"),
        (55, "AAPL"),
        (54, "1"),
        (38, "100"),
        (40, "1"),
        (60, "20260101-00:00:00"),
    )
    rej = await c.expect("j")
    assert tag(rej, 372) == "D" and tag(rej, 380) == "3"
    await c.close()
    gp.stop()


async def test_garbled_message_is_ignored_and_session_goes_on(gateway) -> None:  # type: ignore[no-untyped-def]
    gp: GatewayProcess = gateway()
    c = FixClient("TW42", "ISLD")
    await c.connect(gp.port)
    await c.logon(reset=True)
    good = c.build("1", (112, "AFTER-GARBLE"))
    garbled = c.build("1", (112, "GARBLED"), seq=c.next_seq)
    garbled = garbled[:-4] + b"000\x01"  # wrong CheckSum
    await c.send_raw(garbled + good)
    hb = await c.expect("0")
    assert tag(hb, 112) == "AFTER-GARBLE"
    await c.close()
    gp.stop()


async def test_resend_request_after_restart_and_sequence_continuity(gateway, tmp_path) -> None:  # type: ignore[no-untyped-def]
    """Sequence numbers and sent messages survive a restart, also a kill -9."""
    gp: GatewayProcess = gateway()
    c = FixClient("ACME1", "ATS")
    await c.connect(gp.port)
    await c.logon(reset=True)
    for i in range(3):
        await c.send("1", (112, f"T{i}"))
        await c.expect("0")
    await c.close()
    await asyncio.sleep(0.3)
    assert gp.stop(signal.SIGKILL) == -signal.SIGKILL
    # gateway sent: Logon(1) + 3 heartbeats(2..4); it received 4 messages
    gp2: GatewayProcess = gateway()
    c2 = FixClient("ACME1", "ATS", next_seq=c.next_seq)
    await c2.connect(gp2.port)
    reply = await c2.logon()
    assert tag(reply, 34) == "5", "the gateway's sequence continues after kill -9"
    await c2.send("2", (7, "1"), (16, "0"))
    fill = await c2.expect("4")
    assert tag(fill, 123) == "Y" and tag(fill, 34) == "1" and tag(fill, 36) == "6"
    assert tag(fill, 43) == "Y"
    await c2.send("5")
    await c2.expect("5")
    await c2.close()
    assert gp2.stop() == 0


async def test_sigterm_sends_logout_and_exits_cleanly(gateway) -> None:  # type: ignore[no-untyped-def]
    gp: GatewayProcess = gateway()
    c = FixClient("ACME1", "ATS")
    await c.connect(gp.port)
    await c.logon(reset=True)
    gp.proc.send_signal(signal.SIGTERM)
    logout = await c.expect("5", timeout=10)
    assert tag(logout, 58)
    await c.send("5")
    assert await c.closed()
    await c.close()
    assert gp.stop() == 0
