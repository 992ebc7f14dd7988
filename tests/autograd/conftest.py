"""Fixtures for tests/autograd."""

import pytest

from .accelerator_support import make_loops


@pytest.fixture
def loops(monkeypatch):
    """Runs a function under the compiled and the Python backward loop (see accelerator_support)."""
    return make_loops(monkeypatch)
