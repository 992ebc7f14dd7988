"""rg.linalg: PyTorch's `torch.linalg` on retrograd's differentiable ops.

    A = rg.randn(3, 3, dtype=rg.float64, requires_grad=True)
    rg.linalg.det(A).backward()          # A.grad == det(A) * inv(A).T

Norms, inverses, determinants, solves, factorizations (cholesky, qr, svd, eigh), pinv and
matrix powers, for matrices or batches of matrices (..., m, n). The differentiable primitives
are in ops/linalg_decomp.py and ops/linalg_spectral.py; this module holds PyTorch's names and
signatures, and the composites (norms, cond, multi_dot, solve_triangular, ...).
"""

import math

import numpy as np

from .autograd.tensor import new_tensor
from .ops import linalg_decomp, reduction
from .ops import shape as _shape
from .ops._util import check_dim
from .ops.linalg import matmul
from .ops.linalg_decomp import (
    LinAlgError,
    check_matrix,
    check_square,
    det,
    inverse,
    matrix_power,
    pinv,
    slogdet,
)
from .ops.linalg_spectral import eigh, eigvalsh, linalg_qr, linalg_svd, svdvals

__all__ = [
    "LinAlgError",
    "norm",
    "vector_norm",
    "matrix_norm",
    "inv",
    "det",
    "slogdet",
    "solve",
    "solve_triangular",
    "cholesky",
    "qr",
    "svd",
    "svdvals",
    "eigh",
    "eigvalsh",
    "pinv",
    "matrix_power",
    "matrix_rank",
    "cond",
    "multi_dot",
    "vecdot",
    "cross",
    "diagonal",
    "matmul",
]

inv = inverse
qr = linalg_qr
svd = linalg_svd


def cholesky(A, *, upper=False):  # noqa: N803 - PyTorch's names
    return linalg_decomp.cholesky(A, upper)


def solve(A, B, *, left=True):  # noqa: N803
    """X with A X = B (left=False: X A = B). B may be a batch of vectors (..., n)."""
    if left:
        return linalg_decomp.solve(A, B)
    return linalg_decomp.solve(A.mT, B.mT).mT


def solve_triangular(A, B, *, upper, left=True, unitriangular=False):  # noqa: N803
    """X with A X = B for triangular A (only the `upper` or lower triangle of A is read, so only
    it gets a gradient); unitriangular: A's diagonal is taken as ones."""
    check_square(A, "linalg.solve_triangular")
    check_matrix(B, "linalg.solve_triangular")
    a = A.triu(1 if unitriangular else 0) if upper else A.tril(-1 if unitriangular else 0)
    if unitriangular:
        n = A.data.shape[-1]
        a = a + new_tensor(np.eye(n, dtype=A.data.dtype))
    return solve(a, B, left=left)


# ----------------------------------------------------------------- norms


def _dims(dim, ndim, name):
    return tuple(check_dim(d, ndim, name) for d in ((dim,) if _is_int(dim) else dim))


def _is_int(value):
    return isinstance(value, (int, np.integer))


def vector_norm(x, ord=2, dim=None, keepdim=False, *, dtype=None):  # noqa: A002
    """The vector `ord`-norm over `dim` (every element when None): sum(|x|^ord)^(1/ord); inf is
    max |x|, -inf min |x|, 0 the number of non-zeros."""
    if isinstance(ord, str):
        raise RuntimeError(f"linalg.vector_norm: ord must be a number, got {ord!r}")
    return reduction.norm(x, ord, dim, keepdim, dtype)


def matrix_norm(A, ord="fro", dim=(-2, -1), keepdim=False, *, dtype=None):  # noqa: A002, N803
    """The matrix norm over the two dims `dim`: 'fro' (default), 'nuc' (sum of singular values),
    2 / -2 (largest / smallest singular value), 1 / -1 (largest / smallest column sum of |A|),
    inf / -inf (largest / smallest row sum of |A|)."""
    if dtype is not None:
        A = A.to(dtype)
    check_matrix(A, "linalg.matrix_norm")
    dims = _dims(dim, A.data.ndim, "linalg.matrix_norm")
    if len(dims) != 2 or dims[0] == dims[1]:
        raise RuntimeError(f"linalg.matrix_norm: dim must be a pair of distinct dims, got {dim}")
    if ord == "fro":
        return reduction.norm(A, 2, dims, keepdim)
    low, high = sorted(dims)
    if ord in ("nuc", 2, -2):
        s = svdvals(_shape.movedim(A, dims, (-2, -1)))
        out = s.sum(-1) if ord == "nuc" else s.amax(-1) if ord == 2 else s.amin(-1)
        return out.unsqueeze(low).unsqueeze(high) if keepdim else out
    if ord in (1, -1, math.inf, -math.inf):
        summed, other = dims if abs(ord) == 1 else dims[::-1]
        sums = A.abs().sum(summed, keepdim=True)
        out = sums.amax(other, keepdim=True) if ord > 0 else sums.amin(other, keepdim=True)
        return out if keepdim else out.squeeze(high).squeeze(low)
    raise RuntimeError(
        f"linalg.matrix_norm: order {ord!r} is not supported; use 'fro', 'nuc', inf, -inf, "
        "1, -1, 2 or -2"
    )


def norm(A, ord=None, dim=None, keepdim=False, *, dtype=None):  # noqa: A002, N803
    """A vector norm (dim an int, or A 1-D) or a matrix norm (dim a pair, or A 2-D); with
    ord=None and dim=None, the 2-norm of all elements."""
    if dim is not None:
        dims = _dims(dim, A.data.ndim, "linalg.norm")
        if len(dims) == 1:
            return vector_norm(A, 2 if ord is None else ord, dims, keepdim, dtype=dtype)
        if len(dims) == 2:
            return matrix_norm(A, "fro" if ord is None else ord, dims, keepdim, dtype=dtype)
        raise RuntimeError(f"linalg.norm: dim must be an int or a pair of ints, got {dim}")
    if ord is None:
        return vector_norm(A, 2, None, keepdim, dtype=dtype)
    if A.data.ndim == 1:
        return vector_norm(A, ord, None, keepdim, dtype=dtype)
    if A.data.ndim == 2:
        return matrix_norm(A, ord, (-2, -1), keepdim, dtype=dtype)
    raise RuntimeError(
        f"linalg.norm: if dim is not given but ord is, the input must be 1-D or 2-D, got shape "
        f"{A.shape}"
    )


def cond(A, p=None):  # noqa: N803
    """The condition number of A in the norm `p` (None or 2: the ratio of the largest to the
    smallest singular value; otherwise norm(A) * norm(inv(A)))."""
    if p is None or p in (2, -2):
        s = svdvals(A)
        ratio = s[..., 0] / s[..., -1]
        return ratio if p != -2 else 1.0 / ratio
    return matrix_norm(A, p) * matrix_norm(inverse(A), p)


def matrix_rank(A, *, atol=None, rtol=None, hermitian=False):  # noqa: N803
    """The number of singular values above max(atol, rtol * largest) (int64, no gradient)."""
    check_matrix(A, "linalg.matrix_rank")
    x = A.data
    m, n = x.shape[-2:]
    if m == 0 or n == 0:
        return new_tensor(np.zeros(x.shape[:-2], np.int64))
    s = np.abs(np.linalg.svd(x, compute_uv=False, hermitian=hermitian))
    if rtol is None:
        rtol = 0.0 if atol is not None and atol > 0 else np.finfo(x.dtype).eps * max(m, n)
    cutoff = np.maximum(0.0 if atol is None else atol, rtol * s.max(axis=-1, keepdims=True))
    return new_tensor(np.sum(s > cutoff, axis=-1).astype(np.int64))


# ----------------------------------------------------------------- products


def multi_dot(tensors):
    """tensors[0] @ tensors[1] @ ...: the first may be 1-D (a row), the last 1-D (a column)."""
    tensors = list(tensors)
    if len(tensors) < 2:
        raise RuntimeError(f"linalg.multi_dot: expected at least 2 tensors, got {len(tensors)}")
    for k, t in enumerate(tensors):
        allowed = (1, 2) if k in (0, len(tensors) - 1) else (2,)
        if t.data.ndim not in allowed:
            raise RuntimeError(
                f"linalg.multi_dot: tensor {k} must be {' or '.join(f'{a}-D' for a in allowed)}, "
                f"got shape {t.shape}"
            )
    out = tensors[0]
    for t in tensors[1:]:
        out = matmul(out, t)
    return out


def vecdot(x, y, *, dim=-1):
    """sum(x * y) over `dim` (x and y broadcast)."""
    return (x * y).sum(dim)


def cross(input, other, *, dim=-1):
    """The cross product of 3-vectors along `dim` (input and other broadcast)."""
    return linalg_decomp.cross(input, other, dim)


def diagonal(A, *, offset=0, dim1=-2, dim2=-1):  # noqa: N803
    return _shape.diagonal(A, offset, dim1, dim2)
