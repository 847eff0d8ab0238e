"""The per-session FIX message log (QuickFIX's FileLog): every message in and out, switchable."""

from __future__ import annotations

from pathlib import Path

from gateway.config import loads_config
from gateway.server import Gateway
from tests.e2e.conftest import BASE_CONFIG
from tests.e2e.fixclient import FixClient, tag

QUIET = BASE_CONFIG.replace(
    'target_comp_id = "BETA1"', 'target_comp_id = "BETA1"\nmessage_log = false'
)


async def test_every_message_in_and_out_is_logged_unless_switched_off(tmp_path: Path) -> None:
    gateway = Gateway(loads_config(QUIET, base=tmp_path), tmp_path / "data")
    port = await gateway.start(port=0)
    try:
        acme = FixClient("ACME1", "ATS")
        await acme.connect(port)
        await acme.logon(reset=True)
        await acme.send("1", (112, "LOGGED"))
        assert tag(await acme.expect("0"), 112) == "LOGGED"
        beta = FixClient("BETA1", "ATS")
        await beta.connect(port)
        await beta.logon(reset=True, extra=((95, "6"), (96, "s3cret")))
        await acme.close()
        await beta.close()
    finally:
        await gateway.shutdown(grace=0.5)
    lines = (tmp_path / "data" / "log" / "ATS-ACME1.messages.log").read_bytes().splitlines()
    kinds = [(line.split()[1], line.split(b"\x0135=")[1][:1]) for line in lines]
    # Logon in and out, TestRequest in, Heartbeat out, in that order
    assert kinds[:4] == [(b"IN", b"A"), (b"OUT", b"A"), (b"IN", b"1"), (b"OUT", b"0")]
    assert all(b"\x0110=" in line for line in lines)  # whole messages, CheckSum included
    assert not (tmp_path / "data" / "log" / "ATS-BETA1.messages.log").exists()
