"""What the shape tests of commands and events share."""

from __future__ import annotations

import dataclasses
from collections.abc import Callable
from typing import Any

import pytest

#: a field without a default, in a SHAPES table
NONE = dataclasses.MISSING


def assert_defaults_apply(cls: type, shape: list[tuple[str, Any]],
                          value: Callable[[str, int], Any]) -> None:
    """Built from its required fields alone, ``cls`` has every default of ``shape``; one required
    field fewer is a TypeError."""
    required = [value(name, i) for i, (name, d) in enumerate(shape) if d is NONE]
    obj = cls(*required)
    for name, default in shape:
        if default is not NONE:
            assert getattr(obj, name) == default
    with pytest.raises(TypeError):
        cls(*required[:-1])
