import numpy as np
import pytest

import retrograd as rg

torch = pytest.importorskip("torch")

A = np.arange(24, dtype=np.float32).reshape(2, 3, 4)

VIEWS = {  # the same view of A in both libraries
    "contiguous": lambda L, x: x,
    "transpose": lambda L, x: x.transpose(0, 2),
    "permute": lambda L, x: x.permute(1, 2, 0),
    "slice": lambda L, x: x[:, 1:, ::2],
    "index": lambda L, x: x[1],
    "expand": lambda L, x: x[:, :1].expand(2, 5, 4),
    "unsqueeze": lambda L, x: x.unsqueeze(1),
    "empty": lambda L, x: x[:, :0],
    "scalar": lambda L, x: x[0, 0, 0],
    "narrow_row": lambda L, x: x[:, 2:3, :],
}


@pytest.mark.parametrize("view", list(VIEWS), ids=list(VIEWS))
def test_layout_matches_torch(view):
    fn = VIEWS[view]
    ours, theirs = fn(rg, rg.tensor(A.copy())), fn(torch, torch.tensor(A.copy()))
    assert ours.stride() == theirs.stride()
    assert ours.is_contiguous() == theirs.is_contiguous()
    assert ours.storage_offset() == theirs.storage_offset()
    for d in range(-ours.ndim, ours.ndim):
        assert ours.stride(d) == theirs.stride(d)
    assert (ours.nbytes, ours.itemsize, ours.element_size()) == (
        theirs.nbytes, theirs.itemsize, theirs.element_size())


def test_channels_last():
    x = rg.zeros(2, 3, 4, 5)
    nhwc = x.permute(0, 2, 3, 1).contiguous().permute(0, 3, 1, 2)
    t = torch.zeros(2, 3, 4, 5).contiguous(memory_format=torch.channels_last)
    assert nhwc.stride() == t.stride()
    assert nhwc.is_contiguous(memory_format=rg.channels_last)
    assert not x.is_contiguous(memory_format=rg.channels_last)
    assert x.is_contiguous(memory_format=rg.contiguous_format)
    assert not rg.zeros(2, 3).is_contiguous(memory_format=rg.channels_last)


def test_data_ptr_follows_views():
    x = rg.zeros(3, 4)
    assert x[1].data_ptr() == x.data_ptr() + 4 * x.itemsize
    assert x.clone().data_ptr() != x.data_ptr()


def test_device_answers():
    x = rg.ones(2)
    assert (x.is_cuda, x.is_cpu, x.get_device(), x.is_sparse, x.is_quantized) == (
        False, True, -1, False, False)
    assert x.pin_memory() is x and not x.is_pinned() and x.share_memory_() is x
    with pytest.raises(RuntimeError, match="CPU"):
        x.cuda()


@pytest.mark.parametrize("dtype", ["float32", "float64", "int64", "int32", "int16", "int8",
                                   "uint8", "bool", "float16"])
def test_type_predicates_and_casts_match_torch(dtype):
    ours = rg.zeros(2, dtype=getattr(rg, dtype))
    theirs = torch.zeros(2, dtype=getattr(torch, dtype))
    assert ours.is_signed() == theirs.is_signed() == rg.is_signed(ours)
    assert ours.is_complex() == theirs.is_complex() == rg.is_complex(ours)
    for cast in ("byte", "char", "short"):
        assert str(getattr(ours, cast)().dtype) == str(getattr(theirs, cast)().dtype)[6:]


PAIRS = [("float32", "int64"), ("int32", "int64"), ("uint8", "int8"), ("bool", "int16"),
         ("float16", "float32"), ("bool", "bool"), ("int8", "float64")]


@pytest.mark.parametrize("a,b", PAIRS)
def test_dtype_helpers_match_torch(a, b):
    assert str(rg.promote_types(getattr(rg, a), getattr(rg, b))) == str(
        torch.promote_types(getattr(torch, a), getattr(torch, b)))[6:]
    assert rg.can_cast(getattr(rg, a), getattr(rg, b)) == torch.can_cast(
        getattr(torch, a), getattr(torch, b))
    x_r, x_t = rg.ones(2, dtype=getattr(rg, a)), torch.ones(2, dtype=getattr(torch, a))
    for other in (2, 2.5, True):
        assert str(rg.result_type(x_r, other)) == str(torch.result_type(x_t, other))[6:]
    y_r, y_t = rg.ones((), dtype=getattr(rg, b)), torch.ones((), dtype=getattr(torch, b))
    assert str(rg.result_type(x_r, y_r)) == str(torch.result_type(x_t, y_t))[6:]


def test_is_nonzero_and_is_same_size():
    assert rg.is_nonzero(rg.tensor([1.5])) and not rg.tensor(0).is_nonzero()
    with pytest.raises(RuntimeError, match="is_nonzero"):
        rg.is_nonzero(rg.ones(2))
    assert rg.ones(2, 3).is_same_size(rg.zeros(2, 3))
    assert not rg.is_same_size(rg.ones(2, 3), rg.ones(3, 2))


def test_apply_and_map_match_torch():
    ours, theirs = rg.tensor([1.0, -2.0, 3.0]), torch.tensor([1.0, -2.0, 3.0])
    for t in (ours, theirs):
        t.apply_(lambda v: v * v + 1)
        t.map_(t.new_tensor([1.0, 2.0, 3.0]), lambda a, b: a - b)
    np.testing.assert_array_equal(ours.data, theirs.numpy())
    with pytest.raises(RuntimeError, match="apply_"):
        rg.ones(2, requires_grad=True).apply_(abs)


def test_fork_rng_restores_the_generator():
    rg.manual_seed(3)
    with rg.random.fork_rng():
        inside = rg.rand(3)
    after = rg.rand(3)
    np.testing.assert_array_equal(inside.data, after.data)


def test_module_share_memory_and_to_empty():
    model = rg.nn.Linear(2, 2)
    assert model.share_memory() is model and model.to_empty(device="cpu") is model
