"""Messages read through their layout's index (no tag map built) against the map, tag by tag.

Where the C parser and the compiled Message run (``codec._LAZY_MAP``), ``parse`` leaves the tag
-> value map to be built on demand and ``Message.get`` reads a value by its place in the flat
list through an index shared by every message of the layout. Whatever the message (repeated
tags, empty values, tags of four digits, repeating groups, over 127 fields), every read must
answer exactly what the exact parser's map answers. ``_speedups.parse_flat`` is compared with
its Python twin ``codec._parse_flat_py``.
"""

from __future__ import annotations

from fixhelp import order
from hypothesis import given, settings
from hypothesis import strategies as st
from test_compiled import BUILT, PURE, _speedups
from test_fastpaths import EDITS, LONG, _mutate

from gateway.fix import codec

#: tags a reader may ask for: header, body, group, absent, out of range, four digits
ASKED = [0, -1, 1, 7, 8, 9, 10, 11, 34, 35, 38, 43, 44, 49, 52, 55, 56, 58, 122, 268, 269, 270,
         453, 448, 999, 1000, 5700, 7001, 7011, 10**12]
EXTRA_TAGS = st.sampled_from([11, 55, 58, 1, 999, 44, 268, 269, 270, 453, 448, 447, 7001, 5700])


def _messages(edits: list[tuple[int, int, int]], extra: list[int]) -> list[bytes]:
    body = b"".join(b"%d=v%d\x01" % (t, i) for i, t in enumerate(extra))
    wide = b"".join(b"%d=w\x01" % t for t in range(100, 100 + 130))  # over 127 fields
    return [
        _mutate(order(3), edits),
        _mutate(LONG, edits),
        codec.frame(b"35=D\x0134=3\x0143=Y\x01" + body),
        codec.frame(b"35=X\x0134=4\x01" + body + b"268=2\x01269=0\x01270=1\x01269=1\x01270=2\x01"),
        codec.frame(b"35=D\x0134=5\x01" + wide + body),
        codec.frame(b"35=D\x0134=6\x0158=\x01" + body),  # an empty value: the exact parser
    ]


def _same_reads(raw: bytes) -> None:
    try:
        exact = codec._parse_slow(raw)
    except codec.ParseError:
        return
    msg = codec.parse(raw)
    tags = {t for t, _ in exact.fields} | set(ASKED)
    for t in tags:
        assert msg.get(t) == exact._map.get(t), (t, raw)
        assert (t in msg) == (t in exact._map), (t, raw)
    assert msg._map == exact._map
    assert list(msg._map) == list(exact._map)
    assert msg.fields == exact.fields
    assert (msg.seq_num, msg.poss_dup, msg.msg_type, msg.field_count) == (
        exact.seq_num, exact.poss_dup, exact.msg_type, exact.field_count)
    assert msg.group(268) == exact.group(268)
    assert "x" not in msg and None not in msg


@settings(max_examples=300, deadline=None)
@given(EDITS, st.lists(EXTRA_TAGS, max_size=8))
def test_reads_through_the_layout_index_equal_the_exact_map(
    edits: list[tuple[int, int, int]], extra: list[int]
) -> None:
    for raw in _messages(edits, extra):
        _same_reads(raw)
        _same_reads(raw)  # the second message of a layout reuses its index


def test_the_index_is_the_layouts_and_used_where_compiled() -> None:
    raw = order(2)
    a, b = codec.parse(raw), codec.parse(order(3))
    if codec._LAZY_MAP:
        assert a._index is not None and a._index is b._index  # one per layout
        assert a._dict is None  # the map is not built by the parse
        index = a._index
        for at in range(1, len(a._flat), 2):
            assert index[int(a._flat[at - 1])] == at
        assert sum(1 for x in index if x) == len(a._flat) // 2
    else:
        assert a._index is None and a._dict is not None
    wide = codec.frame(b"35=D\x01" + b"".join(b"%d=w\x01" % t for t in range(100, 230)))
    assert codec.parse(wide)._index is None  # places beyond one byte: the map


@settings(max_examples=400, deadline=None)
@given(EDITS, st.lists(EXTRA_TAGS, max_size=8))
def test_compiled_parse_flat_equals_its_python_twin(
    edits: list[tuple[int, int, int]], extra: list[int]
) -> None:
    if PURE or not BUILT:
        assert codec._parse_flat is codec._parse_flat_py
        return
    sp = _speedups()
    assert codec._parse_flat is sp.parse_flat
    for raw in _messages(edits, extra):
        fast = sp.parse_flat(raw)
        twin = codec._parse_flat_py(raw)
        # what it takes, it takes exactly as the twin does (a tag of four digits it leaves to
        # the exact parser, where the twin may take it from the tag cache)
        if fast is not None:
            assert twin is not None, raw
            assert (list(fast[0]), fast[1]) == (list(twin[0]), twin[1]), raw
            full = sp.parse(raw)
            assert full is not None and fast[1] == full[2]
            again = sp.parse_flat(raw)
            assert again is not None and (again[1] is fast[1] or fast[1] is None)
