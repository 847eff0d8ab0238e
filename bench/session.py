"""Benchmark of the FIX session layer (prints figures; not a test).

Inbound: Framer.feed + Session.receive (and + Session.receive_many, one call per read) over
a pipelined stream of NewOrderSingles, beside the raw parse cost and simplefix's parse of
the same messages (same run, same machine).
Wall-clock figures beside CPU time (process_time): the CPU figure is steadier on a shared
machine, where wall time also counts the time other processes held the core.
Outbound: Session.send_app with a FileStore (fsync=batch, sync every 100 messages) beside
simplefix's encode of the same ExecutionReport.

    python bench/session.py [--count N]
"""

from __future__ import annotations

import argparse
import resource
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

import simplefix  # noqa: E402

try:
    from gateway.fix._build import BUILD  # noqa: E402
except ImportError:  # a tree from before the compiled hot path (a same-run "before" figure)
    BUILD = "pre-compiled"
from gateway.fix.codec import Framer, format_utc, frame, parse  # noqa: E402
from gateway.fix.session import Deliver, Session, SessionSettings  # noqa: E402
from gateway.fix.store import FileStore, MemoryStore  # noqa: E402

T0 = time.time_ns()


def new_order(seq: int, now: int) -> bytes:
    """A NewOrderSingle of ~180 bytes, the size the issue measured."""
    ts = format_utc(now).encode()
    body = (
        b"35=D\x0134=%d\x0149=TW42\x0152=%s\x0156=ISLD\x0111=ORD%08d\x0121=1\x0155=AAPL"
        b"\x0154=1\x0138=100\x0140=2\x0144=189.25\x0159=0\x0147=A\x0160=%s\x01"
        % (seq, ts, seq, ts)
    )
    return frame(body)


def inbound(count: int) -> dict[str, float]:
    """Run and print the inbound figures; return them (us per message)."""
    settings = SessionSettings("ISLD", "TW42", app_msg_types=frozenset({"D"}))
    session = Session(settings, MemoryStore())
    session.connected(T0)
    logon = frame(b"35=A\x0134=1\x0149=TW42\x0152=%s\x0156=ISLD\x0198=0\x01108=30\x01"
                  % format_utc(T0).encode())
    session.receive(logon, T0)
    # Sent at 60k msg/s: SendingTime/TransactTime (ms) change every ~60 messages.
    msgs = [new_order(i + 2, T0 + i * 16_667) for i in range(count)]
    stream = b"".join(msgs)
    chunks = [stream[i : i + 65536] for i in range(0, len(stream), 65536)]
    size = sum(map(len, msgs)) / count

    framer = Framer()
    delivered = 0
    cpu = time.process_time()
    t = time.perf_counter()
    for chunk in chunks:
        now = T0 + count * 16_667
        for raw in framer.feed(chunk):
            for action in session.receive(raw, now):
                if type(action) is Deliver:
                    delivered += 1
    elapsed = time.perf_counter() - t
    cpu_us = (time.process_time() - cpu) / count * 1e6
    assert delivered == count and framer.garbled == 0, (delivered, framer.garbled)
    session_us = elapsed / count * 1e6

    session = Session(settings, MemoryStore())
    session.connected(T0)
    session.receive(logon, T0)
    framer = Framer()
    delivered = 0
    cpu = time.process_time()
    t = time.perf_counter()
    for chunk in chunks:
        for action in session.receive_many(framer.feed(chunk), T0 + count * 16_667):
            if type(action) is Deliver:
                delivered += 1
    many_elapsed = time.perf_counter() - t
    many_cpu_us = (time.process_time() - cpu) / count * 1e6
    assert delivered == count, delivered

    t = time.process_time()
    for raw in msgs:
        parse(raw)
    parse_cpu_us = (time.process_time() - t) / count * 1e6
    t = time.perf_counter()
    for raw in msgs:
        parse(raw)
    parse_us = (time.perf_counter() - t) / count * 1e6

    sample = msgs[: min(count, 20000)]
    t = time.perf_counter()
    p = simplefix.FixParser()
    for raw in sample:
        p.append_buffer(raw)
        p.get_message()
    simplefix_us = (time.perf_counter() - t) / len(sample) * 1e6

    print(f"inbound  {count} NewOrderSingle of {size:.0f} bytes, pipelined in 64 KiB reads")
    print(f"  framing+validation+session: {count / elapsed:10.0f} msg/s  {session_us:6.2f} us/msg"
          f"  (CPU {cpu_us:6.2f} us/msg = {1e6 / cpu_us:.0f} msg/s)")
    print(f"  same, Session.receive_many: {count / many_elapsed:10.0f} msg/s  "
          f"{many_elapsed / count * 1e6:6.2f} us/msg  (CPU {many_cpu_us:6.2f} us/msg)")
    print(f"  raw parse (codec.parse):    {1e6 / parse_us:10.0f} msg/s  {parse_us:6.2f} us/msg"
          f"  (CPU {parse_cpu_us:6.2f} us/msg)")
    print(f"  simplefix parse (baseline): {1e6 / simplefix_us:10.0f} msg/s  "
          f"{simplefix_us:6.2f} us/msg")
    print(f"  ratio simplefix parse / full session path: {simplefix_us / session_us:.1f}x"
          f"   target >= 60000 msg/s: receive {'met' if count / elapsed >= 60000 else 'NOT met'}"
          f", receive_many {'met' if count / many_elapsed >= 60000 else 'NOT met'}")
    return {"receive_many_us": many_elapsed / count * 1e6, "receive_many_cpu_us": many_cpu_us,
            "simplefix_parse_us": simplefix_us}


EXEC_BODY = (
    b"37=O12345678\x0111=ORD00000001\x0117=E0000000000001\x0120=0\x01150=F\x0139=2\x01"
    b"55=AAPL\x0154=1\x0138=100\x0132=100\x0131=189.25\x01151=0\x0114=100\x016=189.25\x01"
    b"60=20240101-14:30:00.123\x01851=2\x01"
)


def outbound(count: int) -> dict[str, float]:
    """Run and print the outbound figures; return them (us per message)."""
    with tempfile.TemporaryDirectory() as tmp:
        store = FileStore(Path(tmp), "ISLD-TW42", fsync="batch")
        session = Session(SessionSettings("ISLD", "TW42"), store)
        session.connected(T0)
        session.receive(frame(b"35=A\x0134=1\x0149=TW42\x0152=%s\x0156=ISLD\x0198=0\x01"
                              b"108=30\x01" % format_utc(T0).encode()), T0)
        t = time.perf_counter()
        cpu = time.process_time()
        r0 = resource.getrusage(resource.RUSAGE_SELF)
        for i in range(count):
            raw = session.send_app("8", EXEC_BODY, T0 + i)
            if i % 100 == 99:
                store.sync()
        store.sync()
        elapsed = time.perf_counter() - t
        cpu_us = (time.process_time() - cpu) / count * 1e6
        r1 = resource.getrusage(resource.RUSAGE_SELF)
        # the kernel's share: writing the store's file (page cache) and its fdatasyncs
        user_us = (r1.ru_utime - r0.ru_utime) / count * 1e6
        sys_us = (r1.ru_stime - r0.ru_stime) / count * 1e6
        assert raw is not None
        size = len(raw)
        store.close()

    fields = [(t_, v) for t_, v in (f.split(b"=", 1) for f in EXEC_BODY.split(b"\x01") if f)]
    n = min(count, 20000)
    t = time.perf_counter()
    for i in range(n):
        m = simplefix.FixMessage()
        m.append_pair(8, "FIX.4.2", header=True)
        m.append_pair(35, "8", header=True)
        m.append_pair(34, i + 2, header=True)
        m.append_pair(49, "ISLD", header=True)
        m.append_utc_timestamp(52, precision=3, header=True)
        m.append_pair(56, "TW42", header=True)
        for tag, value in fields:
            m.append_pair(int(tag), value)
        m.encode()
    simplefix_us = (time.perf_counter() - t) / n * 1e6
    us = elapsed / count * 1e6
    print(f"outbound {count} ExecutionReport of {size} bytes")
    print(f"  send_app + FileStore(batch, sync/100): {count / elapsed:10.0f} msg/s  "
          f"{us:6.2f} us/msg  (CPU {cpu_us:6.2f} us/msg = user {user_us:.2f} + kernel "
          f"{sys_us:.2f}; wall time includes the fdatasyncs)")
    print(f"  simplefix encode only (baseline):      {1e6 / simplefix_us:10.0f} msg/s  "
          f"{simplefix_us:6.2f} us/msg")
    print(f"  ratio simplefix encode / send_app: {simplefix_us / us:.1f}x")
    return {"send_app_us": us, "send_app_cpu_us": cpu_us, "send_app_user_us": user_us,
            "send_app_sys_us": sys_us, "simplefix_encode_us": simplefix_us}


def main() -> None:
    """Run both benchmarks."""
    ap = argparse.ArgumentParser(description=__doc__)
    ap.add_argument("--count", type=int, default=200_000)
    args = ap.parse_args()
    print(f"Python {sys.version.split()[0]}, {BUILD} build of the hot path")
    inbound(args.count)
    outbound(args.count)


if __name__ == "__main__":
    main()
