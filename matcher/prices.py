"""Exact prices as integers of micro-dollars (1e-6 USD).

Measured (bench notes in the report): integer arithmetic is about twice as fast as
``decimal.Decimal`` for the mid / min / max work the matcher does on every order, and it is
exact: a limit or quote has at most 4 decimals, the NBBO mid at most 5, so 6 decimals of
resolution hold every price the matcher ever computes.
"""

from __future__ import annotations

import re
from typing import Final

Price = int
"""A price in micro-dollars: ``10_005_000`` is $10.005."""

# Final literals: mypyc inlines them where they are used
SCALE: Final = 1_000_000
DECIMALS: Final = 6
CENT: Final = 10_000  # SCALE // 100
SUB_PENNY: Final = 100  # SCALE // 10_000: 0.0001, the Rule 612 sub-dollar increment
DOLLAR: Final = 1_000_000  # SCALE

_PRICE_RE = re.compile(r"(\d*)(?:\.(\d*))?")


def parse_price(text: str) -> Price:
    """Parse a non-negative decimal string ("10.005", "0.5001", "10") into a Price.

    Raises ValueError when the text is not a plain decimal number or has more than six
    decimals (the representation's resolution).
    """
    m = _PRICE_RE.fullmatch(text.strip())
    if m is None:
        raise ValueError(f"price {text!r} is not a decimal number")
    whole, frac = m.group(1), m.group(2) or ""
    if not whole and not frac:
        raise ValueError(f"price {text!r} is not a decimal number")
    frac = frac.rstrip("0")
    if len(frac) > DECIMALS:
        raise ValueError(f"price {text!r} has more than {DECIMALS} decimals")
    return int(whole or "0") * SCALE + int((frac or "0").ljust(DECIMALS, "0"))


def format_price(p: Price) -> str:
    """Shortest exact decimal text of a Price: 10_005_000 -> "10.005", 10_000_000 -> "10"."""
    sign = "-" if p < 0 else ""
    whole, frac = divmod(abs(p), SCALE)
    if frac == 0:
        return f"{sign}{whole}"
    return f"{sign}{whole}." + f"{frac:06d}".rstrip("0")


def is_rule612_tick(p: Price) -> bool:
    """Rule 612: a multiple of 0.01 at or above $1.00, of 0.0001 below."""
    return p % (CENT if p >= DOLLAR else SUB_PENNY) == 0


def tick_of(p: Price) -> str:
    """The Rule 612 increment that applies to ``p``, as text (for reject messages)."""
    return "0.01" if p >= DOLLAR else "0.0001"
