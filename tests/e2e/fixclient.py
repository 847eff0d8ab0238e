"""A small FIX 4.2 test client over real TCP, built on simplefix (tests and tools only)."""

from __future__ import annotations

import asyncio
import time
from dataclasses import dataclass, field

import simplefix


def utc_now() -> str:
    ns = time.time_ns()
    return time.strftime("%Y%m%d-%H:%M:%S", time.gmtime(ns // 10**9)) + f".{ns // 10**6 % 1000:03d}"


@dataclass
class FixClient:
    """Initiator side of one session: the test decides every field it sends."""

    sender: str
    target: str
    reader: asyncio.StreamReader | None = None
    writer: asyncio.StreamWriter | None = None
    next_seq: int = 1
    parser: simplefix.FixParser = field(default_factory=simplefix.FixParser)

    async def connect(self, port: int, host: str = "127.0.0.1") -> None:
        self.reader, self.writer = await asyncio.open_connection(host, port)

    def build(
        self,
        msg_type: str,
        *fields: tuple[int, str],
        seq: int | None = None,
        header: tuple[tuple[int, str], ...] = (),
    ) -> bytes:
        msg = simplefix.FixMessage()
        msg.append_pair(8, "FIX.4.2", header=True)
        msg.append_pair(35, msg_type, header=True)
        msg.append_pair(49, self.sender, header=True)
        msg.append_pair(56, self.target, header=True)
        if seq is None:
            seq = self.next_seq
            self.next_seq += 1
        msg.append_pair(34, seq, header=True)
        msg.append_pair(52, utc_now(), header=True)
        for tag, value in header:
            msg.append_pair(tag, value, header=True)
        for tag, value in fields:
            msg.append_pair(tag, value)
        return bytes(msg.encode())

    async def send(
        self,
        msg_type: str,
        *fields: tuple[int, str],
        seq: int | None = None,
        header: tuple[tuple[int, str], ...] = (),
    ) -> None:
        await self.send_raw(self.build(msg_type, *fields, seq=seq, header=header))

    async def send_raw(self, data: bytes) -> None:
        assert self.writer is not None
        self.writer.write(data)
        await self.writer.drain()

    async def logon(
        self, heartbeat: int = 30, reset: bool = False, extra: tuple[tuple[int, str], ...] = ()
    ) -> simplefix.FixMessage:
        fields: list[tuple[int, str]] = [(98, "0"), (108, str(heartbeat))]
        if reset:
            fields.append((141, "Y"))
            self.next_seq = 1
        await self.send("A", *fields, *extra)
        reply = await self.expect("A")
        return reply

    async def recv(self, timeout: float = 5.0) -> simplefix.FixMessage | None:
        """The next message, or None when the gateway closed the connection."""
        assert self.reader is not None
        deadline = asyncio.get_running_loop().time() + timeout
        while True:
            msg = self.parser.get_message()
            if msg is not None:
                return msg
            remaining = deadline - asyncio.get_running_loop().time()
            if remaining <= 0:
                raise TimeoutError(f"no FIX message within {timeout:.1f}s")
            data = await asyncio.wait_for(self.reader.read(65536), remaining)
            if not data:
                return None
            self.parser.append_buffer(data)

    async def expect(self, msg_type: str, timeout: float = 5.0) -> simplefix.FixMessage:
        """The next message that is not a Heartbeat, which must be of `msg_type`."""
        while True:
            msg = await self.recv(timeout)
            assert msg is not None, f"connection closed while waiting for 35={msg_type}"
            got = msg.get(35).decode()
            if got == "0" and msg_type != "0":
                continue
            assert got == msg_type, f"expected 35={msg_type}, got {msg}"
            return msg

    async def closed(self, timeout: float = 5.0) -> bool:
        """True once the gateway has closed the connection (skipping anything it sent first)."""
        try:
            while (await self.recv(timeout)) is not None:
                pass
        except TimeoutError:
            return False
        return True

    async def close(self) -> None:
        if self.writer is not None:
            self.writer.close()
            try:
                await self.writer.wait_closed()
            except (ConnectionError, OSError):
                pass


def tag(msg: simplefix.FixMessage, number: int) -> str | None:
    value = msg.get(number)
    return None if value is None else value.decode()
