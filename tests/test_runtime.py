"""Process-wide settings: thread counts, determinism and precision flags, compile."""

import pytest

import retrograd as rg


def test_num_threads_round_trip():
    before = rg.get_num_threads()
    assert before >= 1
    try:
        rg.set_num_threads(1)
        assert rg.get_num_threads() == 1
        assert (rg.ones(8, 8) @ rg.ones(8, 8)).sum().item() == 512.0
    finally:
        rg.set_num_threads(before)
    with pytest.raises(ValueError, match="set_num_threads"):
        rg.set_num_threads(0)
    rg.set_num_interop_threads(2)
    assert rg.get_num_interop_threads() == 2


def test_flags_are_reported_back():
    rg.use_deterministic_algorithms(True, warn_only=True)
    assert rg.are_deterministic_algorithms_enabled()
    assert rg.is_deterministic_algorithms_warn_only_enabled()
    rg.use_deterministic_algorithms(False)
    rg.set_float32_matmul_precision("high")
    assert rg.get_float32_matmul_precision() == "high"
    rg.set_float32_matmul_precision("highest")
    with pytest.raises(ValueError, match="precision"):
        rg.set_float32_matmul_precision("low")


def test_compile_returns_its_argument():
    model = rg.nn.Linear(2, 2)
    assert rg.compile(model) is model
    assert rg.compile(mode="max-autotune")(abs) is abs
