"""Figures of a bench run: per-scenario rows, the printed table, the samples file and the plot."""

from __future__ import annotations

import gzip
from array import array
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path

from bench.loadgen import SessionResult

QUANTILES = (0.5, 0.99, 0.999)


def percentile(sorted_values: Sequence[int], q: float) -> int | None:
    """Nearest-rank percentile of an ascending sequence (None when empty)."""
    if not sorted_values:
        return None
    return sorted_values[min(len(sorted_values) - 1, int(q * len(sorted_values)))]


@dataclass
class Row:
    """One scenario's figures."""

    scenario: str
    peer: str
    sessions: int
    orders: int = 0
    rate: float = 0.0
    latency: list[int] = field(default_factory=list)      # ack latency, ns, sorted
    fills: int = 0
    rejected: int = 0
    dc_lag: list[int] = field(default_factory=list)        # ns, sorted
    dc_missing: int = 0
    send_lag_p99: int | None = None
    offered: float | None = None
    server_cpu: float | None = None                        # share of one core
    server_wait: float | None = None                       # runnable, waiting for a core
    server_us_per_order: float | None = None               # server CPU time per order
    server_kernel_us_per_order: float | None = None        # of which in the kernel
    client_cpu: float | None = None
    notes: list[str] = field(default_factory=list)


def build_row(scenario: str, peer: str, sessions: int, results: list[SessionResult],
              offered: float | None = None) -> Row:
    """Aggregate the sessions' results of one scenario."""
    orders = [r for r in results if not r.drop_copy]
    drops = [r for r in results if r.drop_copy]
    row = Row(scenario, peer, sessions, offered=offered)
    row.orders = sum(r.acked for r in orders)
    row.fills = sum(r.fills for r in orders)
    row.rejected = sum(r.rejected for r in orders)
    start = min((r.first_send for r in orders if r.first_send), default=0)
    end = max((r.last_ack for r in orders), default=0)
    if end > start:
        row.rate = row.orders / ((end - start) / 1e9)
    lat = array("q")
    for r in orders:
        lat.extend(r.latency)
    row.latency = sorted(lat)
    lags = array("q")
    for r in orders:
        lags.extend(r.send_lag)
    if lags:
        row.send_lag_p99 = percentile(sorted(lags), 0.99)
    if drops:
        row.dc_lag, row.dc_missing = _dc_lag(orders, drops)
    sent = sum(r.sent for r in orders)
    if sent != row.orders + 0:
        row.notes.append(f"{sent - row.orders} of {sent} orders sent got no answer in time")
    if any(r.overloaded for r in orders):
        row.notes.append("overloaded: stopped offering early, too many orders unanswered")
    if row.rejected:
        text = next(r.reject_text for r in orders if r.reject_text)
        row.notes.append(f"{row.rejected} orders rejected, e.g. {text!r}")
    other: dict[str, int] = {}
    for r in results:
        for k, v in r.other.items():
            other[k] = other.get(k, 0) + v
    if other:
        row.notes.append(f"other messages received: {other}")
    return row


def _dc_lag(orders: list[SessionResult], drops: list[SessionResult]) -> tuple[list[int], int]:
    """Drop-copy arrival minus order-session arrival of the same ExecID."""
    seen: dict[int, int] = {}
    for r in orders:
        seen.update(zip(r.exec_ids, r.exec_times, strict=True))
    lags = []
    for d in drops:
        for eid, t in zip(d.exec_ids, d.exec_times, strict=True):
            t0 = seen.pop(eid, None)
            if t0 is not None:
                lags.append(t - t0)
    return sorted(lags), len(seen)


def _us(ns: int | None) -> str:
    return "-" if ns is None else f"{ns / 1000:,.0f}"


HEADER = ("scenario", "sess", "orders", "orders/s", "ack p50", "p99", "p99.9", "fills",
          "dc p50", "dc p99", "srv cpu", "srv wait", "srv us/ord", "cli cpu")


def table(rows: list[Row]) -> list[str]:
    """The printed table; latencies in microseconds, CPU as a share of one core."""
    cells: list[tuple[str, ...]] = [HEADER]
    for r in rows:
        lat = [percentile(r.latency, q) for q in QUANTILES]
        cells.append((
            r.scenario, str(r.sessions), f"{r.orders:,}", f"{r.rate:,.0f}",
            *(_us(v) for v in lat), f"{r.fills:,}" if r.peer == "gateway" else "-",
            _us(percentile(r.dc_lag, 0.5)), _us(percentile(r.dc_lag, 0.99)),
            "-" if r.server_cpu is None else f"{r.server_cpu:.0%}",
            "-" if r.server_wait is None else f"{r.server_wait:.0%}",
            "-" if r.server_us_per_order is None else f"{r.server_us_per_order:.0f}",
            "-" if r.client_cpu is None else f"{r.client_cpu:.0%}",
        ))
    widths = [max(len(c[i]) for c in cells) for i in range(len(HEADER))]
    lines = []
    for n, c in enumerate(cells):
        lines.append("  ".join(v.ljust(w) if i == 0 else v.rjust(w)
                               for i, (v, w) in enumerate(zip(c, widths, strict=True))))
        if n == 0:
            lines.append("-" * len(lines[0]))
    return lines


LEGEND = [
    "columns: orders = answered (ack or reject); orders/s = answered / (first send .. last ack);",
    "ack p50/p99/p99.9 and dc p50/p99 in microseconds; fills = fill reports (150=1/2) on the",
    "order sessions; dc = drop-copy arrival minus order-session arrival of the same ExecID;",
    "srv cpu = server CPU time / wall time (share of one core); srv wait = time the server was",
    "runnable but waiting for a core (other processes on the machine); srv us/ord = server CPU",
    "time per answered order; cli cpu = generator CPU share.",
]


def _find(rows: list[Row], peer: str, prefix: str) -> Row | None:
    return next((r for r in rows if r.peer == peer and r.scenario.startswith(prefix)
                 and "(" not in r.scenario), None)


def targets(rows: list[Row], sessions: int, rate: float) -> list[str]:
    """The issue's targets against this run's figures."""
    out = []
    closed = _find(rows, "gateway", f"gateway closed x{sessions}")
    if closed is not None:
        out.append(_verdict(f">= 40,000 orders/s over {sessions} sessions, fills included",
                            f"{closed.rate:,.0f}", closed.rate >= 40_000))
        qf = _find(rows, "quickfix", f"quickfix closed x{sessions}")
        if qf is not None and qf.rate:
            out.append(_verdict(">= 6x the QuickFIX Python-binding acceptor",
                                f"{closed.rate / qf.rate:.2f}x", closed.rate >= 6 * qf.rate))
        else:
            out.append("  >= 6x QuickFIX: not measured (no interpreter with quickfix)")
    paced = _find(rows, "gateway", f"gateway open {rate / 1000:g}k/s")
    if paced is not None:
        p99 = percentile(paced.latency, 0.99)
        out.append(_verdict(f"p99 ack < 1 ms at {rate:,.0f} orders/s offered",
                            f"{_us(p99)} us (achieved {paced.rate:,.0f}/s)",
                            p99 is not None and p99 < 1_000_000 and paced.rate >= 0.95 * rate))
    for r in (closed, paced):
        if r is not None and r.dc_lag:
            p99 = percentile(r.dc_lag, 0.99)
            out.append(_verdict(f"drop-copy lag p99 < 5 ms ({r.scenario})", f"{_us(p99)} us",
                                p99 is not None and p99 < 5_000_000))
    return out


def _verdict(what: str, got: str, met: bool) -> str:
    return f"  {what}: {got} -> {'met' if met else 'NOT met'}"


def notes(rows: list[Row]) -> list[str]:
    out = []
    for r in rows:
        extra = list(r.notes)
        if r.offered is not None:
            extra.append(f"offered {r.offered:,.0f} orders/s open-loop, achieved {r.rate:,.0f}")
        if r.send_lag_p99 is not None:
            extra.append(f"client send lag behind schedule p99 {_us(r.send_lag_p99)} us")
        if r.dc_missing:
            extra.append(f"{r.dc_missing} order-session reports had no drop copy in time")
        out += [f"  {r.scenario}: {e}" for e in extra]
    return out


def write_samples(rows: list[Row], path: Path) -> None:
    """Every ack latency sample (us), one `scenario,us` line each, gzipped."""
    with gzip.open(path, "wt") as f:
        f.write("scenario,ack_latency_us\n")
        for r in rows:
            for v in r.latency:
                f.write(f"{r.scenario},{v / 1000:.1f}\n")


def plot(rows: list[Row], path: Path) -> str:
    """Latency histogram and percentile curve per scenario; a message if matplotlib is missing."""
    try:
        import matplotlib

        matplotlib.use("Agg")
        import matplotlib.pyplot as plt
    except ImportError:
        return "plot skipped: matplotlib is not installed (pip install -e '.[bench]')"
    shown = [r for r in rows if r.latency and "(" not in r.scenario]  # profiled runs are skewed
    fig, (hist, pct) = plt.subplots(1, 2, figsize=(13, 5))
    for r in shown:
        us = [v / 1000 for v in r.latency]
        lo, hi = max(min(us), 1.0), max(us)
        bins = [lo * (hi / lo) ** (i / 80) for i in range(81)] if hi > lo else 10
        hist.hist(us, bins=bins, histtype="step", label=r.scenario,
                  weights=[1 / len(us)] * len(us))
        n = len(us)
        xs = [1 / (1 - (i + 0.5) / n) for i in range(n)]
        pct.plot(xs, us, label=r.scenario)
    hist.set_xscale("log")
    hist.set_xlabel("ack latency (us)")
    hist.set_ylabel("share of orders per bin (80 log bins)")
    hist.set_title("NewOrderSingle -> ack latency distribution")
    pct.set_xscale("log")
    pct.set_yscale("log")
    ticks = [2, 10, 100, 1000, 10000]
    pct.set_xticks(ticks, ["50%", "90%", "99%", "99.9%", "99.99%"])
    pct.set_xlabel("percentile")
    pct.set_ylabel("ack latency (us)")
    pct.set_title("latency by percentile")
    pct.axhline(1000, color="grey", linestyle=":", linewidth=1)
    for ax, where in ((hist, "upper right"), (pct, "upper left")):
        ax.grid(True, which="major", alpha=0.3)
        ax.legend(fontsize=8, loc=where)
    fig.tight_layout()
    fig.savefig(path, dpi=110)
    plt.close(fig)
    return f"plot written to {path}"
