import numpy as np
import pytest

import retrograd as rg

from .harness import OpSpec, parametrize


def _einsum(equation):
    def fn(*xs):
        return rg.einsum(equation, *xs)

    def ref(*xs):
        return np.einsum(equation, *xs)

    return fn, ref


def _einsum_spec(op, equation, shapes, name, ref=None):
    fn, np_ref = _einsum(equation)
    return OpSpec(op, fn, ref or np_ref, shapes, name=name)


MATMUL_SHAPES = [
    ((3, 4), (4, 5)),  # 2-D x 2-D
    ((4,), (4,)),  # 1-D x 1-D: dot
    ((4,), (4, 5)),  # 1-D x 2-D: row promotion
    ((3, 4), (4,)),  # 2-D x 1-D: column promotion
    ((2, 3, 4), (4, 5)),  # batched x 2-D (a Linear layer on a sequence)
    ((3, 4), (2, 4, 5)),  # 2-D x batched
    ((2, 1, 3, 4), (5, 4, 2)),  # broadcast batch dimensions
    ((4,), (2, 4, 3)),  # 1-D x batched
    ((2, 3, 4), (4,)),  # batched x 1-D
    ((2, 3, 4), (2, 4, 1)),
    ((0, 3), (3, 2)),  # empty rows
    ((2, 0), (0, 3)),  # empty inner dimension: zeros
]

SPECS = [
    OpSpec("linear", lambda x, w, b: rg.linear(x, w, b), lambda x, w, b: x @ w.T + b,
           [((4, 3), (5, 3), (5,)), ((2, 4, 3), (5, 3), (5,)), ((3,), (2, 3), (2,)),
            ((0, 3), (2, 3), (2,))]),
    OpSpec("linear", lambda x, w: rg.linear(x, w), lambda x, w: x @ w.T,
           [((4, 3), (5, 3)), ((2, 2, 3), (4, 3))], name="linear_no_bias"),
    OpSpec("matmul", lambda x, y: x @ y, np.matmul, MATMUL_SHAPES),
    OpSpec("matmul", lambda x, y: rg.mm(x, y), np.matmul, [((3, 4), (4, 2))], name="mm"),
    OpSpec("matmul", lambda x, y: rg.bmm(x, y), np.matmul, [((2, 3, 4), (2, 4, 2))],
           name="bmm"),
    OpSpec("matmul", lambda x, y: rg.mv(x, y), np.matmul, [((3, 4), (4,))], name="mv"),
    OpSpec("matmul", lambda x, y: rg.dot(x, y), np.dot, [((5,), (5,))], name="dot"),
    OpSpec("mul", lambda x, y: rg.outer(x, y), np.outer, [((3,), (4,))], name="outer"),
    OpSpec("einsum", lambda x, y: rg.inner(x, y), np.inner, [((2, 3), (4, 3))], name="inner"),
    OpSpec("einsum", lambda x, y: rg.tensordot(x, y, dims=2), np.tensordot,
           [((2, 3, 4), (3, 4, 5))], name="tensordot"),
    _einsum_spec("einsum", "ij,jk->ik", [((3, 4), (4, 2))], "einsum_mm"),
    _einsum_spec("einsum", "bij,bjk->bik", [((2, 3, 4), (2, 4, 2))], "einsum_bmm"),
    _einsum_spec("einsum", "...ij,...jk->...ik",
                 [((2, 1, 3, 4), (5, 4, 2)), ((3, 4), (4, 2))], "einsum_ellipsis"),
    _einsum_spec("einsum", "ij,jk", [((3, 4), (4, 2))], "einsum_implicit"),
    _einsum_spec("einsum", "i,i->", [((5,), (5,))], "einsum_dot"),
    _einsum_spec("einsum", "i,j->ij", [((3,), (4,))], "einsum_outer"),
    _einsum_spec("einsum", "ij,ij->ij", [((1, 3), (2, 3)), ((2, 3), (2, 3))],
                 "einsum_broadcast_letter"),
    _einsum_spec("einsum", "ii,ij->j", [((3, 3), (3, 2))], "einsum_repeated_binary"),
    _einsum_spec("einsum", "ij,k->ik", [((3, 4), (2,))], "einsum_own_letters"),
    _einsum_spec("einsum", "bhqd,bhkd->bhqk", [((2, 2, 3, 4), (2, 2, 5, 4))],
                 "einsum_attention"),
    _einsum_spec("einsum", "ij,jk,kl->il", [((2, 3), (3, 4), (4, 2))], "einsum_chain"),
    _einsum_spec("einsum_unary", "ii->", [((3, 3),)], "einsum_trace"),
    _einsum_spec("einsum_unary", "ii->i", [((3, 3),)], "einsum_diagonal"),
    _einsum_spec("einsum_unary", "bii->bi", [((2, 3, 3),)], "einsum_batch_diagonal"),
    _einsum_spec("einsum_unary", "iii->i", [((2, 2, 2),)], "einsum_triple"),
    _einsum_spec("einsum_unary", "ij->ji", [((3, 4),)], "einsum_transpose"),
    _einsum_spec("einsum_unary", "ij->i", [((3, 4),), ((0, 2),)], "einsum_row_sum"),
    _einsum_spec("einsum_unary", "ij->", [((3, 4),)], "einsum_sum"),
    _einsum_spec("einsum_unary", "...i->i", [((2, 3, 4),)], "einsum_ellipsis_sum",
                 ref=lambda x: x.sum(axis=(0, 1))),  # NumPy refuses this; PyTorch sums
    _einsum_spec("einsum_unary", "iij->ji", [((3, 3, 2),)], "einsum_diagonal_permute"),
]

PARAMS, IDS = parametrize(SPECS)


@pytest.mark.parametrize("spec,shapes,check", PARAMS, ids=IDS)
def test_spec(spec, shapes, check):
    check(spec, shapes)


# ----------------------------------------------------------------------- behaviour, errors
def test_inner_dimension_error_reads_like_pytorch():
    with pytest.raises(
        ValueError, match=r"matmul: cannot multiply \(3, 4\) by \(5, 2\): inner dimensions 4 and 5"
    ):
        rg.ones(3, 4) @ rg.ones(5, 2)


def test_batch_dimension_error_names_both_shapes():
    with pytest.raises(ValueError, match=r"matmul: .*\(2, 3, 4\) by \(3, 4, 2\): batch"):
        rg.ones(2, 3, 4) @ rg.ones(3, 4, 2)


def test_matmul_rejects_0d_operands():
    with pytest.raises(ValueError, match=r"matmul: both arguments need at least 1 dimension"):
        rg.tensor(2.0) @ rg.ones(2, 2)


def test_matmul_rejects_mixed_dtypes():
    with pytest.raises(TypeError, match=r"matmul: .*same dtype, got float32 and float64"):
        rg.ones(2, 2) @ rg.ones(2, 2, dtype=rg.float64)


@pytest.mark.parametrize(
    "fn,shapes,message",
    [
        (rg.mm, ((3,), (3, 2)), r"mm: argument 0 must be 2-D"),
        (rg.mm, ((3, 4), (5, 2)), r"mm: cannot multiply \(3, 4\) by \(5, 2\)"),
        (rg.bmm, ((2, 3, 4), (3, 4, 2)), r"bmm: batch sizes differ"),
        (rg.mv, ((3, 4), (4, 1)), r"mv: argument 1 must be 1-D"),
        (rg.dot, ((3,), (4,)), r"dot: expected tensors of the same size"),
        (rg.outer, ((3, 1), (4,)), r"outer: argument 0 must be 1-D"),
    ],
)
def test_checked_wrappers_name_themselves(fn, shapes, message):
    with pytest.raises(ValueError, match=message):
        fn(*(rg.ones(*s) for s in shapes))


def test_rmatmul_with_an_array_on_the_left():
    w = rg.tensor(np.arange(6.0).reshape(3, 2), requires_grad=True)
    a = np.ones((4, 3))
    out = a @ w
    assert isinstance(out, rg.Tensor)
    np.testing.assert_allclose(out.data, a @ w.data)
    out.sum().backward()
    np.testing.assert_allclose(w.grad.data, a.T @ np.ones((4, 2)))


def test_only_inputs_that_need_it_get_a_gradient():
    x = rg.tensor(np.ones((2, 3)), requires_grad=True)
    w = rg.tensor(np.ones((3, 4)))
    (x @ w).sum().backward()
    assert w.grad is None
    np.testing.assert_allclose(x.grad.data, np.full((2, 3), 4.0))


def test_matmul_float32_stays_float32():
    x = rg.ones(4, 3, requires_grad=True)
    w = rg.ones(3, 2, requires_grad=True)
    out = x @ w
    out.sum().backward()
    assert out.dtype == rg.float32 and x.grad.dtype == rg.float32 and w.grad.dtype == rg.float32


def test_addmm_family_matches_definition():
    rng = np.random.default_rng(0)
    c, a, b = (rg.tensor(rng.standard_normal(s)) for s in ((3, 2), (3, 4), (4, 2)))
    np.testing.assert_allclose(
        rg.addmm(c, a, b, beta=0.5, alpha=2.0).data, 0.5 * c.data + 2.0 * (a.data @ b.data)
    )
    v = rg.tensor(rng.standard_normal(4))
    y = rg.tensor(rng.standard_normal(3))
    np.testing.assert_allclose(rg.addmv(y, a, v).data, y.data + a.data @ v.data)
    nan = rg.tensor(np.full((3, 2), np.nan))
    assert np.isfinite(rg.addmm(nan, a, b, beta=0).data).all()


def test_einsum_accepts_a_list_and_spaces():
    a, b = rg.ones(2, 3), rg.ones(3, 4)
    np.testing.assert_allclose(rg.einsum("ij, jk -> ik", [a, b]).data, np.full((2, 4), 3.0))


def test_einsum_output_does_not_alias_its_input():
    x = rg.tensor(np.arange(6.0).reshape(2, 3))
    y = rg.einsum("ij->ji", x)
    y.data[0, 0] = 100.0
    assert x.data[0, 0] == 0.0


@pytest.mark.parametrize(
    "equation,shapes,message",
    [
        ("ij,jk->ik", ((2, 3),), r"einsum: equation 'ij,jk->ik' has 2 operand terms but 1"),
        ("ijk->i", ((2, 3),), r"einsum: term 'ijk' .* 2 dimensions"),
        ("ij->k", ((2, 3),), r"einsum: output subscript 'k'"),
        ("ij->ii", ((2, 3),), r"einsum: the output .* repeats"),
        ("i1->i", ((2, 3),), r"einsum: invalid subscript '1'"),
        ("ij,jk->ik", ((2, 3), (4, 5)), r"einsum:"),
    ],
)
def test_einsum_errors(equation, shapes, message):
    with pytest.raises(ValueError, match=message):
        rg.einsum(equation, *(rg.ones(*s) for s in shapes))


def test_linear_layer_gradients_are_exact_in_float32():
    """The hot path of every MLP: x @ w.T + b, checked against closed forms."""
    rng = np.random.default_rng(0)
    x = rg.tensor(rng.standard_normal((8, 5)).astype(np.float32), requires_grad=True)
    w = rg.tensor(rng.standard_normal((3, 5)).astype(np.float32), requires_grad=True)
    g = rng.standard_normal((8, 3)).astype(np.float32)
    out = x @ w.mT
    out.backward(rg.tensor(g))
    np.testing.assert_allclose(x.grad.data, g @ w.data, rtol=1e-5)
    np.testing.assert_allclose(w.grad.data, g.T @ x.data, rtol=1e-5)


# ----------------------------------------------------------------------- torch parity
torch = pytest.importorskip("torch")


def _parity(rg_fn, torch_fn, shapes, seed=0):
    rng = np.random.default_rng(seed)
    arrays = [rng.standard_normal(s) for s in shapes]
    xs = [rg.tensor(a, requires_grad=True) for a in arrays]
    ts = [torch.tensor(a, requires_grad=True) for a in arrays]
    out, t_out = rg_fn(*xs), torch_fn(*ts)
    np.testing.assert_allclose(out.data, t_out.detach().numpy(), rtol=1e-10, atol=1e-12)
    g = rng.standard_normal(out.shape)
    out.backward(rg.tensor(g))
    t_out.backward(torch.tensor(g))
    for x, t in zip(xs, ts):
        np.testing.assert_allclose(x.grad.data, t.grad.numpy(), rtol=1e-10, atol=1e-12)


@pytest.mark.parametrize("shapes", MATMUL_SHAPES, ids=str)
def test_matmul_torch_parity(shapes):
    _parity(lambda x, y: x @ y, lambda x, y: x @ y, shapes)


@pytest.mark.parametrize(
    "equation,shapes",
    [
        ("ij,jk->ik", ((3, 4), (4, 2))),
        ("bij,bjk->bik", ((2, 3, 4), (2, 4, 2))),
        ("...ij,...jk->...ik", ((2, 1, 3, 4), (5, 4, 2))),
        ("ii->", ((3, 3),)),
        ("ii->i", ((3, 3),)),
        ("ij,jk", ((3, 4), (4, 2))),
        ("Bi,ia", ((2, 3), (3, 4))),
        ("ii,ij->j", ((3, 3), (3, 2))),
        ("ij,jk,kl->il", ((2, 3), (3, 4), (4, 2))),
        ("bhqd,bhkd->bhqk", ((2, 2, 3, 4), (2, 2, 5, 4))),
        ("...i->i", ((2, 3, 4),)),
        ("i,j,k->ijk", ((2,), (3,), (4,))),
    ],
)
def test_einsum_torch_parity(equation, shapes):
    _parity(lambda *xs: rg.einsum(equation, *xs), lambda *ts: torch.einsum(equation, *ts), shapes)


@pytest.mark.parametrize(
    "name,shapes",
    [
        ("mm", ((3, 4), (4, 2))),
        ("bmm", ((2, 3, 4), (2, 4, 2))),
        ("mv", ((3, 4), (4,))),
        ("dot", ((4,), (4,))),
        ("outer", ((3,), (4,))),
        ("inner", ((2, 3), (4, 3))),
        ("addmm", ((3, 2), (3, 4), (4, 2))),
        ("addmv", ((3,), (3, 4), (4,))),
        ("baddbmm", ((2, 3, 2), (2, 3, 4), (2, 4, 2))),
    ],
)
def test_functions_torch_parity(name, shapes):
    _parity(getattr(rg, name), getattr(torch, name), shapes)


def test_tensordot_torch_parity():
    _parity(lambda a, b: rg.tensordot(a, b, dims=([0, 2], [1, 0])),
            lambda a, b: torch.tensordot(a, b, dims=([0, 2], [1, 0])), ((4, 3, 2), (2, 4, 5)))
