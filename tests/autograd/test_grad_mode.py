"""Grad-mode switches: no_grad, enable_grad, set_grad_enabled, inference_mode."""

import pytest

import retrograd as rg


def _records():
    return (rg.ones(2, requires_grad=True) * 2.0).requires_grad


def test_no_grad_as_a_context_manager_records_nothing_and_restores_the_mode():
    assert rg.is_grad_enabled()
    with rg.no_grad():
        assert not rg.is_grad_enabled()
        assert not _records()
    assert rg.is_grad_enabled() and _records()


def test_no_grad_as_a_decorator():
    @rg.no_grad()
    def f():
        return _records(), rg.is_grad_enabled()

    assert f() == (False, False)
    assert rg.is_grad_enabled()
    assert f.__name__ == "f"


def test_enable_grad_inside_no_grad():
    with rg.no_grad():
        with rg.enable_grad():
            assert _records()
        assert not _records()

    @rg.enable_grad()
    def g():
        return _records()

    with rg.no_grad():
        assert g()
        assert not rg.is_grad_enabled()


def test_set_grad_enabled_as_context_manager_decorator_and_function():
    with rg.set_grad_enabled(False):
        assert not _records()
    assert _records()

    @rg.set_grad_enabled(False)
    def f():
        return _records()

    assert rg.is_grad_enabled()  # decorating does not switch the mode
    assert f() is False
    assert rg.is_grad_enabled()

    rg.set_grad_enabled(False)
    try:
        assert not _records()
    finally:
        rg.set_grad_enabled(True)
    assert _records()


def test_modes_are_restored_after_an_exception():
    with pytest.raises(ValueError):
        with rg.no_grad():
            raise ValueError("boom")
    assert rg.is_grad_enabled()

    @rg.no_grad()
    def fails():
        raise KeyError("x")

    with pytest.raises(KeyError):
        fails()
    assert rg.is_grad_enabled()


def test_inference_mode():
    with rg.inference_mode():
        assert not _records()
    with rg.inference_mode(False):
        assert _records()


def test_nested_modes_unwind_in_order():
    with rg.no_grad():
        with rg.set_grad_enabled(True):
            with rg.no_grad():
                assert not rg.is_grad_enabled()
            assert rg.is_grad_enabled()
        assert not rg.is_grad_enabled()
    assert rg.is_grad_enabled()


def test_results_computed_under_no_grad_are_constants_in_a_later_graph():
    x = rg.tensor([1.0, 2.0], dtype=rg.float64, requires_grad=True)
    with rg.no_grad():
        c = x * 3.0
    assert not c.requires_grad and c.is_leaf
    (x * c).sum().backward()
    assert x.grad.tolist() == [3.0, 6.0]
