"""The statements' structure: every formula refers to lines that exist, without cycles."""

from __future__ import annotations

import pytest

from segregation.forms import BY_KEY, STATEMENTS
from segregation.model import Sign, Statement


@pytest.mark.parametrize("st", STATEMENTS, ids=lambda s: s.key)
def test_every_operand_is_a_line_of_the_same_statement(st: Statement) -> None:
    for line in st.lines():
        for code in line.operands:
            assert st.has(code), f"{st.key} {line.code} uses unknown {code}"


@pytest.mark.parametrize("st", STATEMENTS, ids=lambda s: s.key)
def test_formulas_have_no_cycles(st: Statement) -> None:
    def depends_on(code: str, seen: frozenset[str]) -> None:
        assert code not in seen, f"cycle through {code}"
        for operand in st.line(code).operands:
            depends_on(operand, seen | {code})

    for line in st.lines():
        depends_on(line.code, frozenset())


def test_codes_are_unique_across_statements() -> None:
    codes = [line.code for st in STATEMENTS for line in st.lines()]
    assert len(codes) == len(set(codes))


def test_each_input_is_used_by_exactly_one_formula() -> None:
    # A line counted twice (or never) would double (or drop) an amount in the totals.
    for st in STATEMENTS:
        used = [c for line in st.lines() for c in line.operands]
        for line in st.lines():
            if not line.derived:
                assert used.count(line.code) == 1, f"{st.key} {line.code}"


def test_deductions_must_be_entered_negative() -> None:
    for code in ("7337", "7352", "7615", "7675", "7735"):
        assert BY_KEY["secured_amounts"].line(code).sign is Sign.NON_POSITIVE
    for code in ("7033", "7047", "7133"):
        assert BY_KEY["segregation"].line(code).sign is Sign.NON_POSITIVE
    for code in ("8540", "8570", "8680"):
        assert BY_KEY["cleared_swaps"].line(code).sign is Sign.NON_POSITIVE


def test_describe_names_the_line_number_heading_and_caption() -> None:
    secured = BY_KEY["secured_amounts"]
    assert secured.describe("7315").startswith("1.A Net ledger balance")
    assert secured.describe("7315").endswith(": Cash")
    assert secured.describe("7354").startswith("5. Account liquidating")
    assert secured.describe("7354").endswith("net of 7351 + 7352")
    assert BY_KEY["cleared_swaps"].describe("8715") == (
        "12. Cleared swaps customer funds on hand: net of 8715A + 8715B + 8715C")
