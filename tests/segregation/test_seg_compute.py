"""Every derived line recomputed from the inputs equals the filed figure; checks and flags."""

from __future__ import annotations

from typing import Any

import pytest

from segregation.compute import Flag, compute_filing
from segregation.forms import STATEMENTS

DERIVED = [(st.key, line.code) for st in STATEMENTS for line in st.lines() if line.derived]
Document = dict[str, dict[str, Any]]


def test_sample_transcribes_every_bracketed_figure_of_the_seed(
        sample: Document, seed: dict[str, int]) -> None:
    flat = {code: amount for table in sample.values() for code, amount in table.items()}
    assert set(seed) <= set(flat)
    assert {code: flat[code] for code in seed} == seed
    # The sample is the form as printed: cleared swaps line 12 as its net [8715], not as the
    # A-C amounts the form prints without codes.
    assert set(flat) == set(seed)


@pytest.mark.parametrize(("statement", "code"), DERIVED)
def test_derived_line_recomputes_to_the_filed_figure(
        sample_inputs: Document, seed: dict[str, int], statement: str, code: str) -> None:
    result = compute_filing(sample_inputs)
    amounts = {r.statement.key: r.amounts for r in result.statements}
    assert amounts[statement][code] == seed[code]


def test_net_lines_without_captions_are_computed(sample_inputs: Document) -> None:
    result = compute_filing(sample_inputs)
    secured, seg, swaps = (r.amounts for r in result.statements)
    assert secured["7354"] == 52_501_874 - 50_481_273 == 2_020_601
    assert secured["7530"] == 1_117_117_554 + 610_175_269
    assert swaps["8580"] == 133_937_527 - 129_729_199
    assert swaps["8715"] == 0
    assert seg["7050"] == 18_387_257


def test_sample_as_filed_is_consistent_and_in_excess(sample: Document) -> None:
    result = compute_filing(sample)
    assert result.mismatches == ()
    assert [r.flags for r in result.statements] == [(), (), ()]
    assert [(r.excess, r.over_target) for r in result.statements] == [
        (227_401_439, 47_501_439), (525_941_428, 168_941_428), (735_567_093, 270_767_093)]
    assert result.exit_status == 0


def test_every_filed_derived_line_is_checked(sample: Document) -> None:
    result = compute_filing(sample)
    # every derived line but [8715], which the sample gives in place of its parts
    assert sum(len(r.filed) for r in result.statements) == len(DERIVED) - 1
    assert sum(len(r.derived) for r in result.statements) == len(DERIVED) - 1


def test_greater_of_takes_the_foreign_requirement_when_larger(sample_inputs: Document) -> None:
    sample_inputs["secured_amounts"]["7305"] = 6_000_000_000
    secured = compute_filing(sample_inputs).statements[0]
    assert secured.amounts["7360"] == 6_000_000_000
    assert secured.excess == 5_508_405_954 - 6_000_000_000
    assert secured.flags == (Flag.DEFICIENCY, Flag.BELOW_TARGET)


def test_deficiency_is_flagged_and_fails(sample_inputs: Document) -> None:
    sample_inputs["segregation"]["7070"] -= 600_000_000
    result = compute_filing(sample_inputs)
    seg = result.statements[1]
    assert seg.excess == 525_941_428 - 600_000_000
    assert seg.flags == (Flag.DEFICIENCY, Flag.BELOW_TARGET)
    assert result.exit_status == 1


def test_below_target_only_is_flagged_but_passes(sample_inputs: Document) -> None:
    sample_inputs["cleared_swaps"]["8600"] -= 300_000_000
    result = compute_filing(sample_inputs)
    swaps = result.statements[2]
    assert swaps.excess == 435_567_093
    assert swaps.over_target == -29_232_907
    assert swaps.flags == (Flag.BELOW_TARGET,)
    assert result.exit_status == 0


def test_excess_of_exactly_zero_is_not_a_deficiency(sample_inputs: Document) -> None:
    sample_inputs["segregation"]["7070"] -= 525_941_428
    seg = compute_filing(sample_inputs).statements[1]
    assert seg.excess == 0
    assert seg.flags == (Flag.BELOW_TARGET,)


def test_wrong_filed_total_is_a_mismatch_at_its_origin(sample: Document) -> None:
    sample["segregation"]["7040"] += 1
    result = compute_filing(sample)
    [m] = result.mismatches
    assert (m.code, m.filed, m.computed, m.difference) == (
        "7040", 17_199_801_109, 17_199_801_108, 1)
    assert m.origin
    assert result.statements[1].flags == (Flag.MISMATCH,)
    assert result.exit_status == 1


def test_changed_input_shows_origin_and_carried_mismatches(sample: Document) -> None:
    # A preparer corrects 7010 but not the filed totals: 7040 is where the arithmetic breaks,
    # the lines below it agree with the filed lines they are made of.
    sample["segregation"]["7010"] += 1_000
    result = compute_filing(sample)
    assert [(m.code, m.difference, m.origin) for m in result.mismatches] == [
        ("7040", -1_000, True), ("7060", -1_000, False), ("7190", 1_000, False),
        ("7198", 1_000, False)]


def test_amounts_stay_exact_integers_beyond_float_precision(sample_inputs: Document) -> None:
    # 2**53 + 1 is not representable as a float; the sums must still be exact.
    sample_inputs["cleared_swaps"]["8500"] = 2**53 + 1
    swaps = compute_filing(sample_inputs).statements[2]
    assert swaps.amounts["8550"] == 2**53 + 1 + 15_112_012_743 + 12_494_415_254
    assert all(type(v) is int for v in swaps.amounts.values())

