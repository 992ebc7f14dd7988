"""Matrix functions and factorizations: inverse, det, log|det|, solve, cholesky, pinv.

Every input is a matrix or a batch of matrices (..., m, n). The rules are PyTorch's
(derivatives.yaml): d(A^-1) = -A^-1 dA A^-1, d det A = det A tr(A^-1 dA), d(A^-1 B) through a
solve with A^T, and the Cholesky rule of Murray (2016). Each VJP uses only `ns` functions, so
second derivatives are exact too. They hold where PyTorch's do: for invertible matrices
(symmetric positive-definite for cholesky); a singular one raises `LinAlgError`.
The user-facing namespace is `rg.linalg` (src/retrograd/linalg.py); the PyTorch top-level forms
(`rg.inverse`, `rg.det`, `rg.logdet`, `rg.slogdet`, `rg.pinverse`, `rg.matrix_power`,
`rg.cholesky`) and Tensor methods live here.
"""

import collections

import numpy as np

from ..autograd import dtypes
from ..autograd.graph import Op
from ._util import apply, check_dim, new_tensor

__all__ = [
    "inverse",
    "det",
    "logdet",
    "slogdet",
    "pinverse",
    "matrix_power",
    "cholesky",
    "cross",
]

slogdet_result = collections.namedtuple("slogdet", ("sign", "logabsdet"))


class LinAlgError(RuntimeError):
    """A matrix that the operation cannot handle: singular, or not positive-definite
    (`torch.linalg.LinAlgError`, a RuntimeError)."""


def check_square(x, name):
    """x must be a floating batch of square matrices (..., n, n)."""
    check_matrix(x, name)
    if x.data.shape[-1] != x.data.shape[-2]:
        raise RuntimeError(
            f"{name}: A must be batches of square matrices, but they are "
            f"{x.data.shape[-2]} by {x.data.shape[-1]} matrices (shape {x.shape})"
        )


def check_matrix(x, name):
    if x.data.ndim < 2:
        raise RuntimeError(
            f"{name}: the input must have at least 2 dimensions, got shape {x.shape}"
        )
    if not dtypes.is_floating(x.data.dtype):
        raise TypeError(f"{name}: expected a floating-point input, got dtype {x.dtype}")


def mT(x):  # noqa: N802 - PyTorch's name
    return np.swapaxes(x, -1, -2)


def _lapack(fn, name, what="singular"):
    """Run a NumPy linalg call, turning its LinAlgError into ours with the op's name."""
    try:
        return fn()
    except np.linalg.LinAlgError as err:
        if what == "singular":
            detail = "the input matrix is singular"
        else:
            detail = "the input is not positive-definite"
        raise LinAlgError(f"{name}: the operation could not be completed because {detail} "
                          f"({err})") from None


# ----------------------------------------------------------------- inverse, det, log|det|


class Inverse(Op):
    name = "inverse"
    save_out = True

    @staticmethod
    def forward(x):
        return _lapack(lambda: np.linalg.inv(x), "linalg.inv")

    @staticmethod
    def vjp(ns, g, saved, params, needs):
        (out,) = saved
        out_t = ns.mT(out)
        return -ns.matmul(ns.matmul(out_t, g), out_t)

    @staticmethod
    def jvp(ns, ts, xs, out, params):
        return -(out @ ts[0] @ out)


class Det(Op):
    name = "det"
    save = (0,)
    save_out = True

    @staticmethod
    def forward(x):
        return np.linalg.det(x)

    @staticmethod
    def vjp(ns, g, saved, params, needs):
        x, out = saved
        scale = ns.unsqueeze(ns.unsqueeze(g * out, -1), -1)
        return scale * ns.mT(ns.inverse(x))

    @staticmethod
    def jvp(ns, ts, xs, out, params):
        x_inv = _lapack(lambda: np.linalg.inv(xs[0]), "linalg.det")
        return out * np.sum(mT(x_inv) * ts[0], axis=(-2, -1))


class Logabsdet(Op):
    """log|det A|. NOTE: its sign comes out of the same LU factorization, so `slogdet` runs it
    before the op and hands the value over as the `value` parameter (as max hands over its
    indices)."""

    name = "logabsdet"
    save = (0,)

    @staticmethod
    def forward(x, value=None):
        return np.linalg.slogdet(x)[1] if value is None else value

    @staticmethod
    def vjp(ns, g, saved, params, needs):
        (x,) = saved
        return ns.unsqueeze(ns.unsqueeze(g, -1), -1) * ns.mT(ns.inverse(x))

    @staticmethod
    def jvp(ns, ts, xs, out, params):
        x_inv = _lapack(lambda: np.linalg.inv(xs[0]), "linalg.slogdet")
        return np.sum(mT(x_inv) * ts[0], axis=(-2, -1))


def inverse(input):
    """The inverse of each square matrix; LinAlgError when one is singular."""
    check_square(input, "linalg.inv")
    return apply(Inverse, input)


def det(input):
    """The determinant of each square matrix."""
    check_square(input, "linalg.det")
    return apply(Det, input)


def slogdet(input):
    """`(sign, logabsdet)` of each square matrix's determinant (a named tuple); only logabsdet
    is differentiable. A singular matrix gives sign 0 and logabsdet -inf."""
    check_square(input, "linalg.slogdet")
    sign, value = np.linalg.slogdet(input.data)
    logabs = apply(Logabsdet, input, value=np.asarray(value, input.data.dtype))
    return slogdet_result(new_tensor(np.asarray(sign, input.data.dtype)), logabs)


def logdet(input):
    """log det A: NaN where the determinant is negative, -inf where it is 0."""
    sign, logabs = slogdet(input)
    s = sign.data
    shift = np.where(s < 0, np.nan, np.where(s == 0, -np.inf, 0.0)).astype(s.dtype)
    return logabs + new_tensor(shift)


# ----------------------------------------------------------------- solve


class Solve(Op):
    """X = A^-1 B for matrices B (..., n, k); batch dims broadcast."""

    name = "solve"
    input_names = ("A", "B")
    save = (0,)
    save_out = True

    @staticmethod
    def forward(a, b):
        return _lapack(lambda: np.linalg.solve(a, b), "linalg.solve")

    @staticmethod
    def vjp(ns, g, saved, params, needs):
        a, out = saved
        gb = ns.solve(ns.mT(a), g)
        ga = -ns.matmul(gb, ns.mT(out)) if needs[0] else None
        return ga, (gb if needs[1] else None)

    @staticmethod
    def jvp(ns, ts, xs, out, params):
        return np.linalg.solve(xs[0], ts[1] - ts[0] @ out)


def solve(A, B):  # noqa: N803 - PyTorch's names
    """X with A X = B: B of shape (..., n, k), or (..., n) for vectors (see rg.linalg.solve)."""
    check_square(A, "linalg.solve")
    n = A.data.shape[-1]
    vector = B.data.ndim == 1 or (
        B.data.ndim == A.data.ndim - 1 and B.data.shape == A.data.shape[:-1]
    )
    b = B.unsqueeze(-1) if vector else B
    if b.data.ndim < 2 or b.data.shape[-2] != n:
        raise RuntimeError(
            f"linalg.solve: incompatible shapes of A {A.shape} and B {B.shape}: B must be "
            f"(..., {n}, k) or (..., {n})"
        )
    if b.data.dtype != A.data.dtype:
        b = b.to(A.data.dtype)
    out = apply(Solve, A, b)
    return out.squeeze(-1) if vector else out


# ----------------------------------------------------------------- cholesky


def _phi(ns, x, n):
    """The lower triangle of x with its diagonal halved."""
    return ns.tril(x) - 0.5 * (x * ns.eye(n, dtype=x.dtype))


class Cholesky(Op):
    """L (lower triangular, positive diagonal) with A = L L^T, from A's lower triangle.
    The gradient is symmetrized, as PyTorch's."""

    name = "cholesky"
    save_out = True

    @staticmethod
    def forward(x):
        return _lapack(lambda: np.linalg.cholesky(x), "linalg.cholesky", "not_pd")

    @staticmethod
    def vjp(ns, g, saved, params, needs):
        (out,) = saved
        n = out.shape[-1]
        out_t = ns.mT(out)
        p = _phi(ns, ns.matmul(out_t, g), n)
        s = ns.solve(out_t, ns.mT(ns.solve(out_t, p)))  # L^-T P L^-1, transposed
        return 0.5 * (s + ns.mT(s))

    @staticmethod
    def jvp(ns, ts, xs, out, params):
        n = out.shape[-1]
        t = 0.5 * (ts[0] + mT(ts[0]))  # the tangent of a symmetric input
        inner = np.linalg.solve(out, mT(np.linalg.solve(out, t)))  # L^-1 dA L^-T
        return out @ (np.tril(inner) - 0.5 * inner * np.eye(n, dtype=inner.dtype))


def cholesky(input, upper=False):
    """L with input = L L^T (upper=True: U with input = U^T U) for symmetric positive-definite
    matrices; LinAlgError otherwise."""
    check_square(input, "linalg.cholesky")
    out = apply(Cholesky, input)
    return out.mT if upper else out


# ----------------------------------------------------------------- pseudo-inverse


class Pinv(Op):
    """The Moore-Penrose pseudo-inverse. The rule (Golub and Pereyra) holds where the rank is
    constant around the input, as PyTorch's."""

    name = "pinv"
    save = (0,)
    save_out = True

    @staticmethod
    def forward(x, atol, rtol, hermitian):
        if x.shape[-1] == 0 or x.shape[-2] == 0:
            return np.zeros(x.shape[:-2] + (x.shape[-1], x.shape[-2]), x.dtype)
        u, s, vh = np.linalg.svd(x, full_matrices=False, hermitian=hermitian)
        cutoff = np.maximum(atol, rtol * np.max(np.abs(s), axis=-1, keepdims=True))
        keep = np.abs(s) > cutoff
        s_inv = np.divide(1.0, s, out=np.zeros_like(s), where=keep)
        return (mT(vh) * s_inv[..., None, :]) @ mT(u)

    @staticmethod
    def vjp(ns, g, saved, params, needs):
        a, p = saved
        m, n = a.shape[-2], a.shape[-1]
        p_t, g_t = ns.mT(p), ns.mT(g)
        ga = -ns.matmul(ns.matmul(p_t, g), p_t)
        left = ns.eye(m, dtype=a.dtype) - ns.matmul(a, p)  # I - A A+
        right = ns.eye(n, dtype=a.dtype) - ns.matmul(p, a)  # I - A+ A
        ga = ga + ns.matmul(ns.matmul(left, g_t), ns.matmul(p, p_t))
        return ga + ns.matmul(ns.matmul(p_t, p), ns.matmul(g_t, right))

    @staticmethod
    def jvp(ns, ts, xs, out, params):
        a, p, t = xs[0], out, ts[0]
        m, n = a.shape[-2], a.shape[-1]
        dp = -p @ t @ p
        dp = dp + p @ mT(p) @ mT(t) @ (np.eye(m, dtype=a.dtype) - a @ p)
        return dp + (np.eye(n, dtype=a.dtype) - p @ a) @ mT(t) @ mT(p) @ p


def pinv(input, *, atol=None, rtol=None, hermitian=False):
    """The pseudo-inverse: singular values at most max(atol, rtol * largest) count as zero
    (default rtol: eps * max(m, n) when neither is given, as in PyTorch)."""
    check_matrix(input, "linalg.pinv")
    m, n = input.data.shape[-2:]
    if rtol is None:
        rtol = 0.0 if atol is not None and atol > 0 else np.finfo(input.data.dtype).eps * max(m, n)
    atol = 0.0 if atol is None else atol
    return apply(Pinv, input, atol=float(atol), rtol=float(rtol), hermitian=bool(hermitian))


def pinverse(input, rcond=1e-15):
    """PyTorch's older pseudo-inverse: singular values below rcond * largest count as zero."""
    return pinv(input, rtol=rcond)


# ----------------------------------------------------------------- powers


def matrix_power(input, n):
    """input multiplied by itself n times (by repeated squaring); n=0 gives the identity, a
    negative n powers of the inverse."""
    check_square(input, "linalg.matrix_power")
    if not isinstance(n, (int, np.integer)):
        raise TypeError(f"linalg.matrix_power: n must be an int, got {type(n).__name__}")
    size = input.data.shape[-1]
    if n == 0:
        eye = new_tensor(np.eye(size, dtype=input.data.dtype))
        return eye.expand(input.data.shape).clone()
    if n < 0:
        input, n = inverse(input), -n
    result, base = None, input
    while True:  # NOTE: a loop over the bits of n, not recursion
        if n & 1:
            result = base if result is None else result @ base
        n >>= 1
        if not n:
            return result
        base = base @ base


# ----------------------------------------------------------------- cross product


def cross(input, other, dim=None):
    """The cross product of 3-vectors along `dim` (input and other broadcast); dim=None takes
    the first dim of size 3, as PyTorch's deprecated default."""
    shape = np.broadcast_shapes(input.data.shape, other.data.shape)
    if dim is None:
        dim = next((d for d, n in enumerate(shape) if n == 3), None)
        if dim is None:
            raise RuntimeError(f"cross: no dimension of size 3 in the input of shape {shape}")
    d = check_dim(dim, len(shape), "cross")
    if input.data.shape[d - len(shape)] != 3 or other.data.shape[d - len(shape)] != 3:
        raise RuntimeError(
            f"cross: inputs of shape {input.shape} and {other.shape} must have size 3 in "
            f"dimension {dim}"
        )
    a, b = input.expand(shape), other.expand(shape)
    # component i is a[i+1] b[i+2] - a[i+2] b[i+1]
    return a.roll(-1, d) * b.roll(-2, d) - a.roll(-2, d) * b.roll(-1, d)


TENSOR_METHODS = {
    "cross": cross,
    "inverse": inverse,
    "det": det,
    "logdet": logdet,
    "slogdet": slogdet,
    "pinverse": pinverse,
    "matrix_power": matrix_power,
    "cholesky": cholesky,
}
