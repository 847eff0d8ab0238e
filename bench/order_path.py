"""The server's work per order without sockets: Gateway + OrderApplication driven in-process.

What `bench/e2e.py --mode closed` makes the gateway do, minus the kernel's socket work and the
client: ten order sessions (window-sized reads of pipelined mid-pegged NewOrderSingles, both
sides, so about half of them fill), a drop copy of all, message logs on, fsync = "batch". Each
loop turn every order session delivers one read of `--batch` orders, then the turn's flush runs
(journal + stores written and fdatasync'ed, the output written to fake transports).

    python bench/order_path.py                       # CPU us per order (process_time)
    python bench/order_path.py --instructions        # instructions per order (valgrind)
    python bench/order_path.py --profile             # cProfile of the measured turns
    python bench/order_path.py --callgrind OUT       # a callgrind profile (callgrind_annotate)

The instruction count is the difference between a run that does the turns and one that only
builds everything (same inputs), divided by the order count: start-up is left out. The clock is
a counter (3 us a reading) so runs are repeatable.
"""

from __future__ import annotations

import argparse
import asyncio
import gc
import os
import re
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from bench import peers  # noqa: E402
from bench.fixwire import OrderTemplate, frame, logon  # noqa: E402

T0 = 1_780_000_000 * 1_000_000_000  # a fixed start: 2026-05-28


class FakeTransport:
    """What the gateway calls on an asyncio transport; writes are counted, not kept."""

    def __init__(self) -> None:
        self.written = 0
        self.closed = False

    def write(self, data: bytes) -> None:
        self.written += len(data)

    def get_write_buffer_size(self) -> int:
        return 0

    def get_extra_info(self, name: str, default: Any = None) -> Any:
        return ("127.0.0.1", 40000) if name == "peername" else default

    def close(self) -> None:
        self.closed = True

    def abort(self) -> None:
        self.closed = True

    def pause_reading(self) -> None:
        pass

    def resume_reading(self) -> None:
        pass

    def can_write_eof(self) -> bool:
        return False

    def is_closing(self) -> bool:
        return self.closed


class Clock:
    def __init__(self) -> None:
        self.t = T0

    def __call__(self) -> int:
        self.t += 3_000
        return self.t


def stamp(ns: int) -> bytes:
    secs, frac = divmod(ns, 1_000_000_000)
    return (time.strftime("%Y%m%d-%H:%M:%S", time.gmtime(secs)) + f".{frac // 1_000_000:03d}"
            ).encode()


async def run(sessions: int, batch: int, turns: int, skip: bool, profile: str | None,
              msglog: bool, gc_threshold: int) -> None:
    from gateway.app import OrderApplication
    from gateway.config import load_config
    from gateway.logs import configure_logging
    from gateway.server import Connection, Gateway

    configure_logging("warning")  # the bench runs the gateway at info: no per-order lines

    tmp = Path(tempfile.mkdtemp(prefix="order-path-"))
    try:
        cfg_path = tmp / "bench.toml"
        text = peers.gateway_config(sessions, message_log=msglog)
        # the SendingTimes are the fake clock's: no latency check against the real time
        text = text.replace("heartbeat_interval = 300", "heartbeat_interval = 300\n"
                            "check_latency = false")
        cfg_path.write_text(text.replace('data_dir = "data"', f'data_dir = "{tmp / "data"}"'))
        cfg = load_config(cfg_path)
        clock = Clock()
        data_dir = cfg.gateway.data_dir
        data_dir.mkdir(parents=True, exist_ok=True)
        gw = Gateway(cfg, data_dir, clock=clock)
        gw.app = OrderApplication(cfg, gw, data_dir, clock)
        ts = stamp(T0)
        conns: dict[str, Connection] = {}
        transports: list[FakeTransport] = []
        senders = peers.order_senders(sessions)
        for name in [*senders, "DC1", "MD1"]:
            conn = Connection(gw)
            tr = FakeTransport()
            transports.append(tr)
            conn.connection_made(tr)  # type: ignore[arg-type]
            conn.data_received(logon(name.encode(), b"ATS", 300, ts))
            conns[name] = conn
        await asyncio.sleep(0)
        bid, ask = peers.NBBO
        w = (b"35=W\x0149=MD1\x0156=ATS\x0134=2\x0152=%s\x0155=%s\x01268=2\x01269=0\x01270=%s"
             b"\x01271=1000\x01269=1\x01270=%s\x01271=1000\x01" % (ts, peers.SYMBOL.encode(),
                                                                  bid.encode(), ask.encode()))
        conns["MD1"].data_received(frame(w))
        await asyncio.sleep(0)
        # every read pre-encoded: the sides alternate per session and per order, so they fill
        reads: list[list[bytes]] = []
        for i, name in enumerate(senders):
            tpls = [OrderTemplate(name.encode(), b"ATS", 2 + n, n,
                                  b"1" if (n + i) % 2 == 0 else b"2", peers.SYMBOL.encode())
                    for n in range(batch * turns)]
            msgs = [t.encode(ts, sum(ts)) for t in tpls]
            reads.append([b"".join(msgs[k : k + batch]) for k in range(0, len(msgs), batch)])
        gc.collect()
        gc.freeze()
        gc.set_threshold(gc_threshold, 50, 100)  # as gateway/cli.py (50_000) unless given
        prof = None
        if profile:
            import cProfile

            prof = cProfile.Profile()
            prof.enable()
        cpu0 = time.process_time()
        t0 = os.times()
        order_conns = [conns[name] for name in senders]
        for turn in range(0 if skip else turns):
            for conn, chunks in zip(order_conns, reads, strict=True):
                conn.data_received(chunks[turn])
            await asyncio.sleep(0)
        cpu = time.process_time() - cpu0
        t1 = os.times()
        if prof is not None:
            prof.disable()
            prof.dump_stats(profile)
        orders = 0 if skip else sessions * batch * turns
        app = gw.app
        if not skip:
            acked = sum(app.orders_received.values())
            fills = sum(app.fills.values())
            assert acked == orders, (acked, orders, app.rejects)
            print(f"{orders} orders, {fills} fills ({fills / orders:.2f}/order), "
                  f"{sum(t.written for t in transports) / orders:.0f} bytes out/order, "
                  f"rejects {sum(app.rejects.values())}; CPU {cpu / orders * 1e6:.2f} us/order "
                  f"(process_time: user {(t1.user - t0.user) / orders * 1e6:.1f}, "
                  f"system {(t1.system - t0.system) / orders * 1e6:.1f})")
        for conn in conns.values():
            conn.connection_lost(None)
        gw.flush()
    finally:
        shutil.rmtree(tmp, ignore_errors=True)


def instructions(args: argparse.Namespace, skip: bool, tool: str = "cachegrind",
                 out: str = "/dev/null") -> int:
    cmd = ["valgrind", f"--tool={tool}", f"--{tool}-out-file={out}"]
    if tool == "cachegrind":
        cmd.append("--cache-sim=no")
    cmd += [sys.executable, __file__, "--child", "--sessions", str(args.sessions), "--batch",
            str(args.batch), "--turns", str(args.turns)]
    if skip:
        cmd.append("--skip")
    if args.no_msglog:
        cmd.append("--no-msglog")
    cmd += ["--gc-threshold", str(args.gc_threshold)]
    res = subprocess.run(cmd, capture_output=True, text=True, check=True)
    m = re.search(r"(?:I\s+refs|Collected)\s*:\s+([\d,]+)", res.stderr)
    if m is None:
        raise RuntimeError(f"no instruction count in valgrind's output: {res.stderr[-500:]}")
    return int(m.group(1).replace(",", ""))


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--sessions", type=int, default=10)
    ap.add_argument("--batch", type=int, default=5, help="orders per read per session")
    ap.add_argument("--turns", type=int, default=200)
    ap.add_argument("--no-msglog", action="store_true")
    ap.add_argument("--gc-threshold", type=int, default=50_000,
                    help="gen0 threshold of the cyclic GC (0: off)")
    ap.add_argument("--instructions", action="store_true", help="valgrind instruction counts")
    ap.add_argument("--callgrind", metavar="OUT", help="write a callgrind profile of a run")
    ap.add_argument("--profile", metavar="OUT", help="cProfile stats of the measured turns")
    ap.add_argument("--child", action="store_true", help=argparse.SUPPRESS)
    ap.add_argument("--skip", action="store_true", help=argparse.SUPPRESS)
    args = ap.parse_args()
    if args.instructions or args.callgrind:
        if shutil.which("valgrind") is None:
            print("valgrind is not installed")
            return 1
        from gateway.fix._build import BUILD

        orders = args.sessions * args.batch * args.turns
        if args.callgrind:
            instructions(args, False, "callgrind", args.callgrind)
            print(f"callgrind profile in {args.callgrind} ({orders} orders)")
            return 0
        work = instructions(args, False)
        base = instructions(args, True)
        print(f"{BUILD} build{' ATS_PURE' if os.environ.get('ATS_PURE') else ''}: "
              f"{(work - base) / orders:,.0f} instructions per order ({orders} orders, "
              f"{args.sessions} sessions x {args.batch} per read)")
        return 0
    import uvloop

    uvloop.run(run(args.sessions, args.batch, args.turns, args.skip, args.profile,
                   not args.no_msglog, args.gc_threshold))
    if args.profile and not args.child:
        import pstats

        pstats.Stats(args.profile).sort_stats("tottime").print_stats(30)
    return 0


if __name__ == "__main__":
    sys.exit(main())
