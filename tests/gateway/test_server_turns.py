"""The server's turn: what one read changes is durable with that turn's commit."""

from __future__ import annotations

import asyncio
import time
from pathlib import Path

from gateway.config import loads_config
from gateway.fix import FileStore
from gateway.fix.codec import format_utc, frame
from gateway.server import Connection, Gateway

VENUE = """
[gateway]
data_dir = "data"

[[sessions]]
target_comp_id = "MD1"
role = "market_data"

[[symbols]]
symbol = "AAPL"
"""


class _Transport:
    """What Connection uses of an asyncio transport; keeps what was written."""

    def __init__(self) -> None:
        self.written = b""
        self.closed = False

    def get_extra_info(self, name: str) -> object:
        return ("127.0.0.1", 5000) if name == "peername" else None

    def write(self, data: bytes) -> None:
        self.written += data

    def get_write_buffer_size(self) -> int:
        return 0

    def close(self) -> None:
        self.closed = True

    def pause_reading(self) -> None: ...

    def resume_reading(self) -> None: ...


def _msg(msg_type: str, seq: int, body: str = "") -> bytes:
    head = f"35={msg_type}\x0134={seq}\x0149=MD1\x0152={format_utc(time.time_ns())}\x0156=ATS\x01"
    return frame((head + body).encode())


def _quote(seq: int, bid: str, ask: str) -> bytes:
    return _msg("W", seq, f"55=AAPL\x01268=2\x01269=0\x01270={bid}\x01271=100\x01"
                          f"269=1\x01270={ask}\x01271=100\x01")


async def test_inbound_seq_is_on_disk_after_a_turn_that_sent_nothing(tmp_path: Path) -> None:
    gw = Gateway(loads_config(VENUE, base=tmp_path), tmp_path / "data")
    conn = Connection(gw)
    transport = _Transport()
    conn.connection_made(transport)  # type: ignore[arg-type]
    conn.data_received(_msg("A", 1, "98=0\x01108=30\x01"))
    await asyncio.sleep(0)  # the turn's commit
    assert b"35=A\x01" in transport.written
    written = len(transport.written)

    conn.data_received(_quote(2, "100.00", "100.10") + _quote(3, "100.20", "100.30"))
    await asyncio.sleep(0)
    assert len(transport.written) == written, "market data gets no answer"
    # what a restart after kill -9 would read now (the live store is not closed)
    after_crash = FileStore(tmp_path / "data" / "sessions", "ATS-MD1")
    assert after_crash.next_target_seq == 4
    after_crash.close()


ORDER_VENUE = """
[gateway]
data_dir = "data"

[[participants]]
id = "P1"

[[sessions]]
target_comp_id = "DC1"
role = "drop_copy"
participants = ["*"]

[[sessions]]
target_comp_id = "%s"
role = "order_entry"
participant = "P1"

[[symbols]]
symbol = "AAPL"
"""


class _Ordered(_Transport):
    """Notes in a shared list which connection wrote when."""

    def __init__(self, name: str, log: list[str]) -> None:
        super().__init__()
        self.name, self.log = name, log

    def write(self, data: bytes) -> None:
        super().write(data)
        self.log.append(self.name)


async def test_order_session_is_written_before_its_drop_copy(tmp_path: Path) -> None:
    """In a turn's write, order sessions come before drop copies, whatever the set order."""
    from gateway.app import build_application

    for i, sender in enumerate(("OE1", "OE2", "OE3")):  # a few layouts in memory
        cfg = loads_config(ORDER_VENUE % sender, base=tmp_path / str(i))
        gw = Gateway(cfg, cfg.gateway.data_dir)
        gw.app = build_application(cfg, gw)
        writes: list[str] = []
        conns = {}
        for name in ("DC1", sender):
            conn = Connection(gw)
            conn.connection_made(_Ordered(name, writes))  # type: ignore[arg-type]
            now = format_utc(time.time_ns())
            conn.data_received(frame(
                f"35=A\x0134=1\x0149={name}\x0152={now}\x0156=ATS\x0198=0\x01108=30\x01".encode()))
            conns[name] = conn
        await asyncio.sleep(0)
        writes.clear()
        now = format_utc(time.time_ns())
        conns[sender].data_received(frame(
            f"35=D\x0134=2\x0149={sender}\x0152={now}\x0156=ATS\x0111=C1\x0121=1\x0155=AAPL"
            f"\x0154=1\x0160={now}\x0138=100\x0140=2\x0144=10.00\x01".encode()))
        await asyncio.sleep(0)
        assert writes == [sender, "DC1"]
        for rt in gw.runtimes.values():
            rt.store.close()
        gw.app.close()
