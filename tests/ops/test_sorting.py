import numpy as np
import pytest

import retrograd as rg

from .harness import OpSpec, distinct, parametrize


def _desc(x, axis=-1):
    return np.flip(np.sort(x, axis=axis), axis=axis)


SPECS = [
    OpSpec("index", lambda x: rg.sort(x).values, np.sort, [((5,),), ((3, 4),), ((2, 0),)],
           domain=distinct, name="sort"),
    OpSpec("index", lambda x: rg.sort(x, dim=0, descending=True).values,
           lambda x: _desc(x, 0), [((4, 3),)], domain=distinct, name="sort_descending"),
    OpSpec("index", lambda x: x.sort().values, lambda x: x, [((),)], domain=distinct,
           name="sort_0d"),
    OpSpec("index", rg.msort, lambda x: np.sort(x, axis=0), [((4, 2),)], domain=distinct,
           name="msort"),
    OpSpec("index", lambda x: rg.topk(x, 2).values, lambda x: _desc(x)[..., :2],
           [((3, 5),)], domain=distinct, name="topk"),
    OpSpec("index", lambda x: x.topk(3, dim=0, largest=False).values,
           lambda x: np.sort(x, axis=0)[:3], [((4, 2),)], domain=distinct, name="topk_smallest"),
    OpSpec("index", lambda x: rg.kthvalue(x, 2, dim=1).values,
           lambda x: np.sort(x, axis=1)[:, 1], [((3, 4),)], domain=distinct, name="kthvalue"),
    # distinct values all occur once, so the mode is the smallest (repeats are not smooth)
    OpSpec("index", lambda x: rg.mode(x, 0).values, lambda x: np.min(x, axis=0), [((6, 2),)],
           domain=distinct, name="mode"),
    OpSpec("index", lambda x: x.kthvalue(1, 0, keepdim=True).values,
           lambda x: np.sort(x, axis=0)[:1], [((3, 2),)], domain=distinct,
           name="kthvalue_keepdim"),
]



PARAMS, IDS = parametrize(SPECS)


@pytest.mark.parametrize("spec,shapes,check", PARAMS, ids=IDS)
def test_spec(spec, shapes, check):
    check(spec, shapes)


def test_sort_returns_a_named_tuple_of_values_and_indices():
    x = rg.tensor([3.0, 1.0, 2.0])
    result = rg.sort(x)
    values, indices = result
    assert type(result).__name__ == "sort"
    assert result.values is values and result.indices is indices
    assert indices.dtype == rg.int64
    np.testing.assert_array_equal(indices.data, [1, 2, 0])
    np.testing.assert_array_equal(x[indices].data, values.data)


def test_descending_sort_is_stable_for_ties_and_integers():
    x = rg.tensor([2, 1, 2, 3, 1, np.iinfo(np.int64).min])
    values, indices = x.sort(descending=True)
    np.testing.assert_array_equal(indices.data, [3, 0, 2, 1, 4, 5])
    assert values.dtype == rg.int64
    np.testing.assert_array_equal(rg.argsort(x, descending=True).data, indices.data)
    flags = rg.tensor([True, False, True])
    np.testing.assert_array_equal(flags.sort(descending=True).indices.data, [0, 2, 1])


def test_sort_gradient_goes_back_to_where_each_value_came_from():
    x = rg.tensor([3.0, 1.0, 2.0], requires_grad=True)
    values = x.sort(descending=True).values
    (values * rg.tensor([1.0, 10.0, 100.0])).sum().backward()
    np.testing.assert_array_equal(x.grad.data, [1.0, 100.0, 10.0])


def test_topk_and_kthvalue_errors_name_the_op():
    x = rg.ones(2, 3)
    with pytest.raises(RuntimeError, match=r"topk: selected index k out of range: k=4"):
        rg.topk(x, 4)
    with pytest.raises(RuntimeError, match=r"kthvalue: .*k=0"):
        rg.kthvalue(x, 0)
    with pytest.raises(IndexError, match="sort: dimension 2 is out of range"):
        rg.sort(x, dim=2)


def test_unique_consecutive_runs():
    x = rg.tensor([1, 1, 2, 2, 3, 1, 1, 2])
    out, inverse, counts = rg.unique_consecutive(x, return_inverse=True, return_counts=True)
    np.testing.assert_array_equal(out.data, [1, 2, 3, 1, 2])
    np.testing.assert_array_equal(inverse.data, [0, 0, 1, 1, 2, 3, 3, 4])
    np.testing.assert_array_equal(counts.data, [2, 2, 1, 2, 1])
    np.testing.assert_array_equal(out.data[inverse.data], x.data)


def test_searchsorted_side_conflict_and_shape_errors():
    seq = rg.tensor([[1.0, 2.0], [3.0, 4.0]])
    with pytest.raises(RuntimeError, match="searchsorted: side='left' and right=True"):
        rg.searchsorted(seq, rg.ones(2, 1), right=True, side="left")
    with pytest.raises(RuntimeError, match=r"searchsorted: .*\(2, 2\).*\(3, 1\)"):
        rg.searchsorted(seq, rg.ones(3, 1))
    with pytest.raises(RuntimeError, match="bucketize: boundaries must be 1-D"):
        rg.bucketize(rg.ones(2), seq)


# ----------------------------------------------------------------- parity with PyTorch


def _torch():
    return pytest.importorskip("torch")


@pytest.mark.parametrize("descending", [False, True])
@pytest.mark.parametrize("dim", [0, 1, -1])
def test_sort_matches_torch_with_ties_and_nan(dim, descending):
    torch = _torch()
    data = np.array([[2.0, np.nan, 1.0, 2.0], [0.5, 0.5, -1.0, 3.0], [np.nan, 1.0, 1.0, 0.0]])
    values, indices = rg.sort(rg.tensor(data), dim=dim, descending=descending)
    expected = torch.sort(torch.tensor(data), dim=dim, descending=descending, stable=True)
    np.testing.assert_array_equal(values.data, expected.values.numpy())
    np.testing.assert_array_equal(indices.data, expected.indices.numpy())
    argsorted = rg.argsort(rg.tensor(data), dim=dim, descending=descending, stable=True)
    np.testing.assert_array_equal(argsorted.data, expected.indices.numpy())


@pytest.mark.parametrize("largest", [True, False])
def test_topk_kthvalue_values_indices_and_gradients_match_torch(largest):
    torch = _torch()
    data = distinct(np.random.default_rng(0), (3, 6))
    weights = np.random.default_rng(1).standard_normal((3, 4))
    x = rg.tensor(data, requires_grad=True)
    tx = torch.tensor(data, requires_grad=True)
    out, tout = x.topk(4, dim=1, largest=largest), tx.topk(4, dim=1, largest=largest)
    np.testing.assert_allclose(out.values.data, tout.values.detach().numpy())
    np.testing.assert_array_equal(out.indices.data, tout.indices.numpy())
    (out.values * rg.tensor(weights)).sum().backward()
    (tout.values * torch.tensor(weights)).sum().backward()
    np.testing.assert_allclose(x.grad.data, tx.grad.numpy())
    k = rg.kthvalue(x, 3, dim=0, keepdim=True)
    tk = torch.kthvalue(tx, 3, dim=0, keepdim=True)
    np.testing.assert_allclose(k.values.data, tk.values.detach().numpy())
    np.testing.assert_array_equal(k.indices.data, tk.indices.numpy())


@pytest.mark.parametrize("dim", [None, 0, 1])
def test_unique_matches_torch(dim):
    torch = _torch()
    data = np.array([[1, 2, 1], [0, 5, 0], [1, 2, 1], [0, 5, 0]])
    for flags in [(False, False), (True, False), (False, True), (True, True)]:
        out = rg.unique(rg.tensor(data), return_inverse=flags[0], return_counts=flags[1], dim=dim)
        expected = torch.unique(torch.tensor(data), return_inverse=flags[0],
                                return_counts=flags[1], dim=dim)
        if not any(flags):
            out, expected = (out,), (expected,)
        assert len(out) == len(expected)
        for a, b in zip(out, expected):
            assert a.dtype == rg.int64
            np.testing.assert_array_equal(a.data, b.numpy())
    scalar = rg.tensor(3.0).unique(return_inverse=True)
    expected = torch.tensor(3.0).unique(return_inverse=True)
    assert scalar[0].shape == tuple(expected[0].shape)
    assert scalar[1].shape == tuple(expected[1].shape)


def test_unique_consecutive_along_a_dim_matches_torch():
    torch = _torch()
    data = np.array([[1, 1, 2, 2, 1], [3, 3, 4, 4, 3]])
    out = rg.unique_consecutive(rg.tensor(data), return_inverse=True, return_counts=True, dim=1)
    expected = torch.unique_consecutive(torch.tensor(data), return_inverse=True,
                                        return_counts=True, dim=1)
    for a, b in zip(out, expected):
        np.testing.assert_array_equal(a.data, b.numpy())


@pytest.mark.parametrize("right", [False, True])
def test_searchsorted_and_bucketize_match_torch(right):
    torch = _torch()
    seq1 = np.array([1.0, 3.0, 3.0, 5.0, 7.0])
    values = np.array([[0.0, 3.0, 4.0], [5.0, 7.0, 9.0]])
    seq2 = np.sort(np.random.default_rng(2).integers(0, 8, (2, 5)).astype(float), axis=1)
    cases = [(seq1, values), (seq2, values)]
    for seq, v in cases:
        out = rg.searchsorted(rg.tensor(seq), rg.tensor(v), right=right)
        expected = torch.searchsorted(torch.tensor(seq), torch.tensor(v), right=right)
        np.testing.assert_array_equal(out.data, expected.numpy())
        assert out.dtype == rg.int64
    side = "right" if right else "left"
    out = rg.searchsorted(rg.tensor(seq1), 3.0, side=side, out_int32=True)
    expected = torch.searchsorted(torch.tensor(seq1), 3.0, side=side, out_int32=True)
    assert out.shape == tuple(expected.shape) and out.dtype == rg.int32
    assert out.item() == expected.item()
    perm = np.array([3, 0, 4, 1, 2])
    unsorted = seq1[np.argsort(perm)]
    sorter = np.argsort(unsorted, kind="stable")
    out = rg.searchsorted(rg.tensor(unsorted), rg.tensor(values), sorter=rg.tensor(sorter),
                          right=right)
    expected = torch.searchsorted(torch.tensor(unsorted), torch.tensor(values),
                                  sorter=torch.tensor(sorter), right=right)
    np.testing.assert_array_equal(out.data, expected.numpy())
    out = rg.bucketize(rg.tensor(values), rg.tensor(seq1), right=right)
    expected = torch.bucketize(torch.tensor(values), torch.tensor(seq1), right=right)
    np.testing.assert_array_equal(out.data, expected.numpy())
    assert rg.bucketize(4, rg.tensor(seq1)).item() == torch.bucketize(4, torch.tensor(seq1))


@pytest.mark.parametrize("dim", [0, 1, -1])
def test_mode_values_indices_and_gradients_match_torch(dim):
    torch = _torch()
    data = np.random.default_rng(3).integers(0, 4, (5, 6)).astype(float)
    x, tx = rg.tensor(data, requires_grad=True), torch.tensor(data, requires_grad=True)
    out, expected = rg.mode(x, dim, keepdim=dim == 1), torch.mode(tx, dim, keepdim=dim == 1)
    np.testing.assert_array_equal(out.values.data, expected.values.detach().numpy())
    np.testing.assert_array_equal(out.indices.data, expected.indices.numpy())
    out.values.sum().backward()
    expected.values.sum().backward()
    np.testing.assert_array_equal(x.grad.data, tx.grad.numpy())
    assert rg.tensor([3, 1, 2]).mode().indices.item() == torch.tensor([3, 1, 2]).mode().indices


def test_bincount_and_histc_match_torch():
    torch = _torch()
    labels = np.array([1, 1, 3, 0, 7])
    weights = np.array([0.5, 1.0, 2.0, 0.25, 1.0], dtype=np.float32)
    for kwargs in [{}, {"minlength": 10}]:
        out = rg.bincount(rg.tensor(labels), **kwargs)
        expected = torch.bincount(torch.tensor(labels), **kwargs)
        np.testing.assert_array_equal(out.data, expected.numpy())
        assert out.dtype == rg.int64
    out = rg.tensor(labels).bincount(rg.tensor(weights))
    expected = torch.tensor(labels).bincount(torch.tensor(weights))
    np.testing.assert_allclose(out.data, expected.numpy())
    assert out.dtype == rg.float32
    data = np.array([1.0, 2.0, 1.0, 5.0, -3.0, 2.5])
    for kwargs in [{"bins": 4}, {"bins": 3, "min": 1, "max": 3}, {"bins": 5, "min": -1, "max": 1}]:
        out = rg.histc(rg.tensor(data), **kwargs)
        expected = torch.histc(torch.tensor(data), **kwargs)
        np.testing.assert_array_equal(out.data, expected.numpy())
        assert out.dtype == rg.float64
    with pytest.raises(RuntimeError, match="bincount: the input must hold non-negative"):
        rg.bincount(rg.tensor([-1, 2]))
