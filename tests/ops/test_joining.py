import numpy as np
import pytest

import retrograd as rg

from .harness import OpSpec, parametrize

SPECS = [
    OpSpec("cat", lambda x, y, z: rg.cat([x, y, z], dim=1),
           lambda x, y, z: np.concatenate([x, y, z], 1), [((2, 1, 3), (2, 4, 3), (2, 0, 3))]),
    OpSpec("cat", lambda x, y: rg.concat((x, y), -1), lambda x, y: np.concatenate([x, y], -1),
           [((3,), (2,)), ((2, 2), (2, 1))], name="concat_neg_dim"),
    OpSpec("cat", lambda x: rg.cat([x]), lambda x: x, [((2, 3),)], name="cat_one"),
    OpSpec("cat", lambda x, y: rg.cat([x, y]), lambda x, y: y, [((0,), (2, 3))],
           name="cat_legacy_empty"),
    OpSpec("cat", lambda x: rg.hstack([x, x * 2]), lambda x: np.hstack([x, x * 2]),
           [((3,),), ((2, 2),)], name="hstack"),
    OpSpec("cat", lambda x, y: rg.vstack([x, y]), lambda x, y: np.vstack([x, y]),
           [((3,), (2, 3))], name="vstack"),
    OpSpec("stack", lambda x, y: rg.stack([x, y], dim=-1), lambda x, y: np.stack([x, y], -1),
           [((2, 3), (2, 3)), ((), ())]),
    OpSpec("stack", lambda x: rg.stack([x, x, x], -1), lambda x: np.stack([x] * 3, -1),
           [((2,),)], name="stack_repeated_input"),
    OpSpec("stack", lambda x: rg.stack([x]), lambda x: x[None], [((2,),)], name="stack_one"),
    OpSpec("index", lambda x: rg.split(x, 2, dim=1)[1], lambda x: x[:, 2:4], [((2, 5),)],
           name="split"),
    OpSpec("index", lambda x: x.split([1, 3], 1)[1], lambda x: x[:, 1:], [((2, 4),)],
           name="split_sections"),
    OpSpec("index", lambda x: rg.chunk(x, 3)[2], lambda x: x[4:], [((5, 2),)], name="chunk"),
    OpSpec("index", lambda x: rg.tensor_split(x, 3)[0], lambda x: x[:2], [((5,),)],
           name="tensor_split"),
    OpSpec("index", lambda x: rg.unbind(x, -1)[1], lambda x: x[..., 1], [((2, 3),)],
           name="unbind"),
    OpSpec("expand", lambda x: x.repeat(2, 1, 3), lambda x: np.tile(x, (2, 1, 3)),
           [((2, 2),), ((),)], name="repeat"),
    OpSpec("expand", lambda x: rg.tile(x, (2,)), lambda x: np.tile(x, 2), [((2, 3),)],
           name="tile"),
    OpSpec("expand", lambda x: rg.repeat_interleave(x, 2, dim=0),
           lambda x: np.repeat(x, 2, axis=0), [((2, 3),)], name="repeat_interleave"),
    OpSpec("index", lambda x: x.repeat_interleave(rg.tensor([2, 0, 1])),
           lambda x: np.repeat(x, [2, 0, 1]), [((3,),)], name="repeat_interleave_counts"),
]

PARAMS, IDS = parametrize(SPECS)


@pytest.mark.parametrize("spec,shapes,check", PARAMS, ids=IDS)
def test_spec(spec, shapes, check):
    check(spec, shapes)


def test_pieces_are_views_covering_the_input():
    x = rg.tensor(np.arange(10.0))
    for pieces in (rg.split(x, 3), rg.chunk(x, 4), rg.tensor_split(x, [2, 5]), rg.unbind(x)):
        assert all(p._base is x for p in pieces)
        np.testing.assert_array_equal(np.concatenate([np.atleast_1d(p.data) for p in pieces]),
                                      x.data)


def test_split_sizes_match_pytorch_rules():
    x = rg.zeros(5, 3)
    assert [p.shape[0] for p in rg.split(x, 2)] == [2, 2, 1]
    assert [p.shape[0] for p in rg.chunk(x, 3)] == [2, 2, 1]
    assert [p.shape[0] for p in rg.chunk(rg.zeros(6), 4)] == [2, 2, 2]  # fewer than asked
    assert [p.shape[0] for p in rg.chunk(rg.zeros(0, 3), 3)] == [0, 0, 0]
    assert [p.shape[0] for p in rg.split(rg.zeros(0, 3), 2)] == [0]
    assert [p.shape[0] for p in rg.tensor_split(x, 3)] == [2, 2, 1]
    assert [p.shape[0] for p in rg.tensor_split(x, [1, 4, 2, 9])] == [1, 3, 0, 3, 0]
    assert [p.shape[0] for p in rg.tensor_split(x, rg.tensor([-1]))] == [4, 1]


def test_cat_and_stack_promote_dtypes():
    ints, floats = rg.tensor([1, 2]), rg.tensor([0.5, 1.5])
    assert rg.cat([ints, floats]).dtype == rg.float32
    assert rg.stack([ints, floats]).dtype == rg.float32
    assert rg.cat([ints, ints]).dtype == rg.int64


def test_cat_gradient_reaches_only_inputs_that_need_it():
    x = rg.ones(2, dtype=rg.float64, requires_grad=True)
    y = rg.ones(3, dtype=rg.float64)
    (rg.cat([y, x]) * rg.tensor([1.0, 2, 3, 4, 5], dtype=rg.float64)).sum().backward()
    np.testing.assert_array_equal(x.grad.data, [4.0, 5.0])
    assert y.grad is None


def test_repeat_copies_even_when_every_size_is_one():
    x = rg.zeros(2, 2)
    y = x.repeat(1, 1)
    assert not np.shares_memory(x.data, y.data)
    assert x.repeat(1, 1, 1).shape == (1, 2, 2)
    assert x.repeat(0, 2).shape == (0, 4)


def test_joining_errors_name_the_op_and_shapes():
    with pytest.raises(ValueError, match=r"cat: sizes of tensors must match except in dimension 0"):
        rg.cat([rg.zeros(2, 3), rg.zeros(2, 4)])
    with pytest.raises(ValueError, match="cat: zero-dimensional tensor"):
        rg.cat([rg.tensor(1.0)])
    with pytest.raises(ValueError, match="cat: expected a non-empty"):
        rg.cat([])
    with pytest.raises(TypeError, match="cat: expected a sequence"):
        rg.cat(rg.zeros(2))
    with pytest.raises(ValueError, match=r"stack: expects each tensor to be equal size.*\(2,\)"):
        rg.stack([rg.zeros(2), rg.zeros(3)])
    with pytest.raises(ValueError, match="split: sizes"):
        rg.split(rg.zeros(5), [2, 2])
    with pytest.raises(ValueError, match="split: split_size"):
        rg.split(rg.zeros(5), 0)
    with pytest.raises(ValueError, match="chunk: chunks must be positive"):
        rg.chunk(rg.zeros(5), 0)
    with pytest.raises(ValueError, match="repeat: 1 repeat sizes"):
        rg.zeros(2, 2).repeat(2)
    with pytest.raises(ValueError, match="repeat_interleave: repeats of shape"):
        rg.repeat_interleave(rg.zeros(3), rg.tensor([1, 2]))


torch = pytest.importorskip("torch")


def _parity(fn, shapes, seed=0):
    """fn(module, *tensors) -> tensor or tuple; values and gradients agree with PyTorch."""
    rng = np.random.default_rng(seed)
    data = [rng.standard_normal(s) for s in shapes]
    xs = [rg.tensor(d, requires_grad=True) for d in data]
    ts = [torch.tensor(d, requires_grad=True) for d in data]
    outs, outs_t = fn(rg, *xs), fn(torch, *ts)
    if not isinstance(outs, tuple):
        outs, outs_t = (outs,), (outs_t,)
    assert len(outs) == len(outs_t)
    loss, loss_t = 0, 0
    for out, out_t in zip(outs, outs_t):
        assert out.shape == tuple(out_t.shape)
        np.testing.assert_allclose(out.data, out_t.detach().numpy())
        v = rng.standard_normal(out.shape)
        loss = loss + (out * rg.tensor(v)).sum()
        loss_t = loss_t + (out_t * torch.tensor(v)).sum()
    loss.backward()
    loss_t.backward()
    for x, t in zip(xs, ts):
        np.testing.assert_allclose(x.grad.data, t.grad.numpy())


@pytest.mark.parametrize(
    "fn,shapes",
    [
        (lambda m, x, y: m.cat([x, y, x], 1), [(2, 3), (2, 1)]),
        (lambda m, x, y: m.stack([x, y], -1), [(2, 3), (2, 3)]),
        (lambda m, x, y: m.hstack([x, y]), [(2, 3), (2, 1)]),
        (lambda m, x, y: m.vstack([x, y]), [(3,), (2, 3)]),
        (lambda m, x: m.split(x, 2, 1), [(2, 5)]),
        (lambda m, x: m.split(x, [1, 0, 4], 1), [(2, 5)]),
        (lambda m, x: m.chunk(x, 3, 0), [(7, 2)]),
        (lambda m, x: m.tensor_split(x, 4, 1), [(2, 5)]),
        (lambda m, x: m.unbind(x, 1), [(2, 3)]),
        (lambda m, x: x.repeat(2, 1, 3), [(2, 2)]),
        (lambda m, x: m.tile(x, (2, 1)), [(3,)]),
        (lambda m, x: m.repeat_interleave(x, 3, 1), [(2, 2)]),
        (lambda m, x: m.repeat_interleave(x, m.tensor([1, 3]), 0), [(2, 2)]),
        (lambda m, x: m.repeat_interleave(x, 2), [(2, 2)]),
    ],
)
def test_matches_torch(fn, shapes):
    _parity(fn, shapes)
