"""Fixtures for the matcher tests."""

import pytest
from matcher_harness import Harness


@pytest.fixture
def h() -> Harness:
    """A fresh engine with the standard test participants and symbols."""
    return Harness()
