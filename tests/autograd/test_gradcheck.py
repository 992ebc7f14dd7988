"""gradcheck / gradgradcheck: they pass correct gradients and pinpoint wrong ones."""

import numpy as np
import pytest

import retrograd as rg
from retrograd.autograd import Function, GradcheckError, gradcheck, gradgradcheck


def f64(values, requires_grad=True):
    return rg.tensor(np.asarray(values, dtype=np.float64), requires_grad=requires_grad)


class OffByOneElement(Function):
    """x * y with a backward that is wrong for input 1 at element (1, 2) only."""

    @staticmethod
    def forward(ctx, x, y):
        ctx.save_for_backward(x, y)
        return x * y

    @staticmethod
    def backward(ctx, grad):
        x, y = ctx.saved_tensors
        wrong = np.ones(x.shape)
        wrong[1, 2] = 1.5
        return grad * y, grad * x * rg.tensor(wrong)


class FirstOrderOnly(Function):
    """x**3 with a correct first derivative whose own derivative is wrong: backward uses a
    detached x, so the gradient of the gradient misses a term."""

    @staticmethod
    def forward(ctx, x):
        ctx.save_for_backward(x)
        return x**3

    @staticmethod
    def backward(ctx, grad):
        (x,) = ctx.saved_tensors
        return grad * 3 * x.detach() ** 2


class WrongJvp(Function):
    @staticmethod
    def forward(ctx, x):
        return x * 2.0

    @staticmethod
    def backward(ctx, grad):
        return grad * 2.0

    @staticmethod
    def jvp(ctx, t):
        return t * 3.0


def _inputs(seed=0):
    rng = np.random.default_rng(seed)
    return f64(rng.uniform(0.5, 2.0, (2, 3))), f64(rng.uniform(0.5, 2.0, (2, 3)))


def test_gradcheck_passes_correct_gradients():
    assert gradcheck(lambda x, y: (x * y).exp() / y, _inputs())
    assert gradgradcheck(lambda x, y: (x * y).exp() / y, _inputs())


def test_gradcheck_reports_the_input_and_element_of_the_worst_mismatch():
    with pytest.raises(GradcheckError, match=r"input 1 at element \(1, 2\)") as info:
        gradcheck(OffByOneElement.apply, _inputs())
    message = str(info.value)
    assert "(backward)" in message and "(finite differences)" in message


def test_gradcheck_without_raising_returns_false():
    assert gradcheck(OffByOneElement.apply, _inputs(), raise_exception=False) is False


def test_gradgradcheck_finds_a_backward_that_is_not_differentiable_correctly():
    x = f64([0.5, 1.5, -1.0])
    assert gradcheck(FirstOrderOnly.apply, (x,))
    with pytest.raises(GradcheckError, match="input 0 at element"):
        gradgradcheck(FirstOrderOnly.apply, (x,))


def test_gradcheck_checks_forward_mode_on_request():
    x = f64([0.5, 1.5])
    assert gradcheck(WrongJvp.apply, (x,))
    with pytest.raises(GradcheckError, match="forward mode"):
        gradcheck(WrongJvp.apply, (x,), check_forward_ad=True)


def test_gradcheck_handles_several_outputs_and_constant_inputs():
    x, y = _inputs(1)
    c = f64([1.0, 2.0, 3.0], requires_grad=False)
    assert gradcheck(lambda x, y, c: (x * c, (y * y).sum()), (x, y, c))


def test_gradcheck_needs_float64_inputs_that_require_grad():
    with pytest.raises(TypeError, match=r"input 0 has dtype float32.*\.double\(\)"):
        gradcheck(lambda x: x * 2.0, (rg.ones(3, requires_grad=True),))
    with pytest.raises(ValueError, match="no input requires grad"):
        gradcheck(lambda x: x * 2.0, (f64([1.0], requires_grad=False),))


def test_gradcheck_leaves_its_inputs_unchanged():
    x, y = _inputs(2)
    before = x.data.copy()
    gradcheck(lambda x, y: x * y, (x, y))
    np.testing.assert_array_equal(x.data, before)
    assert x.grad is None
