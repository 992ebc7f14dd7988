"""dtype casts, clone and contiguous (src/retrograd/ops/cast.py)."""

import numpy as np
import pytest

import retrograd as rg

from .harness import OpSpec, parametrize

# NOTE: the harness differentiates in float64, and a round trip through float32 would lose the
# finite-difference step; extended precision (np.longdouble) holds float64 values exactly, so
# the float64 -> longdouble -> float64 chain exercises `cast` twice, both directions, exactly.
_WIDE = np.dtype(np.longdouble)

SPECS = [
    OpSpec("cast", lambda x: x.to(_WIDE).double(), lambda x: x, [((3, 4),), ((),), ((0, 2),)]),
    OpSpec("cast", lambda x: (x.to(_WIDE) * x.to(_WIDE)).to(rg.float64),
           lambda x: x * x, [((5,),)], name="cast_in_product"),
    OpSpec("clone", lambda x: x.clone(), np.copy, [((3, 4),), ((),), ((0, 3),)]),
    OpSpec("clone", lambda x: x.T.contiguous() * x.T, lambda x: x.T * x.T, [((2, 3),)],
           name="contiguous"),
]

PARAMS, IDS = parametrize(SPECS)


@pytest.mark.parametrize("spec,shapes,check", PARAMS, ids=IDS)
def test_spec(spec, shapes, check):
    check(spec, shapes)


@pytest.mark.parametrize(
    "method,dtype",
    [("float", rg.float32), ("double", rg.float64), ("half", rg.float16), ("long", rg.int64),
     ("int", rg.int32), ("bool", rg.bool)],
)
def test_cast_methods(method, dtype):
    values = [-1.7, 0.0, 0.4, 2.5]
    out = getattr(rg.tensor(values), method)()
    assert out.dtype == dtype
    np.testing.assert_array_equal(out.data, np.array(values, np.float32).astype(dtype))


def test_float_to_int_truncates_toward_zero_like_torch():
    torch = pytest.importorskip("torch")
    values = [-2.9, -1.5, -0.2, 0.2, 1.5, 2.9]
    assert rg.tensor(values).long().tolist() == torch.tensor(values).long().tolist()
    assert rg.tensor(values).bool().tolist() == torch.tensor(values).bool().tolist()


def test_to_accepts_dtypes_tensors_devices_and_keywords():
    x = rg.tensor([1, 2])
    assert x.to(rg.float64).dtype == rg.float64
    assert x.to(dtype=rg.float16).dtype == rg.float16
    assert x.to("float32").dtype == rg.float32
    assert x.to(rg.zeros(1, dtype=rg.float64)).dtype == rg.float64
    assert x.type_as(rg.zeros(1)).dtype == rg.float32
    assert x.to("cpu") is x and x.cpu() is x
    assert x.to("cpu", rg.float32).dtype == rg.float32
    assert x.to(device="cpu") is x
    with pytest.raises(RuntimeError, match="cuda"):
        x.to("cuda")
    with pytest.raises(TypeError, match="unexpected keyword"):
        x.to(rg.float32, colour="red")


def test_to_the_same_dtype_returns_the_tensor_unless_copy_is_asked():
    x = rg.tensor([1.0, 2.0])
    assert x.to(rg.float32) is x
    y = x.to(rg.float32, copy=True)
    assert y is not x and not np.shares_memory(y.data, x.data)
    np.testing.assert_array_equal(y.data, x.data)


def test_type_names_and_type_cast():
    assert rg.zeros(1).type() == "retrograd.FloatTensor"
    assert rg.zeros(1, dtype=rg.float64).type() == "retrograd.DoubleTensor"
    assert rg.arange(2).type() == "retrograd.LongTensor"
    assert rg.arange(2).type(rg.float64).dtype == rg.float64


@pytest.mark.parametrize("dtype", [rg.float16, rg.float32, rg.float64])
def test_float_casts_are_differentiable_and_the_gradient_keeps_the_input_dtype(dtype):
    x = rg.tensor([1.0, -2.0, 3.0], dtype=dtype, requires_grad=True)
    y = x.to(rg.float64) if dtype != rg.float64 else x.float()
    assert y.requires_grad and y.grad_fn is not None
    (y * y).sum().backward()
    assert x.grad.dtype == dtype
    np.testing.assert_allclose(x.grad.data.astype(np.float64), [2.0, -4.0, 6.0])


def test_mixed_dtype_arithmetic_returns_gradients_in_each_input_dtype():
    a = rg.tensor([1.0, 2.0], requires_grad=True)
    b = rg.tensor([3.0, 4.0], dtype=rg.float64, requires_grad=True)
    out = a * b
    assert out.dtype == rg.float64
    out.sum().backward()
    assert a.grad.dtype == rg.float32 and b.grad.dtype == rg.float64
    np.testing.assert_allclose(a.grad.data, [3.0, 4.0])
    np.testing.assert_allclose(b.grad.data, [1.0, 2.0])


def test_casting_to_an_integer_cuts_the_graph():
    x = rg.tensor([1.5, 2.5], requires_grad=True)
    i = x.long()
    assert i.dtype == rg.int64 and not i.requires_grad
    assert i.tolist() == [1, 2]


def test_cast_gradient_matches_torch():
    torch = pytest.importorskip("torch")
    values = np.array([0.5, -1.25, 2.0], np.float32)
    x = rg.tensor(values, requires_grad=True)
    (x.double() ** 3).sum().backward()
    tx = torch.tensor(values, requires_grad=True)
    (tx.double() ** 3).sum().backward()
    assert str(tx.grad.dtype) == "torch.float32" and x.grad.dtype == rg.float32
    np.testing.assert_allclose(x.grad.data, tx.grad.numpy(), rtol=1e-6)


def test_clone_copies_and_keeps_the_graph():
    x = rg.tensor([1.0, 2.0], requires_grad=True)
    y = x.clone()
    assert not np.shares_memory(y.data, x.data)
    assert y.grad_fn.name() == "clone"
    (y * 3.0).sum().backward()
    np.testing.assert_array_equal(x.grad.data, [3.0, 3.0])


def test_contiguous_copies_only_when_needed():
    x = rg.tensor(np.arange(6.0).reshape(2, 3))
    assert x.contiguous() is x
    t = x.T.contiguous()
    assert t.data.flags.c_contiguous
    np.testing.assert_array_equal(t.data, x.data.T)
