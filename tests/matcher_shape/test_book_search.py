"""The book's own binary searches and merge (native loops when compiled) agree with the bisect
module and a sort on the lists the book keeps: orders in (Inclusion Level descending, time)
order with unique times, and sorted limit keys."""

from __future__ import annotations

from bisect import bisect_left, bisect_right

from hypothesis import given
from hypothesis import strategies as st

from matcher.book import Order, Settings, find, key_left, key_right, merge, run_end
from matcher.types import OrdType, Peg, Side, TimeInForce

# keys as the book has them: inclusion levels 1-5, times unique; prices up to 2**61
keys_st = st.lists(st.tuples(st.integers(1, 5), st.integers(1, 10**12)), max_size=60,
                   unique_by=lambda k: k[1])
price_st = st.integers(-(2**61), 2**61)
_CFG = Settings("P", "BG", "A", False, 1, False, False, False, False)


def _order(incl: int, prio: int) -> Order:
    return Order(prio, "S", str(prio), "X", TimeInForce.DAY, _CFG, prio, Side.BUY, 100,
                 OrdType.LIMIT, 100, Peg.NONE, None, False, False, incl, None, None)


def _key(o: Order) -> tuple[int, int]:
    return -o.incl, o.prio_seq


def _entries(keys: list[tuple[int, int]]) -> list[Order]:
    return sorted((_order(a, b) for a, b in keys), key=_key)


@given(keys_st, st.tuples(st.integers(1, 5), st.integers(1, 10**12)))
def test_find_is_bisect_left_for_present_and_absent_entries(
        keys: list[tuple[int, int]], probe: tuple[int, int]) -> None:
    entries = _entries(keys)
    ks = [_key(e) for e in entries]
    for e in entries:  # each present entry is found at its own place
        assert find(entries, e) == bisect_left(ks, _key(e)) == entries.index(e)
    if probe[1] not in {k[1] for k in keys}:  # an absent one: where insort would put it
        e = _order(*probe)
        assert find(entries, e) == bisect_left(ks, _key(e))


@given(keys_st, st.integers(1, 5), st.integers(0, 70))
def test_run_end_is_the_bisect_past_an_inclusion_run(keys: list[tuple[int, int]], incl: int,
                                                       lo: int) -> None:
    entries = _entries(keys)
    lo = min(lo, len(entries))
    assert run_end(entries, incl, lo) == bisect_left([_key(e) for e in entries], (-incl + 1,),
                                                     lo)


@given(keys_st, st.lists(st.integers(0, 6), max_size=60))
def test_merge_equals_a_sort_of_the_concatenation(keys: list[tuple[int, int]],
                                                  where: list[int]) -> None:
    orders = [_order(a, b) for a, b in keys]
    lists: list[list[Order]] = [[] for _ in range(7)]
    for o, w in zip(orders, where + [0] * len(orders), strict=False):
        lists[w].append(o)
    lists = [sorted(lst, key=_key) for lst in lists[:1 + max(where, default=0)]]
    before = [list(lst) for lst in lists]
    out = merge(lists)
    assert out == sorted(orders, key=_key)
    assert lists == before  # the inputs are left as they were
    assert all(out is not lst for lst in lists)  # a new list, which the pool may change


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
