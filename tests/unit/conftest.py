"""Unit fixtures: the real store and data files with a fake NLU (one layer at a time)."""

from __future__ import annotations

import pytest

from runtime import build_runtime
from tests.fakes import FakeNLU


@pytest.fixture
def nlu() -> FakeNLU:
    """A keyword-rule NLU; tests add rules or take it down."""
    return FakeNLU()


@pytest.fixture
def runtime(settings, nlu):
    """The app's parts on a fresh database, understanding through the fake NLU."""
    return build_runtime(settings, nlu)
