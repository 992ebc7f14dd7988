"""detect_anomaly: the first NaN/Inf, forward or backward, with the op and the user's line."""

import sys

import numpy as np
import pytest

import retrograd as rg
from retrograd.autograd import AnomalyError, Function, detect_anomaly, is_anomaly_enabled


def f64(values, requires_grad=True):
    return rg.tensor(np.asarray(values, dtype=np.float64), requires_grad=requires_grad)


def here():
    """file:line of the caller's next line."""
    frame = sys._getframe(1)
    return f"{frame.f_code.co_filename}:{frame.f_lineno + 1}"


@pytest.fixture(autouse=True)
def quiet_numpy():
    with np.errstate(all="ignore"):
        yield


def test_forward_nan_names_the_op_and_the_user_line():
    x = f64([1.0, 2.0])
    with detect_anomaly(), pytest.raises(AnomalyError) as info:
        where = here()
        (x - 5.0).log()
    error = info.value
    assert error.op_name == "log" and error.phase == "forward"
    assert where in error.source and "(x - 5.0).log()" in error.source
    assert "op 'log' produced NaN/Inf from finite inputs" in str(error)
    assert "min -4" in str(error)  # input statistics


def test_backward_inf_names_the_op_and_the_line_that_created_it():
    x = f64([0.0, 4.0])
    with detect_anomaly():
        where = here()
        y = x**0.5  # finite forward, infinite gradient at 0
        with pytest.raises(AnomalyError) as info:
            y.sum().backward()
    error = info.value
    assert error.op_name == "pow_scalar" and error.phase == "backward"
    assert where in error.source and "y = x**0.5" in error.source
    assert "input 0 contains NaN/Inf" in str(error)


class NanBackward(Function):
    @staticmethod
    def forward(ctx, x):
        return x * 2.0

    @staticmethod
    def backward(ctx, grad):
        return grad * float("nan")


def test_backward_nan_of_a_custom_function():
    x = f64([1.0])
    with detect_anomaly():
        where = here()
        y = NanBackward.apply(x) * 3.0
        with pytest.raises(AnomalyError, match="'NanBackward'") as info:
            y.sum().backward()
    assert where in info.value.source


def test_a_nan_that_flows_in_is_reported_where_it_first_appeared():
    x = f64([1.0, -1.0])
    with detect_anomaly():
        with pytest.raises(AnomalyError, match="'log'"):
            ((x * 2.0).log() * 3.0).exp()  # blamed on log, where the NaN appeared
    bad = f64([np.nan, 1.0], requires_grad=False)
    with detect_anomaly():
        out = bad.exp() * 2.0  # NaN came in: nothing to blame here
    assert np.isnan(out.data[0])


def test_without_anomaly_mode_nans_propagate_silently():
    x = f64([-1.0])
    y = x.log()
    assert np.isnan(y.data).all() and y.grad_fn.source is None
    y.sum().backward()
    assert x.grad.item() == -1.0


def test_anomaly_mode_is_scoped_and_nests():
    assert not is_anomaly_enabled()
    with detect_anomaly():
        assert is_anomaly_enabled()
        with detect_anomaly(check_nan=False):
            assert is_anomaly_enabled()
        assert is_anomaly_enabled()
    assert not is_anomaly_enabled()
    with pytest.raises(KeyError):
        with detect_anomaly():
            raise KeyError("k")
    assert not is_anomaly_enabled()


def test_check_nan_false_records_lines_without_raising():
    x = f64([-1.0])
    with detect_anomaly(check_nan=False):
        where = here()
        y = x.log()
    assert where in y.grad_fn.source


def test_backward_errors_point_at_the_forward_line_in_anomaly_mode():
    x = f64([1.0, 2.0])
    with detect_anomaly():
        h = x * 1.0
        where = here()
        y = h * h  # mul saves h
        h.add_(1.0)
    with pytest.raises(RuntimeError) as info:
        y.sum().backward()
    assert "created at" in str(info.value) and where in str(info.value)
    assert "in-place op 'add_'" in str(info.value)


def test_errors_in_a_vjp_get_a_note_with_the_forward_line():
    class Broken(Function):
        @staticmethod
        def forward(ctx, x):
            return x * 1.0

        @staticmethod
        def backward(ctx, grad):
            raise ValueError("bad rule")

    x = f64([1.0])
    with detect_anomaly():
        where = here()
        y = Broken.apply(x)
    with pytest.raises(ValueError, match="bad rule") as info:
        y.sum().backward()
    assert any(where in note for note in info.value.__notes__)
