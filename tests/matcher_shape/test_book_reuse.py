"""A SideBook that had orders removed (emptied levels kept for reuse) walks like a fresh book
holding only the orders still resting."""

from __future__ import annotations

from hypothesis import given, settings
from hypothesis import strategies as st

from matcher.book import _KEPT_LEVELS, EMPTY_KEY, Order, Settings, SideBook
from matcher.types import OrdType, Peg, Side, TimeInForce

_CFGS = [Settings("P", bg, "A", True, 0, False, False, False, False) for bg in ("B1", "B2")]
_PEGS = [Peg.NONE, Peg.MIDPOINT, Peg.PRIMARY, Peg.MARKET]

spec_st = st.tuples(st.sampled_from(_PEGS), st.none() | st.integers(1, 12), st.integers(0, 2),
                    st.integers(0, 1))
Spec = tuple[Peg, int | None, int, int]
refs_st = st.tuples(st.integers(1, 12), st.integers(1, 12), st.integers(1, 12))


def _order(i: int, is_buy: bool, spec: Spec) -> Order:
    peg, limit, incl, cfg = spec
    ord_type = OrdType.PEGGED if peg is not Peg.NONE else (
        OrdType.MARKET if limit is None else OrdType.LIMIT)
    return Order(i, "S", str(i), "X", TimeInForce.DAY, _CFGS[cfg], i + 1,
                 Side.BUY if is_buy else Side.SELL, 100, ord_type, limit, peg, None, False,
                 False, incl, None, None)


Ids = list[tuple[int, int, int]]


def _id(e: Order) -> tuple[int, int, int]:
    return -e.incl, e.prio_seq, e.order_id


def _ids(entries: list[Order]) -> Ids:
    return sorted(_id(e) for e in entries)


def _walk(book: SideBook) -> list[tuple[int, int, Ids, Ids, Ids]]:
    """Every group of the lazy walk: key, levels listed, its entries, broker group B1's, and
    entries_upto."""
    out = []
    k = book.best()
    while k != EMPTY_KEY:
        lvs, pool = book.group_at(k, "B1")
        if not lvs and pool is not None:  # the kept pool: already in Inclusion | Time order
            entries = [_id(e) for e in pool[0]]
            b1 = [_id(e) for e in pool[1]]
        else:
            entries = _ids([e for lv in lvs for e in lv.entries])
            b1 = _ids([e for lv in lvs for e in lv.group("B1")])
        out.append((k, len(lvs), entries, b1, _ids(book.entries_upto(k))))
        k = book.next_key(k)
    return out


def _book(is_buy: bool, refs: tuple[int, int, int] | None) -> SideBook:
    book = SideBook(is_buy)
    if refs is not None:
        sign = -1 if is_buy else 1
        book.set_refs(sign * refs[0], sign * refs[1], sign * refs[2])
    return book


@settings(max_examples=300, deadline=None)
@given(st.booleans(), st.lists(spec_st, max_size=40), st.lists(st.booleans(), max_size=40),
       st.lists(spec_st, max_size=20), st.none() | refs_st)
def test_removed_then_reused_levels_walk_like_a_fresh_book(
        is_buy: bool, first: list[Spec], drop: list[bool], again: list[Spec],
        refs: tuple[int, int, int] | None) -> None:
    book = _book(is_buy, refs)
    specs = list(enumerate(first))
    orders = [_order(i, is_buy, s) for i, s in specs]
    for o in orders:
        book.insert(o)
    _walk(book)  # keeps the pools' merged entries, which insert / remove then maintain
    if refs is not None:  # the reference moves (a kept pool follows it when next walked)
        book.set_refs(book.r1, book.r2, book.r0)
        _walk(book)
    drop = drop + [False] * len(first)
    for (i, _), o in zip(specs, orders, strict=True):
        if drop[i]:
            book.remove(o)
    for j, s in enumerate(again):
        book.insert(_order(len(first) + j, is_buy, s))
    if refs is not None:
        book.set_refs(book.r2, book.r0, book.r1)
    live = [(i, s) for i, s in specs if not drop[i]]
    live += [(len(first) + j, s) for j, s in enumerate(again)]
    fresh = SideBook(is_buy)
    if refs is not None:
        fresh.set_refs(book.r0, book.r1, book.r2)
    for i, s in live:
        fresh.insert(_order(i, is_buy, s))
    assert _walk(book) == _walk(fresh)
    assert book.best() == fresh.best()
    assert len(book) == len(fresh) == len(live)
    assert sorted(o.order_id for o in book.orders()) == sorted(i for i, _ in live)
    assert book.keys == fresh.keys
    assert [k for k, _ in book.levels_upto(1 << 60)] == [k for k, _ in fresh.levels_upto(1 << 60)]


def test_emptied_levels_kept_for_reuse_stay_bounded() -> None:
    book = SideBook(False)
    for i in range(1000):  # each order at a new price, then gone
        o = _order(i, False, (Peg.NONE, 1 + i, 0, 0))
        book.insert(o)
        book.remove(o)
        assert len(book.levels[0]) <= _KEPT_LEVELS + 1
    assert len(book) == 0 and book.best() == EMPTY_KEY
