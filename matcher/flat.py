"""Two matcher structures in flat memory: a list search by identity, and the session ClOrdID map.

The matcher's large book is bound by memory (reads of objects outside the CPU's caches), not by
instructions. ``matcher/_flat.c`` holds compiled twins of the two below, built at install beside
the mypyc modules; they are the ones used where they were built, unless ``ATS_PURE=1`` asks for
the pure build. The Python ones here are the reference: ``tests/matcher_shape/test_flat.py``
holds the two to the same answers. (This module is never compiled by mypyc: compiled code calls
whichever twin is bound here.)

``index_of(entries, o)``: the position of ``o`` (by identity) in a list, ValueError when it is
not there. The book finds an order it removes from a level, a pool or a broker group this way
(``book.SideBook.remove``). Those lists are in (Inclusion Level, Time) order, but a bisection
reads a probed order's fields at every step, each order elsewhere in memory; the compiled twin
compares the list's pointers with ``o``: one contiguous array, no order read.

``ClidMap``: the ClOrdID -> order map of one session (``Engine._clids``), str keys kept for the
day. It holds every ClOrdID the session used today (new orders, and the ClOrdIDs of its cancels
and replaces), so that a reused one is refused and an OrigClOrdID finds its order; it is probed
on every new order, cancel and replace, in a table that soon outgrows the CPU's caches. The
contract is a dict's, narrowed to what the engine does with it:

- ``key in m``, ``m[key]`` (KeyError), ``m.get(key[, default])``, ``m[key] = value`` (insert or
  overwrite), ``len(m)``, iteration over the keys, ``keys()`` / ``values()`` / ``items()``
  (lists);
- keys are str; no key is ever removed (``del m[key]`` is a TypeError);
- iteration order is unspecified.

The pure twin is a dict subclass; why the compiled one is faster is said in ``_flat.c``.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from typing import TYPE_CHECKING, Any, Generic, TypeVar, overload

from matcher import _pure

V = TypeVar("V")
D = TypeVar("D")


def index_of_py(entries: list[Any], o: object) -> int:
    """The pure twin of ``index_of``: ``list.index`` (the matcher's orders compare by
    identity)."""
    return entries.index(o)


index_of: Callable[[list[Any], object], int] = index_of_py

if TYPE_CHECKING:
    # What the type checker (and mypyc) see: not a dict subclass, so compiled code uses the
    # generic mapping protocol (a dict's C API would refuse the compiled twin).

    class ClidMap(Generic[V]):
        def __contains__(self, key: object) -> bool: ...
        def __getitem__(self, key: str) -> V: ...
        def __setitem__(self, key: str, value: V) -> None: ...
        def __len__(self) -> int: ...
        def __iter__(self) -> Iterator[str]: ...
        @overload
        def get(self, key: str) -> V | None: ...
        @overload
        def get(self, key: str, default: D) -> V | D: ...
        def get(self, key: str, default: object = None) -> object: ...
        def keys(self) -> list[str]: ...
        def values(self) -> list[V]: ...
        def items(self) -> list[tuple[str, V]]: ...

    PyClidMap = ClidMap
    #: whether the compiled twins are the ones bound here
    COMPILED: bool

else:

    class PyClidMap(dict):
        """The pure twin of ``ClidMap``: a dict whose keys are never removed."""

        __slots__ = ()

        def __delitem__(self, key):
            raise TypeError("a ClidMap keeps every key: no deletion")

        def keys(self):
            return list(dict.keys(self))

        def values(self):
            return list(dict.values(self))

        def items(self):
            return list(dict.items(self))

    ClidMap = PyClidMap
    COMPILED = False
    if not _pure.pure_requested():
        try:
            from matcher._flat import ClidMap, index_of  # noqa: F401 - bound for importers

            COMPILED = True
        except ImportError:  # not built here: the pure twins run
            pass
