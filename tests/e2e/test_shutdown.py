"""SIGTERM of the real process: a clean exit 0 even when a counterparty ignores our Logout."""

from __future__ import annotations

import asyncio
import signal

from tests.e2e.fixclient import tag
from tests.e2e.orders_helpers import session, two_party_venue


async def test_sigterm_with_a_client_that_never_answers_the_logout(gateway) -> None:  # type: ignore[no-untyped-def]
    gp = gateway(two_party_venue())
    md, acme = await session(gp, "MD1"), await session(gp, "ACME1")
    await md.nbbo("10.00", "10.10")
    await acme.ack("B1", "1", 100, "10.05")
    gp.proc.send_signal(signal.SIGTERM)
    logout = await acme.expect("5")  # ... and never answered
    assert "shutting down" in (tag(logout, 58) or "")
    rc = await asyncio.to_thread(gp.stop)
    assert rc == 0
    raw = [e["line"] for e in gp.events("raw")]
    assert not any("Traceback" in str(line) or "Error" in str(line) for line in raw), raw
    assert gp.events("stopped"), "the gateway did not log its stop"
    await md.fix.close()
    await acme.fix.close()
