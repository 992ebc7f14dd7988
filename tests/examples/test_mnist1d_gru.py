"""examples/mnist1d_gru.py: a short run learns (well above the 10% of chance)."""

import importlib.util
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]


def _load_example():
    path = ROOT / "examples" / "mnist1d_gru.py"
    spec = importlib.util.spec_from_file_location("mnist1d_gru", path)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def test_short_gru_run_learns(capsys):
    pytest.importorskip("mnist1d")
    example = _load_example()
    result = example.main(["--samples", "2000", "--epochs", "8", "--hidden", "48",
                           "--batch-size", "32"])
    printed = capsys.readouterr().out
    assert "GRU(48, layers=1)" in printed and "test accuracy" in printed
    assert result["accuracy"] > 0.3, printed
