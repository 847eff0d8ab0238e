"""The book's own binary searches (native loops when compiled) agree with the bisect module on
the lists the book keeps: entries sorted by (-inclusion level, time) with unique keys, and sorted
limit keys."""

from __future__ import annotations

from bisect import bisect_left, bisect_right
from typing import cast

from hypothesis import given
from hypothesis import strategies as st

from matcher.book import Entry, find, key_left, key_right, run_end

# keys as the book has them: inclusion levels 1-5 negated, times unique; prices up to 2**61
keys_st = st.lists(st.tuples(st.integers(-5, -1), st.integers(1, 10**12)), max_size=60,
                   unique_by=lambda k: k[1])
price_st = st.integers(-(2**61), 2**61)


def _entry(nincl: int, prio: int) -> Entry:
    return cast(Entry, (nincl, prio, None))  # the searches never read the order


def _entries(keys: list[tuple[int, int]]) -> list[Entry]:
    return sorted(_entry(a, b) for a, b in keys)


@given(keys_st, st.tuples(st.integers(-5, -1), st.integers(1, 10**12)))
def test_find_is_bisect_left_for_present_and_absent_entries(
        keys: list[tuple[int, int]], probe: tuple[int, int]) -> None:
    entries = _entries(keys)
    for e in entries:  # each present entry is found at its own place
        assert find(entries, e) == bisect_left(entries, e) == entries.index(e)
    if probe[1] not in {k[1] for k in keys}:  # an absent one: where insort would put it
        e = _entry(*probe)
        assert find(entries, e) == bisect_left(entries, e)


@given(keys_st, st.integers(-5, -1), st.integers(0, 70))
def test_run_end_is_the_bisect_past_an_inclusion_run(keys: list[tuple[int, int]], nincl: int,
                                                       lo: int) -> None:
    entries = _entries(keys)
    lo = min(lo, len(entries))
    assert run_end(entries, nincl, lo) == bisect_left(
        entries, cast(Entry, (nincl + 1,)), lo)


@given(st.lists(price_st, max_size=60), price_st, st.integers(0, 70))
def test_key_searches_are_bisect_right_and_left(keys: list[int], x: int, lo: int) -> None:
    keys.sort()
    lo = min(lo, len(keys))
    assert key_right(keys, x, lo) == bisect_right(keys, x, lo)
    assert key_right(keys, x) == bisect_right(keys, x)
    assert key_left(keys, x) == bisect_left(keys, x)
    for k in keys:
        assert key_left(keys, k) == bisect_left(keys, k)
        assert key_right(keys, k) == bisect_right(keys, k)
