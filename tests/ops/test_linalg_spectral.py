"""eigh, svd and qr: specs through functions that do not depend on the sign of each
eigenvector/singular vector (squares, reconstructions), so finite differences are well defined;
QR's factors are unique for LAPACK's sign convention."""

import numpy as np
import pytest

import retrograd as rg

from .harness import OpSpec, parametrize


def _sym(m):
    return m + m.mT


def _np_sym(m):
    return m + np.swapaxes(m, -1, -2)


def _np_svd(x):
    return np.linalg.svd(x, full_matrices=False)


def _np_qr(x):
    return np.linalg.qr(x, mode="reduced")


SPECS = [
    OpSpec("eigh", lambda m: rg.linalg.eigh(_sym(m)).eigenvalues,
           lambda m: np.linalg.eigh(_np_sym(m))[0], [((3, 3),), ((2, 4, 4),)],
           name="eigh_values"),
    OpSpec("eigh", lambda m: rg.linalg.eigh(_sym(m), UPLO="U").eigenvectors ** 2,
           lambda m: np.linalg.eigh(_np_sym(m), UPLO="U")[1] ** 2, [((3, 3),), ((2, 3, 3),)],
           name="eigh_vectors"),
    OpSpec("eigh", lambda m: rg.linalg.eigvalsh(_sym(m)),
           lambda m: np.linalg.eigvalsh(_np_sym(m)), [((4, 4),)], name="eigvalsh"),
    OpSpec("svd", rg.linalg.svdvals, lambda x: np.linalg.svd(x, compute_uv=False),
           [((4, 3),), ((3, 5),), ((2, 3, 3),)], name="svdvals"),
    OpSpec("svd", lambda x: rg.linalg.svd(x, full_matrices=False).U ** 2,
           lambda x: _np_svd(x)[0] ** 2, [((4, 3),), ((3, 5),), ((2, 3, 3),)], name="svd_U"),
    OpSpec("svd", lambda x: rg.linalg.svd(x, full_matrices=False).Vh ** 2,
           lambda x: _np_svd(x)[2] ** 2, [((4, 3),), ((3, 5),)], name="svd_Vh"),
    OpSpec("svd", lambda x: _outer_vectors(rg.linalg.svd(x, full_matrices=False)),
           lambda x: _outer_vectors(_np_svd(x)), [((4, 3),), ((2, 3, 4),)], name="svd_UVh"),
    OpSpec("qr", lambda x: rg.linalg.qr(x).Q, lambda x: _np_qr(x)[0],
           [((4, 3),), ((3, 3),), ((2, 4, 2),)], name="qr_Q"),
    OpSpec("qr", lambda x: rg.linalg.qr(x).R, lambda x: _np_qr(x)[1],
           [((4, 3),), ((2, 3, 3),)], name="qr_R"),
]


def _outer_vectors(usv):
    """U[:, :1] Vh[:1, :]: the leading rank-one part's direction (sign-free)."""
    u, _, vh = usv
    return u[..., :, :1] @ vh[..., :1, :]


PARAMS, IDS = parametrize(SPECS)


@pytest.mark.parametrize("spec,shapes,check", PARAMS, ids=IDS)
def test_spec(spec, shapes, check):
    check(spec, shapes)


def test_full_matrices_svd_is_orthogonal_and_reconstructs():
    x = rg.tensor(np.random.default_rng(0).standard_normal((5, 3)), requires_grad=True)
    u, s, vh = rg.linalg.svd(x)
    assert u.shape == (5, 5) and s.shape == (3,) and vh.shape == (3, 3)
    np.testing.assert_allclose(u.data.T @ u.data, np.eye(5), atol=1e-12)
    np.testing.assert_allclose((u[:, :3] * s) @ vh, x.data, atol=1e-12)
    (s.sum() + (u**2).sum()).backward()
    assert x.grad.shape == (5, 3)


def test_torch_svd_returns_v_and_complete_qr_is_square():
    x = rg.tensor(np.random.default_rng(0).standard_normal((4, 3)))
    u, s, v = rg.svd(x)
    np.testing.assert_allclose((u * s) @ v.mT, x.data, atol=1e-12)
    q, r = x.qr(some=False)
    assert q.shape == (4, 4) and r.shape == (4, 3)
    np.testing.assert_allclose(q @ r, x.data, atol=1e-12)
    assert rg.linalg.qr(x, mode="r").Q.shape == (0,)


def test_qr_gradient_of_a_wide_matrix_is_not_implemented():
    x = rg.tensor(np.ones((2, 3)), requires_grad=True)
    with pytest.raises(NotImplementedError, match="qr: the gradient is implemented for m >= n"):
        rg.linalg.qr(x).R.sum().backward()
