"""Factorizations with several outputs: eigh (symmetric eigendecomposition), svd, qr.

NOTE: a primitive has one differentiable output, so each of these returns its factors packed
side by side in one array (eigh: the eigenvalues as an extra first row above the eigenvectors;
svd and qr: the flattened factors one after another along the last dim), and the public
function slices them apart with ordinary (differentiable) views. The VJP unpacks the gradient
the same way and uses only `ns` functions on the saved output, so second derivatives are exact.

The rules are PyTorch's and hold where PyTorch's do: distinct eigenvalues for eigh, distinct
non-zero singular values for svd (gradients through U and Vh), full column rank for qr
(m >= n). Symmetric inputs get symmetric gradients (the gradient of a function of symmetric
matrices, as PyTorch), even though only one triangle is read.
"""

import collections

import numpy as np

from ..autograd.graph import Op
from ._util import apply, new_tensor
from .joining import cat
from .linalg_decomp import check_matrix, check_square, mT

__all__ = ["svd", "qr"]

eigh_result = collections.namedtuple("eigh", ("eigenvalues", "eigenvectors"))
svd_result = collections.namedtuple("svd", ("U", "S", "Vh"))
torch_svd_result = collections.namedtuple("svd", ("U", "S", "V"))
qr_result = collections.namedtuple("qr", ("Q", "R"))


def _sym(x):
    return 0.5 * (x + mT(x))


def _cut(ns, x, start, stop):
    """x[..., start:stop] through the rule namespace."""
    return ns.index(x, ((Ellipsis, slice(start, stop)), None))


# ----------------------------------------------------------------- eigh

_EIGENVALUES = ((Ellipsis, 0, slice(None)), None)
_EIGENVECTORS = ((Ellipsis, slice(1, None), slice(None)), None)


class Eigh(Op):
    """Eigenvalues (ascending, as row 0) and eigenvectors (rows 1..n) of a symmetric matrix."""

    name = "eigh"
    save_out = True

    @staticmethod
    def forward(x, uplo):
        w, v = np.linalg.eigh(x, UPLO=uplo)
        return np.concatenate([w[..., None, :], v], axis=-2)

    @staticmethod
    def vjp(ns, g, saved, params, needs):
        (out,) = saved
        n = out.shape[-1]
        w, v = ns.index(out, _EIGENVALUES), ns.index(out, _EIGENVECTORS)
        gw, gv = ns.index(g, _EIGENVALUES), ns.index(g, _EIGENVECTORS)
        eye = ns.eye(n, dtype=out.dtype)
        vt_gv = ns.matmul(ns.mT(v), gv)
        gaps = ns.unsqueeze(w, -2) - ns.unsqueeze(w, -1) + eye  # w_j - w_i, 1 on the diagonal
        inner = 0.5 * (vt_gv - ns.mT(vt_gv)) / gaps + eye * ns.unsqueeze(gw, -2)
        return ns.matmul(ns.matmul(v, inner), ns.mT(v))

    @staticmethod
    def jvp(ns, ts, xs, out, params):
        w, v = out[..., 0, :], out[..., 1:, :]
        n = w.shape[-1]
        p = mT(v) @ _sym(ts[0]) @ v
        gaps = w[..., None, :] - w[..., :, None] + np.eye(n)
        dv = v @ (p * (1.0 - np.eye(n)) / gaps)
        return np.concatenate([np.diagonal(p, axis1=-2, axis2=-1)[..., None, :], dv], axis=-2)


def eigh(input, UPLO="L"):  # noqa: N803 - PyTorch's name
    """`(eigenvalues, eigenvectors)` of symmetric matrices, eigenvalues ascending; only the
    `UPLO` ('L' or 'U') triangle is read."""
    check_square(input, "linalg.eigh")
    if UPLO not in ("L", "U"):
        raise ValueError(f"linalg.eigh: UPLO must be 'L' or 'U', got {UPLO!r}")
    out = apply(Eigh, input, uplo=UPLO)
    return eigh_result(out[..., 0, :], out[..., 1:, :])


def eigvalsh(input, UPLO="L"):  # noqa: N803
    """The eigenvalues of symmetric matrices, ascending."""
    return eigh(input, UPLO).eigenvalues


# ----------------------------------------------------------------- svd


def _svd_sizes(shape):
    m, n = shape[-2], shape[-1]
    k = min(m, n)
    return m, n, k


class Svd(Op):
    """The thin SVD A = U diag(S) Vh, packed as [U.flat, S, Vh.flat] along the last dim."""

    name = "svd"
    save_out = True

    @staticmethod
    def forward(x, **_):
        u, s, vh = np.linalg.svd(x, full_matrices=False)
        batch = x.shape[:-2]
        return np.concatenate([u.reshape(batch + (-1,)), s, vh.reshape(batch + (-1,))], axis=-1)

    @staticmethod
    def vjp(ns, g, saved, params, needs):
        (out,) = saved
        m, n, k = _svd_sizes(params["shape"])
        u, s, v = _unpack_svd(ns, out, m, n, k)
        gu, gs, gv = _unpack_svd(ns, g, m, n, k)
        eye = ns.eye(k, dtype=out.dtype)
        s_row = ns.unsqueeze(s, -2)  # s_j along columns
        s2 = s_row * s_row
        f = (1.0 - eye) / (s2 - ns.mT(s2) + eye)  # 1 / (s_j^2 - s_i^2), 0 on the diagonal
        ut_gu, vt_gv = ns.matmul(ns.mT(u), gu), ns.matmul(ns.mT(v), gv)
        j = f * (ut_gu - ns.mT(ut_gu))
        kk = f * (vt_gv - ns.mT(vt_gv))
        inner = j * s_row + eye * ns.unsqueeze(gs, -2) + ns.mT(s_row) * kk
        ga = ns.matmul(ns.matmul(u, inner), ns.mT(v))
        if m > k:  # (I - U U^T) gU S^-1 V^T
            ga = ga + ns.matmul((gu - ns.matmul(u, ut_gu)) / s_row, ns.mT(v))
        if n > k:  # U S^-1 gV^T (I - V V^T)
            ga = ga + ns.matmul(u / s_row, ns.mT(gv - ns.matmul(v, vt_gv)))
        return ga

    @staticmethod
    def jvp(ns, ts, xs, out, params):
        m, n, k = _svd_sizes(params["shape"])
        u, s, v = _unpack_svd(np_unpack, out, m, n, k)
        t = ts[0]
        p = mT(u) @ t @ v
        s_row = s[..., None, :]
        eye = np.eye(k)
        f = (1.0 - eye) / (s_row**2 - mT(s_row) ** 2 + eye)
        du = u @ (f * (p * s_row + mT(s_row) * mT(p))) + (t @ v - u @ p) / s_row
        dv = v @ (f * (mT(s_row) * p + mT(p) * s_row)) + (mT(t) @ u - v @ mT(p)) / s_row
        ds = np.diagonal(p, axis1=-2, axis2=-1)
        batch = out.shape[:-1]
        return np.concatenate([du.reshape(batch + (-1,)), ds, mT(dv).reshape(batch + (-1,))],
                              axis=-1)


class _NumpyUnpack:
    """The two ns functions `_unpack_svd` needs, on arrays (JVP rules run on NumPy)."""

    @staticmethod
    def index(x, indices):
        return x[indices[0]]

    reshape = staticmethod(np.reshape)
    mT = staticmethod(mT)


np_unpack = _NumpyUnpack()


def _unpack_svd(ns, packed, m, n, k):
    """(U, S, V) from a packed svd output (or its gradient); V = Vh^T."""
    batch = tuple(packed.shape[:-1])
    u = ns.reshape(_cut(ns, packed, 0, m * k), batch + (m, k))
    s = _cut(ns, packed, m * k, m * k + k)
    vh = ns.reshape(_cut(ns, packed, m * k + k, m * k + k + k * n), batch + (k, n))
    return u, s, ns.mT(vh)


def _svd_parts(input):
    m, n, k = _svd_sizes(input.data.shape)
    out = apply(Svd, input, shape=input.data.shape)
    batch = input.data.shape[:-2]
    u = out[..., : m * k].reshape(batch + (m, k))
    s = out[..., m * k : m * k + k]
    vh = out[..., m * k + k :].reshape(batch + (k, n))
    return u, s, vh


def linalg_svd(A, full_matrices=True):  # noqa: N803
    """`(U, S, Vh)` with A = U diag(S) Vh, S descending. With full_matrices (PyTorch's default)
    and a non-square A, U or Vh is completed to a square orthogonal matrix; gradients ignore the
    completed part, as in PyTorch."""
    check_matrix(A, "linalg.svd")
    u, s, vh = _svd_parts(A)
    m, n, k = _svd_sizes(A.data.shape)
    if full_matrices and m != n:
        full_u, _, full_vh = np.linalg.svd(A.data, full_matrices=True)
        if m > k:
            u = cat([u, new_tensor(full_u[..., :, k:])], dim=-1)
        else:
            vh = cat([vh, new_tensor(full_vh[..., k:, :])], dim=-2)
    return svd_result(u, s, vh)


def svdvals(A):  # noqa: N803
    """The singular values, descending."""
    check_matrix(A, "linalg.svdvals")
    return _svd_parts(A)[1]


def svd(input, some=True, compute_uv=True):
    """PyTorch's older `torch.svd`: `(U, S, V)` (V, not Vh), thin unless some=False."""
    if not compute_uv:
        s = svdvals(input)
        m, n, _ = _svd_sizes(input.data.shape)
        batch = input.data.shape[:-2]
        zeros = np.zeros
        return torch_svd_result(new_tensor(zeros(batch + (m, m), input.data.dtype)), s,
                                new_tensor(zeros(batch + (n, n), input.data.dtype)))
    u, s, vh = linalg_svd(input, full_matrices=not some)
    return torch_svd_result(u, s, vh.mT)


# ----------------------------------------------------------------- qr


class Qr(Op):
    """The reduced QR factorization, packed as [Q.flat, R.flat] along the last dim."""

    name = "qr"
    save_out = True

    @staticmethod
    def forward(x, **_):
        q, r = np.linalg.qr(x, mode="reduced")
        batch = x.shape[:-2]
        return np.concatenate([q.reshape(batch + (-1,)), r.reshape(batch + (-1,))], axis=-1)

    @staticmethod
    def vjp(ns, g, saved, params, needs):
        (out,) = saved
        m, n, k = _svd_sizes(params["shape"])
        if m < n:
            raise NotImplementedError(
                f"qr: the gradient is implemented for m >= n only, got a {m} by {n} input"
            )
        q, r = _unpack_qr(ns, out, m, n, k)
        gq, gr = _unpack_qr(ns, g, m, n, k)
        mm = ns.matmul(r, ns.mT(gr)) - ns.matmul(ns.mT(gq), q)
        low = ns.tril(mm, -1)
        copied = ns.tril(mm) + ns.mT(low)  # the lower triangle mirrored to the upper one
        b = gq + ns.matmul(q, copied)
        return ns.mT(ns.solve(r, ns.mT(b)))  # b R^-T

    @staticmethod
    def jvp(ns, ts, xs, out, params):
        m, n, k = _svd_sizes(params["shape"])
        if m < n:
            raise NotImplementedError(
                f"qr: forward-mode AD is implemented for m >= n only, got a {m} by {n} input"
            )
        q, r = _unpack_qr(np_unpack, out, m, n, k)
        t_rinv = mT(np.linalg.solve(mT(r), mT(ts[0])))  # dA R^-1
        x = mT(q) @ t_rinv
        low = np.tril(x, -1)
        upper_part = x - (low - mT(low))
        dq = t_rinv - q @ upper_part
        dr = upper_part @ r
        batch = out.shape[:-1]
        return np.concatenate([dq.reshape(batch + (-1,)), dr.reshape(batch + (-1,))], axis=-1)


def _unpack_qr(ns, packed, m, n, k):
    batch = tuple(packed.shape[:-1])
    q = ns.reshape(_cut(ns, packed, 0, m * k), batch + (m, k))
    r = ns.reshape(_cut(ns, packed, m * k, m * k + k * n), batch + (k, n))
    return q, r


def linalg_qr(A, mode="reduced"):  # noqa: N803
    """`(Q, R)` with A = Q R, Q with orthonormal columns and R upper triangular. mode 'reduced'
    (Q is m x k), 'complete' (Q is m x m; not differentiable when m > n, as in PyTorch) or 'r'
    (Q is empty)."""
    check_matrix(A, "linalg.qr")
    if mode not in ("reduced", "complete", "r"):
        raise ValueError(f"linalg.qr: mode must be 'reduced', 'complete' or 'r', got {mode!r}")
    m, n, k = _svd_sizes(A.data.shape)
    out = apply(Qr, A, shape=A.data.shape)
    batch = A.data.shape[:-2]
    q = out[..., : m * k].reshape(batch + (m, k))
    r = out[..., m * k :].reshape(batch + (k, n))
    if mode == "r":
        q = new_tensor(np.zeros((0,), A.data.dtype))
    elif mode == "complete" and m > n:
        q_full, r_full = np.linalg.qr(A.data.copy(), mode="complete")
        return qr_result(new_tensor(q_full), new_tensor(r_full))
    return qr_result(q, r)


def qr(input, some=True):
    """PyTorch's older `torch.qr`: `linalg.qr` with mode 'reduced' (some=True) or 'complete'."""
    return linalg_qr(input, "reduced" if some else "complete")


TENSOR_METHODS = {
    "svd": svd,
    "qr": qr,
}
