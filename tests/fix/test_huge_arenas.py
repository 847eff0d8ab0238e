"""Python's object memory on transparent huge pages (``_speedups.huge_arenas``), in a process of
its own: the arenas come from the huge-page reservations, freed arenas are reused, and the
objects in them are intact."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest

from gateway.fix._build import thp_enabled

REPO = Path(__file__).resolve().parents[2]

try:
    from gateway.fix import _speedups
except ImportError:  # pragma: no cover - the pure build has no allocator to test
    _speedups = None  # type: ignore[assignment]

pytestmark = pytest.mark.skipif(_speedups is None, reason="gateway.fix._speedups is not built")

SCRIPT = r"""
import json
from gateway.fix import _speedups as s

def anon_huge_kb():
    for row in open("/proc/self/smaps_rollup"):
        if row.startswith("AnonHugePages:"):
            return int(row.split()[1])
    return 0

huge0 = anon_huge_kb()
ok, again = s.huge_arenas(64), s.huge_arenas(64)
a = [[i, str(i)] for i in range(1_000_000)]
first = s.huge_arena_stats()
huge1 = anon_huge_kb()
total = sum(x[0] for x in a)
del a
b = [(3 * i, str(3 * i)) for i in range(1_000_000)]
second = s.huge_arena_stats()
good = all(int(t[1]) == t[0] for t in b) and sum(t[0] for t in b) == 3 * total
print(json.dumps(dict(ok=ok, again=again, first=first, second=second, good=good,
                      huge_gained_kb=huge1 - huge0)))
"""


def _run() -> dict[str, object]:
    out = subprocess.run([sys.executable, "-c", SCRIPT], cwd=REPO, check=True,
                         capture_output=True, text=True, timeout=120).stdout
    result: dict[str, object] = json.loads(out)
    return result


def test_arenas_come_from_huge_page_reservations_and_are_reused() -> None:
    r = _run()
    assert r["ok"] is True and r["again"] is True  # a second call keeps the first install
    first, second = r["first"], r["second"]
    assert isinstance(first, dict) and isinstance(second, dict)
    # a million small lists and strings: about 130 MB, so over a hundred 1 MiB arenas
    assert first["arenas_made"] > 100
    assert first["reserved_bytes"] == first["reservations"] * (64 << 20)
    # freed by `del a`, the arenas serve the next million objects: no new reservation
    assert second["arenas_reused"] > 100
    assert second["reserved_bytes"] == first["reserved_bytes"]
    assert r["good"] is True  # every object built in a reused arena reads back right
    if thp_enabled():
        assert isinstance(r["huge_gained_kb"], int) and r["huge_gained_kb"] >= 64 << 10


def test_the_reservation_size_is_bounded() -> None:
    assert _speedups is not None
    for bad in (0, 1, 3, 1026, -2):
        with pytest.raises(ValueError, match="even number of MiB from 2 to 1024"):
            _speedups.huge_arenas(bad)
