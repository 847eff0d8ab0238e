"""Print computed statements in the form's layout, a summary, and a JSON view for programs."""

from __future__ import annotations

import json
import textwrap
from dataclasses import dataclass
from typing import Any

from .compute import FilingResult, Mismatch, StatementResult
from .model import Column, Heading, Line

LABEL_WIDTH = 5
CAPTION_WIDTH = 56
AMOUNT_WIDTH = 15
CODE_WIDTH = 7


def money(amount: int) -> str:
    """Whole dollars with thousands separators, minus sign for negatives: -1,234,567."""
    return f"{amount:,}"


def code_tag(line: Line) -> str:
    """[7010] for a form code; (8715A) for a key this tool invented where the form has none."""
    return f"[{line.code}]" if line.form_code else f"({line.code})"


@dataclass(slots=True)
class _Row:
    """One printed row being assembled: label, caption and up to two amount cells."""

    label: str
    caption: str
    inner: str = ""
    outer: str = ""
    note: str = ""


def _cell(line: Line, result: StatementResult) -> str:
    amount = result.amounts.get(line.code)
    # a part of a net line that was given as its net (cleared swaps [8715]) has no amount
    shown = "(in net)" if amount is None else money(amount)
    return f"{shown:>{AMOUNT_WIDTH}} {code_tag(line):<{CODE_WIDTH}}"


def _note(line: Line, result: StatementResult) -> str:
    filed = result.filed.get(line.code)
    if filed is None or filed == result.amounts[line.code]:
        return ""
    return f"<< MISMATCH: filed {money(filed)}"


def _rows(result: StatementResult, section_rows: tuple[Heading | Line, ...]) -> list[_Row]:
    rows: list[_Row] = []
    for item in section_rows:
        if isinstance(item, Heading):
            rows.append(_Row(f"{item.label}.", item.caption))
            continue
        cell, note = _cell(item, result), _note(item, result)
        if item.caption == "" and rows and rows[-1].inner and not rows[-1].outer:
            # The form prints a net line beside the last sub-item it nets.
            rows[-1].outer, rows[-1].note = cell, (rows[-1].note or note)
            continue
        lettered = item.label[:1].isalpha()
        label = "" if lettered or not item.label else f"{item.label}."
        caption = f"{item.label}. {item.caption}" if lettered else item.caption
        row = _Row(label, caption, note=note)
        if item.column is Column.INNER:
            row.inner = cell
        else:
            row.outer = cell
        rows.append(row)
    return rows


def _format_row(row: _Row) -> list[str]:
    # Lettered sub-items ("A. Cash") hang their continuation lines under the caption text.
    hang = "   " if row.caption[1:3] == ". " and row.caption[:1].isalpha() else ""
    wrapped = textwrap.wrap(row.caption, CAPTION_WIDTH, subsequent_indent=hang) or [""]
    lines = [f"{row.label if i == 0 else '':<{LABEL_WIDTH}}{w}" for i, w in enumerate(wrapped)]
    if row.inner or row.outer:
        blank = " " * (AMOUNT_WIDTH + 1 + CODE_WIDTH)
        tail = f"  {row.inner or blank}  {row.outer or blank}".rstrip()
        note = f"  {row.note}" if row.note else ""
        lines[-1] = f"{lines[-1]:<{LABEL_WIDTH + CAPTION_WIDTH}}{tail}{note}"
    return lines


def render_statement(result: StatementResult) -> str:
    """One statement as text, laid out like the form."""
    st = result.statement
    out = [st.title, st.authority, "=" * (LABEL_WIDTH + CAPTION_WIDTH + 2 * (AMOUNT_WIDTH + 10))]
    for section in st.sections:
        out += ["", section.title]
        for row in _rows(result, section.rows):
            out += _format_row(row)
    return "\n".join(out)


def _flags(result: StatementResult) -> str:
    return ", ".join(f.value for f in result.flags) or "-"


def render_summary(result: FilingResult) -> str:
    """Excess (deficiency) and excess over (under) target per statement, then the verdict."""
    head = f"{'Statement':<26}{'Excess (deficiency)':>22}{'Over (under) target':>22}  Flags"
    out = ["SUMMARY", head, "-" * len(head)]
    for r in result.statements:
        st = r.statement
        excess = f"{money(r.excess)} [{st.excess}]"
        over = f"{money(r.over_target)} [{st.over_target}]"
        out.append(f"{st.name:<26}{excess:>22}{over:>22}  {_flags(r)}")
    filed = sum(len(r.filed) for r in result.statements)
    derived = sum(len(r.derived) for r in result.statements)
    agree = filed - len(result.mismatches)
    out += ["", f"Checked: {filed} of {derived} derived lines filed; {agree} agree with the "
                f"computation, {len(result.mismatches)} differ"
            if filed else f"Checked: no derived line filed; all {derived} computed"]
    if result.mismatches:
        out += ["", "MISMATCHES (filed figure differs from the computation)"]
        out += [_mismatch(m) for m in result.mismatches]
    out += ["", f"RESULT: {verdict(result)}"]
    return "\n".join(out)


def _mismatch(m: Mismatch) -> str:
    origin = ("the filed figure does not follow from the filed lines it is computed from: "
              f"{m.formula} = {money(m.as_filed)} as filed" if m.origin else
              "carried from a line above; this line's own arithmetic agrees with the filed lines")
    return (f"  [{m.statement}] {m.code} {m.description}\n"
            f"      filed {money(m.filed)}, computed {money(m.computed)}, "
            f"difference {money(m.difference)}\n"
            f"      {origin}")


def verdict(result: FilingResult) -> str:
    """One line: consistent and in excess, or what is wrong."""
    problems = []
    if result.mismatches:
        n = len(result.mismatches)
        problems.append(f"{n} mismatch{'es' if n != 1 else ''}")
    for r in result.statements:
        problems += [f"{f.value} in {r.statement.name}" for f in r.flags if f.value != "MISMATCH"]
    if not problems:
        return "consistent; every statement in excess of its requirement and its target"
    return "; ".join(problems)


def render_text(result: FilingResult) -> str:
    """The three statements followed by the summary."""
    parts = [render_statement(r) for r in result.statements]
    return "\n\n\n".join(parts) + "\n\n\n" + render_summary(result) + "\n"


def to_json(result: FilingResult) -> dict[str, Any]:
    """Every code with its amount, plus excess, target excess, flags and mismatches."""
    statements: dict[str, Any] = {}
    for r in result.statements:
        st = r.statement
        derived = set(r.derived)
        lines = {
            line.code: {
                "line": st.describe(line.code),
                # null for the parts of a net line given as its net
                "amount": r.amounts.get(line.code),
                "derived": line.code in derived,
                "formula": line.formula() if line.code in derived else None,
                # The figure the input gave for the line; null for a derived line not given.
                "filed": r.filed.get(line.code) if line.code in derived
                else r.amounts.get(line.code),
            }
            for line in st.lines()
        }
        statements[st.key] = {
            "title": st.title,
            "excess": r.excess,
            "excess_code": st.excess,
            "over_target": r.over_target,
            "over_target_code": st.over_target,
            "flags": [f.value for f in r.flags],
            "lines": lines,
        }
    mismatches = [
        {"statement": m.statement, "code": m.code, "line": m.description, "formula": m.formula,
         "filed": m.filed, "computed": m.computed, "difference": m.difference,
         "origin": m.origin}
        for m in result.mismatches
    ]
    return {"statements": statements, "mismatches": mismatches, "verdict": verdict(result),
            "exit_status": result.exit_status}


def render_json(result: FilingResult) -> str:
    """`to_json` as indented JSON text (amounts are exact JSON integers)."""
    return json.dumps(to_json(result), indent=2) + "\n"
