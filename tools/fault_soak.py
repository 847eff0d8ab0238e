"""A bounded fault soak: SIGKILL under pipelined load, then check that nothing was lost.

Runs the real gateway process on loopback with two order sessions, a market-data feed and a drop
copy, each driven by a strict FIX engine of our own (raw frames, its own sequence checks). Each
cycle loads the venue with pipelined orders (half of them cross), kills the gateway with SIGKILL
at a random moment, restarts it, logs every session on again without reset and asks for
everything from MsgSeqNum 1. Checked after every restart:

- no MsgSeqNum was received twice with different content (bytes minus 43, 97, 122, 52, 9, 10);
- no gap fill covers a number received as an application message;
- a live message (not PossDup) never arrives above the expected MsgSeqNum except the Logon;
- no ExecID names two different reports or comes under two MsgSeqNums, no OrderID two orders;
- at the end every acknowledged order is known: its cancel succeeds or says it is filled;
- the drop copy has every ExecID the order sessions got.

    .venv/bin/python tools/fault_soak.py --kills 5 [--seed 1] [--mid-resend]

Exit status 0 when every check held; the violations are printed otherwise.
"""

from __future__ import annotations

import argparse
import asyncio
import os
import random
import re
import signal
import sys
import tempfile
import time
from dataclasses import dataclass, field
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))

from tests.e2e.conftest import GatewayProcess, start_gateway  # noqa: E402
from tests.e2e.fixclient import FixClient, utc_now  # noqa: E402
from tests.e2e.orders_helpers import drop_copy_session, two_party_venue  # noqa: E402

_FRAME = re.compile(rb"8=FIX\.4\.2\x019=(\d+)\x01")
_VOLATILE = {b"9", b"10", b"43", b"52", b"97", b"122"}
APP = {"8", "9", "j", "3"}
TRACE = open(os.environ["SOAK_TRACE"], "w") if os.environ.get("SOAK_TRACE") else None  # noqa: SIM115


def fields_of(raw: bytes) -> list[tuple[bytes, bytes]]:
    out = []
    for part in raw.split(b"\x01"):
        if part:
            t, _, v = part.partition(b"=")
            out.append((t, v))
    return out


def content(raw: bytes) -> bytes:
    """What a MsgSeqNum stands for: the message without the resend and time fields."""
    return b"|".join(t + b"=" + v for t, v in fields_of(raw) if t not in _VOLATILE)


@dataclass
class Engine:
    """One counterparty session across gateway restarts, strict about sequence numbers."""

    sender: str
    violations: list[str]
    expected: int = 1  # next MsgSeqNum we expect from the gateway
    by_seq: dict[int, bytes] = field(default_factory=dict)  # content of each number received
    app_seqs: set[int] = field(default_factory=set)
    sent: dict[int, bytes] = field(default_factory=dict)  # our own messages, for resends
    reports: list[dict[bytes, bytes]] = field(default_factory=list)
    fix: FixClient | None = None
    buf: bytes = b""
    closed: bool = False
    inbox: asyncio.Queue[dict[bytes, bytes] | None] | None = None
    reader_task: asyncio.Task[None] | None = None
    resending: bool = False
    last: bytes = b""

    def violation(self, text: str) -> None:
        self.violations.append(f"{self.sender}: {text}")

    async def logon(self, port: int, reset: bool) -> None:
        next_seq = 1 if reset else (self.fix.next_seq if self.fix else 1)
        self.fix = FixClient(self.sender, "ATS", next_seq=next_seq)
        await self.fix.connect(port)
        if reset:
            self.expected, self.by_seq, self.app_seqs, self.sent = 1, {}, set(), {}
        self.buf, self.closed, self.inbox = b"", False, asyncio.Queue()
        self.resending = False
        await self.send("A", (98, "0"), (108, "30"), *([(141, "Y")] if reset else []))
        self.reader_task = asyncio.create_task(self._read_loop())

    async def send(self, msg_type: str, *fields: tuple[int, str],
                   seq: int | None = None, header: tuple[tuple[int, str], ...] = ()) -> None:
        assert self.fix is not None
        raw = self.fix.build(msg_type, *fields, seq=seq, header=header)
        if seq is None:
            self.sent[self.fix.next_seq - 1] = raw
        if TRACE:
            print(f"OUT {self.sender} {raw[:200]!r}", file=TRACE)
        try:
            await self.fix.send_raw(raw)
        except (ConnectionError, OSError):
            self.closed = True

    async def _read_loop(self) -> None:
        assert self.fix is not None and self.fix.reader is not None and self.inbox is not None
        try:
            while True:
                data = await self.fix.reader.read(1 << 16)
                if not data:
                    break
                self.buf += data
                while True:
                    m = _FRAME.match(self.buf)
                    if m is None:
                        break
                    end = m.end() + int(m.group(1)) + 7
                    if len(self.buf) < end:
                        break
                    raw, self.buf = self.buf[:end], self.buf[end:]
                    msg = await self._on_message(raw)
                    if msg is not None:
                        await self.inbox.put(msg)
        except (ConnectionError, OSError):
            pass
        self.closed = True
        await self.inbox.put(None)

    async def _on_message(self, raw: bytes) -> dict[bytes, bytes] | None:
        self.last = raw[:160]
        if TRACE:
            print(f"IN  {self.sender} {raw[:200]!r}", file=TRACE)
        f = dict(fields_of(raw))
        seq, mtype = int(f[b"34"]), f[b"35"].decode()
        possdup = f.get(b"43") == b"Y"
        key = content(raw)
        if mtype == "4" and f.get(b"123") == b"Y":
            new = int(f[b"36"])
            for covered in range(seq, new):
                if covered in self.app_seqs:
                    self.violation(f"gap fill {seq}->{new} covers app message {covered}")
            if seq == self.expected:
                self.expected = max(self.expected, new)
            elif seq > self.expected:
                self.violation(f"gap fill at {seq} above expected {self.expected}")
            return None
        before = self.by_seq.get(seq)
        if before is not None and before != key:
            self.violation(f"MsgSeqNum {seq} carried\n  {before!r}\n  now {key!r}")
        if before is None:
            self.by_seq[seq] = key
        if mtype in APP:
            self.app_seqs.add(seq)
        if seq > self.expected:
            if mtype != "A" and not self.resending:
                self.violation(f"live {mtype} MsgSeqNum {seq} above expected {self.expected}")
            if not self.resending:
                self.resending = True
                await self.send("2", (7, str(self.expected)), (16, "0"))
            if mtype == "2":  # answered whatever its own number (FIX: processed, not queued)
                await self._answer_resend(int(f[b"7"]), int(f[b"16"]))
            return f if mtype in APP or mtype in ("A", "5", "2", "0") else None
        if seq < self.expected:
            if not possdup:
                self.violation(f"MsgSeqNum {seq} below expected {self.expected} without 43=Y")
            return None
        self.expected = seq + 1
        if mtype == "2":
            await self._answer_resend(int(f[b"7"]), int(f[b"16"]))
        if mtype == "8":
            self.reports.append(f)
        return f

    async def _answer_resend(self, begin: int, end: int) -> None:
        """Our own messages again: orders as PossDup copies, admin ones gap-filled."""
        assert self.fix is not None
        last = self.fix.next_seq - 1
        end = last if end == 0 or end > last else end
        seq = begin
        while seq <= end:
            raw = self.sent.get(seq)
            f = dict(fields_of(raw)) if raw else {}
            if raw is None or f[b"35"].decode() not in ("D", "F", "G", "W", "f"):
                start = seq
                while seq <= end and (self.sent.get(seq) is None or dict(fields_of(
                        self.sent[seq]))[b"35"].decode() not in ("D", "F", "G", "W", "f")):
                    seq += 1
                await self.send("4", (123, "Y"), (36, str(seq)), seq=start,
                                header=((43, "Y"), (122, utc_now())))
                continue
            body = [(int(t), v.decode()) for t, v in fields_of(raw)
                    if t not in (b"8", b"9", b"35", b"49", b"56", b"34", b"52", b"10")]
            await self.send(f[b"35"].decode(), *body, seq=seq,
                            header=((43, "Y"), (122, f[b"52"].decode())))
            seq += 1

    async def next(self, timeout: float = 10.0) -> dict[bytes, bytes] | None:
        assert self.inbox is not None
        return await asyncio.wait_for(self.inbox.get(), timeout)

    async def sync(self, timeout: float = 20.0) -> bool:
        """A TestRequest barrier; False if the connection closed. A TestRequest that our
        answer to the gateway's ResendRequest gap-filled is never answered: ask again."""
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            test_id = f"SYNC-{time.monotonic_ns()}"
            await self.send("1", (112, test_id))
            wait_until = min(deadline, time.monotonic() + 3)
            while time.monotonic() < wait_until:
                try:
                    msg = await self.next(wait_until - time.monotonic())
                except TimeoutError:
                    break
                if msg is None:
                    return False
                if msg.get(b"35") == b"0" and msg.get(b"112") == test_id.encode():
                    self.resending = False
                    return True
        raise TimeoutError(f"{self.sender}: no answer to a TestRequest; expecting "
                           f"{self.expected}, last {self.last!r}")

    async def close(self) -> None:
        if self.fix is not None:
            await self.fix.close()
        if self.reader_task is not None:
            await asyncio.gather(self.reader_task, return_exceptions=True)


def _ok(f: dict[bytes, bytes]) -> str:
    return (f.get(b"35", b"") + b" " + f.get(b"150", b"") + b" " + f.get(b"11", b"")).decode()


async def load(engines: dict[str, Engine], orders: list[int], stop: asyncio.Event) -> None:
    """Pipelined orders on both order sessions: ACME buys, BETA sells; half cross at 10.05."""
    acme, beta = engines["ACME1"], engines["BETA1"]
    rng = random.Random(orders[0])
    while not stop.is_set() and not (acme.closed or beta.closed):
        for _ in range(20):
            n = orders[0]
            orders[0] += 1
            cross = rng.random() < 0.5
            for eng, side, px in ((acme, "1", "10.05" if cross else "10.01"),
                                  (beta, "2", "10.05" if cross else "10.09")):
                await eng.send("D", (11, f"{eng.sender[0]}{n}"), (21, "1"), (55, "AAPL"),
                               (54, side), (38, "100"), (40, "2"), (44, px), (60, utc_now()))
        await asyncio.sleep(0.005)


async def drain(eng: Engine, seconds: float) -> None:
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        try:
            if await eng.next(deadline - time.monotonic()) is None:
                return
        except TimeoutError:
            return


def check_numbers(engines: dict[str, Engine], violations: list[str]) -> None:
    by_exec: dict[bytes, tuple[bytes | None, ...]] = {}
    order_of: dict[bytes, bytes] = {}
    for eng in engines.values():
        for r in eng.reports:
            key = (r.get(b"37"), r.get(b"11"), r.get(b"150"), r.get(b"32"), r.get(b"31"))
            ex = r.get(b"17", b"")
            if ex and by_exec.setdefault(ex, key) != key:
                violations.append(f"ExecID {ex!r} names {by_exec[ex]} and {key}")
            if r.get(b"150") == b"0":
                oid = r.get(b"37", b"")
                if order_of.setdefault(oid, r.get(b"11", b"")) != r.get(b"11"):
                    violations.append(
                        f"OrderID {oid!r} names {order_of[oid]!r} and {r.get(b'11')!r}")
    for eng in engines.values():  # one report, one MsgSeqNum: a second would count twice
        seen: set[bytes] = set()
        for r in eng.reports:
            ex = r.get(b"17", b"")
            if ex in seen:
                violations.append(f"{eng.sender}: ExecID {ex!r} under two MsgSeqNums")
            seen.add(ex)
    order_execs = {r.get(b"17", b"") for k in ("ACME1", "BETA1") for r in engines[k].reports}
    dc_execs = {r.get(b"17", b"") for r in engines["DC1"].reports}
    missing = order_execs - dc_execs
    if missing:
        violations.append(f"drop copy misses {len(missing)} ExecIDs, e.g. {sorted(missing)[:3]}")


async def check_known(engines: dict[str, Engine], violations: list[str]) -> int:
    """Cancel every acknowledged order not known to be done: none may be unknown."""
    total = 0
    for key, side in (("ACME1", "1"), ("BETA1", "2")):
        eng = engines[key]
        acked = {r[b"11"] for r in eng.reports if r.get(b"150") == b"0"}
        done = {r[b"11"] for r in eng.reports if r.get(b"39") in (b"2", b"4")}
        todo = sorted(acked - done)
        total += len(acked)
        for clid in todo:
            await eng.send("F", (41, clid.decode()), (11, "X" + clid.decode()), (55, "AAPL"),
                           (54, side), (60, utc_now()))
        answered = 0
        while answered < len(todo):
            msg = await eng.next(20)
            if msg is None:
                violations.append(f"{key}: closed during the cancels")
                break
            if msg.get(b"35") == b"9":
                answered += 1
                if msg.get(b"102") != b"0" or msg.get(b"39") not in (b"2", b"4"):
                    violations.append(f"{key}: cancel of {msg.get(b'41')!r} refused: "
                                      f"102={msg.get(b'102')!r} 58={msg.get(b'58')!r}")
            elif msg.get(b"35") == b"8" and msg.get(b"150") == b"4":
                answered += 1
    return total


async def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--kills", type=int, default=5)
    ap.add_argument("--seed", type=int, default=1)
    ap.add_argument("--max-delay", type=float, default=1.5, help="seconds of load before a kill")
    ap.add_argument("--mid-resend", action="store_true",
                    help="every other kill comes while the sessions' resends from 1 go out")
    args = ap.parse_args()
    rng = random.Random(args.seed)
    violations: list[str] = []
    config = two_party_venue(drop_copy_session("DC1"))
    engines = {k: Engine(k, violations) for k in ("MD1", "ACME1", "BETA1", "DC1")}
    orders = [args.seed * 1_000_000]
    with tempfile.TemporaryDirectory(prefix="fault-soak-") as tmp:
        directory = Path(tmp)
        gp: GatewayProcess | None = None
        try:
            for cycle in range(args.kills + 1):
                gp = start_gateway(directory, config)
                for eng in engines.values():
                    await eng.logon(gp.port, reset=cycle == 0)
                mid_resend = args.mid_resend and cycle % 2 == 1 and cycle < args.kills
                for eng in engines.values():
                    if mid_resend:  # everything from 1 again, and the kill comes during it
                        await eng.send("2", (7, "1"), (16, "0"))
                        continue
                    assert await eng.sync(), f"{eng.sender} closed at logon"
                    # everything from 1 again: it must be what we got before
                    await eng.send("2", (7, "1"), (16, "0"))
                    assert await eng.sync(), f"{eng.sender} closed in the resend"
                if cycle == 0:
                    md = engines["MD1"]
                    await md.send("W", (55, "AAPL"), (268, "2"), (269, "0"), (270, "10.00"),
                                  (271, "500"), (269, "1"), (270, "10.10"), (271, "500"))
                    await md.sync()
                check_numbers(engines, violations)
                if cycle == args.kills:
                    total = await check_known(engines, violations)
                    for k in ("ACME1", "BETA1", "DC1"):
                        await engines[k].sync()
                    check_numbers(engines, violations)
                    print(f"{cycle} kills: {total} acknowledged orders checked; "
                          f"{len(engines['DC1'].reports)} drop copies")
                    break
                stop = asyncio.Event()
                tasks = [asyncio.create_task(load(engines, orders, stop))]
                tasks += [asyncio.create_task(drain(engines[k], 30)) for k in ("DC1", "MD1")]
                await asyncio.sleep(rng.uniform(0.01, 0.3) if mid_resend
                                    else rng.uniform(0.2, args.max_delay))
                os.kill(gp.proc.pid, signal.SIGKILL)
                gp.proc.wait(10)
                stop.set()
                await asyncio.gather(*tasks, return_exceptions=True)
                for k in ("ACME1", "BETA1"):
                    await drain(engines[k], 2)
                for eng in engines.values():
                    await eng.close()
                acked = sum(1 for k in ("ACME1", "BETA1") for r in engines[k].reports
                            if r.get(b"150") == b"0")
                print(f"kill {cycle + 1}: {acked} acknowledged so far, "
                      f"{len(violations)} violations")
        finally:
            if TRACE and gp is not None:
                for line in gp.log_lines[-40:]:
                    print("LOG", line, file=TRACE)
            if gp is not None and gp.proc.poll() is None:
                gp.proc.kill()
                gp.proc.wait(10)
    for v in violations[:50]:
        print("VIOLATION", v)
    return 1 if violations else 0


if __name__ == "__main__":
    sys.exit(asyncio.run(main()))
