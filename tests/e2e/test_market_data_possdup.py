"""A PossDup quote that does not say when it was first sent is not applied over a newer one."""

from __future__ import annotations

from tests.e2e.conftest import GatewayProcess
from tests.e2e.orders_helpers import session, two_party_venue
from tests.e2e.test_market_data_recovery import _quote


async def test_a_possdup_quote_without_orig_sending_time_is_not_applied(gateway) -> None:  # type: ignore[no-untyped-def]
    gp: GatewayProcess = gateway(two_party_venue())
    md, acme, beta = [await session(gp, s) for s in ("MD1", "ACME1", "BETA1")]
    await md.nbbo("100.20", "100.30")
    # a copy of an older quote, PossDupFlag=Y but no OrigSendingTime (122): its SendingTime
    # is when it was sent again, so it cannot show it is newer than what the venue has
    await md.fix.send("W", *_quote("100.00", "100.10"), header=((43, "Y"),))
    await md.quiet()
    # under 100.00 x 100.10 these two would trade at 100.05; under 100.20 x 100.30 they rest
    await acme.ack("B1", "1", 100, "100.05")
    await beta.ack("S1", "2", 100, "100.05")
    await acme.quiet()
    await beta.quiet()
    assert gp.stop() == 0
    assert gp.events("stale_market_data_ignored")
