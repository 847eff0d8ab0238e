"""End-to-end load bench of the gateway: NewOrderSingle -> ack and fills over N FIX sessions.

Each scenario starts its server as a process of its own (the real gateway from a generated
config with fsync = "batch" in a fresh temp data dir, its NBBO primed; the bare uvloop echo
ceiling; the QuickFIX Python-binding acceptor when an interpreter with `quickfix` is found) and
drives it from separate generator process(es) (bench/loadgen.py), so no two share an event loop.

    python bench/e2e.py                      # everything, under ~2 minutes
    python bench/e2e.py --quick              # ~15 s smoke run
    python bench/e2e.py --mode closed        # max throughput: a window of W orders per session
    python bench/e2e.py --mode open --rate 10000   # paced open loop: latency at an offered rate
    python bench/e2e.py --profile py-spy     # also a profiled gateway run (or --profile cprofile)

Prints a table (orders/s, ack latency p50/p99/p99.9 in us, fills, drop-copy lag, CPU) with the
same-run ratios gateway/echo and gateway/QuickFIX, and writes docs/bench/e2e.txt,
docs/bench/latency.png and the raw samples (docs/bench/latency_samples.csv.gz).
"""

from __future__ import annotations

import argparse
import contextlib
import gc
import io
import multiprocessing as mp
import os
import pstats
import shutil
import signal
import subprocess
import sys
import tempfile
import time
from dataclasses import dataclass, replace
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from bench import peers, report  # noqa: E402
from bench.loadgen import Plan, SessionPlan, SessionResult, run_worker  # noqa: E402

OUT = peers.REPO / "docs" / "bench"


@dataclass(frozen=True)
class Scenario:
    """One measured run: which server, how many sessions, which mode."""

    name: str
    peer: str               # gateway | echo | quickfix
    sessions: int
    mode: str               # closed | open
    total: int              # orders at most over all sessions
    duration: float         # seconds of issuing at most
    rate: float = 0.0       # open mode: offered orders/s over all sessions
    profile: str = ""       # "", "py-spy" or "cprofile"


def scenarios(args: argparse.Namespace, qf: str | None) -> list[Scenario]:
    s = args.sessions
    big = max(s)
    dur = args.duration
    out: list[Scenario] = []
    for n in s:
        out.append(Scenario(f"echo closed x{n}", "echo", n, "closed", args.count * 3, dur / 3))
    if args.mode in ("all", "closed"):
        for n in s:
            out.append(Scenario(f"gateway closed x{n}", "gateway", n, "closed", args.count, dur))
    if args.mode in ("all", "open"):
        for rate in args.rate:
            out.append(Scenario(f"gateway open {rate / 1000:g}k/s x{big}", "gateway", big,
                                "open", int(rate * dur), dur, rate=rate))
    if qf is not None and args.mode in ("all", "closed"):
        for n in s:
            out.append(Scenario(f"quickfix closed x{n}", "quickfix", n, "closed", args.count,
                                dur))
    for tool in args.profile:
        out.append(Scenario(f"gateway closed x{big} ({tool})", "gateway", big, "closed",
                            args.count, dur, profile=tool))
    if "cprofile" in args.profile:
        # one order per loop turn: shows the fixed cost of a turn (group commit) per order
        out.append(Scenario("gateway open 0.2k/s x1 (cprofile)", "gateway", 1, "open",
                            int(200 * min(dur, 5)), min(dur, 5), rate=200, profile="cprofile"))
    return out


def _kernel_seconds(pid: int) -> float:
    """CPU seconds `pid` (all its threads) spent in the kernel: stime of /proc/PID/stat."""
    try:
        fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    except OSError:
        return 0.0
    return int(fields[12]) / os.sysconf("SC_CLK_TCK")  # field 15 of the whole line


def _sched(pid: int) -> tuple[float, float]:
    """(seconds on a CPU, seconds runnable but waiting for one) of every thread of `pid`."""
    run = wait = 0
    for task in Path(f"/proc/{pid}/task").iterdir():
        try:
            on_cpu, queued, _ = (task / "schedstat").read_text().split()
        except (OSError, ValueError):
            continue
        run += int(on_cpu)
        wait += int(queued)
    return run / 1e9, wait / 1e9


def run_scenario(sc: Scenario, args: argparse.Namespace, qf: str | None,
                 workdir: Path) -> report.Row:
    """Start the server, run the generator process(es) against it, stop it, aggregate."""
    directory = Path(tempfile.mkdtemp(prefix=sc.peer + "-", dir=workdir))
    stats = workdir / "gateway.prof"
    if sc.peer == "gateway":
        peer = peers.start_gateway(directory, max(args.sessions), fsync=args.fsync,
                                   message_log=not args.no_msglog,
                                   cprofile=stats if sc.profile == "cprofile" else None)
    elif sc.peer == "echo":
        peer = peers.start_echo()
    else:
        assert qf is not None
        peer = peers.start_quickfix(qf, directory, max(args.sessions))
    spy = None
    try:
        sessions = [SessionPlan(s) for s in peers.order_senders(sc.sessions)]
        if sc.peer == "gateway":
            sessions.append(SessionPlan("DC1", drop_copy=True))
        per_session = max(1, sc.total // sc.sessions)
        plan = Plan(port=peer.port, sessions=(), mode=sc.mode, count=per_session,
                    window=args.window, rate=sc.rate / sc.sessions if sc.rate else 0.0,
                    duration=sc.duration, logon=sc.peer != "echo", symbol=peers.SYMBOL,
                    overload_seconds=min(2.0, sc.duration / 3))
        if sc.profile == "py-spy":
            spy = _start_py_spy(peer.proc.pid, workdir / "profile.raw")
        results, client_cpu, server = _generate(plan, sessions, args.procs, peer.proc.pid)
    finally:
        if spy is not None:
            _stop_py_spy(spy)
        rc = peer.stop()
    row = report.build_row(sc.name, sc.peer, sc.sessions, results,
                           offered=sc.rate if sc.mode == "open" else None)
    run, wait, elapsed, kernel = server
    row.server_cpu, row.server_wait = run / elapsed, wait / elapsed
    if row.orders:
        row.server_us_per_order = run / row.orders * 1e6
        row.server_kernel_us_per_order = kernel / row.orders * 1e6
    row.client_cpu = client_cpu
    if rc not in (0, -signal.SIGTERM):
        row.notes.append(f"{sc.peer} exited with {rc}")
    problems = peer.problems()
    if problems:
        row.notes.append(f"{len(problems)} warning/error log lines, first: {problems[0]}")
    if sc.profile == "py-spy":
        row.notes.append(_summarise_profile(workdir / "profile.raw",
                                            args.out / "gateway-profile.txt"))
    elif sc.profile == "cprofile":
        name = "gateway-cprofile-lowrate.txt" if sc.mode == "open" else "gateway-cprofile.txt"
        row.notes.append(_summarise_cprofile(stats, args.out / name,
                                             row.orders))
    if not args.keep:
        shutil.rmtree(directory, ignore_errors=True)
    return row


def _generate(plan: Plan, sessions: list[SessionPlan], procs: int,
              server_pid: int
              ) -> tuple[list[SessionResult], float, tuple[float, float, float, float]]:
    """Run the plan split over `procs` generator processes.

    Returns (results, client CPU share, (server CPU s, server run-queue wait s, elapsed s,
    server kernel CPU s)), from go to the end.
    """
    ctx = mp.get_context("spawn")
    ready, results, go = ctx.Queue(), ctx.Queue(), ctx.Event()
    order = [s for s in sessions if not s.drop_copy]
    drops = [s for s in sessions if s.drop_copy]
    procs = max(1, min(procs, len(order)))
    parts = [order[i::procs] for i in range(procs)]
    parts[0] = parts[0] + drops
    workers = [ctx.Process(target=run_worker, args=(replace(plan, sessions=tuple(p), seed=i),
                                                     ready, go, results), daemon=True)
               for i, p in enumerate(parts)]
    for w in workers:
        w.start()
    try:
        for _ in workers:
            msg = ready.get(timeout=120)
            if msg != "ready":
                raise RuntimeError(f"generator failed to start: {msg}")
        (run0, wait0), t0 = _sched(server_pid), time.monotonic()
        k0 = _kernel_seconds(server_pid)
        go.set()
        out: list[SessionResult] = []
        cpu = 0.0
        wall = 0.0
        for _ in workers:
            got = results.get(timeout=plan.duration + 60)
            if isinstance(got, str):
                raise RuntimeError(f"generator failed: {got}")
            res, c, w = got
            out += res
            cpu += c
            wall = max(wall, w)
        run1, wait1 = _sched(server_pid)
        elapsed = time.monotonic() - t0
        kernel = _kernel_seconds(server_pid) - k0
        return out, cpu / wall if wall else 0.0, (run1 - run0, wait1 - wait0, elapsed, kernel)
    finally:
        for w in workers:
            w.join(10)
            if w.is_alive():
                w.kill()


def _start_py_spy(pid: int, out: Path) -> subprocess.Popen[bytes] | None:
    exe = shutil.which("py-spy") or str(Path(sys.executable).parent / "py-spy")
    if not Path(exe).exists():
        print("profile skipped: py-spy is not installed (pip install py-spy)", file=sys.stderr)
        return None
    proc = subprocess.Popen([exe, "record", "--nonblocking", "-r", "200", "-f", "raw", "-o",
                             str(out), "-p", str(pid)],
                            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    time.sleep(1.0)  # attach before the load starts
    return proc


def _stop_py_spy(proc: subprocess.Popen[bytes]) -> None:
    proc.send_signal(signal.SIGINT)
    try:
        proc.wait(30)
    except subprocess.TimeoutExpired:
        proc.kill()
        proc.wait(5)


def _summarise_profile(raw: Path, out: Path, top: int = 25) -> str:
    """Top frames by self and by inclusive samples from py-spy's collapsed stacks."""
    if not raw.exists():
        return "profile: no py-spy output"
    own: dict[str, int] = {}
    incl: dict[str, int] = {}
    total = 0
    for line in raw.read_text().splitlines():
        stack, _, count_text = line.rpartition(" ")
        if not count_text.isdigit():
            continue
        count = int(count_text)
        total += count
        frames = [_function(f) for f in stack.split(";")]
        own[frames[-1]] = own.get(frames[-1], 0) + count
        for f in set(frames):
            incl[f] = incl.get(f, 0) + count
    if not total:
        return "profile: no samples"
    lines = [f"py-spy samples of the gateway process under load: {total}", "",
             "self time (top frames)"]
    for f, c in sorted(own.items(), key=lambda kv: -kv[1])[:top]:
        lines.append(f"  {c / total:6.1%}  {f}")
    lines += ["", "inclusive time"]
    for f, c in sorted(incl.items(), key=lambda kv: -kv[1])[:top * 2]:
        lines.append(f"  {c / total:6.1%}  {f}")
    out.parent.mkdir(parents=True, exist_ok=True)
    out.write_text("\n".join(lines) + "\n")
    shutil.copy(raw, out.with_suffix(".collapsed"))
    return f"profile summary written to {out}"


def _summarise_cprofile(stats_path: Path, out: Path, orders: int, top: int = 30) -> str:
    """Top functions by own time, with calls per order, from the gateway's cProfile stats.

    The event loop's own entry (uvloop's C code: socket I/O and waiting for it) is shown apart,
    and so is start-up (imports); percentages are of the rest, the Python work.
    """
    if not stats_path.exists():
        return "cprofile: no stats written (did the gateway exit cleanly?)"
    stats = pstats.Stats(str(stats_path))
    raw: dict[tuple[str, int, str], tuple[int, int, float, float, object]] = \
        stats.stats  # type: ignore[attr-defined]
    apart = {"run": "event loop (uvloop C code: socket I/O, epoll wait)",
             "<built-in method builtins.compile>": "start-up (compile)",
             "<built-in method builtins.exec>": "start-up (exec)"}
    per = max(orders, 1)
    head = [f"cProfile of the gateway process under load, {orders:,} orders answered",
            "(profiler overhead included: compare shares, not absolute times)", ""]
    work = []
    for key, value in raw.items():
        if key[2] in apart and (key[2] != "run" or key[0].endswith("runners.py")):
            head.append(f"  {value[2]:7.2f} s  {apart[key[2]]}")
        else:
            work.append((key, value))
    total = sum(v[2] for _, v in work)
    head += [f"  {total:7.2f} s  Python work: {total / per * 1e6:.0f} us/order", "",
             f"{'own %':>6} {'own us/order':>12} {'calls/order':>11}  function"]
    for (path, line, name), (_, ncalls, tottime, _, _) in sorted(work, key=lambda kv: -kv[1][2])[
            :top]:
        where = f"{Path(path).parent.name}/{Path(path).name}:{line}" if line else "builtin"
        head.append(f"{tottime / total:6.1%} {tottime / per * 1e6:12.1f} "
                    f"{ncalls / per:11.2f}  {name} ({where})")
    out.parent.mkdir(parents=True, exist_ok=True)
    out.write_text("\n".join(head) + "\n")
    return f"cProfile summary written to {out}"


def _function(frame: str) -> str:
    """'name (path:line)' -> 'name (path)': time is summed per function, not per line."""
    head, sep, tail = frame.rpartition(":")
    return f"{head})" if sep and tail.rstrip(")").isdigit() else frame


def _loadavg() -> str:
    return " ".join(Path("/proc/loadavg").read_text().split()[:3])


def ratios(rows: list[report.Row]) -> list[str]:
    """gateway/echo and gateway/QuickFIX at the same session counts, closed loop."""
    by = {(r.peer, r.sessions): r for r in rows if "closed" in r.scenario and "(" not in
          r.scenario}  # profiled runs are skewed by the profiler
    out = []
    for (peer, n), r in sorted(by.items()):
        if peer != "gateway":
            continue
        for other in ("echo", "quickfix"):
            o = by.get((other, n))
            if o is not None and o.rate:
                line = f"  gateway/{other} x{n}: {r.rate / o.rate:.2f}"
                if r.server_us_per_order and o.server_us_per_order:
                    line += (f"   per server CPU-second: {1e6 / r.server_us_per_order:,.0f} vs "
                             f"{1e6 / o.server_us_per_order:,.0f} orders = "
                             f"{o.server_us_per_order / r.server_us_per_order:.2f}")
                out.append(line)
    return out


def hot_path_table(rows: list[report.Row], sessions: int, quick: bool,
                   matcher_count: int = 1_000_000) -> list[str]:
    """Every figure of the compiled-hot-path issue's table with its same-run baselines.

    The session-layer figures (bench/session.py) and the matcher beside the naive book
    (bench/matcher.py) run here, in this process, after the servers have stopped; their own
    output is kept below the table.
    """
    from bench import matcher as matcher_bench
    from bench import session as session_bench

    build = session_bench.BUILD

    detail = io.StringIO()
    with contextlib.redirect_stdout(detail):
        count = 50_000 if quick else 200_000
        inbound = session_bench.inbound(count)
        outbound = session_bench.outbound(count)
        gc.disable()
        try:
            parts, syms = matcher_bench.make_world()
            n = 50_000 if quick else matcher_count
            naive = matcher_bench.run("naive price-time baseline",
                                      matcher_bench.NaiveBook().apply, n)
            tick = iter(range(1, 1 << 62)).__next__
            engine = matcher_bench.run("matcher (full rules)",
                                       matcher_bench.Engine(parts, syms, tick).apply, n)
            lat = dict(matcher_bench.LAST)
        finally:
            gc.enable()
    gw = report._find(rows, "gateway", f"gateway closed x{sessions}")
    qf = report._find(rows, "quickfix", f"quickfix closed x{sessions}")
    echo = report._find(rows, "echo", f"echo closed x{sessions}")

    def us(r: report.Row | None) -> str:
        return f"{r.server_us_per_order:.0f} us" if r and r.server_us_per_order else "-"

    out = [f"hot-path figures ({build} build; CPU time per unit of work, same run)",
           f"  {'figure':<58} {'now':>16} {'target':>12}  baseline (same run)"]

    def add(what: str, now: str, target: str, base: str) -> None:
        out.append(f"  {what:<58} {now:>16} {target:>12}  {base}")

    add(f"e2e closed x{sessions}: server CPU per order", us(gw), "<= 25 us",
        f"echo {us(echo)}/order, QuickFIX {us(qf)}/order"
        + (f"; of ours, kernel {gw.server_kernel_us_per_order:.0f} us (sockets, file "
           f"writes, fdatasync)" if gw and gw.server_kernel_us_per_order is not None else ""))
    ratio = f"{gw.rate / qf.rate:.1f}x" if gw and qf and qf.rate else "-"
    add(f"e2e closed x{sessions}: orders/s, ratio to QuickFIX",
        f"{gw.rate if gw else 0:,.0f}/s {ratio}", ">= 6x",
        f"QuickFIX {qf.rate if qf else 0:,.0f}/s, echo {echo.rate if echo else 0:,.0f}/s"
        + ("" if qf else " (QuickFIX not installed)"))
    add("session: receive_many per NewOrderSingle (CPU)",
        f"{inbound['receive_many_cpu_us']:.2f} us", "<= 3 us",
        f"simplefix parse alone {inbound['simplefix_parse_us']:.2f} us")
    add("session: send_app per ExecutionReport (CPU, FileStore)",
        f"{outbound['send_app_cpu_us']:.2f} us", "<= 2 us",
        f"simplefix encode alone {outbound['simplefix_encode_us']:.2f} us; of ours: user "
        f"{outbound['send_app_user_us']:.2f} us, kernel {outbound['send_app_sys_us']:.2f} us")
    add(f"matcher, {n:,} commands: commands/s (wall)", f"{engine:,.0f}/s", ">= 250,000/s",
        f"naive price-time book {naive:,.0f}/s")
    add("matcher: p99 / p99.9 per command", f"{lat['p99']:.1f} / {lat['p999']:.0f} us",
        "p99 <= 20 us", "")
    add("matcher: ratio to the naive book", f"{engine / naive:.2f}", ">= 0.5", "")
    return [*out, "", *detail.getvalue().rstrip().splitlines()]


def parse_args(argv: list[str] | None) -> argparse.Namespace:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--mode", choices=["all", "closed", "open"], default="all")
    p.add_argument("--rate", type=lambda s: [float(x) for x in s.split(",")],
                   default=[10_000.0, 1_000.0],
                   help="open mode: offered orders/s over all sessions, e.g. 10000,1000")
    p.add_argument("--sessions", type=lambda s: [int(x) for x in s.split(",")], default=[1, 10],
                   help="session counts, e.g. 1,10")
    p.add_argument("--window", type=int, default=50, help="closed mode: outstanding per session")
    p.add_argument("--count", type=int, default=200_000, help="orders per scenario at most")
    p.add_argument("--duration", type=float, default=12.0, help="seconds per scenario at most")
    p.add_argument("--procs", type=int, default=1, help="generator processes")
    p.add_argument("--quick", action="store_true",
                   help="a ~15-second smoke run (x10 only, 10k/s only, 1.5 s per scenario)")
    p.add_argument("--profile", action="append", choices=["py-spy", "cprofile"], default=[],
                   help="add a profiled gateway run (py-spy sampling or cProfile); repeatable")
    p.add_argument("--qf-python", help="interpreter with quickfix (default: this, /tmp/qfvenv)")
    p.add_argument("--no-msglog", action="store_true", help="gateway without message logs")
    p.add_argument("--fsync", choices=["batch", "always", "never"], default="batch",
                   help="the gateway's [gateway] fsync (default batch: durable before sending)")
    p.add_argument("--out", type=Path, default=OUT, help="where e2e.txt and latency.png go")
    p.add_argument("--keep", action="store_true", help="keep the servers' data dirs")
    p.add_argument("--matcher-count", type=int, default=1_000_000,
                   help="commands of the table's matcher run (the issue's figure: 1M)")
    p.add_argument("--no-table", action="store_true",
                   help="leave out the hot-path table (bench/session.py, bench/matcher.py)")
    args = p.parse_args(argv)
    if args.quick:  # one session count and one rate unless given: about 15 seconds in all
        args.duration, args.count = 1.5, 20_000
        given = " ".join(argv if argv is not None else sys.argv[1:])
        if "--sessions" not in given:
            args.sessions = [max(args.sessions)]
        if "--rate" not in given:
            args.rate = args.rate[:1]
    return args


def main(argv: list[str] | None = None) -> int:
    args = parse_args(argv)
    from gateway.fix._build import use_huge_arenas

    # as gateway/cli.py does, first: the in-process matcher and session benches run on the
    # memory the gateway's own process runs on (its listening line says which)
    memory = use_huge_arenas()
    qf = peers.quickfix_python(args.qf_python)
    header = [f"bench/e2e.py {' '.join(argv if argv is not None else sys.argv[1:])}".rstrip(),
              f"{time.strftime('%Y-%m-%d %H:%M:%S')}  cores {os.cpu_count()}  "
              f"load average at start {_loadavg()}",
              f"window {args.window}/session (closed), generator processes {args.procs}, "
              f"gateway fsync={args.fsync}, message log {'off' if args.no_msglog else 'on'}, "
              f"memory of this process and the gateway's: {memory}"]
    if qf is None:
        header.append("QuickFIX peer skipped: no interpreter can import quickfix "
                      "(pip install quickfix, or --qf-python)")
    print("\n".join(header), flush=True)
    rows: list[report.Row] = []
    with tempfile.TemporaryDirectory(prefix="bench-e2e-") as tmp:
        for sc in scenarios(args, qf):
            print(f"  running {sc.name} ...", flush=True)
            rows.append(run_scenario(sc, args, qf, Path(tmp)))
    lines = header + [""] + report.table(rows) + report.LEGEND + ["", "ratios (orders/s, same run)"]
    lines += ratios(rows) + ["", "targets (from the order-entry issue)"]
    lines += report.targets(rows, max(args.sessions), args.rate[0])
    if not args.no_table:
        print("  running the hot-path and matcher benches ...", flush=True)
        lines += ["", *hot_path_table(rows, max(args.sessions), args.quick, args.matcher_count)]
    lines += ["", f"load average at end {_loadavg()}", "", "notes"] + report.notes(rows)
    print("\n".join(lines[len(header):]))
    args.out.mkdir(parents=True, exist_ok=True)
    (args.out / "e2e.txt").write_text("\n".join(lines) + "\n")
    report.write_samples(rows, args.out / "latency_samples.csv.gz")
    print(report.plot(rows, args.out / "latency.png"))
    return 0


if __name__ == "__main__":
    sys.exit(main())
