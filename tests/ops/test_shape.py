import numpy as np
import pytest

import retrograd as rg

from .harness import OpSpec, parametrize

SPECS = [
    OpSpec("reshape", lambda x: x.reshape(4, 3), lambda x: x.reshape(4, 3), [((3, 4),), ((12,),)]),
    OpSpec("reshape", lambda x: x.view(2, -1, 1), lambda x: x.reshape(2, -1, 1), [((2, 3),)],
           name="view_minus_one"),
    OpSpec("reshape", lambda x: x.reshape(-1), lambda x: x.reshape(-1), [((),), ((0, 3),)],
           name="reshape_0d_empty"),
    OpSpec("reshape", lambda x: x.squeeze(), np.squeeze, [((1, 3, 1),)], name="squeeze"),
    OpSpec("reshape", lambda x: x.squeeze(-1), lambda x: x[..., 0], [((2, 1),)],
           name="squeeze_dim"),
    OpSpec("reshape", lambda x: x.unsqueeze(-1), lambda x: x[..., None], [((2, 3),), ((),)],
           name="unsqueeze"),
    OpSpec("reshape", lambda x: x.flatten(1), lambda x: x.reshape(2, -1), [((2, 3, 4),)],
           name="flatten"),
    OpSpec("reshape", lambda x: rg.flatten(x, 0, -2), lambda x: x.reshape(-1, 2),
           [((2, 3, 2),)], name="flatten_range"),
    OpSpec("reshape", lambda x: x.flatten(), lambda x: x.reshape(1), [((),)], name="flatten_0d"),
    OpSpec("reshape", lambda x: x.unflatten(1, (3, -1)), lambda x: x.reshape(2, 3, 2),
           [((2, 6),)], name="unflatten"),
    OpSpec("expand", lambda x: x.expand(2, 3, 4), lambda x: np.broadcast_to(x, (2, 3, 4)),
           [((3, 1),), ((1, 4),), ((),)]),
    OpSpec("expand", lambda x: x.expand(-1, 4), lambda x: np.broadcast_to(x, (3, 4)),
           [((3, 1),)], name="expand_minus_one"),
    OpSpec("sum_to", lambda x: rg.sum_to(x, (3, 1)), lambda x: x.sum(0).sum(-1, keepdims=True),
           [((2, 3, 4),)]),
    OpSpec("permute", lambda x: x.permute(2, 0, 1), lambda x: x.transpose(2, 0, 1),
           [((2, 3, 4),)]),
    OpSpec("permute", lambda x: x.transpose(0, -1), lambda x: np.swapaxes(x, 0, -1),
           [((2, 3, 4),)], name="transpose"),
    OpSpec("permute", lambda x: x.mT, lambda x: np.swapaxes(x, -1, -2), [((2, 3, 4),)],
           name="mT"),
    OpSpec("permute", lambda x: x.T, lambda x: x.T, [((2, 3, 4),)], name="T"),
    OpSpec("permute", lambda x: rg.movedim(x, 0, -1), lambda x: np.moveaxis(x, 0, -1),
           [((2, 3, 4),)], name="movedim"),
    OpSpec("permute", lambda x: rg.moveaxis(x, (0, 1), (2, 0)),
           lambda x: np.moveaxis(x, (0, 1), (2, 0)), [((2, 3, 4),)], name="moveaxis_many"),
    OpSpec("index", lambda x: x.narrow(1, -3, 2), lambda x: x[:, 1:3], [((2, 4),)],
           name="narrow"),
    OpSpec("index", lambda x: rg.diagonal(x), np.diagonal, [((3, 4),), ((4, 3),)],
           name="diagonal"),
    OpSpec("index", lambda x: x.diagonal(-1, 2, 0), lambda x: np.diagonal(x, -1, 2, 0),
           [((3, 2, 4),)], name="diagonal_offset"),
]

PARAMS, IDS = parametrize(SPECS)


@pytest.mark.parametrize("spec,shapes,check", PARAMS, ids=IDS)
def test_spec(spec, shapes, check):
    check(spec, shapes)


def test_views_share_memory_and_version_counter():
    x = rg.tensor(np.arange(24.0).reshape(2, 3, 4))
    for y in (x.flatten(1), x.unflatten(2, (2, 2)), x.movedim(0, 2), x.narrow(2, 1, 2)):
        assert y._base is x and y._version is x._version
        assert np.shares_memory(y.data, x.data)


def test_flatten_and_friends_edge_cases():
    x = rg.zeros(2, 3, 4)
    assert x.flatten(2).shape == (2, 3, 4)  # flattening one dim is a no-op
    assert rg.zeros(0, 3).flatten().shape == (0,)
    assert x.narrow(1, 3, 0).shape == (2, 0, 4)
    assert rg.diagonal(rg.zeros(2, 3), 5).shape == (0,)
    assert rg.movedim(x, -1, 0).shape == (4, 2, 3)


def test_shape_errors_name_the_op():
    x = rg.zeros(2, 3, 4)
    with pytest.raises(ValueError, match="flatten: start_dim 2 comes after end_dim 1"):
        x.flatten(2, 1)
    with pytest.raises(ValueError, match="unflatten: shape"):
        x.unflatten(1, (2, 2))
    with pytest.raises(ValueError, match="movedim: source"):
        x.movedim((0, 1), 2)
    with pytest.raises(ValueError, match="movedim: dim"):
        x.movedim((0, 0), (1, 2))
    with pytest.raises(IndexError, match="narrow: start 4"):
        x.narrow(1, 4, 1)
    with pytest.raises(ValueError, match=r"narrow: start \(2\) \+ length \(2\) exceeds"):
        x.narrow(1, 2, 2)
    with pytest.raises(ValueError, match="diagonal: dim1 and dim2"):
        x.diagonal(0, 1, -2)
    with pytest.raises(IndexError, match="flatten: dimension 3 is out of range"):
        x.flatten(3)


torch = pytest.importorskip("torch")


@pytest.mark.parametrize(
    "name,fn",
    [
        ("flatten", lambda m, x: m.flatten(x, 1, 2)),
        ("unflatten", lambda m, x: m.unflatten(x, -1, (2, 2))),
        ("movedim", lambda m, x: m.movedim(x, (2, 0), (0, 1))),
        ("narrow", lambda m, x: m.narrow(x, -1, 1, 3)),
        ("diagonal", lambda m, x: m.diagonal(x, 1, -1, 1)),
        ("permute", lambda m, x: m.permute(x, (1, 2, 0))),
    ],
)
def test_matches_torch(name, fn):
    data = np.random.default_rng(0).standard_normal((2, 3, 4))
    x = rg.tensor(data, requires_grad=True)
    xt = torch.tensor(data, requires_grad=True)
    out, out_t = fn(rg, x), fn(torch, xt)
    np.testing.assert_allclose(out.data, out_t.detach().numpy(), err_msg=name)
    v = np.random.default_rng(1).standard_normal(out.shape)
    out.backward(rg.tensor(v))
    out_t.backward(torch.tensor(v))
    np.testing.assert_allclose(x.grad.data, xt.grad.numpy(), err_msg=name)
