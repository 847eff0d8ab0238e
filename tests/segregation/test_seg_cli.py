"""`ats-seg` as a user runs it: the printed statements, the summary, JSON and exit codes."""

from __future__ import annotations

import json
import subprocess
import sys
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

from segregation.cli import main
from segregation.forms import STATEMENTS

ROOT = Path(__file__).resolve().parents[2]
SAMPLE = ROOT / "config" / "daily_seg_sample.toml"
Document = dict[str, dict[str, Any]]
Write = Callable[[Document | str], Path]


def run(capsys: pytest.CaptureFixture[str], *argv: str | Path) -> tuple[int, str, str]:
    status = main([str(a) for a in argv])
    out, err = capsys.readouterr()
    return status, out, err


def row_of(out: str, code: str) -> str:
    """The printed row that carries `[code]`."""
    [row] = [line for line in out.splitlines() if f"[{code}]" in line and "  " in line]
    return row


def test_sample_prints_three_statements_with_filed_figures(
        capsys: pytest.CaptureFixture[str], seed: dict[str, int]) -> None:
    status, out, err = run(capsys, SAMPLE)
    assert (status, err) == (0, "")
    for st in STATEMENTS:
        assert st.title in out
    for code, amount in seed.items():
        # Every filed figure, inputs and derived lines alike, printed with separators.
        assert f"{amount:,} [{code}]" in out, code
    assert "RESULT: consistent" in out


def test_net_line_is_printed_beside_its_last_sub_item(
        capsys: pytest.CaptureFixture[str]) -> None:
    _, out, _ = run(capsys, SAMPLE)
    row = row_of(out, "7354")
    assert "Less: amount offset by customer owned securities" in row
    assert row.index("-50,481,273 [7352]") < row.index("2,020,601 [7354]")
    assert row_of(out, "7050").count("[") == 2


def test_layout_shows_line_numbers_and_captions(capsys: pytest.CaptureFixture[str]) -> None:
    _, out, _ = run(capsys, SAMPLE)
    assert row_of(out, "7180").startswith(
        "13.  Total amount in segregation (add lines 7 through 12)")
    assert row_of(out, "7010").startswith("     A. Cash")
    assert "8.   Margins on deposit with derivatives clearing" in out


def test_summary_lists_excess_and_target_excess(capsys: pytest.CaptureFixture[str]) -> None:
    _, out, _ = run(capsys, SAMPLE)
    summary = out[out.index("SUMMARY"):]
    assert "Secured amounts (30.7)" in summary
    assert "227,401,439 [7380]" in summary and "47,501,439 [7785]" in summary
    assert "525,941,428 [7190]" in summary and "168,941,428 [7198]" in summary
    assert "735,567,093 [8730]" in summary and "270,767,093 [8770]" in summary
    assert "24 of 24 derived lines filed; 24 agree" in summary


def test_json_gives_every_code_amount_and_flags(capsys: pytest.CaptureFixture[str],
                                                seed: dict[str, int]) -> None:
    status, out, _ = run(capsys, SAMPLE, "--json")
    data = json.loads(out)
    assert status == data["exit_status"] == 0
    amounts = {code: entry["amount"] for st in data["statements"].values()
               for code, entry in st["lines"].items()}
    assert {code: amounts[code] for code in seed} == seed
    assert data["statements"]["segregation"]["lines"]["7190"]["formula"] == "7180 - 7060"
    assert [st["flags"] for st in data["statements"].values()] == [[], [], []]
    assert data["mismatches"] == []


def test_deficiency_exits_1_with_flag(capsys: pytest.CaptureFixture[str],
                                      sample_inputs: Document, write: Write) -> None:
    sample_inputs["segregation"]["7100"] -= 600_000_000
    status, out, _ = run(capsys, write(sample_inputs))
    assert status == 1
    summary = out[out.index("SUMMARY"):]
    assert "-74,058,572 [7190]" in summary
    assert "DEFICIENCY, BELOW TARGET" in summary
    assert "RESULT: DEFICIENCY in Segregation (4d(2))" in summary


def test_below_target_is_flagged_and_exits_0(capsys: pytest.CaptureFixture[str],
                                             sample_inputs: Document, write: Write) -> None:
    sample_inputs["secured_amounts"]["7700"] -= 100_000_000
    status, out, _ = run(capsys, write(sample_inputs), "--json")
    data = json.loads(out)
    assert status == 0
    secured = data["statements"]["secured_amounts"]
    assert (secured["excess"], secured["over_target"]) == (127_401_439, -52_498_561)
    assert secured["flags"] == ["BELOW TARGET"]
    assert data["verdict"] == "BELOW TARGET in Secured amounts (30.7)"


def test_mismatch_reports_both_figures_and_exits_1(capsys: pytest.CaptureFixture[str],
                                                   sample: Document, write: Write) -> None:
    sample["cleared_swaps"]["8720"] = 33_317_393_000
    status, out, _ = run(capsys, write(sample))
    assert status == 1
    assert "<< MISMATCH: filed 33,317,393,000" in row_of(out, "8720")
    mismatches = out[out.index("MISMATCHES"):]
    assert "[cleared_swaps] 8720 13. Total amount in cleared swaps customer segregation" \
        in mismatches
    assert "filed 33,317,393,000, computed 33,317,393,562, difference -562" in mismatches
    assert "does not follow from the filed lines it is computed from" in mismatches
    # 8730 and 8770 are checked against the computation, which they match: one mismatch only.
    assert "RESULT: 1 mismatch;" not in out and "RESULT: 1 mismatch" in out


def test_missing_input_exits_2_naming_code_and_caption(
        capsys: pytest.CaptureFixture[str], sample: Document, write: Write) -> None:
    del sample["segregation"]["7130"]
    status, out, err = run(capsys, write(sample))
    assert (status, out) == (2, "")
    assert "[segregation] missing input 7130 (9. Net settlement from (to) derivatives clearing " \
           "organizations of contract markets)" in err


def test_bad_input_with_json_prints_errors_as_json(
        capsys: pytest.CaptureFixture[str], sample: Document, write: Write) -> None:
    sample["extra"] = {"1": 1}
    status, out, err = run(capsys, write(sample), "--json")
    assert status == 2
    assert "unknown table [extra]" in json.loads(out)["errors"][0]
    assert "unknown table [extra]" in err


def test_usage_error_exits_2(capsys: pytest.CaptureFixture[str]) -> None:
    status, _, err = run(capsys)
    assert status == 2 and "usage: ats-seg" in err


def _module(*args: str | Path) -> subprocess.CompletedProcess[str]:
    return subprocess.run([sys.executable, "-m", "segregation", *map(str, args)], cwd=ROOT,
                          capture_output=True, text=True, timeout=60, check=False)


def test_python_dash_m_exit_codes(sample: Document, write: Write) -> None:
    ok = _module(SAMPLE)
    assert ok.returncode == 0 and "RESULT: consistent" in ok.stdout
    sample["segregation"]["7040"] += 1
    mismatch = _module(write(sample))
    assert mismatch.returncode == 1 and "filed 17,199,801,109, computed 17,199,801,108" \
        in mismatch.stdout
    bad = SAMPLE.read_text().replace('"7010" = 9_739_976_289', '"7010" = "a lot"')
    broken = _module(write(bad))
    assert broken.returncode == 2 and "[segregation] 7010" in broken.stderr


def test_json_mismatch_carries_both_figures(capsys: pytest.CaptureFixture[str],
                                            sample: Document, write: Write) -> None:
    sample["secured_amounts"]["7354"] = 2_020_600
    status, out, _ = run(capsys, write(sample), "--json")
    data = json.loads(out)
    assert status == data["exit_status"] == 1
    [m] = data["mismatches"]
    assert (m["code"], m["filed"], m["computed"], m["difference"], m["origin"]) == (
        "7354", 2_020_600, 2_020_601, -1, True)
    line = data["statements"]["secured_amounts"]["lines"]["7354"]
    assert (line["amount"], line["filed"], line["formula"]) == (2_020_601, 2_020_600,
                                                                  "7351 + 7352")
    assert data["statements"]["secured_amounts"]["flags"] == ["MISMATCH"]


def test_line_12_given_as_printed_net_8715(capsys: pytest.CaptureFixture[str]) -> None:
    # the sample is the seed's figures as the form prints them: line 12 as its net [8715]
    status, out, err = run(capsys, SAMPLE)
    assert (status, err) == (0, "")
    assert row_of(out, "8715").rstrip().endswith("(in net) (8715C)                0 [8715]")
    assert "735,567,093 [8730]" in out
    status, out, _ = run(capsys, SAMPLE, "--json")
    line12 = json.loads(out)["statements"]["cleared_swaps"]["lines"]
    assert line12["8715"] == {"line": "12. Cleared swaps customer funds on hand: net of 8715A + "
                                      "8715B + 8715C", "amount": 0, "derived": False,
                              "formula": None, "filed": 0}
    assert line12["8715A"]["amount"] is None


def test_line_12_given_as_parts(capsys: pytest.CaptureFixture[str], sample: Document,
                                write: Write) -> None:
    del sample["cleared_swaps"]["8715"]
    sample["cleared_swaps"].update({"8715A": 1_000, "8715B": 0, "8715C": 0})
    sample["cleared_swaps"]["8720"] += 1_000
    sample["cleared_swaps"]["8730"] += 1_000
    sample["cleared_swaps"]["8770"] += 1_000
    status, out, _ = run(capsys, write(sample))
    assert status == 0
    assert row_of(out, "8715").rstrip().endswith("0 (8715C)            1,000 [8715]")
    assert "Checked: 24 of 25 derived lines filed; 24 agree" in out


def test_line_12_net_and_parts_exit_2(capsys: pytest.CaptureFixture[str], sample: Document,
                                      write: Write) -> None:
    sample["cleared_swaps"]["8715C"] = 0
    status, out, err = run(capsys, write(sample))
    assert (status, out) == (2, "")
    assert "[cleared_swaps] 8715 and 8715C" in err and "not both" in err
