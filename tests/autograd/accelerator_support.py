"""Running one function under the compiled backward loop and under the Python one, for
tests/autograd/test_accelerator*.py (the `loops` fixture is in conftest.py)."""

import dataclasses
import importlib.util
import os

import numpy as np
import pytest

import retrograd as rg
from retrograd.autograd import engine
from retrograd.autograd.tensor import Tensor

PURE_PYTHON = os.environ.get("RETROGRAD_PURE_PYTHON", "") not in ("", "0")
BUILT = importlib.util.find_spec("retrograd.autograd._accel") is not None
ACCEL = BUILT and not PURE_PYTHON
NO_ACCEL = (
    "RETROGRAD_PURE_PYTHON is set" if PURE_PYTHON else "the compiled walk (_accel) is not built"
) + ": ran the Python loop only"


def leaf(values, dtype=np.float64):
    return rg.tensor(np.asarray(values, dtype=dtype), requires_grad=True)


# ---------------------------------------------------------------------------- running both loops
@dataclasses.dataclass
class Run:
    values: list  # one array (or None) per item fn returned
    routed: list  # op names of the nodes handed to engine._step, in walk order


def _value(item):
    if isinstance(item, Tensor):
        return None if item.grad is None else item.grad.data
    return None if item is None else np.asarray(item)


def assert_identical(python, accel):
    assert len(python) == len(accel)
    for i, (p, a) in enumerate(zip(python, accel)):
        assert (p is None) == (a is None), f"item {i}: {p!r} vs {a!r}"
        if p is not None:
            assert p.dtype == a.dtype and p.shape == a.shape, (
                f"item {i}: {p.dtype}{p.shape} vs {a.dtype}{a.shape}"
            )
            assert np.array_equal(p, a, equal_nan=True), f"item {i} differs:\n{p}\nvs\n{a}"


class Loops:
    def __init__(self, routed):
        self._routed = routed

    def run(self, fn, accelerated):
        self._routed.clear()
        previous = engine.use_accelerator(accelerated)
        try:
            return Run([_value(item) for item in fn()], list(self._routed))
        finally:
            engine.use_accelerator(previous)

    def both(self, fn, expect=None):
        """(python Run, compiled Run) of `fn()`, which builds a graph, runs backward and returns
        the tensors whose .grad to compare (or arrays); `expect(run)` checks the Python run."""
        python = self.run(fn, accelerated=False)
        assert python.routed, "the Python loop ran no node: the test builds no graph"
        if expect is not None:
            expect(python)
        if not ACCEL:
            pytest.skip(NO_ACCEL)
        accel = self.run(fn, accelerated=True)
        assert_identical(python.values, accel.values)
        return python, accel

    def both_raise(self, fn):
        """The errors `fn()` raises under each loop, after checking they are the same."""
        errors = []
        for accelerated in (False, True):
            if accelerated and not ACCEL:
                pytest.skip(NO_ACCEL)
            with pytest.raises(Exception) as info:
                self.run(fn, accelerated)
            errors.append(info.value)
        python, accel = errors
        assert type(python) is type(accel)
        assert str(python) == str(accel)
        assert getattr(python, "__notes__", None) == getattr(accel, "__notes__", None)
        return python, accel


def make_loops(monkeypatch):
    # NOTE: once any post-accumulate hook was registered in this process, every walk plans for
    # them (the plan is empty when no leaf of the graph has one); start from a clean process state.
    monkeypatch.setattr(Tensor, "_post_hooks_used", False)
    routed = []
    step = engine._step

    def recording_step(w, node, g):
        routed.append(node.op.name)
        return step(w, node, g)

    monkeypatch.setattr(engine, "_step", recording_step)
    return Loops(routed)


def close(actual, expected):
    np.testing.assert_allclose(actual, expected, rtol=1e-12, atol=1e-12)
