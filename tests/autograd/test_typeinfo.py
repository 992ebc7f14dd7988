"""rg.device, rg.Size, rg.finfo/iinfo (autograd/typeinfo.py) and the torch.Tensor-style
constructor `rg.Tensor(...)`, against PyTorch where it is installed."""

import pickle

import numpy as np
import pytest

import retrograd as rg


def test_device_parses_and_compares_like_torch():
    cpu = rg.device("cpu")
    assert cpu.type == "cpu" and cpu.index is None
    assert str(cpu) == "cpu" and repr(cpu) == "device(type='cpu')"
    assert cpu == rg.device(type="cpu") == rg.device(cpu)
    assert cpu != rg.device("cpu:0") and cpu != "cpu"
    assert rg.device("cpu", 0) == rg.device("cpu:0")
    assert str(rg.device("cuda:1")) == "cuda:1" and rg.device("cuda:1").index == 1
    assert len({cpu, rg.device("cpu"), rg.device("cpu:0")}) == 2
    assert pickle.loads(pickle.dumps(rg.device("cpu:0"))) == rg.device("cpu:0")
    with pytest.raises(RuntimeError, match="device: expected one of"):
        rg.device("gpu")
    with pytest.raises(RuntimeError, match="device: invalid device string"):
        rg.device("cpu:x")
    with pytest.raises(AttributeError):
        cpu.type = "cuda"


def test_tensors_live_on_the_cpu_device_and_to_accepts_devices():
    x = rg.ones(2, requires_grad=True)
    assert x.device == rg.device("cpu") and x.device.type == "cpu"
    assert x.to(rg.device("cpu")) is x
    assert x.to("cpu") is x and x.to(device=rg.device("cpu")) is x
    y = x.to(rg.device("cpu"), rg.float64)
    assert y.dtype == rg.float64 and y.requires_grad
    with pytest.raises(RuntimeError, match="device 'cuda' is not available"):
        x.to(rg.device("cuda"))
    model = rg.nn.Linear(2, 2).to(rg.device("cpu"))
    assert model.weight.device == rg.device("cpu")
    model.to(rg.device("cpu"), rg.float64)
    assert model.weight.dtype == rg.float64
    with pytest.raises(RuntimeError, match="not available"):
        model.to(rg.device("cuda:0"))


def test_size_is_a_tuple_with_numel():
    x = rg.zeros(2, 3, 4)
    shape = x.shape
    assert isinstance(shape, rg.Size) and isinstance(shape, tuple)
    assert shape == (2, 3, 4) and shape.numel() == 24 == x.numel()
    assert isinstance(shape[1:], rg.Size) and shape[1:] == (3, 4)
    assert isinstance(shape[0], int)
    assert x.size() == shape and x.size(1) == 3
    assert rg.Size([2, 3]) + (1,) == (2, 3, 1)
    assert repr(shape) == "(2, 3, 4)"  # printed like the tuple it is (error messages use it)
    assert rg.Size([]).numel() == 1
    assert pickle.loads(pickle.dumps(shape)) == shape


@pytest.mark.parametrize("dtype", ["float16", "float32", "float64", "bfloat16"])
def test_finfo_matches_torch(dtype):
    torch = pytest.importorskip("torch")
    if getattr(rg, dtype) is None:
        pytest.skip("bfloat16 needs ml_dtypes")
    ours, theirs = rg.finfo(getattr(rg, dtype)), torch.finfo(getattr(torch, dtype))
    for name in ["bits", "eps", "max", "min", "tiny", "smallest_normal", "resolution"]:
        assert getattr(ours, name) == getattr(theirs, name), name
    assert ours.dtype == theirs.dtype
    assert rg.finfo().eps == torch.finfo().eps


@pytest.mark.parametrize("dtype", ["uint8", "int8", "int16", "int32", "int64"])
def test_iinfo_matches_torch(dtype):
    torch = pytest.importorskip("torch")
    ours, theirs = rg.iinfo(getattr(rg, dtype)), torch.iinfo(getattr(torch, dtype))
    assert (ours.bits, ours.min, ours.max, ours.dtype) == (theirs.bits, theirs.min, theirs.max,
                                                           theirs.dtype)


def test_finfo_and_iinfo_reject_the_other_kind():
    with pytest.raises(TypeError, match="finfo: expected a floating dtype"):
        rg.finfo(rg.int64)
    with pytest.raises(TypeError, match="iinfo: expected an integer dtype"):
        rg.iinfo(rg.float32)


CONSTRUCTOR_CALLS = [
    "Tensor([1, 2])",
    "Tensor([[1.5, 2], [3, 4]])",
    "Tensor([True, False])",
    "Tensor(2, 3)",
    "Tensor(4)",
    "Tensor()",
    "Tensor(0, 2)",
]


@pytest.mark.parametrize("call", CONSTRUCTOR_CALLS)
def test_tensor_constructor_matches_torch(call):
    torch = pytest.importorskip("torch")
    ours = eval("rg." + call)
    theirs = eval("torch." + call, {"torch": torch})
    assert ours.dtype == rg.float32 and str(theirs.dtype) == "torch.float32"
    assert ours.shape == tuple(theirs.shape)
    if "(" in call[7:] and "[" in call:  # data, not sizes (sizes leave memory uninitialised)
        np.testing.assert_array_equal(ours.data, theirs.numpy())


def test_tensor_constructor_arrays_tensors_sizes_and_subclasses():
    assert rg.Tensor(np.arange(3)).dtype == rg.float32
    np.testing.assert_array_equal(rg.Tensor(np.arange(3)).data, [0.0, 1.0, 2.0])
    assert rg.Tensor(rg.tensor([1, 2])).dtype == rg.int64  # a tensor keeps its dtype
    assert rg.Tensor(rg.Size([2, 2])).shape == (2, 2)
    assert rg.Tensor((2, 3)).shape == (2,)  # a tuple is data, as in PyTorch
    assert rg.Tensor([1.0], requires_grad=True).requires_grad
    assert rg.Tensor(2, dtype=rg.float64).dtype == rg.float64
    assert rg.nn.Parameter(rg.tensor([1.0, 2.0], dtype=rg.float64)).dtype == rg.float64
    assert rg.tensor([1, 2]).dtype == rg.int64  # the lowercase form still infers
    x = rg.ones(2, 3)
    assert x.ndimension() == 2 == x.dim()
    rg.set_default_dtype(rg.float64)
    try:
        assert rg.Tensor([1, 2]).dtype == rg.float64
    finally:
        rg.set_default_dtype(rg.float32)
    with pytest.raises(TypeError, match="Tensor: expected data, or sizes as ints"):
        rg.Tensor([1.0], 2)
