"""Fixtures for the Daily Segregation tests: the sample filing, the seed's filed figures."""

from __future__ import annotations

import re
import tomllib
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

from segregation.forms import STATEMENTS

ROOT = Path(__file__).resolve().parents[2]
SAMPLE = ROOT / "config" / "daily_seg_sample.toml"
# A copy of /work/shared/seeds/000_5a01a5fae5dff350.txt, the filed form as OCR text.
SEED = Path(__file__).with_name("seed_daily_seg_000.txt")

Document = dict[str, dict[str, Any]]


def seed_figures() -> dict[str, int]:
    """Every bracketed figure of the filed form, by code ("1,234 [7010]" -> {"7010": 1234}).

    The OCR text wraps figures in HTML tags and sometimes splits a net line's figure from its
    code with leader dots; garbled repeats such as "2 040 074 475 (7070)" do not match.
    """
    text = re.sub(r"<[^>]+>", "", SEED.read_text(encoding="utf-8"))
    figures: dict[str, int] = {}
    for amount, code in re.findall(r"(-?\d[\d,]*)[\s·•]*\[\s*(\d{4})\]", text):
        value = int(amount.replace(",", ""))
        assert figures.setdefault(code, value) == value, f"seed gives two figures for {code}"
    return figures


def inputs_only(document: Document) -> Document:
    """The document without the derived lines (only what a preparer enters; a net line given
    in place of its parts, as the form prints cleared swaps line 12 [8715], stays)."""
    out: Document = {}
    for st in STATEMENTS:
        nets = st.net_inputs()
        out[st.key] = {c: v for c, v in document[st.key].items()
                       if not st.line(c).derived or c in nets}
    return out


def to_toml(document: Document) -> str:
    """Minimal TOML writer for tables of code = integer (tomllib only reads)."""
    parts = []
    for table, entries in document.items():
        parts.append(f"[{table}]")
        parts += [f'"{code}" = {value}' for code, value in entries.items()]
    return "\n".join(parts) + "\n"


@pytest.fixture
def sample() -> Document:
    """The sample filing (inputs and filed derived lines) as a fresh dict."""
    with SAMPLE.open("rb") as f:
        return tomllib.load(f)


@pytest.fixture
def seed() -> dict[str, int]:
    """The filed figures of the seed, by form code."""
    return seed_figures()


@pytest.fixture
def write(tmp_path: Path) -> Callable[[Document | str], Path]:
    """Write a document (dict or raw TOML text) to a temporary file and return its path."""
    counter = iter(range(1000))

    def _write(document: Document | str) -> Path:
        path = tmp_path / f"filing{next(counter)}.toml"
        text = document if isinstance(document, str) else to_toml(document)
        path.write_text(text, encoding="utf-8")
        return path

    return _write


@pytest.fixture
def sample_inputs(sample: Document) -> Document:
    """The sample filing with its derived lines removed."""
    return inputs_only(sample)
