"""fill_diagonal_, the random fills and the in-place view changes (ops/inplace_extra.py)."""

import numpy as np
import pytest

import retrograd as rg
from retrograd.autograd.gradcheck import gradcheck


@pytest.mark.parametrize("shape,wrap", [((3, 3), False), ((4, 3), False), ((7, 3), True),
                                        ((2, 5), True), ((3, 3, 3), False)])
def test_fill_diagonal_matches_torch_with_gradients(shape, wrap):
    torch = pytest.importorskip("torch")
    data = np.random.default_rng(0).standard_normal(shape)
    x, tx = rg.tensor(data, requires_grad=True), torch.tensor(data, requires_grad=True)
    out = (x * 1.0).fill_diagonal_(-2.0, wrap=wrap)
    expected = (tx * 1.0).fill_diagonal_(-2.0, wrap=wrap)
    np.testing.assert_array_equal(out.data, expected.detach().numpy())
    w = np.random.default_rng(1).standard_normal(shape)
    (out * rg.tensor(w)).sum().backward()
    (expected * torch.tensor(w)).sum().backward()
    np.testing.assert_array_equal(x.grad.data, tx.grad.numpy())
    plain = rg.tensor(data)
    assert plain.fill_diagonal_(-2.0, wrap=wrap) is plain and plain.version == 1
    np.testing.assert_array_equal(plain.data, expected.detach().numpy())


def test_fill_diagonal_with_a_tensor_value_is_differentiable():
    x = rg.tensor(np.ones((3, 3)), requires_grad=True)
    v = rg.tensor(2.0, dtype=rg.float64, requires_grad=True)
    assert gradcheck(lambda x, v: (x * 1.0).fill_diagonal_(v) * 3.0, [x, v])
    with pytest.raises(RuntimeError, match="fill_diagonal_: expected a 2-D tensor"):
        rg.zeros(2, 3, 3).fill_diagonal_(1.0)


def test_random_fills_ranges_dtypes_and_generators():
    g = rg.Generator().manual_seed(0)
    x = rg.zeros(10000)
    assert set(np.unique(x.bernoulli_(0.3, generator=g).data)) <= {0.0, 1.0}
    assert abs(x.data.mean() - 0.3) < 0.03
    ints = rg.zeros(1000, dtype=rg.int64).random_(3, 7, generator=g)
    assert ints.dtype == rg.int64 and set(np.unique(ints.data)) == {3, 4, 5, 6}
    assert set(np.unique(rg.zeros(500).random_(4).data)) == {0.0, 1.0, 2.0, 3.0}
    assert rg.zeros(100).random_().data.max() <= 2**24
    assert set(np.unique(rg.zeros(100, dtype=rg.bool).random_().data)) == {False, True}
    assert abs(x.exponential_(2.0, generator=g).data.mean() - 0.5) < 0.05
    assert x.geometric_(0.5, generator=g).data.min() >= 1
    assert (x.log_normal_(0.0, 0.5, generator=g).data > 0).all()
    assert abs(np.median(x.cauchy_(1.0, 0.1, generator=g).data) - 1.0) < 0.02
    a = rg.zeros(5).exponential_(generator=rg.Generator().manual_seed(3))
    b = rg.zeros(5).exponential_(generator=rg.Generator().manual_seed(3))
    np.testing.assert_array_equal(a.data, b.data)
    with pytest.raises(TypeError, match="exponential_: expected a floating-point tensor"):
        rg.zeros(3, dtype=rg.int64).exponential_()
    with pytest.raises(RuntimeError, match=r"random_: expects 'from' \(5\) < 'to' \(5\)"):
        rg.zeros(3).random_(5, 5)


def test_random_fill_of_a_non_leaf_cuts_the_gradient():
    x = rg.ones(4, requires_grad=True)
    y = x * 2
    y[:2].bernoulli_(1.0)
    y.sum().backward()
    np.testing.assert_array_equal(x.grad.data, [0.0, 0.0, 2.0, 2.0])


def test_view_changes_in_place_match_torch():
    torch = pytest.importorskip("torch")
    data = np.arange(6.0).reshape(2, 3)
    for name, args in [("unsqueeze_", (1,)), ("squeeze_", ()), ("transpose_", (0, 1)),
                       ("t_", ()), ("swapdims_", (1, 0))]:
        x, tx = rg.tensor(data, requires_grad=True), torch.tensor(data, requires_grad=True)
        y, ty = x * 1.0, tx * 1.0
        out = getattr(y, name)(*args)
        assert getattr(ty, name)(*args) is ty
        assert out is y and y.shape == tuple(ty.shape), name
        np.testing.assert_array_equal(y.data, ty.detach().numpy())
        w = np.random.default_rng(0).standard_normal(y.shape)
        (y * rg.tensor(w)).sum().backward()
        (ty * torch.tensor(w)).sum().backward()
        np.testing.assert_array_equal(x.grad.data, tx.grad.numpy())
    plain = rg.zeros(3, 1)
    assert plain.squeeze_(1).shape == (3,) and plain.unsqueeze_(0).shape == (1, 3)


def test_view_changes_in_place_are_in_place_changes_for_autograd():
    x = rg.ones(2, 3, requires_grad=True)
    with pytest.raises(RuntimeError, match="unsqueeze_: a leaf tensor that requires grad"):
        x.unsqueeze_(0)
    y = x.exp()
    y.unsqueeze_(0)
    with pytest.raises(RuntimeError, match="modified by in-place op 'unsqueeze_'"):
        y.sum().backward()
