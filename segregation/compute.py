"""Compute every derived line of a statement and check figures filed for them.

Amounts are Python ints (whole dollars), so every sum is exact.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass
from enum import Enum

from .forms import STATEMENTS
from .model import Line, Op, Statement


class Flag(Enum):
    """Conditions the summary calls out."""

    DEFICIENCY = "DEFICIENCY"
    BELOW_TARGET = "BELOW TARGET"
    MISMATCH = "MISMATCH"


@dataclass(frozen=True, slots=True)
class Mismatch:
    """A derived line whose filed figure differs from the computation.

    `as_filed` applies the line's formula to the filed figures of its operands (computed ones
    where none was filed). When it equals `filed`, the error was carried in from a line above;
    when it differs too, this line's own arithmetic is wrong (`origin` is True).
    """

    statement: str
    code: str
    description: str
    formula: str
    filed: int
    computed: int
    as_filed: int

    @property
    def difference(self) -> int:
        """Filed minus computed."""
        return self.filed - self.computed

    @property
    def origin(self) -> bool:
        """True when the filed figure does not follow from the filed figures it is made of."""
        return self.as_filed != self.filed


@dataclass(frozen=True, slots=True)
class StatementResult:
    """One statement's amounts (inputs and computed lines) and its checks."""

    statement: Statement
    amounts: Mapping[str, int]
    filed: Mapping[str, int]
    mismatches: tuple[Mismatch, ...]
    #: net lines given in place of their parts (those parts have no amount in `amounts`)
    given_nets: frozenset[str] = frozenset()

    @property
    def derived(self) -> tuple[str, ...]:
        """Codes of the lines computed in this filing."""
        return tuple(line.code for line in self.statement.lines()
                     if line.derived and line.code not in self.given_nets)

    @property
    def excess(self) -> int:
        """Excess (deficiency) of funds over the requirement."""
        return self.amounts[self.statement.excess]

    @property
    def over_target(self) -> int:
        """Excess over (under) the management target."""
        return self.amounts[self.statement.over_target]

    @property
    def flags(self) -> tuple[Flag, ...]:
        """DEFICIENCY, BELOW TARGET and MISMATCH, those that apply, in that order."""
        flags = []
        if self.excess < 0:
            flags.append(Flag.DEFICIENCY)
        if self.over_target < 0:
            flags.append(Flag.BELOW_TARGET)
        if self.mismatches:
            flags.append(Flag.MISMATCH)
        return tuple(flags)


@dataclass(frozen=True, slots=True)
class FilingResult:
    """All three statements computed and checked."""

    statements: tuple[StatementResult, ...]

    @property
    def mismatches(self) -> tuple[Mismatch, ...]:
        """Every mismatch, in statement and form order."""
        return tuple(m for r in self.statements for m in r.mismatches)

    @property
    def exit_status(self) -> int:
        """0 when consistent and no statement is in deficiency, else 1 (below target is 0)."""
        failed = any(Flag.DEFICIENCY in r.flags or r.mismatches for r in self.statements)
        return 1 if failed else 0


def apply(line: Line, value: Callable[[str], int]) -> int:
    """The line's formula evaluated with `value` giving each operand's amount."""
    operands = [value(code) for code in line.operands]
    if line.op is Op.SUM:
        return sum(operands)
    if line.op is Op.DIFFERENCE:
        return operands[0] - operands[1]
    if line.op is Op.GREATER_OF:
        return max(operands)
    raise ValueError(f"line {line.code} is an input, not a formula")


def given_nets(statement: Statement, inputs: Mapping[str, int]) -> dict[str, tuple[str, ...]]:
    """Net lines given in place of their parts (none of the parts given), with those parts."""
    return {net: parts for net, parts in statement.net_inputs().items()
            if net in inputs and not any(p in inputs for p in parts)}


def evaluate(statement: Statement, inputs: Mapping[str, int]) -> dict[str, int]:
    """Amounts of every line: the inputs as given and each derived line computed from them.

    `inputs` must hold every input line of the statement (KeyError otherwise); figures it holds
    for derived lines are ignored here (see `check`), except a net line given in place of its
    parts: it is then an input, and its parts have no amount.
    """
    amounts: dict[str, int] = {}
    nets = given_nets(statement, inputs)
    skipped = {part for parts in nets.values() for part in parts}

    def value(code: str) -> int:
        if code not in amounts:
            line = statement.line(code)
            derived = line.derived and code not in nets
            amounts[code] = apply(line, value) if derived else inputs[code]
        return amounts[code]

    for line in statement.lines():
        if line.code not in skipped:
            value(line.code)
    return {line.code: amounts[line.code] for line in statement.lines() if line.code in amounts}


def check(statement: Statement, amounts: Mapping[str, int],
          filed: Mapping[str, int]) -> tuple[Mismatch, ...]:
    """Compare each filed derived figure with the computed amount."""

    def as_filed(code: str) -> int:
        return filed.get(code, amounts[code])

    mismatches = []
    for line in statement.lines():
        if not line.derived or line.code not in filed or filed[line.code] == amounts[line.code]:
            continue
        mismatches.append(Mismatch(
            statement=statement.key,
            code=line.code,
            description=statement.describe(line.code),
            formula=line.formula(),
            filed=filed[line.code],
            computed=amounts[line.code],
            as_filed=apply(line, as_filed),
        ))
    return tuple(mismatches)


def compute_statement(statement: Statement, figures: Mapping[str, int]) -> StatementResult:
    """Compute one statement from its figures (inputs plus any filed derived lines)."""
    amounts = evaluate(statement, figures)
    nets = frozenset(given_nets(statement, figures))
    filed = {line.code: figures[line.code] for line in statement.lines()
             if line.derived and line.code in figures and line.code not in nets}
    return StatementResult(statement, amounts, filed, check(statement, amounts, filed), nets)


def compute_filing(filing: Mapping[str, Mapping[str, int]]) -> FilingResult:
    """Compute all three statements; `filing` maps each statement key to its figures."""
    return FilingResult(tuple(compute_statement(s, filing[s.key]) for s in STATEMENTS))
