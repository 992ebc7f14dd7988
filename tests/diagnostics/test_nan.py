"""rg.diagnostics NaN/Inf provenance: the first op that makes NaN/Inf, forward or backward, with
its module, source line, input statistics and cause; the allow-list for intentional infinities."""

import json
import math
import warnings

import numpy as np
import pytest

import retrograd as rg
from retrograd import nn
from retrograd.autograd import AnomalyError, graph
from retrograd.diagnostics import (
    NonfiniteError,
    allow_nonfinite,
    detect_nonfinite,
    find_nonfinite,
)

F = nn.functional
INF = float("inf")


@pytest.fixture(autouse=True)
def quiet_numpy():
    with warnings.catch_warnings(), np.errstate(all="ignore"):
        warnings.simplefilter("ignore", RuntimeWarning)
        yield


def first_nonfinite(fn, allow=(), allow_nan=False):
    """The report raised while running fn() and backward from its sum (None if finite)."""
    try:
        with detect_nonfinite(allow=allow, allow_nan=allow_nan):
            out = fn()
            if out.requires_grad:
                out.sum().backward()
    except NonfiniteError as err:
        return err.report
    return None


def leaf(*values, dtype=rg.float64):
    return rg.tensor(list(values), dtype=dtype, requires_grad=True)


# ------------------------------------------------------------------ a model, its module and line
class Block(nn.Module):
    def __init__(self):
        super().__init__()
        self.fc = nn.Linear(3, 4)

    def forward(self, x):
        return rg.log(self.fc(x))  # log of a linear output: negative somewhere


class Net(nn.Module):
    def __init__(self):
        super().__init__()
        self.block = Block()
        self.head = nn.Linear(4, 2)

    def forward(self, x):
        return self.head(self.block(x))


def test_find_nonfinite_names_op_module_line_and_input_statistics():
    rg.manual_seed(0)
    model = Net()
    x, y = rg.randn(8, 3), rg.randint(0, 2, (8,))
    report = find_nonfinite(model, F.cross_entropy, (x, y))
    assert (report.phase, report.op, report.module) == ("forward", "log", "block")
    assert report.cause == "log_nonpositive" and report.kind == "nan"
    assert "test_nan.py" in report.source and "rg.log(self.fc(x))" in report.source
    [stats] = report.inputs
    h = model.block.fc(x).detach().numpy()
    assert stats.shape == (8, 4) and stats.min == pytest.approx(h.min())
    assert stats.max == pytest.approx(h.max())
    assert stats.n_negative == int((h < 0).sum()) and not stats.has_nan and not stats.has_inf
    assert report.output.n_nan == int((h < 0).sum())
    assert "eps" in report.hint and "where" in report.hint
    text = str(report)
    assert "module 'block'" in text and "min" in text and "log_nonpositive" in text
    assert json.loads(json.dumps(report.to_dict()))["op"] == "log"
    assert all(p.grad is None for p in model.parameters())  # .grad untouched


def test_a_healthy_model_reports_nothing_and_leaves_no_trace():
    rg.manual_seed(0)
    model = nn.Sequential(nn.Linear(3, 4), nn.ReLU(), nn.Linear(4, 2))
    observers = list(graph._node_observers)
    assert find_nonfinite(model, F.cross_entropy, (rg.randn(5, 3), rg.randint(0, 2, (5,)))) is None
    assert graph._node_observers == observers and graph.get_anomaly() is None
    assert all(p.grad is None for p in model.parameters())
    assert not model[0]._hook_state.forward_pre


def test_nonfinite_parameters_and_batches_are_reported_first():
    model = nn.Sequential(nn.Linear(3, 2))
    x = rg.randn(4, 3)
    x.data[1, 2] = np.nan
    report = find_nonfinite(model, None, x)
    assert (report.phase, report.cause, report.names) == ("input", "nonfinite_input", ("input 0",))
    model[0].bias.data[0] = INF
    report = find_nonfinite(model, None, x)
    assert (report.phase, report.cause, report.names) == ("parameters", "nonfinite_parameter",
                                                          ("0.bias",))
    assert report.kind == "inf"


def test_detect_nonfinite_raises_an_anomaly_error_with_the_report():
    x = leaf(1.0, -1.0)
    with pytest.raises(AnomalyError) as info, detect_nonfinite():
        rg.sqrt(x)
    assert isinstance(info.value, NonfiniteError)
    assert info.value.report.cause == "sqrt_negative" and info.value.op_name == "sqrt"
    assert graph.get_anomaly() is None


# ------------------------------------------------------------------ the usual causes, forward
@pytest.mark.parametrize(
    "name,fn,op,cause,kind",
    [
        ("log of 0", lambda: rg.log(leaf(1.0, 0.0)), "log", "log_nonpositive", "inf"),
        ("log of negative", lambda: rg.log(leaf(1.0, -2.0)), "log", "log_nonpositive", "nan"),
        ("sqrt of negative", lambda: rg.sqrt(leaf(4.0, -1.0)), "sqrt", "sqrt_negative", "nan"),
        ("x / 0", lambda: leaf(1.0, 2.0) / rg.tensor([1.0, 0.0], dtype=rg.float64), "div",
         "division_by_zero", "inf"),
        ("0 / 0", lambda: leaf(0.0, 2.0) / rg.tensor([0.0, 1.0], dtype=rg.float64), "div",
         "division_by_zero", "nan"),
        ("x / tiny", lambda: leaf(1e10, 2.0) / rg.tensor([1e-300, 1.0], dtype=rg.float64),
         "div", "division_by_zero", "inf"),
        ("exp overflow", lambda: rg.exp(leaf(1.0, 800.0)), "exp", "exp_overflow", "inf"),
        ("float32 exp", lambda: rg.exp(leaf(1.0, 89.0, dtype=rg.float32)), "exp",
         "exp_overflow", "inf"),
        ("0 * inf", lambda: leaf(0.0, 1.0) * rg.tensor([INF, 1.0], dtype=rg.float64), "mul",
         "zero_times_inf", "nan"),
        ("inf - inf", lambda: leaf(INF, 1.0) - rg.tensor([INF, 1.0], dtype=rg.float64), "sub",
         "inf_minus_inf", "nan"),
        ("inf + -inf", lambda: leaf(INF, 1.0) + rg.tensor([-INF, 1.0], dtype=rg.float64), "add",
         "inf_minus_inf", "nan"),
        ("acos outside [-1, 1]", lambda: rg.acos(leaf(0.5, 1.5)), "acos", "domain", "nan"),
        ("negative ** 0.5", lambda: leaf(-1.0, 4.0) ** 0.5, "pow_scalar", "pow_negative_base",
         "nan"),
        ("float16 matmul", lambda: rg.full((2, 64), 40.0, dtype=rg.float16, requires_grad=True)
         @ rg.full((64, 2), 40.0, dtype=rg.float16), "matmul", "overflow", "inf"),
    ],
)
def test_forward_causes(name, fn, op, cause, kind):
    report = first_nonfinite(fn)
    assert (report.phase, report.op, report.cause, report.kind) == ("forward", op, cause, kind)
    assert report.hint


def test_a_fully_masked_softmax_row_makes_nan():
    scores = rg.randn(2, 3, requires_grad=True)
    mask = rg.tensor([[False, True, False], [True, True, True]])  # row 1: nothing to attend to
    report = first_nonfinite(lambda: F.softmax(scores.masked_fill(mask, -INF), dim=-1))
    assert (report.op, report.cause, report.kind) == ("softmax", "fully_masked_row", "nan")
    assert report.inputs[0].n_inf == 4
    # allowing the ops does not hide NaN, which cannot be intended
    report = first_nonfinite(lambda: F.softmax(scores.masked_fill(mask, -INF), dim=-1),
                             allow=("masked_fill", "softmax"))
    assert report.cause == "fully_masked_row"


# ------------------------------------------------------------------ the usual causes, backward
def test_the_where_trap():
    x = leaf(0.0, 1.0, 4.0)

    def safe_looking_log():  # the untaken branch of where still differentiates log at 0
        return rg.where(x > 0, rg.log(x), rg.zeros_like(x))

    forward = first_nonfinite(safe_looking_log)  # log(0) = -inf is made in forward ...
    assert (forward.phase, forward.op, forward.cause) == ("forward", "log", "log_nonpositive")
    assert "where" in forward.hint
    report = first_nonfinite(safe_looking_log, allow=("log",))  # ... and NaN in backward
    assert (report.phase, report.op, report.cause, report.kind) == (
        "backward", "log", "where_trap", "nan")
    assert report.input_index == 0
    assert report.grad_output.n_zero == 1 and report.output.n_nan == 1
    assert report.inputs[0].n_zero == 1
    # the fix the hint gives: make the input safe first
    safe = rg.where(x > 0, x, rg.ones_like(x))
    assert first_nonfinite(lambda: rg.where(x > 0, rg.log(safe), rg.zeros_like(x))) is None


def test_clamp_is_a_where_trap_too():
    x = leaf(0.0, 2.0)
    report = first_nonfinite(lambda: rg.log(x).clamp(min=-10.0), allow=("log",))
    assert (report.phase, report.op, report.cause) == ("backward", "log", "where_trap")


def test_zero_times_inf_in_backward():
    x = leaf(0.0, 2.0)
    # exp(-inf) = 0 is finite, but backward multiplies its zero gradient by the square's
    # infinite derivative at log(0) = -inf
    report = first_nonfinite(lambda: rg.exp(-rg.log(x) ** 2), allow=("log", "pow_scalar"))
    assert (report.phase, report.cause, report.kind) == ("backward", "zero_times_inf", "nan")
    assert report.grad_output.n_zero >= 1


@pytest.mark.parametrize(
    "values,fn,op,cause",
    [
        ((0.0, 0.0), lambda x: rg.sqrt((x * x).sum()), "sqrt", "infinite_derivative"),
        ((0.0, 1.0), lambda x: x ** 0.5, "pow_scalar", "infinite_derivative"),
        ((0.5, 1.0), lambda x: rg.asin(x), "asin", "infinite_derivative"),
        ((1.0, 2.0), lambda x: rg.tensor([1.0, 1.0], dtype=rg.float64) / (x * 1e-200), "div",
         "division_by_zero"),
    ],
    ids=["sqrt at 0 (norm of a zero vector)", "x ** 0.5 at 0", "asin at 1", "division by ~0"],
)
def test_backward_causes(values, fn, op, cause):
    x = leaf(*values)
    report = first_nonfinite(lambda: fn(x))
    assert (report.phase, report.op, report.cause) == ("backward", op, cause), str(report)
    assert report.grad_output is not None and not report.grad_output.has_nan


# ------------------------------------------------------------------ intentional infinities
class MaskedAttention(nn.Module):
    def __init__(self, d=4):
        super().__init__()
        self.q = nn.Linear(d, d)
        self.k = nn.Linear(d, d)
        self.v = nn.Linear(d, d)

    def forward(self, x, keep):
        scores = self.q(x) @ self.k(x).mT / 2.0
        scores = scores + rg.log(keep)  # an additive mask: log(0) = -inf on purpose
        return F.softmax(scores, dim=-1) @ self.v(x)


class Model(nn.Module):
    def __init__(self):
        super().__init__()
        self.attn = MaskedAttention()

    def forward(self, x, keep):
        return self.attn(x, keep).sum()


def attention_case():
    rg.manual_seed(0)
    keep = rg.tensor(np.tril(np.ones((5, 5))), dtype=rg.float32)  # causal: no row fully masked
    return Model(), (rg.randn(5, 4), keep)


def test_intentional_infinities_are_reported_unless_allowed():
    model, batch = attention_case()
    report = find_nonfinite(model, None, batch)
    assert (report.op, report.module, report.cause) == ("log", "attn", "log_nonpositive")
    assert find_nonfinite(model, None, batch, allow=("log",)) is None
    assert find_nonfinite(model, None, batch, allow=("attn",)) is None  # by module path
    with allow_nonfinite("log"):
        assert find_nonfinite(model, None, batch) is None
    with allow_nonfinite():
        assert find_nonfinite(model, None, batch) is None
    assert find_nonfinite(model, None, batch) is not None  # the blocks are over
    with allow_nonfinite("exp"):
        assert find_nonfinite(model, None, batch).op == "log"


def test_infinities_from_constants_are_quiet_where_no_nan_arises():
    scores = rg.randn(3, 3, requires_grad=True)
    mask = rg.tensor(np.triu(np.ones((3, 3), bool), k=1))
    assert first_nonfinite(lambda: F.softmax(scores.masked_fill(mask, -INF), dim=-1)) is None
    assert math.isfinite(float(scores.grad.abs().sum()))


def test_a_nan_allowed_in_forward_is_still_reported_in_backward():
    x = leaf(-1.0, 4.0)
    report = first_nonfinite(lambda: rg.sqrt(x), allow=("sqrt",))
    assert report.phase == "forward"  # NaN is not covered by allowing an op's infinities
    report = first_nonfinite(lambda: rg.sqrt(x), allow=("sqrt",), allow_nan=True)
    assert (report.phase, report.op, report.cause) == ("backward", "sqrt",
                                                       "nonfinite_forward_value")


def test_bad_allow_lists_are_rejected():
    with pytest.raises(TypeError, match="op names"):
        detect_nonfinite(allow=(1, 2))


def test_plain_detect_anomaly_takes_scalar_gradients():
    # a rule on 0-d arrays returns a NumPy scalar; the anomaly check must read it as an array
    x = leaf(3.0, 4.0)
    with rg.autograd.detect_anomaly():
        rg.sqrt((x * x).sum()).backward()
    np.testing.assert_allclose(x.grad.numpy(), [0.6, 0.8])
    z = leaf(0.0, 0.0)
    with pytest.raises(AnomalyError, match="sqrt"), rg.autograd.detect_anomaly():
        rg.sqrt((z * z).sum()).backward()
