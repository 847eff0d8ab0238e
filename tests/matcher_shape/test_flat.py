"""matcher/flat.py: the compiled twins (matcher/_flat.c) answer as the pure ones do.

The pure twins (``list.index``; a dict that keeps its keys) are the reference. Where
``matcher/_flat.c`` was built, its twins must be the ones the matcher uses (unless ATS_PURE=1),
and they must give what the reference gives: ``index_of`` for any list and member (and the
position ``book.find`` gives in a level's order), the map for any sequence of inserts,
overwrites and lookups. CI runs this file both ways.
"""

from __future__ import annotations

import gc
import importlib.machinery
import os
import weakref
from pathlib import Path
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from matcher import Cancel, Engine, NewOrder, OrdType, Participant, Side, SymbolConfig, book, flat
from matcher.types import Cancelled, CancelRejected, Rejected

PURE = os.environ.get("ATS_PURE", "") not in ("", "0")
BUILT = [
    p for p in Path(flat.__file__).parent.iterdir()
    if p.name.startswith("_flat.") and p.name.endswith(
        tuple(importlib.machinery.EXTENSION_SUFFIXES))
]


def _compiled() -> Any:
    if not BUILT:
        pytest.skip("matcher/_flat.c is not built here (no C compiler at install)")
    from matcher import _flat

    return _flat.ClidMap


def test_the_compiled_map_is_the_one_in_use_when_built() -> None:
    if PURE or not BUILT:
        assert flat.ClidMap is flat.PyClidMap and not flat.COMPILED
        assert flat.index_of is flat.index_of_py
        return
    from matcher import _flat

    assert flat.ClidMap is _compiled() and flat.COMPILED
    assert flat.index_of is _flat.index_of
    assert book.index_of is _flat.index_of  # what the book's removals call
    eng = Engine({"P": Participant("P")}, {"S": SymbolConfig("S")}, iter(range(1, 99)).__next__)
    eng.apply(NewOrder("P-1", "P", "a", "S", Side.BUY, 100, OrdType.LIMIT, limit=10_000_000))
    assert type(eng._clids["P-1"]) is _compiled()


@settings(max_examples=300, deadline=None)
@given(st.integers(0, 600), st.data())
def test_index_of_finds_a_member_by_identity_and_refuses_a_stranger(n: int, data: Any) -> None:
    _compiled()
    from matcher import _flat

    items = [object() for _ in range(n)]
    if n:
        i = data.draw(st.integers(0, n - 1))
        assert _flat.index_of(items, items[i]) == flat.index_of_py(items, items[i]) == i
    stranger = object()
    for f in (_flat.index_of, flat.index_of_py):
        with pytest.raises(ValueError):
            f(items, stranger)
    with pytest.raises(TypeError):
        _flat.index_of(tuple(items), stranger)


@settings(max_examples=200, deadline=None)
@given(st.lists(st.tuples(st.integers(1, 5), st.integers(1, 10_000)), min_size=1, max_size=200,
                unique_by=lambda t: t[1]), st.data())
def test_index_of_is_where_the_level_order_puts_an_order(keys: list[tuple[int, int]],
                                                         data: Any) -> None:
    """In a level's (Inclusion Level, Time) order, the identity search finds the order exactly
    where the bisection by its fields (``book.find``) does."""
    cfg = book.Settings("P", "BG", "A", False, 1, False, False, False, False)
    orders = [book.Order(i, "P-1", f"c{i}", "S", book.TimeInForce.DAY, cfg, prio, Side.BUY, 100,
                         OrdType.LIMIT, 10_000_000, book.Peg.NONE, None, False, False, incl,
                         None, None) for i, (incl, prio) in enumerate(keys)]
    entries = book.merge([[o] for o in orders])
    o = data.draw(st.sampled_from(orders))
    assert flat.index_of(entries, o) == book.find(entries, o) == entries.index(o)


# keys from a small alphabet, so that equal keys come as different string objects too
KEYS = st.text(alphabet="abcé€0", min_size=0, max_size=12)
OPS = st.lists(st.tuples(st.sampled_from(["set", "get", "in", "getitem", "get_default"]), KEYS,
                         st.integers(0, 5)), max_size=300)


@settings(max_examples=300, deadline=None)
@given(OPS)
def test_compiled_map_answers_as_a_dict(ops: list[tuple[str, str, int]]) -> None:
    cmap = _compiled()()
    ref: dict[str, int] = {}
    for op, key, val in ops:
        key = "".join(list(key))  # a new object of the same value
        if op == "set":
            cmap[key] = val
            ref[key] = val
        elif op == "get":
            assert cmap.get(key) == ref.get(key)
        elif op == "get_default":
            assert cmap.get(key, -1) == ref.get(key, -1)
        elif op == "in":
            assert (key in cmap) == (key in ref)
        else:
            if key in ref:
                assert cmap[key] == ref[key]
            else:
                with pytest.raises(KeyError):
                    cmap[key]
        assert len(cmap) == len(ref)
    assert sorted(cmap) == sorted(ref) == sorted(cmap.keys())
    assert sorted(cmap.values()) == sorted(ref.values())
    assert sorted(cmap.items()) == sorted(ref.items())


def test_a_day_of_clordids_through_many_resizes() -> None:
    cmap, ref = _compiled()(), {}
    for i in range(200_000):
        k = f"ORD-{i * 7919 % 1_000_003}"
        cmap[k] = i
        ref[k] = i
    assert len(cmap) == len(ref)
    assert all(cmap[f"ORD-{i * 7919 % 1_000_003}"] == i for i in range(0, 200_000, 97))
    assert "ORD-x" not in cmap and cmap.get("ORD-x") is None


def test_misuse_is_a_clear_error_and_changes_nothing() -> None:
    for cls in (flat.PyClidMap, _compiled()):
        m = cls()
        m["a"] = 1
        with pytest.raises(TypeError, match="keeps every key"):
            del m["a"]
        assert m["a"] == 1 and len(m) == 1
    m = _compiled()()
    with pytest.raises(TypeError, match="str"):
        m[1] = 2
    assert 1 not in m and m.get(1) is None and len(m) == 0
    with pytest.raises(TypeError):
        _compiled()({"a": 1})


def test_a_cycle_through_the_map_is_collected() -> None:
    """Orders refer to their session's maps and the maps to the orders: the cycle collector
    must see through the compiled map, or every dropped engine would leak its book."""

    class Held:
        m: Any = None

    m = _compiled()()
    held = Held()
    held.m = m
    m["held"] = held
    ref = weakref.ref(held)
    del m, held
    gc.collect()
    assert ref() is None


def test_duplicate_and_unknown_clordids_through_the_engine() -> None:
    """What the map is for, end to end in the engine (either build): a reused ClOrdID is refused
    however it is spelled in memory, an OrigClOrdID finds its order."""
    eng = Engine({"P": Participant("P")}, {"S": SymbolConfig("S")}, iter(range(1, 99)).__next__)
    eng.apply(NewOrder("P-1", "P", "ab", "S", Side.BUY, 100, OrdType.LIMIT, limit=10_000_000))
    [ev] = eng.apply(NewOrder("P-1", "P", "".join(["a", "b"]), "S", Side.BUY, 100, OrdType.LIMIT,
                              limit=10_000_000))
    assert isinstance(ev, Rejected) and "duplicate ClOrdID ab" in ev.text
    [ev] = eng.apply(Cancel("P-1", "c", "zz"))
    assert isinstance(ev, CancelRejected) and "unknown order" in ev.text
    [ev] = eng.apply(Cancel("P-1", "c", "".join(["a", "b"])))
    assert isinstance(ev, Cancelled) and ev.cl_ord_id == "c" and ev.orig_cl_ord_id == "ab"
    [ev] = eng.apply(Cancel("P-1", "c", "ab"))
    assert isinstance(ev, CancelRejected)
