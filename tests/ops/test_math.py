import math

import numpy as np
import pytest

import retrograd as rg
from retrograd.autograd import array_ns

from .harness import OpSpec, nonzero, parametrize, positive, real, unit


def above_one(rng, shape):
    return rng.uniform(1.2, 3.0, shape)


def above_minus_one(rng, shape):
    return rng.uniform(-0.8, 2.0, shape)


def _erfinv_scalar(y):
    z = 0.0  # Newton on the concave branch converges monotonically from 0
    for _ in range(100):
        z -= (math.erf(z) - y) / (2 / math.sqrt(math.pi) * math.exp(-z * z))
    return math.copysign(abs(z), y)


def _vectorize(f):
    return lambda x: np.vectorize(f, otypes=[np.float64])(x)


UNARY_SHAPES = [((3, 4),), ((),), ((0, 3),)]

SPECS = [
    OpSpec("exp", rg.exp, np.exp, UNARY_SHAPES),
    OpSpec("exp2", rg.exp2, np.exp2, [((3, 4),)]),
    OpSpec("expm1", rg.expm1, np.expm1, [((3, 4),), ((),)]),
    OpSpec("log", rg.log, np.log, UNARY_SHAPES, domain=positive),
    OpSpec("log1p", rg.log1p, np.log1p, [((3, 4),)], domain=above_minus_one),
    OpSpec("log2", rg.log2, np.log2, [((3, 4),)], domain=positive),
    OpSpec("log10", rg.log10, np.log10, [((3, 4),)], domain=positive),
    OpSpec("sqrt", rg.sqrt, np.sqrt, UNARY_SHAPES, domain=positive),
    OpSpec("rsqrt", rg.rsqrt, lambda x: 1 / np.sqrt(x), [((3, 4),)], domain=positive),
    OpSpec("pow_scalar", rg.square, np.square, [((3, 4),)], name="square"),
    OpSpec("reciprocal", rg.reciprocal, np.reciprocal, [((3, 4),), ((),)], domain=nonzero),
    OpSpec("abs", rg.abs, np.abs, UNARY_SHAPES, domain=nonzero),
    OpSpec("abs", lambda x: abs(x), np.abs, [((5,),)], domain=nonzero, name="abs_operator"),
    OpSpec("sign", rg.sign, np.sign, [((3, 4),), ((),)], domain=nonzero),
    OpSpec("sin", rg.sin, np.sin, UNARY_SHAPES),
    OpSpec("cos", rg.cos, np.cos, [((3, 4),), ((),)]),
    OpSpec("tan", rg.tan, np.tan, [((3, 4),)], domain=unit),
    OpSpec("asin", rg.asin, np.arcsin, [((3, 4),)], domain=unit),
    OpSpec("acos", rg.acos, np.arccos, [((3, 4),)], domain=unit),
    OpSpec("atan", rg.atan, np.arctan, [((3, 4),)]),
    OpSpec("sinh", rg.sinh, np.sinh, [((3, 4),)]),
    OpSpec("cosh", rg.cosh, np.cosh, [((3, 4),)]),
    OpSpec("tanh", rg.tanh, np.tanh, UNARY_SHAPES),
    OpSpec("asinh", rg.asinh, np.arcsinh, [((3, 4),)]),
    OpSpec("acosh", rg.acosh, np.arccosh, [((3, 4),)], domain=above_one),
    OpSpec("atanh", rg.atanh, np.arctanh, [((3, 4),)], domain=unit),
    OpSpec("erf", rg.erf, _vectorize(math.erf), UNARY_SHAPES),
    OpSpec("erf", rg.erf, _vectorize(math.erf), [((4, 5),)], name="erf_wide",
           domain=lambda rng, shape: rng.uniform(-5, 5, shape)),
    OpSpec("erfc", rg.erfc, _vectorize(math.erfc), [((3, 4),), ((),)]),
    OpSpec("erfinv", rg.erfinv, _vectorize(_erfinv_scalar), [((3, 4),), ((),)], domain=unit),
    OpSpec("atan2", rg.atan2, np.arctan2, [((3, 4), (3, 4)), ((2, 3), (3,)), ((), (2,))],
           domain=nonzero),
    OpSpec("hypot", rg.hypot, np.hypot, [((3, 4), (3, 4)), ((3, 1), (1, 4))], domain=nonzero),
    OpSpec("sub", lambda a, b, w: rg.lerp(a, b, w), lambda a, b, w: a + w * (b - a),
           [((3, 4), (3, 4), (3, 4)), ((3,), (2, 3), ())], name="lerp"),
]

PARAMS, IDS = parametrize(SPECS)


@pytest.mark.parametrize("spec,shapes,check", PARAMS, ids=IDS)
def test_spec(spec, shapes, check):
    check(spec, shapes)


# ------------------------------------------------------------------ the error function
def _erf_points():
    rng = np.random.default_rng(0)
    return np.concatenate([
        rng.uniform(-6, 6, 4000),
        rng.standard_normal(4000),
        rng.uniform(-30, 30, 500),
        np.logspace(-300, 1.5, 500),
        -np.logspace(-300, 1.5, 500),
        [0.0, 0.46875, -0.46875, 0.4687500001, 4.0, -4.0, 4.0000001, 26.5, 27.0],
    ])


def _relative_error(got, expected):
    scale = np.maximum(np.abs(expected), np.finfo(np.float64).tiny)
    return np.abs(got - expected) / scale


def test_erf_float64_is_accurate_to_1e15_relative():
    x = _erf_points()
    expected = np.array([math.erf(v) for v in x])
    err = _relative_error(rg.erf(rg.tensor(x)).data, expected)
    assert err.max() < 1e-15, f"erf({x[err.argmax()]!r}): relative error {err.max():.2e}"


def test_erfc_float64_keeps_relative_accuracy_in_the_tail():
    x = _erf_points()
    expected = np.array([math.erfc(v) for v in x])
    nonzero_part = expected > 0
    err = _relative_error(rg.erfc(rg.tensor(x)).data, expected)[nonzero_part]
    assert err.max() < 2e-15, f"erfc: relative error {err.max():.2e}"


def test_erf_float32_and_float16_keep_their_dtype_and_precision():
    x = _erf_points().astype(np.float32)
    x = x[np.isfinite(x)]
    expected = np.array([math.erf(float(v)) for v in x])
    out = rg.erf(rg.tensor(x))
    assert out.dtype == rg.float32
    assert np.abs(out.data - expected).max() < 1e-6
    half = rg.erf(rg.tensor(x[:50].astype(np.float16)))
    assert half.dtype == rg.float16
    assert np.abs(half.data.astype(np.float64) - expected[:50]).max() < 2e-3


def test_erf_special_values():
    x = rg.tensor([0.0, -0.0, np.inf, -np.inf, np.nan, 1e300, -1e300], dtype=rg.float64)
    out = rg.erf(x).data
    np.testing.assert_array_equal(out[[0, 2, 3, 5, 6]], [0.0, 1.0, -1.0, 1.0, -1.0])
    assert np.signbit(out[1]) and np.isnan(out[4])
    outc = rg.erfc(x).data
    np.testing.assert_array_equal(outc[[0, 2, 3, 5, 6]], [1.0, 0.0, 2.0, 0.0, 2.0])


def test_erfinv_inverts_erf_and_handles_the_ends():
    rng = np.random.default_rng(1)
    y = np.concatenate([rng.uniform(-1, 1, 2000), 1 - np.logspace(-16, -1, 50),
                        -1 + np.logspace(-16, -1, 50), np.logspace(-300, -1, 50)])
    z = rg.erfinv(rg.tensor(y)).data
    back = np.array([math.erf(v) for v in z])
    assert _relative_error(back, y).max() < 2e-15
    ends = rg.erfinv(rg.tensor([1.0, -1.0, 1.5, -2.0, 0.0], dtype=rg.float64)).data
    np.testing.assert_array_equal(ends[:2], [np.inf, -np.inf])
    assert np.isnan(ends[2:4]).all() and ends[4] == 0.0
    assert rg.erfinv(rg.tensor([0.5])).dtype == rg.float32


def test_erf_keeps_shapes():
    assert array_ns.erf(np.zeros((0, 3))).shape == (0, 3)
    assert rg.erf(rg.tensor(0.3, dtype=rg.float64)).shape == ()
    assert rg.erf(rg.ones(2, 3, 4)).shape == (2, 3, 4)


# ------------------------------------------------------------------ dtypes and methods
def test_functions_of_a_real_variable_promote_integers():
    i = rg.tensor([1, 2, 3])
    for f in (rg.exp, rg.log, rg.sqrt, rg.sin, rg.erf, rg.reciprocal, rg.tanh):
        assert f(i).dtype == rg.float32, f.__name__
    assert rg.abs(rg.tensor([-1, 2])).dtype == rg.int64
    assert rg.sign(rg.tensor([-4, 0, 3])).tolist() == [-1, 0, 1]
    assert rg.square(rg.tensor([3])).dtype == rg.int64
    assert rg.atan2(rg.tensor([1]), rg.tensor([1])).dtype == rg.float32


def test_float32_stays_float32():
    x = rg.tensor([0.5, 1.5])
    for f in (rg.exp, rg.log, rg.sqrt, rg.rsqrt, rg.erf, rg.erfc, rg.erfinv, rg.sin, rg.abs):
        assert f(x if f is not rg.erfinv else x / 2).dtype == rg.float32, f.__name__


def test_tensor_methods_and_aliases():
    x = rg.tensor([0.25, 0.5], dtype=rg.float64)
    np.testing.assert_allclose(x.exp().data, np.exp(x.data))
    np.testing.assert_allclose(x.arcsin().data, np.arcsin(x.data))
    np.testing.assert_allclose(abs(-x).data, x.data)
    np.testing.assert_allclose(x.atan2(x + 1).data, np.arctan2(x.data, x.data + 1))
    np.testing.assert_allclose(x.lerp(x * 3, 0.5).data, x.data * 2)
    assert rg.absolute is rg.abs and rg.sgn is rg.sign


def test_sign_has_a_zero_gradient():
    x = rg.tensor([-2.0, 0.0, 3.0], requires_grad=True)
    rg.sign(x).sum().backward()
    np.testing.assert_array_equal(x.grad.data, [0.0, 0.0, 0.0])


def test_hypot_does_not_overflow():
    big = rg.tensor([3e200], dtype=rg.float64)
    assert rg.hypot(big, big * (4 / 3)).item() == pytest.approx(5e200)


# ------------------------------------------------------------------ parity with PyTorch
UNARY_TORCH = [
    ("exp", real), ("exp2", real), ("expm1", real), ("log", positive), ("log1p", above_minus_one),
    ("log2", positive), ("log10", positive), ("sqrt", positive), ("rsqrt", positive),
    ("square", real), ("reciprocal", nonzero), ("abs", real), ("sign", real), ("sin", real),
    ("cos", real), ("tan", unit), ("asin", unit), ("acos", unit), ("atan", real),
    ("sinh", real), ("cosh", real), ("tanh", real), ("asinh", real), ("acosh", above_one),
    ("atanh", unit), ("erf", real), ("erfc", real), ("erfinv", unit),
]


@pytest.mark.parametrize("name,domain", UNARY_TORCH, ids=[n for n, _ in UNARY_TORCH])
def test_unary_matches_torch(name, domain):
    torch = pytest.importorskip("torch")
    rng = np.random.default_rng(3)
    data = domain(rng, (4, 5))
    if domain is real:
        data[0, :3] = 0.0  # the kinks of abs and sign: PyTorch's subgradient there
    g = rng.standard_normal((4, 5))
    x = rg.tensor(data, requires_grad=True)
    out = getattr(rg, name)(x)
    out.backward(rg.tensor(g))
    tx = torch.tensor(data, requires_grad=True)
    t_out = getattr(torch, name)(tx)
    t_out.backward(torch.tensor(g))
    np.testing.assert_allclose(out.data, t_out.detach().numpy(), rtol=1e-12, atol=1e-14)
    np.testing.assert_allclose(x.grad.data, tx.grad.numpy(), rtol=1e-12, atol=1e-14)


@pytest.mark.parametrize("name", ["atan2", "hypot"])
def test_binary_matches_torch(name):
    torch = pytest.importorskip("torch")
    rng = np.random.default_rng(4)
    a, b, g = rng.standard_normal((3, 4)), rng.standard_normal((4,)), rng.standard_normal((3, 4))
    x, y = rg.tensor(a, requires_grad=True), rg.tensor(b, requires_grad=True)
    getattr(rg, name)(x, y).backward(rg.tensor(g))
    tx, ty = torch.tensor(a, requires_grad=True), torch.tensor(b, requires_grad=True)
    getattr(torch, name)(tx, ty).backward(torch.tensor(g))
    np.testing.assert_allclose(x.grad.data, tx.grad.numpy(), rtol=1e-12)
    np.testing.assert_allclose(y.grad.data, ty.grad.numpy(), rtol=1e-12)
