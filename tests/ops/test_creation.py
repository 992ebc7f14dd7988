"""Creation functions (src/retrograd/ops/creation.py): values, PyTorch's default dtypes, errors."""

import numpy as np
import pytest

import retrograd as rg

# (call, NumPy reference): the default float dtype is float32, integers default to int64.
CASES = [
    ("zeros(2, 3)", np.zeros((2, 3), np.float32)),
    ("zeros((2, 3))", np.zeros((2, 3), np.float32)),
    ("zeros([4])", np.zeros(4, np.float32)),
    ("zeros(0, 2)", np.zeros((0, 2), np.float32)),
    ("zeros(())", np.zeros((), np.float32)),
    ("zeros(2, dtype=rg.int64)", np.zeros(2, np.int64)),
    ("ones(3)", np.ones(3, np.float32)),
    ("ones(2, 2, dtype=rg.float64)", np.ones((2, 2))),
    ("ones(2, dtype=rg.bool)", np.ones(2, np.bool_)),
    ("full((2, 2), 1.5)", np.full((2, 2), 1.5, np.float32)),
    ("full((3,), 7)", np.full(3, 7, np.int64)),
    ("full((2,), True)", np.full(2, True)),
    ("full((2,), 7, dtype=rg.float64)", np.full(2, 7.0)),
    ("arange(5)", np.arange(5, dtype=np.int64)),
    ("arange(2, 9, 3)", np.arange(2, 9, 3, dtype=np.int64)),
    ("arange(5.0)", np.arange(5, dtype=np.float32)),
    ("arange(0, 1, 0.25)", np.arange(0, 1, 0.25, dtype=np.float32)),
    ("arange(0, 1, 0.1)", np.arange(0, 1, 0.1).astype(np.float32)),
    ("arange(5, 0, -2)", np.arange(5, 0, -2, dtype=np.int64)),
    ("arange(3, dtype=rg.float64)", np.arange(3.0)),
    ("linspace(0, 1, 5)", np.linspace(0, 1, 5).astype(np.float32)),
    ("linspace(-1, 1, 1)", np.linspace(-1, 1, 1).astype(np.float32)),
    ("linspace(0, 1, 0)", np.zeros(0, np.float32)),
    ("logspace(0, 2, 3)", np.array([1.0, 10.0, 100.0], np.float32)),
    ("eye(3)", np.eye(3, dtype=np.float32)),
    ("eye(2, 3)", np.eye(2, 3, dtype=np.float32)),
    ("eye(2, dtype=rg.int64)", np.eye(2, dtype=np.int64)),
    ("zeros_like(rg.arange(3))", np.zeros(3, np.int64)),
    ("ones_like(rg.zeros(2, dtype=rg.float64))", np.ones(2)),
    ("ones_like(rg.arange(3), dtype=rg.float32)", np.ones(3, np.float32)),
    ("full_like(rg.zeros(2, 2), 3.0)", np.full((2, 2), 3.0, np.float32)),
    ("full_like(rg.arange(2), 3)", np.full(2, 3, np.int64)),
]


@pytest.mark.parametrize("call,expected", CASES, ids=[c for c, _ in CASES])
def test_creation_values_and_dtypes(call, expected):
    out = eval("rg." + call)
    assert isinstance(out, rg.Tensor)
    assert out.dtype == expected.dtype, f"{call}: dtype {out.dtype}, expected {expected.dtype}"
    assert out.shape == expected.shape
    np.testing.assert_array_equal(out.data, expected)
    assert not out.requires_grad


@pytest.mark.parametrize("call", [c for c, _ in CASES], ids=[c for c, _ in CASES])
def test_creation_matches_torch(call):
    torch = pytest.importorskip("torch")
    out = eval("rg." + call)
    expected = eval("torch." + call.replace("rg.", "torch."), {"torch": torch})
    assert str(out.dtype) == str(expected.dtype).removeprefix("torch."), call
    np.testing.assert_allclose(out.data, expected.numpy(), rtol=1e-6)


def test_empty_has_shape_and_dtype():
    t = rg.empty(2, 3)
    assert t.shape == (2, 3) and t.dtype == rg.float32
    assert rg.empty_like(rg.arange(4)).dtype == rg.int64
    assert rg.empty_like(rg.arange(4)).shape == (4,)


def test_creation_can_make_leaves_that_require_grad():
    for t in (rg.zeros(2, requires_grad=True), rg.ones(2, requires_grad=True),
              rg.full((2,), 2.0, requires_grad=True), rg.linspace(0, 1, 3, requires_grad=True),
              rg.eye(2, requires_grad=True), rg.arange(3.0, requires_grad=True),
              rg.zeros_like(rg.zeros(2), requires_grad=True)):
        assert t.requires_grad and t.is_leaf
    with pytest.raises(TypeError, match="floating"):
        rg.zeros(2, dtype=rg.int64, requires_grad=True)
    with pytest.raises(TypeError, match="floating"):
        rg.arange(3, requires_grad=True)


def test_default_dtype_is_used_by_creation_functions():
    previous = rg.get_default_dtype()
    try:
        rg.set_default_dtype(rg.float64)
        assert rg.zeros(1).dtype == rg.float64
        assert rg.arange(2.0).dtype == rg.float64
        assert rg.linspace(0, 1, 2).dtype == rg.float64
        assert rg.full((1,), 0.5).dtype == rg.float64
        assert rg.arange(2).dtype == rg.int64
    finally:
        rg.set_default_dtype(previous)


def test_bad_sizes_are_reported():
    with pytest.raises(ValueError, match=r"zeros: .*non-negative.*\(2, -1\)"):
        rg.zeros(2, -1)
    with pytest.raises(TypeError, match=r"ones: sizes must be ints"):
        rg.ones(2.5)
    with pytest.raises(ValueError, match="arange: step"):
        rg.arange(0, 5, 0)
    with pytest.raises(ValueError, match="linspace"):
        rg.linspace(0, 1, -1)


def test_new_methods_take_the_dtype_of_the_tensor():
    x = rg.zeros(2, dtype=rg.float64)
    assert x.new_zeros(3).dtype == rg.float64 and x.new_zeros(3).shape == (3,)
    assert x.new_ones((2, 2)).dtype == rg.float64
    assert x.new_full((2,), 4).dtype == rg.float64
    assert x.new_empty(1).dtype == rg.float64
    t = x.new_tensor([1, 2])
    assert t.dtype == rg.float64 and t.tolist() == [1.0, 2.0]


def test_as_tensor_returns_the_same_tensor_when_nothing_changes():
    t = rg.ones(2)
    assert rg.as_tensor(t) is t
    assert rg.as_tensor(t, dtype=rg.float64).dtype == rg.float64


def test_from_numpy_needs_an_array():
    with pytest.raises(TypeError, match="from_numpy"):
        rg.from_numpy([1, 2])


# ----------------------------------------------------------------- diagonals and index grids
from .harness import OpSpec, parametrize  # noqa: E402 - this section's own imports


def _diag_embed(x, offset=0):
    n = x.shape[-1]
    m = n + abs(offset)
    out = np.zeros(x.shape[:-1] + (m, m))
    rows = np.arange(n) + max(-offset, 0)
    out[..., rows, rows + offset] = x
    return out


SPECS = [
    OpSpec("index_put", rg.diag, np.diag, [((4,),)], name="diag_1d"),
    OpSpec("index_put", lambda x: rg.diag(x, -2), lambda x: np.diag(x, -2), [((3,),)],
           name="diag_1d_below"),
    OpSpec("index", lambda x: x.diag(1), lambda x: np.diag(x, 1), [((3, 4),)], name="diag_2d"),
    OpSpec("index_put", lambda x: rg.diag_embed(x, 1), lambda x: _diag_embed(x, 1),
           [((2, 3),)], name="diag_embed"),
    OpSpec("index_put", lambda x: rg.diag_embed(x, -1, dim1=0, dim2=2),
           lambda x: np.moveaxis(_diag_embed(x, -1), (1, 2), (0, 2)), [((2, 3),)],
           name="diag_embed_dims"),
    OpSpec("index_put", lambda x: x.diagflat(), lambda x: np.diagflat(x), [((2, 2),)],
           name="diagflat"),
    OpSpec("expand", lambda x, y: rg.meshgrid(x, y)[1] * rg.meshgrid(x, y, indexing="xy")[0].T,
           lambda x, y: np.meshgrid(x, y, indexing="ij")[1] * np.meshgrid(x, y)[0].T,
           [((3,), (2,))], name="meshgrid"),
    OpSpec("stack", rg.cartesian_prod, lambda x, y: np.array([[a, b] for a in x for b in y]),
           [((3,), (2,))], name="cartesian_prod"),
]

SPEC_PARAMS, SPEC_IDS = parametrize(SPECS)


@pytest.mark.parametrize("spec,shapes,check", SPEC_PARAMS, ids=SPEC_IDS)
def test_spec(spec, shapes, check):
    check(spec, shapes)


GRID_CALLS = [
    "tril_indices(3, 3)",
    "tril_indices(4, 3, -1)",
    "triu_indices(3, 4, 1)",
    "triu_indices(0, 2)",
    "diag(rg.tensor([1, 2, 3]), 1)",
    "diag(rg.arange(12).reshape(3, 4), -1)",
    "diag_embed(rg.arange(6.0).reshape(2, 3), offset=1, dim1=0, dim2=2)",
    "diagflat(rg.tensor([[1.0, 2.0]]), -1)",
    "cartesian_prod(rg.tensor([1, 2]), rg.tensor([3, 4]), rg.tensor([5]))",
    "cartesian_prod(rg.tensor([1, 2]))",
]


@pytest.mark.parametrize("call", GRID_CALLS)
def test_grids_and_diagonals_match_torch(call):
    torch = pytest.importorskip("torch")
    out = eval("rg." + call)
    expected = eval("torch." + call.replace("rg.", "torch."), {"torch": torch})
    assert str(out.dtype) == str(expected.dtype).removeprefix("torch."), call
    assert out.shape == tuple(expected.shape), call
    np.testing.assert_array_equal(out.data, expected.numpy())


@pytest.mark.parametrize("indexing", ["ij", "xy"])
def test_meshgrid_matches_torch(indexing):
    torch = pytest.importorskip("torch")
    data = [np.arange(2.0), np.arange(3.0) + 5, np.arange(4.0) - 1]
    out = rg.meshgrid(*[rg.tensor(a) for a in data], indexing=indexing)
    expected = torch.meshgrid(*[torch.tensor(a) for a in data], indexing=indexing)
    for a, b in zip(out, expected):
        np.testing.assert_array_equal(a.data, b.numpy())
    pair = rg.meshgrid([rg.tensor(data[0]), rg.tensor(data[1])])  # a list works too
    assert pair[0].shape == (2, 3)


def test_queries():
    assert rg.is_floating_point(rg.ones(2)) and not rg.is_floating_point(rg.arange(2))
    assert rg.numel(rg.ones(2, 3)) == 6 and rg.numel(rg.tensor(1.0)) == 1
    with pytest.raises(RuntimeError, match=r"diag: expected a 1-D or 2-D input, got shape"):
        rg.diag(rg.ones(2, 2, 2))
    with pytest.raises(RuntimeError, match="meshgrid: expected 0-D or 1-D tensors"):
        rg.meshgrid(rg.ones(2, 2))


LEGACY_CALLS = [
    "FloatTensor([1, 2])",
    "FloatTensor(2, 3)",
    "LongTensor([1.7, -2.2])",
    "DoubleTensor([[1, 2]])",
    "IntTensor(3)",
    "BoolTensor([1, 0])",
    "ByteTensor([3])",
    "HalfTensor([0.5])",
]


@pytest.mark.parametrize("call", LEGACY_CALLS)
def test_legacy_typed_constructors_match_torch(call):
    torch = pytest.importorskip("torch")
    out = eval("rg." + call)
    expected = eval("torch." + call, {"torch": torch})
    assert str(out.dtype) == str(expected.dtype).removeprefix("torch."), call
    assert out.shape == tuple(expected.shape)
    if "[" in call:
        np.testing.assert_array_equal(out.data, expected.numpy())


def test_legacy_types_check_instances_and_cast():
    x = rg.tensor([1.5, 2.5])
    assert isinstance(x, rg.FloatTensor) and not isinstance(x, rg.LongTensor)
    assert x.type(rg.LongTensor).dtype == rg.int64
    assert x.type("torch.DoubleTensor").dtype == rg.float64
    assert x.type(rg.float16).dtype == rg.float16
    assert x.type() == "retrograd.FloatTensor"
    assert x.new(2, 3).shape == (2, 3) and x.new(2, 3).dtype == rg.float32
    assert rg.arange(3).new([1.9]).dtype == rg.int64


def test_trace_matches_torch_with_gradient():
    torch = pytest.importorskip("torch")
    data = np.random.default_rng(0).standard_normal((3, 4))
    x, tx = rg.tensor(data, requires_grad=True), torch.tensor(data, requires_grad=True)
    out, expected = x.trace(), torch.trace(tx)
    np.testing.assert_allclose(out.data, expected.detach().numpy())
    out.backward()
    expected.backward()
    np.testing.assert_array_equal(x.grad.data, tx.grad.numpy())
    assert rg.trace(rg.arange(4).reshape(2, 2)).dtype == rg.int64
    with pytest.raises(RuntimeError, match="trace: expected a matrix"):
        rg.trace(rg.ones(3))
