import numpy as np
import pytest

import retrograd as rg
from retrograd.autograd import array_ns
from retrograd.ops import indexing, tensor_ns

from .harness import OpSpec, parametrize

I3 = np.array([2, 0, 2])  # a repeated index: gradients must add up
I23 = np.array([[1, -1, 0], [0, 0, 3]])  # 2-d, negative and repeated
MASK = np.array([[True, False, True, True], [False, False, True, False], [True, True, False, True]])



SPECS = [
    # basic indexing: ints, slices (negative steps too), None, Ellipsis
    OpSpec("index", lambda x: x[1], lambda x: x[1], [((3, 4),), ((3,),), ((2, 0),)], name="int"),
    OpSpec("index", lambda x: x[-1, 1:3], lambda x: x[-1, 1:3], [((3, 4, 2),)], name="int_slice"),
    OpSpec("index", lambda x: x[::-2, None, ..., 1], lambda x: x[::-2, None, ..., 1],
           [((5, 3, 4),)], name="neg_step_none_ellipsis"),
    OpSpec("index", lambda x: x[...], lambda x: x[...], [((),), ((2, 3),)], name="ellipsis"),
    OpSpec("index", lambda x: x[None], lambda x: x[None], [((),)], name="none_0d"),
    OpSpec("index", lambda x: x[5:], lambda x: x[5:], [((3, 2),)], name="empty_slice"),
    # advanced indexing: integer arrays (repeats, negatives), lists, masks, mixed
    OpSpec("index", lambda x: x[rg.tensor(I3)], lambda x: x[I3], [((3, 4),), ((3,),)],
           name="int_tensor_repeated"),
    OpSpec("index", lambda x: x[:, I23], lambda x: x[:, I23], [((2, 4, 3),)],
           name="int_array_2d_after_slice"),
    OpSpec("index", lambda x: x[[0, 0, 1]], lambda x: x[[0, 0, 1]], [((2, 3),)], name="list"),
    OpSpec("index", lambda x: x[I3, :, [0, 1, 1]], lambda x: x[I3, :, [0, 1, 1]],
           [((3, 2, 2),)], name="separated_arrays"),
    OpSpec("index", lambda x: x[I3[:, None], [1, 0]], lambda x: x[I3[:, None], [1, 0]],
           [((3, 2),)], name="broadcast_arrays"),
    OpSpec("index", lambda x: x[rg.tensor(MASK)], lambda x: x[MASK], [((3, 4),), ((3, 4, 2),)],
           name="bool_mask"),
    OpSpec("index", lambda x: x[1:, rg.tensor(I3), 0], lambda x: x[1:][:, I3, 0],
           [((3, 4, 2),)], name="mixed_int_slice_array"),
    OpSpec("index", lambda x: x[I3[:0]], lambda x: x[I3[:0]], [((3, 2),)], name="empty_array"),
    # the primitives behind the composites
    OpSpec("index_backward",
           lambda g: tensor_ns.index_backward(g, (None, (slice(None), I3)), (2, 4)),
           lambda g: array_ns.index_backward(g, (None, (slice(None), I3)), (2, 4)),
           [((2, 3),)]),
    OpSpec("index_backward",
           lambda g: tensor_ns.index_backward(g, ((0, Ellipsis), None), (2, 3)),
           lambda g: np.stack([g, np.zeros(3)]), [((3,),)], name="index_backward_basic"),
    OpSpec("index_put", lambda x, v: rg.index_put(x, (rg.tensor(I3),), v, accumulate=True),
           lambda x, v: _add_at(x, I3, v), [((3, 4), (3, 4)), ((3, 4), (4,)), ((3, 4), ())]),
    OpSpec("index_put", lambda x, v: rg.index_put(x, (rg.tensor([0, 2]),), v),
           lambda x, v: _assign(x, [0, 2], v), [((3, 4), (2, 4)), ((3, 4), (1, 4))],
           name="index_put_assign"),
    OpSpec("index_put", lambda x: rg.index_put(x, rg.tensor(MASK), 0.5),
           lambda x: np.where(MASK, 0.5, x), [((3, 4),)], name="index_put_mask_scalar"),
    # composites (gather, scatter and index_select: test_scatter_gather.py)
    OpSpec("index", lambda x: rg.masked_select(x, rg.tensor(MASK[0])),
           lambda x: np.broadcast_to(x, (3, 4))[np.broadcast_to(MASK[0], (3, 4))],
           [((3, 4),), ((3, 1),)], name="masked_select_broadcast"),
    OpSpec("index", lambda x: rg.take(x, rg.tensor(I23)), lambda x: x.reshape(-1)[I23],
           [((2, 2),)], name="take"),
    OpSpec("index", lambda x: rg.select(x, 1, -1), lambda x: x[:, -1], [((2, 3),)],
           name="select"),
]


def _add_at(x, index, v):
    out = x.copy()
    np.add.at(out, index, np.broadcast_to(v, out[index].shape))
    return out


def _assign(x, index, v):
    out = x.copy()
    out[index] = v
    return out


PARAMS, IDS = parametrize(SPECS)


@pytest.mark.parametrize("spec,shapes,check", PARAMS, ids=IDS)
def test_spec(spec, shapes, check):
    check(spec, shapes)


# ----------------------------------------------------------------- semantics
def test_basic_index_is_a_view_sharing_the_version_counter():
    x = rg.tensor(np.arange(12.0).reshape(3, 4))
    for y in (x[1], x[:, 1:3], x[None, ..., ::-1], x[-1, -1]):
        assert y._base is x
        assert y._version is x._version
        assert np.shares_memory(y.data, x.data)
    assert x[1][2]._base is x  # a view of a view has the root as its base
    y = x[[0, 1]]
    assert y._base is None and not np.shares_memory(y.data, x.data)


def test_one_element_and_0d_results_are_0d_tensors():
    x = rg.arange(6.0).reshape(2, 3)
    assert x[1, 2].shape == () and x[1, 2].item() == 5.0
    assert rg.tensor(3.0)[...].shape == ()
    assert x[rg.tensor(1)].shape == (3,)  # a 0-d integer tensor selects like an int


def test_integers_select_before_arrays_are_placed_as_in_pytorch():
    x = rg.zeros(2, 3, 4, 5)
    i = rg.tensor([0, 2])
    assert x[:, 0, :, i].shape == (2, 4, 2)  # NumPy would give (2, 2, 4)
    assert x[0, :, i].shape == (3, 2, 5)
    j = rg.tensor([1, 0])
    assert x[j, :, j].shape == (2, 3, 5)
    assert x[j, None, j].shape == (2, 1, 4, 5)
    assert x[True].shape == (1, 2, 3, 4, 5) and x[False].shape == (0, 2, 3, 4, 5)
    assert x[[]].shape == (0, 3, 4, 5)
    assert x[rg.tensor(1), :, i].shape == (3, 2, 5)


def test_repeated_indices_accumulate_gradients():
    x = rg.zeros(4, dtype=rg.float64, requires_grad=True)
    x[[1, 1, 3, 1]].sum().backward()
    np.testing.assert_array_equal(x.grad.data, [0, 3, 0, 1])
    x.grad = None
    rg.gather(x, 0, rg.tensor([2, 2])).sum().backward()
    np.testing.assert_array_equal(x.grad.data, [0, 0, 2, 0])


def test_getitem_gradient_is_differentiable_again():
    x = rg.tensor([1.0, 2.0, 3.0], dtype=rg.float64, requires_grad=True)
    y = (x[[0, 0, 2]] ** 3).sum()
    (gx,) = rg.autograd.grad(y, x, create_graph=True)
    np.testing.assert_allclose(gx.data, [6.0, 0.0, 27.0])  # 2 * 3x^2 at x=1, 3x^2 at x=3
    (ggx,) = rg.autograd.grad(gx.sum(), x)
    np.testing.assert_allclose(ggx.data, [12.0, 0.0, 18.0])  # 2 * 6x, 6x


def test_iter_yields_views_over_dim_0():
    x = rg.tensor(np.arange(6.0).reshape(3, 2))
    rows = list(x)
    assert len(rows) == 3 and all(r._base is x for r in rows)
    np.testing.assert_array_equal(rows[2].data, [4.0, 5.0])
    with pytest.raises(TypeError, match="0-d"):
        iter(rg.tensor(1.0)).__next__()


def test_nonzero_and_argwhere():
    x = rg.tensor([[0, 1, 0], [2, 0, 3]])
    np.testing.assert_array_equal(rg.nonzero(x).data, [[0, 1], [1, 0], [1, 2]])
    assert rg.nonzero(x).dtype == rg.int64
    rows, cols = rg.nonzero(x, as_tuple=True)
    np.testing.assert_array_equal(rows.data, [0, 1, 1])
    np.testing.assert_array_equal(cols.data, [1, 0, 2])
    np.testing.assert_array_equal(x.argwhere().data, rg.nonzero(x).data)
    assert rg.nonzero(rg.zeros(0, 2)).shape == (0, 2)
    assert rg.nonzero(rg.tensor(5.0)).shape == (1, 0)
    assert rg.nonzero(rg.tensor(0.0), as_tuple=True)[0].shape == (0,)


def test_normalize_index_is_reusable_for_writes():
    a = np.zeros((2, 3, 4))
    basic, advanced = indexing.normalize_index((1, slice(None), rg.tensor([0, 3])), a.shape)
    a[basic][advanced] = 7.0  # the basic part is a view, so the write lands in a
    assert a[1][:, [0, 3]].min() == 7.0 and a.sum() == 7.0 * 6
    assert indexing.normalize_index(2, (3,)) == ((2, Ellipsis), None)
    out = array_ns.index_put(np.zeros(4), indexing.normalize_index([1, 1], (4,)), 1.0, True)
    np.testing.assert_array_equal(out, [0, 2, 0, 0])


def test_index_backward_matches_add_at_for_many_layouts():
    rng = np.random.default_rng(0)
    shape = (3, 4, 5, 2)
    cases = [
        (slice(None), rng.integers(-4, 4, (2, 3))),
        (rng.integers(0, 3, 5), slice(None), rng.integers(0, 5, 5)),
        (slice(None), rng.integers(0, 4, (2, 1)), rng.integers(0, 5, (3,))),
        (rng.random((3, 4)) > 0.5, rng.integers(0, 5, 1)),
        (rng.integers(0, 3, (2, 2)), slice(None), rng.integers(0, 5, (2, 1)), slice(None)),
    ]
    for advanced in cases:
        for basic in (None, (slice(None, None, -1), Ellipsis)):
            g = rng.standard_normal(np.zeros(shape)[advanced].shape)
            expected = np.zeros(shape)
            np.add.at(expected if basic is None else expected[basic], advanced, g)
            got = array_ns.index_backward(g, (basic, advanced), shape)
            np.testing.assert_allclose(got, expected, err_msg=str(advanced))


def test_rule_namespaces_agree():
    rng = np.random.default_rng(1)
    x = rng.standard_normal((3, 4))
    idx = np.array([[0, 3], [1, 1], [2, 0]])
    t = rg.tensor(x)
    for name, args in {
        "gather": (1, idx),
        "scatter_add": (1, idx, rng.standard_normal((3, 2))),
        "index_select": (0, np.array([2, 2, 0])),
        "index": (((1, Ellipsis), None),),
        "index_put": (((None, (idx[:, 0],))), 1.5, True),
    }.items():
        expected = getattr(array_ns, name)(x, *args)
        got = getattr(tensor_ns, name)(t, *args)
        np.testing.assert_allclose(got.data, expected, err_msg=name)


# ----------------------------------------------------------------- errors
def test_index_errors_name_the_op_the_index_and_the_shape():
    x = rg.zeros(3, 4)
    with pytest.raises(IndexError, match=r"index: invalid index 5 for a tensor of shape \(3, 4\)"):
        x[5]
    with pytest.raises(IndexError, match=r"index: .*\(1, 7\).*\(3, 4\)"):
        x[1, 7]
    with pytest.raises(IndexError, match=r"too many indices .*dimension 2"):
        x[0, 0, 0]
    with pytest.raises(IndexError, match="integer or bool"):
        x[rg.tensor([0.5])]
    with pytest.raises(IndexError, match="one ellipsis"):
        x[..., ...]
    with pytest.raises(IndexError, match=r"index: .*\(3, 4\)"):
        x[rg.tensor([True, False])]
    with pytest.raises(IndexError, match="valid indices"):
        x["a"]


# ----------------------------------------------------------------- PyTorch parity
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


GETITEM_PATTERNS = [
    lambda T: 1,
    lambda T: (slice(None), 2),
    lambda T: (Ellipsis, slice(1, None, 2)),
    lambda T: (None, 0, slice(None), None),
    lambda T: T([3, 0, 3, 1]),
    lambda T: (slice(None), T([[1, 1], [0, 2]])),
    lambda T: (T([0, 2]), slice(None), T([1, 1])),
    lambda T: (slice(1, 3), 0, T([0, 0, 1])),
    lambda T: (slice(None), 0, slice(None), T([1, 0])),
    lambda T: (T([-1, 0]), T([[0], [2]])),
    lambda T: T([[True, False, True], [False, True, True], [True, True, True], [False] * 3]),
    lambda T: (Ellipsis, T([True, False, True, True, False])),
    lambda T: (T([0, 3]), None, T([1, 1])),
    lambda T: (True, 0),
    lambda T: (T(1), slice(None), T([0, 1, 1])),
]


@pytest.mark.parametrize("k", range(len(GETITEM_PATTERNS)))
def test_getitem_matches_torch(k):
    pattern = GETITEM_PATTERNS[k]
    _parity(lambda x: x[pattern(rg.tensor)], lambda x: x[pattern(torch.tensor)], (4, 3, 2, 5))
