"""The journal's record codec: plain values only, the same enum fields in both builds."""

from __future__ import annotations

import pickle
import pickletools
import typing
import zlib
from pathlib import Path

from hypothesis import given, settings
from hypothesis import strategies as st

from matcher import journal
from matcher.journal import Journal, read_journal
from matcher.types import (
    Capacity,
    MinQtyInstruction,
    NewOrder,
    OrderClass,
    OrdType,
    Peg,
    Side,
    TimeInForce,
)


def _order() -> NewOrder:
    return NewOrder("S", "P1", "c1", "AAPL", Side.SELL, 100, OrdType.LIMIT, 1_000_000, Peg.MIDPOINT,
                    TimeInForce.IOC, 10, MinQtyInstruction.AON, False, Capacity.PRINCIPAL,
                    True, "LB", OrderClass.FIRM, None, False, True, 3)


def test_enum_fields_are_found_in_the_compiled_build_too() -> None:
    """Optional enum fields (capacity) count: a compiled class's annotations are erased
    (`X | None` reads `type`), so the hints come from the source."""
    for cls in journal._CLASSES:
        hints = typing.get_type_hints(cls)
        codec = journal._BY_CLASS[cls]
        from_source = journal._field_hints(cls)
        for i, name in enumerate(codec.names):
            is_enum = journal._enum_of(from_source[name]) is not None
            assert (i in codec.enum_idx) == is_enum, (cls.__name__, name)
        assert set(hints) <= set(from_source)
    assert 13 in journal._BY_CLASS[NewOrder].enum_idx  # capacity


def _pickled_order_journal(path: Path, ts: int, order: NewOrder) -> None:
    """A journal as written before the compact NewOrder record: the record pickled."""
    payload = pickle.dumps(journal._encode_new_order(ts, order), 5)
    path.write_bytes(journal.MAGIC + journal._HDR.pack(len(payload), zlib.crc32(payload))
                     + payload)


def test_a_record_holds_plain_values_only(tmp_path: Path) -> None:
    """No class reference in a pickled record (a journal from before the compact NewOrder
    record, or a NewOrder it cannot hold): the format does not depend on class layouts."""
    path = tmp_path / "j.bin"
    _pickled_order_journal(path, 7, _order())
    data = path.read_bytes()
    payload = data[len(journal.MAGIC) + journal._HDR.size :]
    ops = {op.name for op, _, _ in pickletools.genops(payload)}
    assert not ops & {"GLOBAL", "STACK_GLOBAL", "REDUCE", "NEWOBJ"}
    rec = pickle.loads(payload)
    assert rec[2 + 13] == "P"  # capacity as its value
    records, warnings = read_journal(path)
    assert warnings == [] and records == [(7, _order())]
    assert isinstance(records[0][1].capacity, Capacity)


_opt_text = st.none() | st.text(max_size=6)
_opt_int = st.none() | st.integers(-(2**40), 2**40)
_opt_bool = st.none() | st.booleans()


_new_orders = st.builds(
    NewOrder, st.text(max_size=6), st.text(max_size=6), st.text(max_size=6),
    st.text(max_size=6), st.sampled_from(list(Side)), st.integers(0, 2**40),
    st.sampled_from(list(OrdType)), _opt_int, st.sampled_from(list(Peg)),
    st.sampled_from(list(TimeInForce)), _opt_int, st.sampled_from(list(MinQtyInstruction)),
    st.booleans(), st.none() | st.sampled_from(list(Capacity)), _opt_bool, _opt_text,
    st.sampled_from(list(OrderClass)), _opt_text, st.booleans(), _opt_bool, _opt_int,
    st.booleans(), st.booleans(), st.text(max_size=6), st.integers(0, 9))


@settings(max_examples=200)
@given(_new_orders, st.integers(0, 2**62))
def test_the_new_order_encode_is_the_generic_encode(order: NewOrder, ts: int) -> None:
    """The journal's direct NewOrder encode equals the per-class codec's (every field, in
    order, enums as values)."""
    expected = journal._BY_CLASS[NewOrder].encode(ts, order)
    assert journal._encode_new_order(ts, order) == expected
    assert [type(v) for v in journal._encode_new_order(ts, order)] == [type(v) for v in expected]




@settings(max_examples=300)
@given(_new_orders, st.integers(0, 2**62))
def test_the_compact_new_order_record_holds_what_the_pickled_one_does(order: NewOrder,
                                                                      ts: int) -> None:
    """The compact record decodes to the values the pickled record (the reference) does:
    every field, its type (enums as enums, None kept apart from "" and False)."""
    compact = journal._encode_new_order_compact(ts, order)
    reference = journal._BY_CLASS[NewOrder].decode(journal._encode_new_order(ts, order))
    if compact is None:  # only a NUL in a text
        assert any("\x00" in t for t in (order.session, order.participant, order.cl_ord_id,
                                          order.symbol, order.locate_broker or "",
                                          order.conditional_ref or "", order.smp_scope))
        return
    assert compact[:1] == journal._COMPACT_NEW_ORDER
    got_ts, got = journal._decode_new_order_compact(compact)
    assert got_ts == ts and got == reference == order
    names = journal._BY_CLASS[NewOrder].names
    assert [type(getattr(got, n)) for n in names] == [type(getattr(reference, n)) for n in names]


@settings(max_examples=50)
@given(_new_orders, st.integers(0, 2**62))
def test_journals_mixing_pickled_and_compact_records_replay(order: NewOrder, ts: int) -> None:
    """A journal written before the compact record gets compact records appended after an
    upgrade: both replay."""
    import tempfile

    with tempfile.TemporaryDirectory() as tmp:
        path = Path(tmp) / "j.bin"
        _pickled_order_journal(path, ts, order)
        j = Journal(path)
        j.append(ts + 1, order)
        j.close()
        records, warnings = read_journal(path)
        assert warnings == [] and records == [(ts, order), (ts + 1, order)]


def test_a_new_order_the_compact_record_cannot_hold_is_pickled(tmp_path: Path) -> None:
    """An int past 64 bits or a NUL in a text: the record is pickled, and replays."""
    big = NewOrder("S", "P1", "c1", "AAPL", Side.BUY, 100, inclusion_level=10**30)
    nul = NewOrder("S", "P1", "c\x002", "AAPL", Side.BUY, 100)
    assert journal._encode_new_order_compact(1, big) is None
    assert journal._encode_new_order_compact(2, nul) is None
    path = tmp_path / "j.bin"
    j = Journal(path)
    j.append(1, big)
    j.append(2, nul)
    j.append(3, _order())
    j.close()
    records, warnings = read_journal(path)
    assert warnings == [] and records == [(1, big), (2, nul), (3, _order())]


@settings(max_examples=50, deadline=None)
@given(_new_orders, st.integers(0, 2**62))
def test_a_journal_written_with_the_gateways_crc_reads_back_with_zlibs(order: NewOrder,
                                                                       ts: int) -> None:
    """The gateway's journal takes the compiled CRC-32 where built (the pure build: zlib's):
    a reader checking with zlib.crc32 finds every record whole, bytes equal to zlib's."""
    import tempfile

    from gateway.fix._build import speedups

    crc = None if speedups is None else speedups.crc32
    with tempfile.TemporaryDirectory() as tmp:
        ours, plain = Path(tmp) / "ours.bin", Path(tmp) / "plain.bin"
        for path, fn in ((ours, crc), (plain, None)):
            j = Journal(path, fn)
            j.append(ts, order)
            j.append(ts + 1, order)
            j.close()
        assert ours.read_bytes() == plain.read_bytes()
        records, warnings = read_journal(ours)
        assert warnings == [] and records == [(ts, order), (ts + 1, order)]
