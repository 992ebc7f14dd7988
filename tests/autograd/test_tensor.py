"""Tensor attributes, conversions and display (src/retrograd/autograd/tensor.py)."""

import numpy as np
import pytest

import retrograd as rg


def test_data_is_the_numpy_array_and_attributes_follow_it():
    t = rg.tensor([[1.0, 2.0, 3.0], [4.0, 5.0, 6.0]])
    assert isinstance(t.data, np.ndarray)
    assert t.shape == (2, 3) == t.data.shape
    assert t.ndim == 2 == t.dim()
    assert t.dtype == rg.float32 == np.float32
    assert t.size() == (2, 3)
    assert t.size(0) == 2 and t.size(-1) == 3
    assert t.numel() == 6 == t.nelement()
    assert len(t) == 2
    assert t.element_size() == 4
    assert t.device == rg.device("cpu") and str(t.device) == "cpu"
    assert t.is_floating_point()


def test_size_rejects_an_out_of_range_dim():
    with pytest.raises(IndexError, match=r"size: dimension 2 is out of range"):
        rg.zeros(2, 3).size(2)


def test_len_of_a_scalar_tensor_is_an_error():
    with pytest.raises(TypeError, match="0-d"):
        len(rg.tensor(1.0))


def test_new_leaf_has_no_grad_and_does_not_require_it():
    t = rg.tensor([1.0, 2.0])
    assert t.grad is None
    assert t.requires_grad is False
    assert t.is_leaf and t.grad_fn is None


def test_requires_grad_can_be_set_and_backward_fills_grad():
    t = rg.tensor([1.0, 2.0, 3.0])
    t.requires_grad = True
    assert t.requires_grad
    (t * t).sum().backward()
    assert isinstance(t.grad, rg.Tensor)
    np.testing.assert_allclose(t.grad.data, [2.0, 4.0, 6.0])
    assert t.grad.dtype == t.dtype and t.grad.shape == t.shape


def test_requires_grad_on_integer_or_bool_tensors_is_a_type_error():
    with pytest.raises(TypeError, match="floating"):
        rg.tensor([1, 2], requires_grad=True)
    with pytest.raises(TypeError, match="floating"):
        rg.tensor([True]).requires_grad_()
    t = rg.arange(3)
    with pytest.raises(TypeError, match="int64"):
        t.requires_grad = True
    assert not t.requires_grad


def test_results_of_ops_are_non_leaves_with_a_grad_fn():
    x = rg.tensor([1.0, 2.0], requires_grad=True)
    y = x * 3.0
    assert y.requires_grad and not y.is_leaf
    assert y.grad_fn.name() == "mul"
    with pytest.raises(RuntimeError, match="not a leaf"):
        y.requires_grad_(False)


def test_transpose_properties():
    a = np.arange(6.0).reshape(2, 3)
    t = rg.tensor(a)
    np.testing.assert_array_equal(t.T.data, a.T)
    b = np.arange(24.0).reshape(2, 3, 4)
    np.testing.assert_array_equal(rg.tensor(b).mT.data, np.swapaxes(b, -1, -2))
    assert rg.tensor(b).mT.shape == (2, 4, 3)


def test_transpose_gradient_flows_back_in_the_input_shape():
    x = rg.tensor(np.arange(6.0).reshape(2, 3), requires_grad=True)
    w = rg.tensor(np.arange(6.0).reshape(3, 2) + 1.0)
    (x.T * w).sum().backward()
    np.testing.assert_array_equal(x.grad.data, w.data.T)


def test_item_gives_python_scalars():
    assert rg.tensor(2.5).item() == 2.5 and type(rg.tensor(2.5).item()) is float
    assert type(rg.tensor([7]).item()) is int
    assert type(rg.tensor(True).item()) is bool
    assert rg.tensor([[3.0]]).item() == 3.0
    with pytest.raises(ValueError, match=r"item\(\).*shape \(2,\)"):
        rg.tensor([1.0, 2.0]).item()


def test_python_number_conversions():
    assert float(rg.tensor([1.5])) == 1.5
    assert int(rg.tensor(3)) == 3
    assert [10, 20, 30][rg.tensor(1)] == 20
    assert bool(rg.tensor(0.0)) is False
    with pytest.raises(RuntimeError, match="ambiguous"):
        bool(rg.tensor([1.0, 2.0]))
    with pytest.raises(TypeError):
        [1, 2][rg.tensor(1.0)]


def test_numpy_shares_memory_and_refuses_tensors_that_require_grad():
    t = rg.tensor([1.0, 2.0])
    a = t.numpy()
    a[0] = 10.0
    assert t.data[0] == 10.0
    x = rg.tensor([1.0], requires_grad=True)
    with pytest.raises(RuntimeError, match="detach"):
        x.numpy()
    assert x.detach().numpy()[0] == 1.0


def test_tolist_matches_numpy():
    a = np.arange(6).reshape(2, 3)
    assert rg.tensor(a).tolist() == a.tolist()
    assert rg.tensor(4.0).tolist() == 4.0


def test_np_asarray_reads_a_tensor():
    t = rg.tensor([[1.0, 2.0]])
    a = np.asarray(t)
    assert a.dtype == np.float32 and a.shape == (1, 2)
    assert np.shares_memory(a, t.data)
    assert np.asarray(t, dtype=np.float64).dtype == np.float64
    assert np.array(t, copy=True) is not t.data


def test_numpy_scalars_defer_to_tensor_operators():
    t = rg.tensor([1.0, 2.0])
    out = np.float32(2.0) * t
    assert isinstance(out, rg.Tensor)
    np.testing.assert_array_equal(out.data, [2.0, 4.0])


def test_constructor_default_dtypes_follow_pytorch():
    assert rg.tensor(1.0).dtype == rg.float32
    assert rg.tensor([1, 2]).dtype == rg.int64
    assert rg.tensor([1, 2.5]).dtype == rg.float32
    assert rg.tensor([True, False]).dtype == rg.bool
    assert rg.tensor([]).dtype == rg.float32
    assert rg.tensor(np.arange(3, dtype=np.int32)).dtype == rg.int32
    assert rg.tensor(np.zeros(2)).dtype == rg.float64  # arrays keep their dtype
    assert rg.tensor([1, 2], dtype=rg.float64).dtype == rg.float64


def test_tensor_copies_but_from_numpy_and_as_tensor_share():
    a = np.zeros(3)
    t = rg.tensor(a)
    a[0] = 1.0
    assert t.data[0] == 0.0
    assert np.shares_memory(rg.from_numpy(a).data, a)
    assert np.shares_memory(rg.as_tensor(a).data, a)


def test_tensor_from_a_list_of_tensors():
    t = rg.tensor([rg.tensor([1.0, 2.0]), rg.tensor([3.0, 4.0])])
    assert t.shape == (2, 2) and t.dtype == rg.float32


def test_tensor_rejects_objects():
    with pytest.raises(TypeError, match="tensor"):
        rg.tensor([object()])


def test_repr_shows_values_dtype_and_grad_state():
    assert repr(rg.tensor([1.0, 2.5])) == "tensor([1. , 2.5])"
    assert repr(rg.tensor([1, 2])) == "tensor([1, 2])"
    assert repr(rg.tensor([True, False])) == "tensor([ True, False])"
    assert "dtype=float64" in repr(rg.tensor([1.0], dtype=rg.float64))
    assert "dtype=int32" in repr(rg.tensor([1], dtype=rg.int32))
    x = rg.tensor([1.0], requires_grad=True)
    assert repr(x).endswith("requires_grad=True)")
    assert repr(x * 2.0).endswith("grad_fn=<mul>)")
    assert "size=(0, 3)" in repr(rg.zeros(0, 3))


def test_repr_summarises_large_tensors():
    assert "..." in repr(rg.zeros(1000))


def test_format_of_a_scalar_tensor_uses_the_number():
    assert f"{rg.tensor(0.123456):.3f}" == "0.123"


def test_default_dtype_can_be_changed_and_restored():
    previous = rg.get_default_dtype()
    try:
        rg.set_default_dtype(rg.float64)
        assert rg.tensor(1.0).dtype == rg.float64
        assert rg.zeros(2).dtype == rg.float64
        assert "dtype=float32" in repr(rg.tensor([1.0], dtype=rg.float32))
        with pytest.raises(TypeError, match="floating"):
            rg.set_default_dtype(rg.int64)
    finally:
        rg.set_default_dtype(previous)
    assert rg.tensor(1.0).dtype == rg.float32


def test_dtypes_are_numpy_dtypes_under_pytorch_names():
    assert rg.float32 == np.float32 and rg.float is rg.float32
    assert rg.float64 == np.float64 and rg.double is rg.float64
    assert rg.float16 is rg.half
    assert rg.int64 is rg.long and rg.int16 is rg.short
    assert rg.bool == np.bool_
    assert rg.tensor([1], dtype="float64").dtype == rg.float64
    assert rg.tensor([1], dtype=float).dtype == rg.float32  # Python float = default float
    with pytest.raises(TypeError, match="dtype"):
        rg.tensor([1], dtype=object())


def test_is_tensor():
    assert rg.is_tensor(rg.tensor(1.0))
    assert not rg.is_tensor(np.ones(1))
