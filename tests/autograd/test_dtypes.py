"""rg.dtype: PyTorch's dtype attributes over NumPy dtypes, interchangeable with them."""

import pickle

import numpy as np
import pytest

import retrograd as rg

NAMES = ["float16", "float32", "float64", "int8", "uint8", "int16", "int32", "int64", "bool"]


@pytest.mark.parametrize("name", NAMES)
def test_attributes_match_torch(name):
    torch = pytest.importorskip("torch")
    ours, theirs = getattr(rg, name), getattr(torch, name)
    assert ours.is_floating_point == theirs.is_floating_point
    assert ours.is_complex == theirs.is_complex
    assert ours.is_signed == theirs.is_signed
    assert ours.itemsize == theirs.itemsize
    assert str(ours) == str(theirs).removeprefix("torch.")
    assert rg.zeros(2, dtype=ours).dtype.is_floating_point == theirs.is_floating_point


def test_one_object_per_dtype_equal_to_numpys():
    x = rg.ones(3)
    assert x.dtype is rg.float32 and rg.float is rg.float32 and rg.long is rg.int64
    assert x.dtype == np.float32 and x.dtype == np.dtype("float32") and x.dtype == "float32"
    assert np.dtype("float32") == x.dtype and x.dtype != rg.float64 and x.dtype != np.int64
    assert rg.tensor(np.zeros(2)).dtype is rg.float64  # from an array's NumPy dtype
    assert isinstance(x.dtype, rg.dtype)
    assert {np.dtype("float32"): "a"}[x.dtype] == "a" and {rg.int64: "b"}[np.dtype("int64")]
    assert x.dtype in (rg.float16, rg.float32) and x.dtype in (np.float32,)


def test_numpy_accepts_it_wherever_it_takes_a_dtype():
    w = rg.float64
    a = np.arange(3)
    assert a.astype(w).dtype == np.float64 and np.zeros(2, dtype=w).dtype == np.float64
    assert np.asarray([1, 2], dtype=rg.int32).dtype == np.int32
    assert np.finfo(rg.float32).eps == np.finfo(np.float32).eps
    assert np.iinfo(rg.int16).max == 2**15 - 1
    assert np.issubdtype(w, np.floating) and np.can_cast(rg.int8, w)
    assert np.dtype(w) == np.float64 and np.promote_types(rg.int32, w) == np.float64


def test_numpy_dtype_api_is_forwarded():
    assert rg.float32.kind == "f" and rg.float32.name == "float32" and rg.float32.char == "f"
    assert rg.int64.type is np.int64 and rg.float64.str == "<f8"
    assert rg.float32.dtype is np.dtype(np.float32)
    with pytest.raises(AttributeError):
        _ = rg.float32.no_such_attribute


def test_str_repr_pickle_and_formatting():
    assert str(rg.float32) == "float32" and repr(rg.float32) == "retrograd.float32"
    assert f"{rg.int64}" == "int64" and f"{rg.int64:>6}" == " int64"
    assert pickle.loads(pickle.dumps(rg.float16)) is rg.float16
    assert pickle.loads(pickle.dumps(rg.ones(2))).dtype is rg.float32


def test_default_dtype_is_an_rg_dtype():
    assert rg.get_default_dtype() is rg.float32 and rg.get_default_dtype().is_floating_point
    previous = rg.get_default_dtype()
    try:
        rg.set_default_dtype(np.float64)
        assert rg.get_default_dtype() is rg.float64 and rg.tensor([1.0]).dtype is rg.float64
    finally:
        rg.set_default_dtype(previous)


def test_bfloat16_when_available():
    if rg.bfloat16 is None:
        pytest.skip("ml_dtypes is not installed")
    assert rg.bfloat16.is_floating_point and rg.bfloat16.itemsize == 2
    assert rg.tensor([1.0]).to(rg.bfloat16).dtype is rg.bfloat16
