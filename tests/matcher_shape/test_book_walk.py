"""SideBook's lazy walk (next_key + group_at) and entries_upto against levels_upto."""

from __future__ import annotations

from hypothesis import given, settings
from hypothesis import strategies as st

from matcher.book import EMPTY_KEY, Order, Settings, SideBook
from matcher.types import OrdType, Peg, Side, TimeInForce

_CFG = Settings("P", "BG", "A", True, 0, False, False, False, False)
_PEGS = [Peg.NONE, Peg.MIDPOINT, Peg.PRIMARY, Peg.MARKET]

orders_st = st.lists(
    st.tuples(st.sampled_from(_PEGS), st.none() | st.integers(1, 12), st.integers(0, 2)),
    max_size=30)
refs_st = st.tuples(st.integers(1, 12), st.integers(1, 12), st.integers(1, 12))


def _book(is_buy: bool, specs: list[tuple[Peg, int | None, int]],
          refs: tuple[int, int, int] | None) -> SideBook:
    book = SideBook(is_buy)
    if refs is not None:
        sign = -1 if is_buy else 1
        book.set_refs(sign * refs[0], sign * refs[1], sign * refs[2])
    side = Side.BUY if is_buy else Side.SELL
    for i, (peg, limit, incl) in enumerate(specs):
        ord_type = OrdType.PEGGED if peg is not Peg.NONE else (
            OrdType.MARKET if limit is None else OrdType.LIMIT)
        book.insert(Order(i, "S", str(i), "X", TimeInForce.DAY, _CFG, i + 1, side, 100,
                          ord_type, limit, peg, None, False, False, incl, None, None))
    return book


def _key(o: Order) -> tuple[int, int]:
    """An entry's place in a level: Inclusion Level (descending), then time."""
    return -o.incl, o.prio_seq


@settings(max_examples=300, deadline=None)
@given(st.booleans(), orders_st, st.none() | refs_st, st.integers(-13, 13))
def test_lazy_walk_and_entries_upto_match_levels_upto(
        is_buy: bool, specs: list[tuple[Peg, int | None, int]],
        refs: tuple[int, int, int] | None, bound: int) -> None:
    book = _book(is_buy, specs, refs)
    full = book.levels_upto(1 << 60)
    # next_key walks exactly the group keys of levels_upto, best first
    keys = []
    k = book.best()
    while k != EMPTY_KEY:
        keys.append(k)
        k = book.next_key(k)
    assert keys == [key for key, _ in full]
    # group_at gives each group's entries (as levels or as the kept merged pool)
    for key, levels in full:
        lvs, pool = book.group_at(key, None)
        want = sorted((e for lv in levels for e in lv.entries), key=_key)
        got = pool[0] if not lvs and pool is not None else sorted(
            (e for lv in lvs for e in lv.entries), key=_key)
        assert got == want
    want_set = sorted((e for _, lvs in book.levels_upto(bound) for lv in lvs
                       for e in lv.entries), key=_key)
    assert sorted(book.entries_upto(bound), key=_key) == want_set
