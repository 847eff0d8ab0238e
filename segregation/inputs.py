"""Read and validate the TOML input of a Daily Segregation filing.

The file has one table per statement (`[secured_amounts]`, `[segregation]`, `[cleared_swaps]`),
each mapping form codes to whole-dollar integer amounts. Every input line must be given; derived
lines may be given too (as filed) and are then checked against the computation. A net line whose
parts have no form code (cleared swaps [8715]) may be given in place of its parts, not with them.
"""

from __future__ import annotations

import tomllib
from pathlib import Path
from typing import Any

from .forms import BY_KEY, STATEMENTS
from .model import Sign, Statement

Filing = dict[str, dict[str, int]]
"""Statement key -> form code -> amount in dollars."""

_TABLES = ", ".join(f"[{s.key}]" for s in STATEMENTS)


class InputError(Exception):
    """The input cannot be used; `messages` holds one line per problem."""

    def __init__(self, messages: list[str]) -> None:
        super().__init__("\n".join(messages))
        self.messages = messages


def load(path: str | Path) -> Filing:
    """Read `path` and validate it (InputError listing every problem found)."""
    path = Path(path)
    try:
        text = path.read_text(encoding="utf-8")
    except OSError as exc:
        raise InputError([f"{path}: cannot read: {exc.strerror or exc}"]) from exc
    except UnicodeDecodeError as exc:
        raise InputError([f"{path}: not UTF-8 text: {exc.reason}"]) from exc
    return parse(text, source=str(path))


def parse(text: str, source: str = "<input>") -> Filing:
    """Parse and validate TOML text (InputError listing every problem found)."""
    try:
        document = tomllib.loads(text)
    except tomllib.TOMLDecodeError as exc:
        raise InputError([f"{source}: not valid TOML: {exc}"]) from exc
    return validate(document, source)


def validate(document: dict[str, Any], source: str = "<input>") -> Filing:
    """Check a parsed document against the three statements and return its figures."""
    errors: list[str] = []
    filing: Filing = {}
    for key, table in document.items():
        if key not in BY_KEY:
            errors.append(f"{source}: unknown table [{key}]; expected {_TABLES}")
        elif not isinstance(table, dict):
            errors.append(f"{source}: [{key}] must be a table of form codes, "
                          f"not a single value")
    for statement in STATEMENTS:
        table = document.get(statement.key)
        if table is None:
            errors.append(f"{source}: missing table [{statement.key}] ({statement.title})")
        elif isinstance(table, dict):
            filing[statement.key] = _figures(statement, table, source, errors)
    if errors:
        raise InputError(errors)
    return filing


def _figures(statement: Statement, table: dict[str, Any], source: str,
             errors: list[str]) -> dict[str, int]:
    """The table's amounts; problems are appended to `errors`."""
    where = f"{source}: [{statement.key}]"
    figures: dict[str, int] = {}
    for code, amount in table.items():
        if not statement.has(code):
            errors.append(f"{where} {_unknown(code)}")
            continue
        name = f"{code} ({statement.describe(code)})"
        # bool is a subclass of int; `true` is not an amount.
        if type(amount) is not int:
            errors.append(f"{where} {name}: amount must be a whole number of dollars (TOML "
                          f"integer, e.g. 1_234_567), got {_show(amount)}")
            continue
        line = statement.line(code)
        if not line.derived and not line.sign.admits(amount):
            errors.append(f"{where} {name}: {_sign_rule(line.sign)}, got {amount:,}")
            continue
        figures[code] = amount
    covered = _net_or_parts(statement, table, where, errors)
    for line in statement.lines():
        if not line.derived and line.code not in table and line.code not in covered:
            errors.append(f"{where} missing input {line.code} "
                          f"({statement.describe(line.code)})")
    return figures


def _net_or_parts(statement: Statement, table: dict[str, Any], where: str,
                  errors: list[str]) -> set[str]:
    """Parts that need not be given: their net line was given instead, or is reported missing
    (one message for the line instead of one per part)."""
    covered: set[str] = set()
    for net, parts in statement.net_inputs().items():
        given = [p for p in parts if p in table]
        either = (f"give either the net [{net}], as printed on the form, or its parts "
                  f"{', '.join(parts)}")
        if net in table and given:
            covered.update(parts)
            errors.append(f"{where} {net} and {', '.join(given)} "
                          f"({statement.describe(net)}): {either}, not both")
        elif net in table or not given:
            covered.update(parts)
            if net not in table:
                errors.append(f"{where} missing input {net} ({statement.describe(net)}): "
                              f"{either}")
    return covered


def _unknown(code: str) -> str:
    """Message for a code the statement does not have, naming its statement if another has it."""
    for other in STATEMENTS:
        if other.has(code):
            return (f"code {code} is not on this statement; it is {other.describe(code)} "
                    f"in [{other.key}]")
    return f"unknown code {code!r}"


def _sign_rule(sign: Sign) -> str:
    if sign is Sign.NON_POSITIVE:
        return ("must be zero or negative (the form adds every line, so a deduction is entered "
                "with a minus sign)")
    return "must be zero or positive"


def _show(value: Any) -> str:
    """A short rendering of a bad value with its TOML type."""
    kind = {bool: "boolean", float: "float", str: "string", dict: "table",
            list: "array"}.get(type(value), type(value).__name__)
    text = repr(value)
    if len(text) > 40:
        text = text[:37] + "..."
    return f"{text} ({kind})"
