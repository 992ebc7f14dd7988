"""Property tests for add/sub/mul/div over random shapes that broadcast (hypothesis).

For any pair of broadcastable shapes and values: the forward equals NumPy's; each gradient has
its input's shape and equals the analytic gradient summed over the broadcast dimensions; and,
where torch is installed, equals torch's (float64).
"""

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from hypothesis.extra import numpy as hnp

import retrograd as rg

OPS = {
    "add": (lambda x, y: x + y, np.add),
    "sub": (lambda x, y: x - y, np.subtract),
    "mul": (lambda x, y: x * y, np.multiply),
    "div": (lambda x, y: x / y, np.divide),
}

# d(op)/dx and d(op)/dy as functions of (x, y) in the broadcast shape.
PARTIALS = {
    "add": (lambda x, y: np.ones_like(x * y), lambda x, y: np.ones_like(x * y)),
    "sub": (lambda x, y: np.ones_like(x * y), lambda x, y: -np.ones_like(x * y)),
    "mul": (lambda x, y: y + 0 * x, lambda x, y: x + 0 * y),
    "div": (lambda x, y: 1 / y + 0 * x, lambda x, y: -x / (y * y)),
}

SETTINGS = settings(max_examples=40, deadline=None)
VALUES = st.floats(-10, 10, allow_nan=False, width=64)
AWAY_FROM_ZERO = st.one_of(st.floats(-10, -0.5), st.floats(0.5, 10))


@st.composite
def operands(draw, op_name, min_side=1):
    """Two float64 arrays of mutually broadcastable shapes (0-d included), and a cotangent."""
    shapes = draw(hnp.mutually_broadcastable_shapes(num_shapes=2, max_dims=3, min_side=min_side,
                                                    max_side=4))
    x_shape, y_shape = shapes.input_shapes
    x = draw(hnp.arrays(np.float64, x_shape, elements=VALUES))
    y_values = AWAY_FROM_ZERO if op_name == "div" else VALUES
    y = draw(hnp.arrays(np.float64, y_shape, elements=y_values))
    g = draw(hnp.arrays(np.float64, shapes.result_shape, elements=VALUES))
    return x, y, g


def sum_to_shape(a, shape):
    """Undo broadcasting by hand: sum leading dims, then dims that were 1."""
    a = a.sum(axis=tuple(range(a.ndim - len(shape)))) if a.ndim > len(shape) else a
    axes = tuple(i for i, n in enumerate(shape) if n == 1 and a.shape[i] != 1)
    return a.sum(axis=axes, keepdims=True).reshape(shape)


def rg_gradients(op_name, x, y, g):
    fn = OPS[op_name][0]
    tx, ty = rg.tensor(x, requires_grad=True), rg.tensor(y, requires_grad=True)
    out = fn(tx, ty)
    out.backward(rg.tensor(g))
    return out, tx.grad, ty.grad


@pytest.mark.parametrize("op_name", OPS)
@SETTINGS
@given(data=st.data())
def test_forward_equals_numpy(op_name, data):
    x, y, _ = data.draw(operands(op_name, min_side=0))
    fn, ref = OPS[op_name]
    out = fn(rg.tensor(x), rg.tensor(y))
    expected = ref(x, y)
    assert out.shape == expected.shape and out.dtype == np.float64
    np.testing.assert_allclose(out.data, expected, rtol=1e-15, atol=0)


@pytest.mark.parametrize("op_name", OPS)
@SETTINGS
@given(data=st.data())
def test_float32_stays_float32_and_matches_numpy(op_name, data):
    x, y, _ = data.draw(operands(op_name))
    fn, ref = OPS[op_name]
    x32, y32 = x.astype(np.float32), y.astype(np.float32)
    out = fn(rg.tensor(x32), rg.tensor(y32))
    assert out.dtype == np.float32
    np.testing.assert_allclose(out.data, ref(x32, y32), rtol=1e-6)


@pytest.mark.parametrize("op_name", OPS)
@SETTINGS
@given(data=st.data())
def test_gradients_have_input_shapes_and_equal_the_analytic_ones(op_name, data):
    x, y, g = data.draw(operands(op_name, min_side=0))
    _, gx, gy = rg_gradients(op_name, x, y, g)
    assert gx.shape == x.shape and gy.shape == y.shape
    assert gx.dtype == np.float64 and gy.dtype == np.float64
    dx, dy = PARTIALS[op_name]
    np.testing.assert_allclose(gx.data, sum_to_shape(g * dx(x, y), x.shape), rtol=1e-12,
                               atol=1e-12)
    np.testing.assert_allclose(gy.data, sum_to_shape(g * dy(x, y), y.shape), rtol=1e-12,
                               atol=1e-12)


@pytest.mark.parametrize("op_name", OPS)
@SETTINGS
@given(data=st.data(), scalar=st.one_of(VALUES, st.integers(-5, 5)), reflected=st.booleans())
def test_python_scalar_operands(op_name, data, scalar, reflected):
    x, _, _ = data.draw(operands(op_name))
    fn, ref = OPS[op_name]
    if op_name == "div" and (reflected and np.any(np.abs(x) < 1e-3) or abs(scalar) < 1e-3):
        return  # stay away from division by (nearly) zero
    tx = rg.tensor(x, requires_grad=True)
    out = fn(scalar, tx) if reflected else fn(tx, scalar)
    expected = ref(scalar, x) if reflected else ref(x, scalar)
    np.testing.assert_allclose(out.data, expected, rtol=1e-14)
    out.sum().backward()
    assert tx.grad.shape == x.shape


@pytest.mark.parametrize("op_name", OPS)
@SETTINGS
@given(data=st.data())
def test_gradients_equal_torch(op_name, data):
    torch = pytest.importorskip("torch")
    x, y, g = data.draw(operands(op_name, min_side=0))
    out, gx, gy = rg_gradients(op_name, x, y, g)
    tx = torch.tensor(x, requires_grad=True)
    ty = torch.tensor(y, requires_grad=True)
    t_out = OPS[op_name][0](tx, ty)
    t_out.backward(torch.tensor(g))
    np.testing.assert_allclose(out.data, t_out.detach().numpy(), rtol=1e-14)
    np.testing.assert_allclose(gx.data, tx.grad.numpy(), rtol=1e-12, atol=1e-12)
    np.testing.assert_allclose(gy.data, ty.grad.numpy(), rtol=1e-12, atol=1e-12)
