"""Each event class keeps its fields, their order and defaults: the events have hand-written
``__init__``s (mypyc compiles them; the dataclass-generated one runs interpreted), and these must
take the same arguments, positional and by name, as the dataclass fields say."""

from __future__ import annotations

import dataclasses
from typing import Any

import pytest
from shapehelp import NONE, assert_defaults_apply

from matcher import (
    Accepted,
    Cancelled,
    CancelReason,
    CancelRejected,
    CloseRefused,
    CxlRejReason,
    Filled,
    FirmUpInvited,
    Liquidity,
    OrderEvent,
    Rejected,
    RejectReason,
    Replaced,
    Side,
)

_COMMON = ["ts", "exec_id", "order_id", "session", "cl_ord_id", "participant", "symbol", "side",
           "order_qty", "cum_qty", "leaves_qty", "avg_px", "notional"]
_NONE = NONE

#: class -> [(field, default or MISSING)], as the dataclasses were declared before the change
SHAPES: dict[type, list[tuple[str, Any]]] = {
    OrderEvent: [(f, _NONE) for f in _COMMON],
    Accepted: [(f, _NONE) for f in _COMMON],
    Rejected: [(f, _NONE) for f in _COMMON] + [("reason", RejectReason.OTHER), ("text", "")],
    Filled: [(f, _NONE) for f in _COMMON] + [
        ("last_qty", 0), ("last_px", 0), ("liquidity", Liquidity.ADDED), ("contra_order_id", 0),
        ("match_id", 0)],
    Cancelled: [(f, _NONE) for f in _COMMON] + [
        ("orig_cl_ord_id", None), ("reason", CancelReason.USER), ("text", "")],
    Replaced: [(f, _NONE) for f in _COMMON] + [("orig_cl_ord_id", "")],
    CancelRejected: [(f, _NONE) for f in ("ts", "session", "cl_ord_id", "orig_cl_ord_id",
                                           "order_id", "is_replace", "reason", "text")]
    + [("cum_qty", 0), ("leaves_qty", 0)],
    CloseRefused: [(f, _NONE) for f in ("ts", "symbol", "text")],
    FirmUpInvited: [(f, _NONE) for f in ("ts", "exec_id", "order_id", "session", "cl_ord_id",
                                          "participant", "symbol", "side", "qty",
                                          "deadline_ns")],
}

_SAMPLE: dict[str, Any] = {"side": Side.SELL, "reason": CxlRejReason.OTHER, "is_replace": True,
                           "liquidity": Liquidity.REMOVED}


def _value(name: str, i: int) -> Any:
    if name in _SAMPLE:
        return _SAMPLE[name]
    if name in ("session", "cl_ord_id", "participant", "symbol", "text", "orig_cl_ord_id"):
        return f"{name}-{i}"
    return 1000 + i


@pytest.mark.parametrize("cls", list(SHAPES), ids=lambda c: c.__name__)
def test_fields_and_defaults_unchanged(cls: type) -> None:
    got = [(f.name, f.default) for f in dataclasses.fields(cls)]
    assert got == SHAPES[cls]


@pytest.mark.parametrize("cls", list(SHAPES), ids=lambda c: c.__name__)
def test_init_takes_the_fields_positionally_and_by_name(cls: type) -> None:
    shape = SHAPES[cls]
    if cls is Rejected:
        _SAMPLE["reason"] = RejectReason.UNKNOWN_SYMBOL
    elif cls is Cancelled:
        _SAMPLE["reason"] = CancelReason.IOC
    else:
        _SAMPLE["reason"] = CxlRejReason.OTHER
    values = [_value(name, i) for i, (name, _) in enumerate(shape)]
    by_pos = cls(*values)
    by_name = cls(**{name: v for (name, _), v in zip(shape, values, strict=True)})
    for (name, _), v in zip(shape, values, strict=True):
        assert getattr(by_pos, name) == v
        assert getattr(by_name, name) == v
    assert by_pos == by_name


@pytest.mark.parametrize("cls", list(SHAPES), ids=lambda c: c.__name__)
def test_defaults_apply_when_left_out(cls: type) -> None:
    assert_defaults_apply(cls, SHAPES[cls], _value)
