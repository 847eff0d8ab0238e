"""Each command class keeps its fields, their order and defaults, and its eq/hash/repr: the
commands have hand-written ``__init__``s (mypyc compiles them; the dataclass-generated one runs
interpreted) that must take the same arguments, positional and by name, as the fields say. The
journal rebuilds commands positionally (``cls(*fields)``), the gateway by name."""

from __future__ import annotations

import dataclasses
from typing import Any

import pytest
from shapehelp import NONE, assert_defaults_apply

from matcher import (
    Cancel,
    CancelAll,
    Capacity,
    ClosingPrice,
    FirmUpTimer,
    MinQtyInstruction,
    NewOrder,
    OrderClass,
    OrdType,
    Peg,
    QuoteUpdate,
    Replace,
    SecurityStatus,
    Side,
    TimeInForce,
)

_NONE = NONE

#: class -> [(field, default or MISSING)], as the dataclasses were declared before the change
SHAPES: dict[type, list[tuple[str, Any]]] = {
    NewOrder: [(f, _NONE) for f in ("session", "participant", "cl_ord_id", "symbol", "side",
                                     "qty")]
    + [("ord_type", OrdType.LIMIT), ("limit", None), ("peg", Peg.NONE),
       ("tif", TimeInForce.DAY), ("min_qty", None),
       ("min_qty_instruction", MinQtyInstruction.AON), ("post_only", False),
       ("capacity", None), ("locate_reqd", None), ("locate_broker", None),
       ("order_class", OrderClass.FIRM), ("conditional_ref", None),
       ("conditional_interaction", False), ("dncp", None), ("inclusion_level", None),
       ("session_dncp", False), ("smp", True), ("smp_scope", "participant"),
       ("default_inclusion_level", 5)],
    Cancel: [(f, _NONE) for f in ("session", "cl_ord_id", "orig_cl_ord_id")]
    + [("symbol", None), ("side", None)],
    Replace: [(f, _NONE) for f in ("session", "cl_ord_id", "orig_cl_ord_id", "qty", "ord_type",
                                    "side")]
    + [("limit", None), ("peg", Peg.NONE), ("min_qty", None),
       ("min_qty_instruction", MinQtyInstruction.AON), ("post_only", False),
       ("inclusion_level", None), ("locate_reqd", None), ("locate_broker", None),
       ("symbol", None), ("order_class", None)],
    CancelAll: [("session", _NONE), ("reason", "session cancel")],
    QuoteUpdate: [(f, _NONE) for f in ("symbol", "bid", "bid_size", "ask", "ask_size")]
    + [("source_time", None), ("source_seq", None)],
    SecurityStatus: [("symbol", _NONE), ("halted", None), ("luld_state", None), ("ssr", None),
                     ("source_time", None), ("source_seq", None)],
    ClosingPrice: [("symbol", _NONE), ("price", _NONE)],
    FirmUpTimer: [("firm_up_window_ms", _NONE), ("due_ns", 0)],
}

#: a value unlike the default for each non-str, non-int field
_SAMPLE: dict[str, Any] = {
    "side": Side.SELL_SHORT, "ord_type": OrdType.PEGGED, "peg": Peg.MIDPOINT,
    "tif": TimeInForce.IOC, "min_qty_instruction": MinQtyInstruction.CANCEL,
    "post_only": True, "capacity": Capacity.PRINCIPAL, "locate_reqd": True,
    "order_class": OrderClass.CONDITIONAL, "conditional_interaction": True, "dncp": True,
    "session_dncp": True, "smp": False, "halted": True, "ssr": False,
}
_STRS = {"session", "participant", "cl_ord_id", "symbol", "orig_cl_ord_id", "locate_broker",
         "conditional_ref", "smp_scope", "reason"}


def _value(name: str, i: int) -> Any:
    if name in _SAMPLE:
        return _SAMPLE[name]
    if name in _STRS:
        return f"{name}-{i}"
    return 1000 + i


def _full(cls: type) -> tuple[list[Any], dict[str, Any]]:
    shape = SHAPES[cls]
    values = [_value(name, i) for i, (name, _) in enumerate(shape)]
    return values, {name: v for (name, _), v in zip(shape, values, strict=True)}


@pytest.mark.parametrize("cls", list(SHAPES), ids=lambda c: c.__name__)
def test_fields_and_defaults_unchanged(cls: type) -> None:
    got = [(f.name, f.default) for f in dataclasses.fields(cls)]
    assert got == SHAPES[cls]


@pytest.mark.parametrize("cls", list(SHAPES), ids=lambda c: c.__name__)
def test_init_takes_the_fields_positionally_and_by_name(cls: type) -> None:
    values, named = _full(cls)
    by_pos = cls(*values)
    by_name = cls(**named)
    for name, v in named.items():
        assert getattr(by_pos, name) == v
        assert getattr(by_name, name) == v
    assert by_pos == by_name
    with pytest.raises(TypeError):
        cls(*values, 1)
    with pytest.raises(TypeError):
        cls(**named, no_such_field=1)


@pytest.mark.parametrize("cls", list(SHAPES), ids=lambda c: c.__name__)
def test_defaults_apply_when_left_out(cls: type) -> None:
    assert_defaults_apply(cls, SHAPES[cls], _value)


@pytest.mark.parametrize("cls", list(SHAPES), ids=lambda c: c.__name__)
def test_eq_hash_and_repr_as_a_frozen_dataclass(cls: type) -> None:
    values, named = _full(cls)
    a, b = cls(*values), cls(**named)
    assert a == b and hash(a) == hash(b)
    assert hash(a) == hash(tuple(values))  # the dataclass hash: of the field tuple
    assert len({a, b}) == 1
    first = next(iter(named))
    other = dict(named, **{first: _value(first, 99)})
    assert cls(**other) != a
    assert a != tuple(values)
    inner = ", ".join(f"{n}={v!r}" for n, v in named.items())
    assert repr(a) == f"{cls.__name__}({inner})"
    assert dataclasses.replace(a) == a
    assert not hasattr(a, "__dict__")  # slots
