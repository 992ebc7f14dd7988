"""Shared fixtures for the nn tests."""

import pytest


@pytest.fixture
def torch():
    """The torch module, seeded; the test is skipped when torch is not installed."""
    torch = pytest.importorskip("torch")
    torch.manual_seed(0)
    return torch
