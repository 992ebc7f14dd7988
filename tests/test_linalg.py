"""rg.linalg against torch.linalg: values and gradients (float64, same inputs), incl. second
order for a few, and the PyTorch top-level forms (rg.det, x.inverse(), rg.svd ...)."""

import math

import numpy as np
import pytest

import retrograd as rg

torch = pytest.importorskip("torch")
# the older top-level forms are deprecated in PyTorch; retrograd keeps them for old code
pytestmark = [
    pytest.mark.filterwarnings("ignore:torch.qr is deprecated"),
    pytest.mark.filterwarnings("ignore:torch.cholesky is deprecated"),
    pytest.mark.filterwarnings("ignore:torch.svd is deprecated"),
]

RNG = np.random.default_rng(0)
A = 0.5 * RNG.standard_normal((3, 3)) + 2.0 * np.eye(3)  # well conditioned
BATCH = 0.5 * RNG.standard_normal((2, 3, 3)) + 2.0 * np.eye(3)
RECT = RNG.standard_normal((4, 3))
WIDE = RNG.standard_normal((2, 5))
B = RNG.standard_normal((3, 2))
V3 = RNG.standard_normal((2, 3))
W3 = RNG.standard_normal((2, 3))


def _sym(m):
    return m + m.mT


def _spd(m):
    return m @ m.mT + 3 * _eye_like(m)


def _eye_like(m):
    if isinstance(m, rg.Tensor):
        return rg.eye(m.shape[-1], dtype=m.dtype)
    return torch.eye(m.shape[-1], dtype=m.dtype)


def _first(out):
    return out[0] if isinstance(out, tuple) else out


# (id, function of (library, *inputs) -> tensor, inputs)
CASES = [
    ("norm_default", lambda L, x: L.linalg.norm(x), [RECT]),
    ("norm_vector_ord3", lambda L, x: L.linalg.norm(x, 3, dim=1), [RECT]),
    ("norm_matrix_nuc", lambda L, x: L.linalg.norm(x, "nuc"), [RECT]),
    ("norm_matrix_inf_keepdim", lambda L, x: L.linalg.norm(x, math.inf, dim=(0, 1),
                                                            keepdim=True), [RECT]),
    ("norm_1d_ord1", lambda L, x: L.linalg.norm(x[0], 1), [RECT]),
    ("norm_2d_ord2", lambda L, x: L.linalg.norm(x, 2), [RECT]),
    ("vector_norm_inf", lambda L, x: L.linalg.vector_norm(x, math.inf, dim=-1), [RECT]),
    ("vector_norm_keepdim", lambda L, x: L.linalg.vector_norm(x, 1.5, keepdim=True), [BATCH]),
    ("matrix_norm_fro", lambda L, x: L.linalg.matrix_norm(x), [BATCH]),
    ("matrix_norm_1", lambda L, x: L.linalg.matrix_norm(x, 1), [BATCH]),
    ("matrix_norm_-1", lambda L, x: L.linalg.matrix_norm(x, -1), [BATCH]),
    ("matrix_norm_-inf", lambda L, x: L.linalg.matrix_norm(x, -math.inf), [BATCH]),
    ("matrix_norm_-2_dims", lambda L, x: L.linalg.matrix_norm(x, -2, dim=(0, 2)), [BATCH]),
    ("matrix_norm_nuc_keepdim", lambda L, x: L.linalg.matrix_norm(x, "nuc", keepdim=True),
     [BATCH]),
    ("inv", lambda L, x: L.linalg.inv(x), [BATCH]),
    ("det", lambda L, x: L.linalg.det(x), [BATCH]),
    ("slogdet", lambda L, x: L.linalg.slogdet(x).logabsdet, [A]),
    ("slogdet_negative", lambda L, x: L.linalg.slogdet(x)[1], [-A]),
    ("logdet", lambda L, x: L.logdet(_spd(x)), [RECT[:3]]),
    ("solve", lambda L, a, b: L.linalg.solve(a, b), [A, B]),
    ("solve_batch_vector", lambda L, a, b: L.linalg.solve(a, b), [BATCH, V3]),
    ("solve_left_false", lambda L, a, b: L.linalg.solve(a, b, left=False), [A, B.T]),
    ("solve_triangular", lambda L, a, b: L.linalg.solve_triangular(a, b, upper=False), [A, B]),
    ("cholesky", lambda L, m: L.linalg.cholesky(_spd(m)), [BATCH]),
    ("cholesky_upper", lambda L, m: L.linalg.cholesky(_spd(m), upper=True), [A]),
    ("eigh_values", lambda L, m: L.linalg.eigh(_sym(m)).eigenvalues, [BATCH]),
    ("eigh_vectors", lambda L, m: L.linalg.eigh(_sym(m))[1] ** 2, [A]),
    ("eigvalsh", lambda L, m: L.linalg.eigvalsh(_sym(m), UPLO="U"), [A]),
    ("svdvals", lambda L, x: L.linalg.svdvals(x), [RECT]),
    ("svd_U", lambda L, x: L.linalg.svd(x, full_matrices=False).U ** 2, [RECT]),
    ("svd_Vh", lambda L, x: L.linalg.svd(x, full_matrices=False).Vh ** 2, [WIDE]),
    ("svd_full_S", lambda L, x: L.linalg.svd(x).S, [WIDE]),
    ("qr_Q", lambda L, x: L.linalg.qr(x).Q, [RECT]),
    ("qr_R", lambda L, x: L.linalg.qr(x).R, [BATCH]),
    ("pinv", lambda L, x: L.linalg.pinv(x), [RECT]),
    ("pinv_hermitian", lambda L, m: L.linalg.pinv(_spd(m), hermitian=True), [A]),
    ("pinverse", lambda L, x: L.pinverse(x), [WIDE]),
    ("matrix_power_3", lambda L, x: L.linalg.matrix_power(x, 3), [BATCH]),
    ("matrix_power_-3", lambda L, x: L.linalg.matrix_power(x, -3), [A]),
    ("cond", lambda L, x: L.linalg.cond(x), [RECT]),
    ("cond_fro", lambda L, x: L.linalg.cond(x, "fro").detach(), [A]),  # torch: no gradient
    ("multi_dot", lambda L, a, b: L.linalg.multi_dot([a[0], a, b, b[0]]), [A, B]),
    ("vecdot", lambda L, x, y: L.linalg.vecdot(x, y), [V3, W3]),
    ("cross", lambda L, x, y: L.linalg.cross(x, y), [V3, W3]),
    ("cross_top_level", lambda L, x, y: L.cross(x, y, dim=1), [V3, W3]),
    ("diagonal", lambda L, x: L.linalg.diagonal(x, offset=1), [BATCH]),
    ("method_inverse_det", lambda L, x: x.inverse() * x.det(), [A]),
    ("torch_svd", lambda L, x: L.svd(x)[2] ** 2, [RECT]),
    ("torch_qr", lambda L, x: L.qr(x)[1], [RECT]),
    ("tensor_method_cholesky", lambda L, m: _spd(m).cholesky(), [A]),
]


@pytest.mark.parametrize("name,fn,inputs", CASES, ids=[c[0] for c in CASES])
def test_values_and_gradients_match_torch(name, fn, inputs):
    xs = [rg.tensor(a, requires_grad=True) for a in inputs]
    ts = [torch.tensor(a, requires_grad=True) for a in inputs]
    out, expected = _first(fn(rg, *xs)), _first(fn(torch, *ts))
    assert out.shape == tuple(expected.shape), name
    np.testing.assert_allclose(out.data, expected.detach().numpy(), rtol=1e-9, atol=1e-10)
    if not expected.requires_grad:
        return
    weights = np.random.default_rng(1).standard_normal(out.shape)
    (out * rg.tensor(weights)).sum().backward()
    (expected * torch.tensor(weights)).sum().backward()
    for x, t in zip(xs, ts):
        np.testing.assert_allclose(x.grad.data, t.grad.numpy(), rtol=1e-7, atol=1e-9,
                                   err_msg=name)


@pytest.mark.parametrize("name", ["inv", "det", "slogdet", "solve", "cholesky", "eigh_values",
                                  "svdvals", "pinv"])
def test_second_order_matches_torch(name):
    fn, inputs = next((c[1], c[2]) for c in CASES if c[0] == name)
    xs = [rg.tensor(a, requires_grad=True) for a in inputs]
    ts = [torch.tensor(a, requires_grad=True) for a in inputs]
    (gx,) = rg.autograd.grad((_first(fn(rg, *xs)) ** 2).sum(), [xs[0]], create_graph=True)
    (gt,) = torch.autograd.grad((_first(fn(torch, *ts)) ** 2).sum(), [ts[0]], create_graph=True)
    direction = np.random.default_rng(2).standard_normal(gx.shape)
    (hx,) = rg.autograd.grad((gx * rg.tensor(direction)).sum(), [xs[0]])
    (ht,) = torch.autograd.grad((gt * torch.tensor(direction)).sum(), [ts[0]])
    np.testing.assert_allclose(hx.data, ht.numpy(), rtol=1e-7, atol=1e-9)


def test_matrix_rank_and_slogdet_named_tuple_match_torch():
    low_rank = RECT @ RNG.standard_normal((3, 2)) @ RNG.standard_normal((2, 3))
    for x in [RECT, low_rank, np.zeros((3, 3)), np.stack([A, low_rank[:3]])]:
        assert rg.linalg.matrix_rank(rg.tensor(x)).tolist() == torch.linalg.matrix_rank(
            torch.tensor(x)).tolist()
    result = rg.linalg.slogdet(rg.tensor(-A))
    expected = torch.linalg.slogdet(torch.tensor(-A))
    assert result._fields == ("sign", "logabsdet")
    assert result.sign.item() == expected.sign.item()


def test_float32_inputs_stay_float32():
    x = rg.tensor(A.astype(np.float32), requires_grad=True)
    for out in [rg.linalg.inv(x), rg.linalg.det(x), rg.linalg.svdvals(x),
                rg.linalg.eigh(_sym(x)).eigenvectors, rg.linalg.norm(x, "nuc"),
                rg.linalg.solve(x, rg.ones(3)), rg.linalg.slogdet(x).logabsdet]:
        assert out.dtype == rg.float32
    rg.linalg.det(x).backward()
    assert x.grad.dtype == rg.float32


def test_norm_argument_errors():
    with pytest.raises(RuntimeError, match="linalg.norm: if dim is not given but ord is"):
        rg.linalg.norm(rg.ones(2, 2, 2), 2)
    with pytest.raises(RuntimeError, match="linalg.matrix_norm: order 3 is not supported"):
        rg.linalg.matrix_norm(rg.ones(2, 2), 3)
    with pytest.raises(RuntimeError, match="linalg.vector_norm: ord must be a number"):
        rg.linalg.vector_norm(rg.ones(2), "fro")
