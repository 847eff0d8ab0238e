"""Benchmark of the matching core beside a naive price-time book, on the same command stream.

Mix (default 1M commands, 100 symbols): 40 % new resting orders (limit, primary peg, capped
mid peg), 20 % orders that cross (market, mid peg, IOC limit through the NBBO), 20 % cancels,
10 % replaces, 10 % NBBO updates. Prints commands/second and per-command latency p50/p99/p99.9
for the engine (optionally with its journal) and for the baseline. Speed is only measured here,
never asserted in tests.

    python bench/matcher.py [--count N] [--journal] [--moc] [--gc [on|off|freeze]] [--co-mix]
    python bench/matcher.py --events-sha [--count N]
    python bench/matcher.py --fills

``--fills`` times one NBBO update that makes K resting pairs cross and fill (K sells resting
above the NBO, K primary-pegged buys of other participants, then the NBB moves up to the
sells' limit), K = 0, 1, 2, 4, 8, in a one-symbol engine built afresh each time (200 times
each, median): the cost of the fills themselves in a book that fits in the cache, where the 1M
run's per-fill cost includes the memory of a large book.

``--events-sha`` times nothing: it prints the sha256 over the repr of every event the FRS, CO
and MOC mixes of ``--count`` commands emit (the MOC one with its closing cross), the check that a
change to the matcher leaves its event streams as they were (compare with the figures of the
code before the change, compiled and pure).

``--moc`` adds a run of the same mix with one MOC order per 20 commands interleaved (the FRS
path must not get slower: MOC orders are routed away before the regular-session checks), then
the nightly closing cross of every symbol, timed on its own.

``--co-mix`` also runs the mix with 10 % of the new resting orders sent as conditional orders
and another 10 % as Eligible FRS Orders (7013=Y), with a 50 ms firm-up window and nobody firming
up (the pairing, invitation and expiry cost), printed beside the FRS-only mix.

``--gc freeze`` leaves the collector on and calls ``gc.freeze()`` every 10k commands, the
way a long-running gateway can keep full collections from walking the whole (long-lived)
book: with plain ``--gc`` a 1M run shows full-collection pauses of about a second.
"""

from __future__ import annotations

import argparse
import gc
import os
import random
import sys
import tempfile
import time
from bisect import insort
from collections import deque
from collections.abc import Callable, Iterator
from typing import Any

sys.path.insert(0, os.path.dirname(os.path.dirname(os.path.abspath(__file__))))

from matcher import (  # noqa: E402
    Cancel,
    ClosingPrice,
    Engine,
    Filled,
    FirmUpTimer,
    Journal,
    MocSettings,
    NewOrder,
    OrderClass,
    OrdType,
    Participant,
    Peg,
    QuoteUpdate,
    Replace,
    Side,
    SymbolConfig,
    TimeInForce,
    parse_price,
)

TICK = 10_000  # one cent in Price units
N_SYMBOLS = 100
PARTS = [f"P{i}" for i in range(20)]


def make_world() -> tuple[dict[str, Participant], dict[str, SymbolConfig]]:
    parts = {p: Participant(p, broker_dealer=i % 2 == 0, broker_group=f"G{i % 5}",
                            taker_level=1 + i % 5, moc_opt_in=True)
             for i, p in enumerate(PARTS)}
    syms = {f"S{i:03d}": SymbolConfig(f"S{i:03d}", max_spread=parse_price("0.50"))
            for i in range(N_SYMBOLS)}
    return parts, syms


def commands(count: int, seed: int = 7, moc_every: int = 0,
             co_share: float = 0.0) -> Iterator[Any]:
    """A deterministic realistic command stream; with ``moc_every`` also a MOC order (of its
    own random stream, so the regular-session commands stay the same) every that many; with
    ``co_share`` the same stream, except that that share of the new orders are COs and as many
    are Eligible FRS Orders (picked among the resting limit orders, a third of the new orders,
    by a random stream of their own)."""
    moc_rnd = random.Random(seed + 1)
    rnd = random.Random(seed)
    co_rnd = random.Random(seed + 1)
    syms = [f"S{i:03d}" for i in range(N_SYMBOLS)]
    bid = {s: (20 + rnd.randrange(200)) * 100 * TICK for s in syms}
    live: list[tuple[str, str, str, Side, int]] = []  # session, clid, symbol, side, limit
    n = 0
    for s in syms:
        yield QuoteUpdate(s, bid[s], 100, bid[s] + 2 * TICK, 100)
    for i in range(count):
        if moc_every and i % moc_every == 0:
            p = moc_rnd.choice(PARTS)
            yield NewOrder(p + "-1", p, f"m{i}", moc_rnd.choice(syms),
                           Side.BUY if moc_rnd.random() < 0.5 else Side.SELL,
                           100 * moc_rnd.randrange(1, 10), OrdType.MARKET_ON_CLOSE)
        r = rnd.random()
        s = rnd.choice(syms)
        b = bid[s]
        a = b + 2 * TICK
        p = rnd.choice(PARTS)
        sess = p + "-1"
        n += 1
        cl = f"c{n}"
        buy = rnd.random() < 0.5
        side = Side.BUY if buy else Side.SELL
        if r < 0.40:  # resting
            k = rnd.random()
            off = rnd.randrange(0, 10) * TICK
            lim = b - off if buy else a + off
            if k < 0.5:
                cmd = NewOrder(sess, p, cl, s, side, 100 * rnd.randrange(1, 10), OrdType.LIMIT,
                               limit=lim)
                if co_share:
                    c = co_rnd.random()
                    if c < co_share * 3:
                        cmd = NewOrder(sess, p, cl, s, side, cmd.qty, OrdType.LIMIT, limit=lim,
                                       order_class=OrderClass.CONDITIONAL)
                    elif c < co_share * 6:
                        cmd = NewOrder(sess, p, cl, s, side, cmd.qty, OrdType.LIMIT, limit=lim,
                                       conditional_interaction=True)
            elif k < 0.75:
                cmd = NewOrder(sess, p, cl, s, side, 100 * rnd.randrange(1, 10), OrdType.PEGGED,
                               peg=Peg.PRIMARY)
            else:
                cmd = NewOrder(sess, p, cl, s, side, 100 * rnd.randrange(1, 10), OrdType.PEGGED,
                               peg=Peg.MIDPOINT, limit=lim, inclusion_level=rnd.randrange(1, 6))
            live.append((sess, cl, s, side, lim))
            yield cmd
        elif r < 0.60:  # crossing
            k = rnd.random()
            qty = 100 * rnd.randrange(1, 6)
            if k < 0.4:
                yield NewOrder(sess, p, cl, s, side, qty, OrdType.MARKET, tif=TimeInForce.IOC)
            elif k < 0.7:
                yield NewOrder(sess, p, cl, s, side, qty, OrdType.PEGGED, peg=Peg.MIDPOINT,
                               tif=TimeInForce.IOC, min_qty=100)
            else:
                yield NewOrder(sess, p, cl, s, side, qty, OrdType.LIMIT,
                               limit=a + TICK if buy else b - TICK, tif=TimeInForce.IOC)
        elif r < 0.80:  # cancel
            if not live:
                continue
            j = rnd.randrange(len(live))
            live[j], live[-1] = live[-1], live[j]
            o = live.pop()
            yield Cancel(o[0], cl, o[1])
        elif r < 0.90:  # replace
            if not live:
                continue
            j = rnd.randrange(len(live))
            o = live[j]
            lim = o[4] + (-TICK if o[3] is Side.BUY else TICK)
            live[j] = (o[0], cl, o[2], o[3], lim)
            yield Replace(o[0], cl, o[1], 100 * rnd.randrange(1, 10), OrdType.LIMIT, o[3],
                          limit=lim)
        else:  # NBBO move
            bid[s] = b + rnd.choice((-TICK, 0, TICK))
            yield QuoteUpdate(s, bid[s], 100, bid[s] + rnd.choice((1, 2, 2, 3)) * TICK, 100)


class NaiveBook:
    """Price-time book: dict of price -> deque per side, sorted price lists, no NBBO rules."""

    def __init__(self) -> None:
        self.books: dict[str, tuple[dict[int, deque[list[Any]]], list[int],
                                    dict[int, deque[list[Any]]], list[int]]] = {}
        self.orders: dict[tuple[str, str], list[Any]] = {}
        self.quotes: dict[str, tuple[int, int]] = {}

    def apply(self, c: Any) -> list[Any]:
        if isinstance(c, NewOrder):
            b, a = self.quotes[c.symbol]
            px = c.limit if c.limit is not None else (a if c.side is Side.BUY else b)
            return self._new(c.session, c.cl_ord_id, c.symbol, c.side is Side.BUY, c.qty, px,
                             c.tif is TimeInForce.IOC)
        if isinstance(c, Cancel):
            o = self.orders.pop((c.session, c.orig_cl_ord_id), None)
            if o is not None:
                o[1] = 0
            return [o]
        if isinstance(c, Replace):
            o = self.orders.pop((c.session, c.orig_cl_ord_id), None)
            if o is None:
                return []
            o[1] = 0
            return self._new(c.session, c.cl_ord_id, o[2], o[3], c.qty, c.limit or 0, False)
        self.quotes[c.symbol] = (c.bid, c.ask)
        return []

    def _new(self, sess: str, cl: str, sym: str, buy: bool, qty: int, px: int,
             ioc: bool) -> list[Any]:
        bk = self.books.get(sym)
        if bk is None:
            bk = self.books[sym] = ({}, [], {}, [])
        own_lv, own_px, lv, pxs = (bk[0], bk[1], bk[2], bk[3]) if buy else (
            bk[2], bk[3], bk[0], bk[1])
        out: list[Any] = []
        while qty and pxs:
            best = pxs[0]
            if (best > px) if buy else (-best < px):
                break
            q = lv[best]
            while q and qty:
                o = q[0]
                if o[1] == 0:
                    q.popleft()
                    continue
                f = min(qty, o[1])
                o[1] -= f
                qty -= f
                out.append((o[0], f, best))
                if o[1] == 0:
                    q.popleft()
            if not q:
                del lv[best]
                pxs.pop(0)
        if qty and not ioc:
            key = -px if buy else px
            o = [cl, qty, sym, buy]
            if key not in own_lv:
                own_lv[key] = deque()
                insort(own_px, key)
            own_lv[key].append(o)
            self.orders[(sess, cl)] = o
        return out


#: the latency percentiles (us) of the last ``run``, for bench/e2e.py's table
LAST: dict[str, float] = {}


def run(name: str, apply: Callable[[Any], Any], count: int, chunk: int = 100_000,
        after: Callable[[], None] | None = None,
        stream: Callable[[int], Iterator[Any]] = commands) -> float:
    """Apply the stream in pre-built chunks; print wall and CPU rates and latency percentiles.

    The CPU rate (process time) is printed beside the wall rate because the machine is shared:
    time this process spent descheduled inflates wall time and the latency tail.
    """
    lat: list[int] = []
    total = 0.0
    cpu = 0.0
    done = 0
    gen = stream(count)
    clock = time.perf_counter_ns
    while True:
        batch = [c for _, c in zip(range(chunk), gen, strict=False)]
        if not batch:
            break
        t0 = time.perf_counter()
        c0 = time.process_time()
        for c in batch:
            s = clock()
            apply(c)
            lat.append(clock() - s)
        if after is not None:
            after()
        total += time.perf_counter() - t0
        cpu += time.process_time() - c0
        done += len(batch)
    lat.sort()
    n = len(lat)
    rate = n / total
    LAST.update(p50=lat[n // 2] / 1e3, p99=lat[int(n * 0.99)] / 1e3,
                p999=lat[int(n * 0.999)] / 1e3, cpu_rate=n / cpu)
    print(f"{name:<26} {n:>8} cmds {rate / 1e3:6.1f}k cmds/s (cpu {n / cpu / 1e3:6.1f}k)"
          f"  p50 {lat[n // 2] / 1e3:5.2f} us  p99 {lat[int(n * 0.99)] / 1e3:6.2f} us"
          f"  p99.9 {lat[int(n * 0.999)] / 1e3:7.2f} us  max {lat[-1] / 1e3:8.1f} us")
    return rate


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__)
    ap.add_argument("--count", type=int, default=1_000_000)
    ap.add_argument("--journal", action="store_true", help="also run with the journal on")
    ap.add_argument("--moc", action="store_true",
                    help="also run the mix with MOC orders and time the nightly closing cross")
    ap.add_argument("--gc", nargs="?", const="on", default="off", choices=("off", "on", "freeze"),
                    help="garbage collector: off (default), on, or on with periodic gc.freeze()")
    ap.add_argument("--co-mix", action="store_true",
                    help="also run a mix with 10%% conditional orders (and 10%% eligible)")
    ap.add_argument("--events-sha", action="store_true",
                    help="print the sha256 of the events of the FRS, CO and MOC mixes and exit")
    ap.add_argument("--memory", choices=("huge", "default"), default="huge",
                    help="Python's object memory: on huge-page arenas, as the gateway runs "
                         "(default; where the compiled build runs), or the default arenas")
    ap.add_argument("--fills", action="store_true",
                    help="time an NBBO update that fills K resting pairs (small book) and exit")
    args = ap.parse_args()
    memory = "default"
    if args.memory == "huge":
        from gateway.fix._build import use_huge_arenas

        memory = use_huge_arenas()  # before anything is built: as gateway/cli.py does
    if args.fills:
        gc.disable()
        fills_bench()
        return
    if args.events_sha:
        events_sha(args.count)
        return
    if args.gc == "off":
        gc.disable()
    chunk, after = (10_000, gc.freeze) if args.gc == "freeze" else (100_000, None)
    parts, syms = make_world()
    print(f"matcher bench: {args.count} commands, {N_SYMBOLS} symbols, gc "
          f"{args.gc}, memory {memory}, python {sys.version.split()[0]}, "
          f"load {os.getloadavg()[0]:.2f} on {os.cpu_count()} cpus")
    base = run("naive price-time baseline", NaiveBook().apply, args.count, chunk, after)
    gc.collect()
    t = iter(range(1, 1 << 62)).__next__
    eng = Engine(parts, syms, t)
    rate = run("matcher (full rules)", eng.apply, args.count, chunk, after)
    print(f"  resting at end: {sum(len(st.buys) + len(st.sells) for st in eng._syms.values())}")
    print(f"  ratio matcher / baseline: {rate / base:.2f}")
    if args.moc:
        gc.collect()
        moc_bench(parts, syms, args.count, chunk, after)
    if args.co_mix:
        gc.collect()
        us = iter(range(0, 1 << 62, 1000)).__next__  # 1 us a command: windows do expire
        eng = Engine(parts, syms, us)
        eng.apply(FirmUpTimer(50))
        co_rate = run("matcher, 10% COs", eng.apply, args.count, chunk, after,
                      stream=lambda n: commands(n, co_share=0.1))
        print(f"  ratio CO mix / FRS-only: {co_rate / rate:.2f}")
    if args.journal:
        gc.collect()
        with tempfile.TemporaryDirectory() as d:
            j = Journal(os.path.join(d, "j.bin"))
            eng = Engine(parts, syms, t, j)
            jrate = run("matcher + journal", eng.apply, args.count, chunk=1_000,
                        after=j.flush)
            print(f"  ratio journal / baseline: {jrate / base:.2f}  "
                  f"({os.path.getsize(j.path) / 1e6:.1f} MB written)")


def events_sha(count: int) -> None:
    """sha256 over the repr of every event of the three mixes (see the module docstring)."""
    import hashlib

    parts, syms = make_world()

    def digest(eng: Engine, stream: Iterator[Any], first: list[Any]) -> tuple[int, str]:
        h = hashlib.sha256()
        n = 0
        for c in [*first, *stream]:
            for e in eng.apply(c):
                h.update(repr(e).encode())
                n += 1
        return n, h.hexdigest()

    print(f"FRS {count} commands: %d events %s" % digest(
        Engine(parts, syms, iter(range(1, 1 << 62)).__next__), commands(count), []))
    us = iter(range(0, 1 << 62, 1000)).__next__
    print(f"CO  {count} commands: %d events %s" % digest(
        Engine(parts, syms, us), commands(count, co_share=0.1), [FirmUpTimer(50)]))
    now = [0]

    def clock() -> int:
        now[0] += 1
        return now[0]

    h = hashlib.sha256()  # the mix, then every symbol's closing cross, in one digest
    eng = Engine(parts, syms, clock, moc=MocSettings("UTC", "00:00:01"))
    n = 0
    for c in commands(count, moc_every=20):
        for e in eng.apply(c):
            h.update(repr(e).encode())
            n += 1
    now[0] = 2_000_000_000
    for s in syms:
        for e in eng.apply(ClosingPrice(s, 100 * TICK)):
            h.update(repr(e).encode())
            n += 1
    print(f"MOC {count} commands: {n} events {h.hexdigest()}")


def fills_bench(reps: int = 200) -> None:
    """See ``--fills`` in the module docstring."""
    parts = {f"P{i}": Participant(f"P{i}", broker_dealer=i % 2 == 0, broker_group=f"G{i % 5}",
                                  taker_level=1) for i in range(20)}
    syms = {"S": SymbolConfig("S", max_spread=parse_price("0.50"))}
    clock = iter(range(1, 1 << 62)).__next__
    base = 100 * 100 * TICK  # $100.00
    print(f"quote with K fills, one-symbol book, median of {reps}, load "
          f"{os.getloadavg()[0]:.2f}")
    for k in (0, 1, 2, 4, 8):
        took: list[int] = []
        n_ev = 0
        for r in range(reps):
            eng = Engine(parts, syms, clock)
            eng.apply(QuoteUpdate("S", base, 100, base + 2 * TICK, 100))
            for i in range(k):
                eng.apply(NewOrder(f"P{i}-1", f"P{i}", f"s{r}-{i}", "S", Side.SELL, 100,
                                   OrdType.LIMIT, limit=base + 3 * TICK))
            for i in range(k):
                eng.apply(NewOrder(f"P{10 + i}-1", f"P{10 + i}", f"b{r}-{i}", "S", Side.BUY,
                                   100, OrdType.PEGGED, peg=Peg.PRIMARY))
            q = QuoteUpdate("S", base + 3 * TICK, 100, base + 5 * TICK, 100)
            t0 = time.perf_counter_ns()
            n_ev = len(eng.apply(q))
            took.append(time.perf_counter_ns() - t0)
        took.sort()
        print(f"  K={k}: {n_ev:2d} events, {took[len(took) // 2] / 1e3:6.2f} us")


def moc_bench(parts: dict[str, Participant], syms: dict[str, SymbolConfig], count: int,
              chunk: int, after: Callable[[], None] | None) -> None:
    """The mix with MOC orders (all before a 00:00:01 UTC cutoff: the clock starts at the
    epoch and moves 1 ns a command), then every symbol's closing price after the cutoff."""
    now = [0]

    def clock() -> int:
        now[0] += 1
        return now[0]

    eng = Engine(parts, syms, clock, moc=MocSettings("UTC", "00:00:01"))
    run("matcher + MOC orders", eng.apply, count, chunk, after,
        stream=lambda n: commands(n, moc_every=20))
    resting = sum(len(m) for m in eng._moc._orders.values())
    now[0] = 2_000_000_000  # past the cutoff: the nightly cross
    t0 = time.perf_counter()
    events = [e for s in syms for e in eng.apply(ClosingPrice(s, 100 * TICK))]
    took = time.perf_counter() - t0
    matched = sum(isinstance(e, Filled) for e in events) // 2
    print(f"  nightly MOC cross: {len(syms)} symbols, {resting} MOC orders, {matched} matches, "
          f"{len(events)} events in {took * 1e3:.1f} ms ({took / max(resting, 1) * 1e6:.2f} us "
          f"per MOC order)")


if __name__ == "__main__":
    main()
