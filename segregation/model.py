"""Building blocks for describing a Daily Segregation statement as data.

A statement is a list of sections; a section is a list of rows. A row is either a `Heading`
(a numbered caption with no amount of its own, such as "1. Net ledger balance") or a `Line`
(one amount with its form code). A `Line` is an input or is derived from other lines by one of
the few operations the form uses: a sum, a difference or the greater of two lines.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass, field
from enum import Enum


class Op(Enum):
    """How a line's amount is obtained."""

    INPUT = "input"
    SUM = "sum"  # "add lines 1, 2 and 3": the sum of the operands
    DIFFERENCE = "difference"  # "subtract line 6 from line 13": operands[0] - operands[1]
    GREATER_OF = "greater_of"  # "greater of ... or line 6": max of the operands


class Sign(Enum):
    """Sign an input must have; the form adds every line, so deductions are entered negative."""

    ANY = "any"
    NON_NEGATIVE = "non_negative"
    NON_POSITIVE = "non_positive"

    def admits(self, amount: int) -> bool:
        """True when `amount` has the sign this rule allows."""
        if self is Sign.NON_NEGATIVE:
            return amount >= 0
        if self is Sign.NON_POSITIVE:
            return amount <= 0
        return True


class Column(Enum):
    """Where the form prints the amount: sub-items feeding a net line sit in the inner column."""

    INNER = "inner"
    OUTER = "outer"


@dataclass(frozen=True, slots=True)
class Heading:
    """A numbered caption without an amount (its sub-items carry the amounts)."""

    label: str
    caption: str


@dataclass(frozen=True, slots=True)
class Line:
    """One amount on the form.

    `code` is the form code printed in brackets. A line whose caption is empty is a net line the
    form prints without a caption of its own, to the right of the sub-items it nets.
    `form_code` is False for the few keys this tool had to invent because the form prints an
    amount without a code (cleared swaps line 12 A-C).
    """

    code: str
    label: str
    caption: str
    op: Op = Op.INPUT
    operands: tuple[str, ...] = ()
    sign: Sign = Sign.ANY
    column: Column = Column.OUTER
    form_code: bool = True
    note: str = ""

    @property
    def derived(self) -> bool:
        """True when the form computes this line from other lines."""
        return self.op is not Op.INPUT

    def formula(self) -> str:
        """The computation as text, e.g. "7315 + 7317" or "max(7305, 7355)"."""
        if self.op is Op.SUM:
            return " + ".join(self.operands)
        if self.op is Op.DIFFERENCE:
            return f"{self.operands[0]} - {self.operands[1]}"
        if self.op is Op.GREATER_OF:
            return f"max({', '.join(self.operands)})"
        return "input"


Row = Heading | Line


@dataclass(frozen=True, slots=True)
class Section:
    """A titled block of rows (the form's page or part headings)."""

    title: str
    rows: tuple[Row, ...]


@dataclass(frozen=True, slots=True)
class Statement:
    """One of the three statements of the Daily Segregation filing.

    `key` is the TOML table name and `name` its short name in the summary; `excess` and
    `over_target` are the codes the summary reports.
    """

    key: str
    name: str
    title: str
    authority: str
    sections: tuple[Section, ...]
    excess: str
    over_target: str
    _by_code: dict[str, Line] = field(init=False, repr=False, compare=False)
    _context: dict[str, str] = field(init=False, repr=False, compare=False)

    def __post_init__(self) -> None:
        by_code: dict[str, Line] = {}
        context: dict[str, str] = {}
        for section in self.sections:
            group: tuple[str, str] = ("", "")  # the numbered line or heading sub-items belong to
            for row in section.rows:
                if isinstance(row, Heading):
                    group = (row.label, row.caption)
                    continue
                if row.code in by_code:
                    raise ValueError(f"{self.key}: code {row.code} defined twice")
                by_code[row.code] = row
                if row.label.isdigit():
                    group = (row.label, row.caption)
                context[row.code] = _describe(row, group)
        object.__setattr__(self, "_by_code", by_code)
        object.__setattr__(self, "_context", context)

    def lines(self) -> Iterator[Line]:
        """Every line in form order."""
        for section in self.sections:
            for row in section.rows:
                if isinstance(row, Line):
                    yield row

    def line(self, code: str) -> Line:
        """The line with form code `code` (KeyError if the statement has none)."""
        return self._by_code[code]

    def has(self, code: str) -> bool:
        """True when the statement defines `code`."""
        return code in self._by_code

    def net_inputs(self) -> dict[str, tuple[str, ...]]:
        """Net lines that may be entered in place of their parts: those whose parts the form
        prints without codes (cleared swaps line 12: [8715] or 8715A-C), so that the figures
        can be copied from the form as it is printed."""
        return {line.code: line.operands for line in self.lines()
                if line.op is Op.SUM and line.operands
                and all(not self._by_code[c].derived and not self._by_code[c].form_code
                        for c in line.operands)}

    def describe(self, code: str) -> str:
        """Line number and caption for messages, e.g. "1.A Net ledger balance: Cash"."""
        return self._context[code]


def _describe(row: Line, group: tuple[str, str]) -> str:
    """Readable name of a line, borrowing its group's number and caption for sub-items."""
    number, caption = group
    if row.label.isdigit():
        return f"{row.label}. {row.caption}"
    if number == "":
        return row.caption
    if row.caption == "":
        # A net line the form prints without a caption: name it after what it nets.
        return f"{number}. {caption}: net of {row.formula()}"
    if row.label:
        return f"{number}.{row.label} {caption}: {row.caption}"
    return f"{number}. {caption}: {row.caption}"
