import numpy as np
import pytest

import retrograd as rg

from .harness import OpSpec, away_from_zero, parametrize, real


def avoiding_half(rng, shape):
    """Values in [-2, 2] at least 0.1 from the clamp bounds -0.5 and 0.5."""
    x = rng.uniform(-2, 2, shape)
    for k in (-0.5, 0.5):
        x = np.where(np.abs(x - k) < 0.1, x + 0.2 * np.sign(x - k + 1e-12), x)
    return x


def mask_3x4(rng, shape):
    return rng.random(shape) > 0.5


SPECS = [
    OpSpec("where", lambda x, y: rg.where(x > 0, x, y), lambda x, y: np.where(x > 0, x, y),
           [((3, 4), (3, 4)), ((3, 4), (4,)), ((3, 1), (1, 4)), ((), ())],
           domain=away_from_zero),
    OpSpec("where", lambda x: rg.where(x > 0, x, 0.0), lambda x: np.where(x > 0, x, 0.0),
           [((3, 4),)], domain=away_from_zero, name="where_scalar"),
    OpSpec("where", lambda x, m: x.masked_fill(m, -1.5), lambda x, m: np.where(m, -1.5, x),
           [((3, 4), (3, 4)), ((3, 4), (4,))], domain=(real, mask_3x4), nondiff=(1,),
           name="masked_fill"),
    OpSpec("where", lambda x, v, m: rg.masked_fill(x, m, v), lambda x, v, m: np.where(m, v, x),
           [((3, 4), (), (3, 4))], domain=(real, real, mask_3x4), nondiff=(2,),
           name="masked_fill_tensor_value"),
    OpSpec("clamp", lambda x: rg.clamp(x, -0.5, 0.5), lambda x: np.clip(x, -0.5, 0.5),
           [((4, 5),), ((),)], domain=avoiding_half),
    OpSpec("clamp", lambda x: x.clamp(min=-0.5), lambda x: np.maximum(x, -0.5), [((4, 5),)],
           domain=avoiding_half, name="clamp_min"),
    OpSpec("clamp", lambda x: rg.clip(x, max=0.5), lambda x: np.minimum(x, 0.5), [((4, 5),)],
           domain=avoiding_half, name="clip_max"),
    OpSpec("clamp_tensor", rg.clamp, lambda x, lo, hi: np.minimum(np.maximum(x, lo), hi),
           [((3, 4), (3, 4), (3, 4)), ((3, 4), (4,), ())]),
    OpSpec("clamp_tensor", lambda x, lo: rg.clamp(x, min=lo), np.maximum, [((3, 4), (4,))],
           name="clamp_tensor_min"),
    OpSpec("clamp_tensor", lambda x, hi: rg.clamp(x, -0.1, hi),
           lambda x, hi: np.minimum(np.maximum(x, -0.1), hi), [((3, 4), (3, 4))],
           name="clamp_tensor_mixed"),
    OpSpec("maximum", rg.maximum, np.maximum, [((3, 4), (3, 4)), ((3, 1), (4,)), ((), (2,))]),
    OpSpec("minimum", rg.minimum, np.minimum, [((3, 4), (3, 4)), ((2, 3), (3,))]),
    OpSpec("fmax", rg.fmax, np.fmax, [((3, 4), (3, 4)), ((2, 3), (3,))]),
    OpSpec("fmin", rg.fmin, np.fmin, [((3, 4), (3, 4))]),
]

PARAMS, IDS = parametrize(SPECS)


@pytest.mark.parametrize("spec,shapes,check", PARAMS, ids=IDS)
def test_spec(spec, shapes, check):
    check(spec, shapes)


# ------------------------------------------------------------------ comparisons and operators
def test_comparison_operators_return_bool_tensors_without_a_graph():
    x = rg.tensor([1.0, 2.0, 3.0], requires_grad=True)
    for out, expected in [
        (x == 2, [False, True, False]),
        (x != 2, [True, False, True]),
        (x < 2, [True, False, False]),
        (x <= 2, [True, True, False]),
        (x > 2, [False, False, True]),
        (x >= 2, [False, True, True]),
        (2 < x, [False, False, True]),
        (x == rg.tensor([1.0, 0.0, 3.0]), [True, False, True]),
        (x > np.array([0.0, 5.0, 1.0]), [True, False, True]),
    ]:
        assert out.dtype == rg.bool
        assert out.tolist() == expected
        assert not out.requires_grad and out.grad_fn is None
    assert rg.eq(x, 1.0).tolist() == [True, False, False]
    assert x.ge(2).tolist() == rg.greater_equal(x, 2).tolist()


def test_tensors_stay_hashable_and_compare_to_none():
    t, u = rg.tensor([1.0]), rg.tensor([1.0])
    table = {t: "t", u: "u"}
    assert table[t] == "t" and table[u] == "u"
    assert t in {t} and u not in {t}
    assert (t == None) is False and (t != None) is True  # noqa: E711


def test_comparisons_broadcast_and_name_themselves_in_errors():
    assert (rg.ones(2, 1) < rg.ones(3)).shape == (2, 3)
    with pytest.raises(ValueError, match=r"lt: shapes \(2,\) and \(3,\)"):
        _ = rg.ones(2) < rg.ones(3)


def test_float32_compares_with_python_floats_in_float32():
    x = rg.tensor([0.1])
    assert (x == 0.1).item()  # the scalar takes the tensor's precision, as in PyTorch


def test_logical_and_bitwise_ops():
    a = rg.tensor([True, True, False, False])
    b = rg.tensor([True, False, True, False])
    assert (a & b).tolist() == [True, False, False, False]
    assert (a | b).tolist() == [True, True, True, False]
    assert (a ^ b).tolist() == [False, True, True, False]
    assert (~a).tolist() == [False, False, True, True]
    assert (True & b).tolist() == b.tolist()
    assert rg.logical_and(a, b).tolist() == (a & b).tolist()
    assert rg.logical_or(rg.tensor([0.0, 2.0]), 0).tolist() == [False, True]
    assert rg.logical_xor(a, b).tolist() == (a ^ b).tolist()
    assert rg.logical_not(rg.tensor([0, 3])).tolist() == [True, False]
    i = rg.tensor([12, 10])
    assert (i & 6).tolist() == [4, 2] and (i | 1).tolist() == [13, 11]
    assert (~i).tolist() == [-13, -11] and (i ^ i).tolist() == [0, 0]
    with pytest.raises(TypeError, match="bitwise_and: only bool and integer"):
        rg.ones(2) & rg.ones(2)
    with pytest.raises(TypeError, match="bitwise_not"):
        ~rg.ones(2)


def test_float_tests():
    x = rg.tensor([1.0, np.nan, np.inf, -np.inf])
    assert rg.isnan(x).tolist() == [False, True, False, False]
    assert rg.isinf(x).tolist() == [False, False, True, True]
    assert rg.isposinf(x).tolist() == [False, False, True, False]
    assert rg.isneginf(x).tolist() == [False, False, False, True]
    assert x.isfinite().tolist() == [True, False, False, False]
    assert rg.isnan(rg.tensor([1, 2])).tolist() == [False, False]


def test_isclose_allclose_equal():
    a = rg.tensor([1.0, 2.0, np.nan], dtype=rg.float64)
    b = rg.tensor([1.0 + 1e-9, 2.1, np.nan], dtype=rg.float64)
    assert rg.isclose(a, b).tolist() == [True, False, False]
    assert rg.isclose(a, b, equal_nan=True).tolist() == [True, False, True]
    assert rg.isclose(a, b, atol=0.2, equal_nan=True).all().item()
    assert rg.allclose(a[:1], b[:1]) is True
    assert a.allclose(b, atol=0.2, equal_nan=True) is True
    assert rg.equal(rg.tensor([1, 2]), rg.tensor([1, 2])) is True
    assert rg.equal(rg.tensor([1, 2]), rg.tensor([1, 3])) is False
    assert rg.equal(rg.tensor([1, 1]), rg.tensor([[1, 1]])) is False


# ------------------------------------------------------------------ where and masked_fill
def test_where_dtypes_follow_pytorch():
    c = rg.tensor([True, False])
    assert rg.where(c, 1.0, 0.0).dtype == rg.float32
    assert rg.where(c, 1, 0).dtype == rg.int64
    assert rg.where(c, rg.tensor([1, 2]), 0.5).dtype == rg.float32
    assert rg.where(c, rg.tensor([1.0, 2.0], dtype=rg.float64), 0).dtype == rg.float64
    assert rg.where(c, 2.0, rg.tensor([1.0, 2.0])).tolist() == [2.0, 2.0]
    assert rg.where(np.array([True, False]), rg.ones(2), rg.zeros(2)).tolist() == [1.0, 0.0]
    x = rg.tensor([3.0, 4.0])
    assert x.where(c, -x).tolist() == [3.0, -4.0]


def test_where_with_condition_only_gives_indices():
    rows, cols = rg.where(rg.tensor([[True, False], [False, True]]))
    assert rows.tolist() == [0, 1] and cols.tolist() == [0, 1]
    assert rows.dtype == rg.int64


def test_where_rejects_non_bool_conditions():
    with pytest.raises(TypeError, match="where: the condition must be a bool tensor"):
        rg.where(rg.ones(2), rg.ones(2), rg.zeros(2))


def test_where_gradient_is_exactly_zero_where_not_selected():
    x = rg.tensor([0.0, 2.0], requires_grad=True)
    with np.errstate(divide="ignore", invalid="ignore"):
        y = rg.where(x > 0, rg.log(x), 0.0)  # log(0) = -inf is not selected
        y.sum().backward()
    assert y.tolist() == [0.0, np.log(np.float32(2.0))]
    assert x.grad.tolist()[1] == 0.5  # (at 0, log's rule still gives 0 * inf, as in PyTorch)


def test_masked_fill_checks_the_mask():
    x = rg.ones(2, 3)
    assert x.masked_fill(rg.tensor([True, False, True]), 0).tolist() == [[0, 1, 0], [0, 1, 0]]
    assert x.masked_fill(rg.tensor([True, False, True]), 0).dtype == rg.float32
    with pytest.raises(ValueError, match=r"masked_fill: the mask of shape \(4,\)"):
        x.masked_fill(rg.tensor([True] * 4), 0.0)
    with pytest.raises(ValueError, match=r"masked_fill: the mask of shape \(3, 2, 3\)"):
        x.masked_fill(rg.ones(3, 2, 3) > 0, 0.0)
    with pytest.raises(TypeError, match="masked_fill: the condition must be a bool"):
        x.masked_fill(rg.ones(3), 0.0)


# ------------------------------------------------------------------ clamp, maximum, minimum
def test_clamp_dtypes_and_errors():
    i = rg.tensor([1, 5])
    assert rg.clamp(i, 0, 2).tolist() == [1, 2] and rg.clamp(i, 0, 2).dtype == rg.int64
    assert rg.clamp(i, 0, 2.5).tolist() == [1.0, 2.5]
    assert rg.clamp(i, max=rg.tensor([0, 9])).tolist() == [0, 5]
    assert rg.clamp(rg.tensor([0.0, 3.0]), 2.0, 1.0).tolist() == [1.0, 1.0]  # max wins
    assert rg.clamp_min(rg.tensor([0.0, 3.0]), 1.0).tolist() == [1.0, 3.0]
    assert rg.tensor([0.0, 3.0]).clamp_max(1.0).tolist() == [0.0, 1.0]
    with pytest.raises(ValueError, match="clamp: at least one"):
        rg.clamp(rg.ones(2))


@pytest.mark.parametrize("bounds", ["numbers", "tensors", "crossed"])
def test_clamp_gradients_match_torch_at_the_boundary(bounds):
    torch = pytest.importorskip("torch")
    data = np.array([-1.0, -0.5, 0.0, 0.5, 1.0, 2.0])
    lo_data, hi_data = np.array([-0.5] * 6), np.array([0.5] * 6)
    if bounds == "crossed":
        lo_data, hi_data = np.array([0.5, 0.5, -1, 0.5, 0.5, 0.0]), np.array([-0.5] * 6)
    g = np.arange(1.0, 7.0)
    x = rg.tensor(data, requires_grad=True)
    tx = torch.tensor(data, requires_grad=True)
    if bounds == "numbers":
        out, t_out = rg.clamp(x, -0.5, 0.5), torch.clamp(tx, -0.5, 0.5)
        leaves, t_leaves = [x], [tx]
    else:
        lo, hi = rg.tensor(lo_data, requires_grad=True), rg.tensor(hi_data, requires_grad=True)
        tlo = torch.tensor(lo_data, requires_grad=True)
        thi = torch.tensor(hi_data, requires_grad=True)
        out, t_out = rg.clamp(x, lo, hi), torch.clamp(tx, tlo, thi)
        leaves, t_leaves = [x, lo, hi], [tx, tlo, thi]
    out.backward(rg.tensor(g))
    t_out.backward(torch.tensor(g))
    np.testing.assert_array_equal(out.data, t_out.detach().numpy())
    for leaf, t_leaf in zip(leaves, t_leaves):
        np.testing.assert_array_equal(leaf.grad.data, t_leaf.grad.numpy())


@pytest.mark.parametrize("name", ["maximum", "minimum", "fmax", "fmin"])
def test_max_min_match_torch_on_ties_and_nan(name):
    torch = pytest.importorskip("torch")
    a = np.array([1.0, 2.0, 3.0, np.nan, 5.0, -1.0])
    b = np.array([1.0, 3.0, 2.0, 4.0, np.nan, -1.0])
    g = np.arange(1.0, 7.0)
    x, y = rg.tensor(a, requires_grad=True), rg.tensor(b, requires_grad=True)
    tx, ty = torch.tensor(a, requires_grad=True), torch.tensor(b, requires_grad=True)
    out, t_out = getattr(rg, name)(x, y), getattr(torch, name)(tx, ty)
    out.backward(rg.tensor(g))
    t_out.backward(torch.tensor(g))
    np.testing.assert_array_equal(out.data, t_out.detach().numpy())
    np.testing.assert_array_equal(x.grad.data, tx.grad.numpy())
    np.testing.assert_array_equal(y.grad.data, ty.grad.numpy())


def test_maximum_with_a_number_and_promotion():
    assert rg.maximum(rg.tensor([1, 5]), 3).tolist() == [3, 5]
    assert rg.minimum(rg.tensor([1, 5]), rg.tensor([2.5])).dtype == rg.float32
    assert rg.ones(2).maximum(rg.zeros(2)).tolist() == [1.0, 1.0]


def test_selection_ops_in_double_backward():
    x = rg.tensor([0.5, -2.0, 3.0], dtype=rg.float64, requires_grad=True)
    y = rg.where(x > 0, x**3, rg.clamp(x, -1.0, 1.0) * x)
    (gx,) = rg.autograd.grad(y.sum(), x, create_graph=True)
    (ggx,) = rg.autograd.grad(gx.sum(), x)
    np.testing.assert_allclose(gx.data, [0.75, -1.0, 27.0])  # 3x^2; clamp(x) at -2
    np.testing.assert_allclose(ggx.data, [3.0, 0.0, 18.0])


def test_rule_namespaces_accept_tensor_comparisons():
    from retrograd.ops import tensor_ns

    x = rg.tensor([0.0, 2.0])
    out = tensor_ns.where(x == 0, 1.0, x)
    assert out.tolist() == [1.0, 2.0]
    assert tensor_ns.maximum(x, rg.ones(2)).tolist() == [1.0, 2.0]


def test_gradient_flows_through_where_with_real_domain():
    x = rg.tensor(real(np.random.default_rng(0), (5,)), requires_grad=True)
    rg.where(x > 0, x * 2, x * 3).sum().backward()
    np.testing.assert_array_equal(x.grad.data, np.where(x.data > 0, 2.0, 3.0))
