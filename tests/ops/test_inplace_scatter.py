"""In-place writes by index: values and gradients against PyTorch, gradcheck through the
in-place form, the plain (nothing recorded) path, version counters and errors."""

import numpy as np
import pytest

import retrograd as rg
from retrograd.autograd.gradcheck import gradcheck, gradgradcheck

IDX = np.array([[0, 0], [1, 3], [2, 2]])  # for (3, 4) along dim 1, with a repeat in row 0


def _data(shape, seed):
    return np.random.default_rng(seed).standard_normal(shape)


# (name, function applying the in-place op to (x, src) and returning x, shapes of x and src)
CASES = [
    ("scatter_", lambda t, x, s: x.scatter_(1, t.tensor([[1, 0], [2, 3], [0, 2]]), s),
     (3, 4), (3, 2)),
    ("scatter_add_", lambda t, x, s: x.scatter_add_(1, t.tensor(IDX), s), (3, 4), (3, 2)),
    ("index_add_", lambda t, x, s: x.index_add_(0, t.tensor([2, 0, 2]), s, alpha=2.0),
     (3, 2), (3, 2)),
    ("index_copy_", lambda t, x, s: x.index_copy_(1, t.tensor([2, 0]), s), (2, 3), (2, 2)),
    ("index_put_", lambda t, x, s: x.index_put_((t.tensor([0, 2, 0]),), s, accumulate=True),
     (3, 2), (3, 2)),
    ("masked_scatter_",
     lambda t, x, s: x.masked_scatter_(t.tensor([[True, False, True], [False, True, False]]), s),
     (2, 3), (2, 2)),
    ("put_", lambda t, x, s: x.put_(t.tensor([5, 0, 5]), s, accumulate=True), (2, 3), (3,)),
    ("put_copy", lambda t, x, s: x.put_(t.tensor([[4], [1]]), s), (2, 3), (2, 1)),
]


@pytest.mark.parametrize("name,fn,xs,ss", CASES, ids=[c[0] for c in CASES])
def test_values_and_gradients_match_torch(name, fn, xs, ss):
    torch = pytest.importorskip("torch")
    x0, s0, w = _data(xs, 0), _data(ss, 1), _data(xs, 2)
    x, s = rg.tensor(x0, requires_grad=True), rg.tensor(s0, requires_grad=True)
    out = fn(rg, x.clone(), s)
    (out * rg.tensor(w)).sum().backward()
    tx, ts = torch.tensor(x0, requires_grad=True), torch.tensor(s0, requires_grad=True)
    tout = fn(torch, tx.clone(), ts)
    (tout * torch.tensor(w)).sum().backward()
    np.testing.assert_allclose(out.data, tout.detach().numpy(), rtol=1e-12)
    np.testing.assert_allclose(x.grad.data, tx.grad.numpy(), rtol=1e-12)
    np.testing.assert_allclose(s.grad.data, ts.grad.numpy(), rtol=1e-12)


@pytest.mark.parametrize("name,fn,xs,ss", CASES, ids=[c[0] for c in CASES])
def test_gradcheck_through_the_in_place_form(name, fn, xs, ss):
    x = rg.tensor(_data(xs, 0), requires_grad=True)
    s = rg.tensor(_data(ss, 1), requires_grad=True)

    def f(x, s):
        return fn(rg, x * 1.0, s) * 2.0

    assert gradcheck(f, [x, s])
    assert gradgradcheck(f, [x, s])


@pytest.mark.parametrize("name,fn,xs,ss", CASES, ids=[c[0] for c in CASES])
def test_plain_path_writes_into_the_same_array(name, fn, xs, ss):
    x, s = rg.tensor(_data(xs, 0)), rg.tensor(_data(ss, 1))
    expected = fn(rg, rg.tensor(x.data, requires_grad=True) * 1.0, s)  # recorded path
    assert expected.grad_fn is not None
    array = x.data
    out = fn(rg, x, s)
    assert out is x and x.data is array
    assert x.version == 1
    np.testing.assert_allclose(x.data, expected.data)


def test_scatter_with_a_value_and_index_fill_match_torch():
    torch = pytest.importorskip("torch")
    x0 = _data((3, 4), 0)
    for fn in [
        lambda t, x: x.scatter_(1, t.tensor(IDX), 2.5),
        lambda t, x: x.scatter_(0, t.tensor([[2, 0, 1, 1]]), value=-1.0),
        lambda t, x: x.index_fill_(1, t.tensor([0, 2]), -3.0),
        lambda t, x: x.index_fill_(0, t.tensor([1]), t.tensor(7.0, dtype=t.float64)),
    ]:
        x = rg.tensor(x0, requires_grad=True)
        out = fn(rg, x.clone())
        out.sum().backward()
        tx = torch.tensor(x0, requires_grad=True)
        tout = fn(torch, tx.clone())
        tout.sum().backward()
        np.testing.assert_allclose(out.data, tout.detach().numpy())
        np.testing.assert_allclose(x.grad.data, tx.grad.numpy())


@pytest.mark.filterwarnings("ignore:The reduce argument")
def test_scatter_reduce_add_and_multiply_values_match_torch():
    torch = pytest.importorskip("torch")
    x0, s0 = _data((3, 4), 0), _data((3, 2), 1)
    for reduce in ("add", "multiply"):
        out = rg.tensor(x0).scatter_(1, rg.tensor(IDX), rg.tensor(s0), reduce=reduce)
        expected = torch.tensor(x0).scatter_(1, torch.tensor(IDX), torch.tensor(s0),
                                             reduce=reduce)
        np.testing.assert_allclose(out.data, expected.numpy())
        out = rg.tensor(x0).scatter_(1, rg.tensor(IDX), 3.0, reduce=reduce)
        expected = torch.tensor(x0).scatter_(1, torch.tensor(IDX), 3.0, reduce=reduce)
        np.testing.assert_allclose(out.data, expected.numpy())


def test_scatter_multiply_gradient_reaches_the_input_only():
    x0, s0 = _data((3, 4), 0), _data((3, 2), 1)
    x = rg.tensor(x0, requires_grad=True)
    out = x.clone().scatter_(1, rg.tensor(IDX), rg.tensor(s0), reduce="multiply")
    out.sum().backward()
    factor = np.ones((3, 4))
    np.multiply.at(factor, (np.arange(3)[:, None], IDX), s0)
    np.testing.assert_allclose(x.grad.data, factor)
    with pytest.raises(RuntimeError, match="scatter_: the gradient of reduce='multiply'"):
        x.clone().scatter_(1, rg.tensor(IDX), rg.tensor(s0, requires_grad=True),
                           reduce="multiply")


def test_in_place_scatter_of_a_view_reaches_the_base():
    base = rg.tensor(_data((4, 3), 0), requires_grad=True)
    y = base * 1.0
    row = y[1:3]
    row.index_fill_(1, rg.tensor([0]), 0.0)
    y.sum().backward()
    expected = np.ones((4, 3))
    expected[1:3, 0] = 0.0
    np.testing.assert_array_equal(base.grad.data, expected)


def test_errors():
    with pytest.raises(RuntimeError, match="a leaf tensor that requires grad"):
        rg.zeros(3, requires_grad=True).index_fill_(0, rg.tensor([0]), 1.0)
    with pytest.raises(ValueError, match="scatter_: reduce must be"):
        rg.zeros(3).scatter_(0, rg.tensor([0]), 1.0, reduce="mean")
    with pytest.raises(RuntimeError, match="masked_scatter: the mask selects 3 elements"):
        rg.zeros(3).masked_scatter_(rg.tensor([True, True, True]), rg.ones(2))
    with pytest.raises(IndexError, match="put: index 6 is out of range"):
        rg.zeros(2, 3).put_(rg.tensor([6]), rg.ones(1))
    with pytest.raises(RuntimeError, match="put: source has 2 elements but index has 1"):
        rg.zeros(2, 3).put_(rg.tensor([1]), rg.ones(2))
    with pytest.raises(RuntimeError, match="index_fill_: only a 0-dimensional value"):
        rg.zeros(2, 3).index_fill_(0, rg.tensor([1]), rg.ones(2))


def test_out_of_place_forms_leave_the_input_alone():
    x = rg.zeros(2, 3)
    out = x.masked_scatter(rg.tensor([[True], [False]]), rg.arange(6.0))
    np.testing.assert_array_equal(out.data, [[0.0, 1.0, 2.0], [0.0, 0.0, 0.0]])
    out = rg.put(x, rg.tensor([-1]), rg.tensor([5.0]))
    np.testing.assert_array_equal(out.data, [[0.0, 0.0, 0.0], [0.0, 0.0, 5.0]])
    assert not x.data.any()
