"""Plain-int counters for the hot path: the operator surface (gateway/admin.py) reads them.

Counting is a list-index increment per observation; nothing here knows Prometheus, so the
order path pays no client-library call per message (the collector turns these into metrics at
scrape time).
"""

from __future__ import annotations

from bisect import bisect_left

#: latency bucket upper bounds in ns: 50 us .. 5 s
LATENCY_BOUNDS_NS: tuple[int, ...] = tuple(
    int(b * 1_000) for b in (
        50, 100, 250, 500, 1_000, 2_500, 5_000, 10_000, 25_000, 50_000, 100_000, 250_000,
        500_000, 1_000_000, 5_000_000,
    )
)


class LatencyHistogram:
    """Counts per bucket (non-cumulative) plus the sum, in nanoseconds."""

    __slots__ = ("bounds", "counts", "sum_ns")

    def __init__(self, bounds: tuple[int, ...] = LATENCY_BOUNDS_NS) -> None:
        self.bounds = bounds
        self.counts = [0] * (len(bounds) + 1)  # the last one: above every bound (+Inf)
        self.sum_ns = 0

    def observe(self, ns: int) -> None:
        """Record one duration."""
        self.counts[bisect_left(self.bounds, ns)] += 1
        self.sum_ns += ns

    @property
    def count(self) -> int:
        return sum(self.counts)

    def cumulative(self) -> list[tuple[int | None, int]]:
        """(upper bound in ns, count at or below it); None is +Inf."""
        out: list[tuple[int | None, int]] = []
        total = 0
        for bound, n in zip((*self.bounds, None), self.counts, strict=True):
            total += n
            out.append((bound, total))
        return out
