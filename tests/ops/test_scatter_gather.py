import numpy as np
import pytest

import retrograd as rg

from .harness import OpSpec, parametrize

I3 = np.array([2, 0, 2])  # a repeated index: gradients must add up
GATHER = np.array([[0, 0], [3, 1], [2, 2]])  # for (3, 4) inputs along dim 1

SPECS = [
    OpSpec("index", lambda x: rg.gather(x, 1, rg.tensor(GATHER)),
           lambda x: np.take_along_axis(x, GATHER, 1)[:, :2], [((3, 4),)], name="gather"),
    OpSpec("index", lambda x: rg.gather(x, 0, rg.tensor([[2, 0], [2, 2]])),
           lambda x: np.take_along_axis(x[:, :2], np.array([[2, 0], [2, 2]]), 0), [((3, 4),)],
           name="gather_smaller_index"),
    OpSpec("index", lambda x: rg.gather(x, 0, rg.tensor(0)), lambda x: x, [((),)],
           name="gather_0d"),
    OpSpec("index", lambda x: rg.take_along_dim(x, rg.tensor([[0], [2]]), dim=1),
           lambda x: np.take_along_axis(x, np.array([[0], [2]]), 1), [((2, 3),)],
           name="take_along_dim"),
    OpSpec("index", lambda x: rg.take_along_dim(x, rg.tensor([0, 5, 5])),
           lambda x: x.reshape(-1)[[0, 5, 5]], [((2, 3),)], name="take_along_dim_flat"),
    OpSpec("index_put", lambda x, s: rg.scatter_add(x, 1, rg.tensor(GATHER), s),
           lambda x, s: _scatter_add(x, 1, GATHER, s), [((3, 4), (3, 2)), ((3, 4), (3, 3))],
           name="scatter_add"),
    OpSpec("index_put", lambda x, s: rg.scatter(x, 0, rg.tensor([[2, 0, 1]]), s),
           lambda x, s: _scatter(x, 0, np.array([[2, 0, 1]]), s), [((3, 4), (1, 3))],
           name="scatter"),
    OpSpec("index_put", lambda x: rg.scatter(x, 1, rg.tensor([[1], [0], [3]]), value=2.0),
           lambda x: _scatter(x, 1, np.array([[1], [0], [3]]), np.full((3, 1), 2.0)),
           [((3, 4),)], name="scatter_value"),
    OpSpec("index", lambda x: rg.index_select(x, 1, rg.tensor(I3)),
           lambda x: np.take(x, I3, axis=1), [((2, 3, 2),), ((0, 3),)], name="index_select"),
    OpSpec("index_put", lambda x, s: rg.index_add(x, 0, rg.tensor(I3), s, alpha=2.0),
           lambda x, s: _add_at(x, I3, 2 * s), [((3, 2), (3, 2))], name="index_add"),
    OpSpec("index_put", lambda x, s: rg.index_copy(x, 1, rg.tensor([2, 0]), s),
           lambda x, s: _assign(x, (slice(None), [2, 0]), s), [((2, 3), (2, 2))],
           name="index_copy"),
    OpSpec("index_put", lambda x: rg.index_fill(x, 1, rg.tensor([1]), -1.0),
           lambda x: _assign(x, (slice(None), [1]), -1.0), [((2, 3),)], name="index_fill"),
]

def _add_at(x, index, v):
    out = x.copy()
    np.add.at(out, index, np.broadcast_to(v, out[index].shape))
    return out


def _assign(x, index, v):
    out = x.copy()
    out[index] = v
    return out


def _along(index, dim):
    return tuple(
        index if d == dim else np.arange(n).reshape((-1,) + (1,) * (index.ndim - 1 - d))
        for d, n in enumerate(index.shape)
    )


def _scatter_add(x, dim, index, src):
    return _add_at(x, _along(index, dim), src[tuple(slice(0, n) for n in index.shape)])


def _scatter(x, dim, index, src):
    return _assign(x, _along(index, dim), src[tuple(slice(0, n) for n in index.shape)])


PARAMS, IDS = parametrize(SPECS)

PARAMS, IDS = parametrize(SPECS)


@pytest.mark.parametrize("spec,shapes,check", PARAMS, ids=IDS)
def test_spec(spec, shapes, check):
    check(spec, shapes)


def test_gather_gradient_adds_up_repeated_positions():
    x = rg.zeros(2, 3, dtype=rg.float64, requires_grad=True)
    rg.gather(x, 1, rg.tensor([[2, 2, 2], [0, 1, 0]])).sum().backward()
    np.testing.assert_array_equal(x.grad.data, [[0, 0, 3], [2, 1, 0]])


def test_gather_scatter_errors():
    x = rg.zeros(3, 4)
    with pytest.raises(IndexError, match=r"gather: .*out of bounds"):
        rg.gather(x, 1, rg.tensor([[4]]))
    with pytest.raises(ValueError, match=r"gather: index has 1 dimensions"):
        rg.gather(x, 1, rg.tensor([0]))
    with pytest.raises(ValueError, match=r"gather: index of shape \(4, 1\) is larger"):
        rg.gather(x, 1, rg.zeros(4, 1, dtype=rg.int64))
    with pytest.raises(TypeError, match="integer tensor"):
        rg.gather(x, 1, rg.zeros(3, 1))
    with pytest.raises(ValueError, match="src of shape"):
        rg.scatter(x, 1, rg.zeros(3, 2, dtype=rg.int64), rg.zeros(3, 1))
    with pytest.raises(IndexError, match=r"scatter: .*out of bounds"):
        rg.scatter_add(x, 0, rg.tensor([[3]]), rg.ones(1, 1))
    with pytest.raises(ValueError, match="index_add: source of shape"):
        rg.index_add(x, 0, rg.tensor([0]), rg.ones(2, 4))
    with pytest.raises(ValueError, match="index_select: index must be 0-d or 1-d"):
        rg.index_select(x, 0, rg.zeros(1, 1, dtype=rg.int64))


torch = pytest.importorskip("torch")


def _parity(fn_rg, fn_torch, shape, seed=0):
    """Forward values and gradients (for a random cotangent) agree with PyTorch in float64."""
    rng = np.random.default_rng(seed)
    data = rng.standard_normal(shape)
    x = rg.tensor(data, requires_grad=True)
    xt = torch.tensor(data, requires_grad=True)
    out, out_t = fn_rg(x), fn_torch(xt)
    assert out.shape == tuple(out_t.shape)
    np.testing.assert_allclose(out.data, out_t.detach().numpy())
    v = rng.standard_normal(out.shape)
    out.backward(rg.tensor(v))
    out_t.backward(torch.tensor(v))
    np.testing.assert_allclose(x.grad.data, xt.grad.numpy())


def test_gather_scatter_index_select_match_torch():
    idx = np.array([[0, 2, 2], [1, 0, 1]])
    src = np.random.default_rng(3).standard_normal((2, 3))
    _parity(lambda x: rg.gather(x, 1, rg.tensor(idx)),
            lambda x: torch.gather(x, 1, torch.tensor(idx)), (2, 4))
    _parity(lambda x: rg.gather(x, -2, rg.tensor(idx)),
            lambda x: torch.gather(x, -2, torch.tensor(idx)), (3, 4))
    _parity(lambda x: rg.scatter_add(x, 1, rg.tensor(idx), rg.tensor(src) * x[:, :3]),
            lambda x: torch.scatter_add(x, 1, torch.tensor(idx), torch.tensor(src) * x[:, :3]),
            (2, 4))
    _parity(lambda x: rg.index_select(x, 1, rg.tensor([3, 0, 3])),
            lambda x: torch.index_select(x, 1, torch.tensor([3, 0, 3])), (2, 4))
    _parity(lambda x: rg.index_add(x, 1, rg.tensor([3, 3]), x[:, :2] ** 2),
            lambda x: torch.index_add(x, 1, torch.tensor([3, 3]), x[:, :2] ** 2), (2, 4))
    _parity(lambda x: rg.take_along_dim(x, rg.tensor([[1], [0]]), dim=1),
            lambda x: torch.take_along_dim(x, torch.tensor([[1], [0]]), dim=1), (2, 4))
    mask = np.array([True, False, True, True])
    _parity(lambda x: rg.masked_select(x, rg.tensor(mask)),
            lambda x: torch.masked_select(x, torch.tensor(mask)), (2, 4))
    _parity(lambda x: rg.index_put(x, (rg.tensor([0, 0]), rg.tensor([1, 1])), x[1, :2], True),
            lambda x: x.index_put((torch.tensor([0, 0]), torch.tensor([1, 1])), x[1, :2], True),
            (2, 4))


def test_scatter_matches_torch_without_repeats():
    idx = np.array([[2, 0, 1, 3]])
    _parity(lambda x: rg.scatter(x, 1, rg.tensor(idx), x * 3),
            lambda x: torch.scatter(x, 1, torch.tensor(idx), x * 3), (1, 4))
