import math

import numpy as np
import pytest

import retrograd as rg

from .harness import OpSpec, away_from_zero, parametrize


def avoiding(*kinks, low=-4.0, high=4.0):
    """A sampler of values in [low, high] at least 0.1 away from every kink."""

    def sample(rng, shape):
        x = rng.uniform(low, high, shape)
        for k in kinks:
            near = np.abs(x - k) < 0.1
            x = np.where(near, x + np.where(x >= k, 0.2, -0.2), x)
        return x

    sample.__name__ = f"avoiding{kinks}"
    return sample


def _erf(x):
    return np.vectorize(math.erf, otypes=[np.float64])(x)


def _sigmoid(x):
    return 1 / (1 + np.exp(-x))


def _gelu_tanh(x):
    return 0.5 * x * (1 + np.tanh(math.sqrt(2 / math.pi) * (x + 0.044715 * x**3)))


def _elu(x, alpha=1.0, scale=1.0):
    return scale * np.where(x > 0, x, alpha * np.expm1(np.minimum(x, 0)))


def _softplus(x, beta=1.0, threshold=20.0):
    return np.where(x * beta > threshold, x, np.log1p(np.exp(x * beta)) / beta)


SELU_ALPHA, SELU_SCALE = 1.6732632423543772, 1.0507009873554805
SHAPES = [((3, 4),), ((),), ((0, 2),)]

SPECS = [
    OpSpec("sigmoid", rg.sigmoid, _sigmoid, SHAPES),
    OpSpec("logsigmoid", rg.logsigmoid, lambda x: -np.logaddexp(0, -x), [((3, 4),)]),
    OpSpec("relu", rg.relu, lambda x: np.maximum(x, 0), SHAPES, domain=away_from_zero),
    OpSpec("hardtanh", rg.relu6, lambda x: np.clip(x, 0, 6), [((4, 5),)], name="relu6",
           domain=avoiding(0, 6, low=-3, high=9)),
    OpSpec("leaky_relu", rg.leaky_relu, lambda x: np.where(x > 0, x, 0.01 * x), [((3, 4),)],
           domain=away_from_zero),
    OpSpec("leaky_relu", lambda x: rg.leaky_relu(x, 0.2), lambda x: np.where(x > 0, x, 0.2 * x),
           [((3, 4),), ((),)], domain=away_from_zero, name="leaky_relu_0.2"),
    OpSpec("elu", rg.elu, _elu, [((3, 4),), ((),)], domain=away_from_zero),
    OpSpec("elu", lambda x: rg.elu(x, 2.0), lambda x: _elu(x, 2.0), [((3, 4),)],
           domain=away_from_zero, name="elu_alpha2"),
    OpSpec("elu", rg.selu, lambda x: _elu(x, SELU_ALPHA, SELU_SCALE), [((3, 4),)],
           domain=away_from_zero, name="selu"),
    OpSpec("elu", lambda x: rg.celu(x, 0.5),
           lambda x: np.maximum(x, 0) + np.minimum(0, 0.5 * np.expm1(x / 0.5)), [((3, 4),)],
           domain=away_from_zero, name="celu"),
    OpSpec("gelu", rg.gelu, lambda x: 0.5 * x * (1 + _erf(x / math.sqrt(2))), SHAPES),
    OpSpec("gelu", lambda x: rg.gelu(x, approximate="tanh"), _gelu_tanh, [((3, 4),)],
           name="gelu_tanh"),
    OpSpec("silu", rg.silu, lambda x: x * _sigmoid(x), SHAPES),
    OpSpec("softplus", rg.mish, lambda x: x * np.tanh(np.log1p(np.exp(x))), [((3, 4),)],
           name="mish"),
    OpSpec("softplus", rg.softplus, _softplus, [((3, 4),), ((),)]),
    OpSpec("softplus", lambda x: rg.softplus(x, beta=2.0, threshold=1.0),
           lambda x: _softplus(x, 2.0, 1.0), [((4, 5),)], domain=avoiding(0.5),
           name="softplus_threshold"),
    OpSpec("abs", rg.softsign, lambda x: x / (1 + np.abs(x)), [((3, 4),)],
           domain=away_from_zero, name="softsign"),
    OpSpec("hardtanh", rg.hardtanh, lambda x: np.clip(x, -1, 1), [((4, 5),), ((),)],
           domain=avoiding(-1, 1, low=-2, high=2)),
    OpSpec("hardtanh", lambda x: rg.hardtanh(x, -0.5, 2.0), lambda x: np.clip(x, -0.5, 2.0),
           [((4, 5),)], domain=avoiding(-0.5, 2.0, low=-2, high=3), name="hardtanh_bounds"),
    OpSpec("hardtanh", rg.hardsigmoid, lambda x: np.clip(x + 3, 0, 6) / 6, [((4, 5),)],
           domain=avoiding(-3, 3, low=-5, high=5), name="hardsigmoid"),
    OpSpec("hardswish", rg.hardswish, lambda x: x * np.clip(x + 3, 0, 6) / 6, [((4, 5),)],
           domain=avoiding(-3, 3, low=-5, high=5)),
    OpSpec("tanh", rg.tanhshrink, lambda x: x - np.tanh(x), [((3, 4),)], name="tanhshrink"),
    OpSpec("where", rg.softshrink, lambda x: np.where(np.abs(x) > 0.5, x - 0.5 * np.sign(x), 0),
           [((4, 5),)], domain=avoiding(-0.5, 0.5, low=-2, high=2), name="softshrink"),
    OpSpec("where", lambda x: rg.hardshrink(x, 1.0), lambda x: np.where(np.abs(x) > 1, x, 0),
           [((4, 5),)], domain=avoiding(-1, 1, low=-2, high=2), name="hardshrink"),
]

PARAMS, IDS = parametrize(SPECS)


@pytest.mark.parametrize("spec,shapes,check", PARAMS, ids=IDS)
def test_spec(spec, shapes, check):
    check(spec, shapes)


# ------------------------------------------------------------------ numerics
def test_sigmoid_and_logsigmoid_are_stable_for_large_inputs():
    x = rg.tensor([-1000.0, -40.0, 0.0, 40.0, 1000.0], dtype=rg.float64, requires_grad=True)
    with np.errstate(over="raise", divide="raise", invalid="raise"):
        s = rg.sigmoid(x)
        ls = rg.logsigmoid(x)
        (s + ls).sum().backward()
    assert s.data[0] == 0.0 and s.data[-1] == 1.0
    assert s.data[1] == pytest.approx(math.exp(-40), rel=1e-14)  # no cancellation
    np.testing.assert_allclose(ls.data, [-1000.0, -40.0, -math.log(2), -math.exp(-40), 0.0],
                               rtol=1e-14)
    assert np.isfinite(x.grad.data).all()
    s32 = rg.sigmoid(rg.tensor([-200.0, 200.0]))
    assert s32.dtype == rg.float32 and s32.tolist() == [0.0, 1.0]


def test_softplus_is_linear_above_the_threshold_and_finite_far_below():
    x = rg.tensor([-800.0, 0.0, 25.0, 800.0], dtype=rg.float64)
    np.testing.assert_allclose(rg.softplus(x).data, [0.0, math.log(2), 25.0, 800.0])


def test_relu_keeps_integer_dtype_and_methods_exist():
    assert rg.relu(rg.tensor([-1, 2])).tolist() == [0, 2]
    assert rg.relu(rg.tensor([-1, 2])).dtype == rg.int64
    x = rg.tensor([-1.0, 2.0])
    assert x.relu().tolist() == [0.0, 2.0]
    assert x.sigmoid().dtype == rg.float32
    assert rg.sigmoid(rg.tensor([0])).dtype == rg.float32
    assert x.hardshrink(1.5).tolist() == [0.0, 2.0]


def test_bad_arguments_raise():
    x = rg.ones(3)
    with pytest.raises(ValueError, match="gelu: approximate"):
        rg.gelu(x, approximate="fast")
    with pytest.raises(ValueError, match="hardtanh: min_val"):
        rg.hardtanh(x, 2.0, 1.0)
    with pytest.raises(ValueError, match="celu: alpha"):
        rg.celu(x, 0.0)


def test_gelu_float32_matches_float64():
    x = np.random.default_rng(0).standard_normal(1000) * 3
    out32 = rg.gelu(rg.tensor(x, dtype=rg.float32))
    out64 = rg.gelu(rg.tensor(x, dtype=rg.float64))
    assert out32.dtype == rg.float32
    np.testing.assert_allclose(out32.data, out64.data, atol=2e-6, rtol=1e-5)


# ------------------------------------------------------------------ parity with PyTorch
KINKS = [-6.0, -3.0, -1.0, -0.5, 0.0, 0.5, 1.0, 3.0, 6.0, 20.0, 25.0]

ACTIVATIONS = {
    "sigmoid": ((), "sigmoid", {}),
    "logsigmoid": ((), "logsigmoid", {}),
    "relu": ((), "relu", {}),
    "relu6": ((), "relu6", {}),
    "leaky_relu": ((0.1,), "leaky_relu", {}),
    "elu": ((2.0,), "elu", {}),
    "selu": ((), "selu", {}),
    "celu": ((0.5,), "celu", {}),
    "gelu": ((), "gelu", {}),
    "gelu_tanh": ((), "gelu", {"approximate": "tanh"}),
    "silu": ((), "silu", {}),
    "mish": ((), "mish", {}),
    "softplus": ((), "softplus", {}),
    "softplus_beta": ((), "softplus", {"beta": 2.0, "threshold": 1.0}),
    "softsign": ((), "softsign", {}),
    "hardtanh": ((), "hardtanh", {}),
    "hardtanh_bounds": ((-0.5, 3.0), "hardtanh", {}),
    "hardsigmoid": ((), "hardsigmoid", {}),
    "hardswish": ((), "hardswish", {}),
    "tanhshrink": ((), "tanhshrink", {}),
    "softshrink": ((), "softshrink", {}),
    "hardshrink": ((1.0,), "hardshrink", {}),
}


@pytest.mark.parametrize("case", sorted(ACTIVATIONS))
def test_activation_matches_torch_including_kinks(case):
    torch = pytest.importorskip("torch")
    F = torch.nn.functional
    args, name, kwargs = ACTIVATIONS[case]
    rng = np.random.default_rng(5)
    data = np.concatenate([rng.standard_normal(40) * 4, KINKS])
    g = rng.standard_normal(data.shape)
    x = rg.tensor(data, requires_grad=True)
    out = getattr(rg, name)(x, *args, **kwargs)
    out.backward(rg.tensor(g))
    tx = torch.tensor(data, requires_grad=True)
    t_out = getattr(F, name)(tx, *args, **kwargs)
    t_out.backward(torch.tensor(g))
    np.testing.assert_allclose(out.data, t_out.detach().numpy(), rtol=1e-12, atol=1e-14)
    # NOTE: PyTorch's hardsigmoid backward multiplies by 1/6 rounded to float32, even in float64
    rtol = 1e-7 if case == "hardsigmoid" else 1e-10
    np.testing.assert_allclose(x.grad.data, tx.grad.numpy(), rtol=rtol, atol=1e-12,
                               err_msg=f"{case}: gradient (inputs {data})")
