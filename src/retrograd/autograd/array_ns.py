"""The NumPy array namespace that VJP/JVP rules run on in the plain first-order path.

Rules call `ns.<name>(...)` with PyTorch's names and keywords; the ops layer installs a twin
namespace of differentiable retrograd functions under the same names (`ops/tensor_ns.py`) for
`create_graph=True`. A test keeps the two name sets identical.
"""

import math as _math

import numpy as np

exp = np.exp
log = np.log
sqrt = np.sqrt
sin = np.sin
cos = np.cos
tanh = np.tanh
abs = np.abs  # noqa: A001 - the namespace mirrors NumPy/PyTorch names
sign = np.sign
maximum = np.maximum
minimum = np.minimum
matmul = np.matmul
pow = np.power  # noqa: A001
zeros_like = np.zeros_like
ones_like = np.ones_like


def sigmoid(x):
    # NOTE: 1 / (1 + exp(-x)) is accurate everywhere: where exp(-x) overflows to inf the result
    # is the correct limit 0. Four in-place passes, about 10x faster than splitting by sign.
    out = np.empty_like(x)
    np.negative(x, out=out)
    with np.errstate(over="ignore"):
        np.exp(out, out=out)
    out += 1.0
    return np.reciprocal(out, out=out)


def where(condition, x, y):
    return np.where(condition, x, y)


def sum(x, dim=None, keepdim=False):  # noqa: A001
    return np.sum(x, axis=dim, keepdims=keepdim)


def reshape(x, shape):
    return np.reshape(x, shape)


def expand(x, shape):
    if x.shape == shape:
        return x
    if _math.prod(shape) <= _EXPAND_COPY_MAX:
        # NOTE: for a small result a copy is cheaper than broadcast_to (Python code in NumPy,
        # some microseconds), and the copy may become a leaf's .grad as it is
        out = np.empty(shape, dtype=x.dtype)
        out[...] = x
        return out
    return np.broadcast_to(x, shape)


_EXPAND_COPY_MAX = 4096  # elements


def sum_to(x, shape):
    """Sum a broadcast array back down to `shape` (the inverse of broadcasting)."""
    lead = x.ndim - len(shape)
    if lead == 1 and x.shape[1:] == shape:  # a bias added to every row: the usual case
        return x.sum(axis=0)
    axes = tuple(range(lead)) + tuple(
        i + lead for i, n in enumerate(shape) if n == 1 and x.shape[i + lead] != 1
    )
    if axes:
        x = x.sum(axis=axes, keepdims=True)
    if lead or x.shape != shape:
        x = x.reshape(shape)
    return x


def cast(x, dtype):
    return x.astype(dtype)


def transpose(x, dim0, dim1):
    return np.swapaxes(x, dim0, dim1)


def permute(x, dims):
    return np.transpose(x, dims)


def unsqueeze(x, dim):
    return np.expand_dims(x, dim)


def squeeze(x, dim):
    return np.squeeze(x, axis=dim)


def mT(x):  # noqa: N802 - PyTorch's name for the matrix transpose
    return x.swapaxes(-1, -2)  # NOTE: the method: np.swapaxes adds a Python-level dispatch


# linalg (ops/linalg.py)
def einsum(equation, *operands):
    # NOTE: optimize routes two-operand contractions through BLAS; pointless for one operand.
    return np.einsum(equation, *operands, optimize=len(operands) > 1)


def eye(n, m=None, dtype=None):
    return np.eye(n, m, dtype=dtype)


# shape, joining and indexing (ops/shape.py, ops/joining.py, ops/indexing.py)
# `indices` is a normalized index `(basic, advanced)` from ops.indexing.normalize_index:
# `x[basic]` is a view (basic None: x itself); `advanced` (None, or full slices and integer or
# bool arrays) then picks from that view by NumPy's rules, which are PyTorch's once the integers
# are gone (they are in `basic`).
def index(x, indices):
    basic, advanced = indices
    if basic is not None:
        x = x[basic]
    if advanced is not None:
        x = x[advanced]
    return x


def index_put(x, indices, values, accumulate=False):
    """x with x[indices] = values (or += values, repeated indices adding up), out of place."""
    out = np.array(x, copy=True)
    _put(out, indices, np.asarray(values, dtype=out.dtype), accumulate)
    return out


def index_backward(g, indices, shape):
    """Zeros of `shape` with g added at `indices` (repeats add up): the adjoint of `index`."""
    out = np.zeros(shape, dtype=g.dtype)
    _put(out, indices, g, True)
    return out


def gather(x, dim, index):
    return x[_along_dim(index, dim)]


def scatter_add(x, dim, index, src):
    src = src[tuple(slice(0, n) for n in index.shape)]
    return index_put(x, (None, _along_dim(index, dim)), src, accumulate=True)


def index_select(x, dim, index):
    return np.take(x, index, axis=dim)


def cat(tensors, dim=0):
    return np.concatenate(tensors, axis=dim)


def stack(tensors, dim=0):
    return np.stack(tensors, axis=dim)


def flip(x, dims):
    return np.flip(x, dims)


def roll(x, shifts, dims=None):
    return np.roll(x, shifts, dims)


def tril(x, diagonal=0):
    return np.tril(x, diagonal)


def triu(x, diagonal=0):
    return np.triu(x, diagonal)


def _along_dim(index, dim):
    """The advanced index that picks x[i][j][index[i][j][k]] (for dim=2): gather's index."""
    ndim = index.ndim
    return tuple(
        index if d == dim else np.arange(n).reshape((-1,) + (1,) * (ndim - 1 - d))
        for d, n in enumerate(index.shape)
    )


def _put(out, indices, values, accumulate):
    """out[indices] = values (or +=, adding up repeated indices), in place."""
    basic, advanced = indices
    view = out if basic is None else out[basic]
    if advanced is None:
        if accumulate:
            view += values
        else:
            view[...] = values
        return
    if not accumulate:
        view[advanced] = values
        return
    if all(type(item) is slice or item.dtype == bool for item in advanced):
        view[advanced] += values  # masks never repeat a position
        return
    positions = _integer_positions(view.shape, advanced)
    if positions is None:
        positions = _flat_positions(view.shape, advanced)
    if np.shape(values) != positions.shape:
        values = np.broadcast_to(values, positions.shape)
    # NOTE: np.add.at is fast only for 1-d indices into a 1-d array, hence flat positions
    # (10x faster than add.at with the original index, 2x faster than bincount).
    if view.flags.c_contiguous:
        np.add.at(view.reshape(-1), positions.reshape(-1), values.reshape(-1))
    else:
        total = np.zeros(view.shape, dtype=view.dtype)
        np.add.at(total.reshape(-1), positions.reshape(-1), values.reshape(-1))
        view += total


def _integer_positions(shape, advanced):
    """_flat_positions for the usual case, one integer array per dimension, all of one shape
    (x[rows, targets] in a loss), by NumPy's ravel_multi_index. None for any other index, and
    for negative or out-of-bounds entries."""
    if len(advanced) != len(shape):
        return None
    first = advanced[0]
    for item in advanced:
        if type(item) is not np.ndarray or item.dtype.kind not in "iu" or item.shape != first.shape:
            return None
    try:
        return np.ravel_multi_index(advanced, shape)
    except ValueError:
        return None  # negative or out of bounds: _flat_positions wraps or words the error


def _flat_positions(shape, advanced):
    """C-order positions, in an array of `shape`, of the elements x[advanced] picks, laid out
    as the result is. `advanced` holds full slices and integer or bool arrays."""
    items = []
    for item in advanced:
        if type(item) is not slice and item.dtype == bool:
            items.extend(np.nonzero(item))
        else:
            items.append(item)
    items += [slice(None)] * (len(shape) - len(items))
    array_dims = [d for d, item in enumerate(items) if type(item) is not slice]
    broadcast = np.broadcast_shapes(*[items[d].shape for d in array_dims])
    first, nb = array_dims[0], len(broadcast)
    adjacent = array_dims[-1] - first + 1 == len(array_dims)
    start = first if adjacent else 0  # NumPy's rule: where the broadcast index dims land
    out_ndim = len(shape) - len(array_dims) + nb
    stride, strides = 1, [0] * len(shape)
    for d in range(len(shape) - 1, -1, -1):
        strides[d] = stride
        stride *= shape[d]
    positions = np.zeros((), dtype=np.intp)
    slices_seen = 0
    for d, item in enumerate(items):
        n = shape[d]
        if type(item) is slice:
            if not adjacent:
                axis = nb + slices_seen
            else:
                axis = d if d < first else d - len(array_dims) + nb
            slices_seen += 1
            term = np.arange(n, dtype=np.intp) * strides[d]
            positions = positions + term.reshape([n if a == axis else 1 for a in range(out_ndim)])
            continue
        if item.size and (item.min() < -n or item.max() >= n):
            bad = item[(item < -n) | (item >= n)].flat[0]
            raise IndexError(f"index {bad} is out of bounds for dimension {d} with size {n}")
        term = np.where(item < 0, item + n, item).astype(np.intp) * strides[d]
        lead = start + nb - item.ndim
        tail = (1,) * (out_ndim - lead - item.ndim)
        positions = positions + term.reshape((1,) * lead + item.shape + tail)
    return positions


# elementwise (ops/math.py, activation.py, comparison.py, rounding.py)
sinh = np.sinh
cosh = np.cosh
floor = np.floor
trunc = np.trunc


# NOTE: NumPy has no error function and SciPy is no dependency: erf and erfc below are W. J.
# Cody's rational Chebyshev approximations (Math. Comp. 23, 1969; SPECFUN's CALERF), about
# 1e-16 relative error in float64, vectorised by splitting the elements by range.
_ERF_A = (3.16112374387056560e00, 1.13864154151050156e02, 3.77485237685302021e02,
          3.20937758913846947e03, 1.85777706184603153e-1)
_ERF_B = (2.36012909523441209e01, 2.44024637934444173e02, 1.28261652607737228e03,
          2.84423683343917062e03)
_ERF_C = (5.64188496988670089e-1, 8.88314979438837594e00, 6.61191906371416295e01,
          2.98635138197400131e02, 8.81952221241769090e02, 1.71204761263407058e03,
          2.05107837782607147e03, 1.23033935479799725e03, 2.15311535474403846e-8)
_ERF_D = (1.57449261107098347e01, 1.17693950891312499e02, 5.37181101862009858e02,
          1.62138957456669019e03, 3.29079923573345963e03, 4.36261909014324716e03,
          3.43936767414372164e03, 1.23033935480374942e03)
_ERF_P = (3.05326634961232344e-1, 3.60344899949804439e-1, 1.25781726111229246e-1,
          1.60837851487422766e-2, 6.58749161529837803e-4, 1.63153871373020978e-2)
_ERF_Q = (2.56852019228982242e00, 1.87295284992346047e00, 5.27905102951428412e-1,
          6.05183413124413191e-2, 2.33520497626869185e-3)
_ERF_SMALL = 0.46875  # |x| up to here: erf(x) = x R(x^2); beyond: erfc(|x|) = exp(-x^2) R(|x|)


def _erf_small(x):
    z = x * x
    num = _ERF_A[4] * z
    den = z.copy()
    for a, b in zip(_ERF_A[:3], _ERF_B[:3]):
        num += a
        num *= z
        den += b
        den *= z
    return x * (num + _ERF_A[3]) / (den + _ERF_B[3])


def _erfc_scaled_mid(y):
    """exp(y^2) erfc(y) for 0.46875 < y <= 4."""
    num = _ERF_C[8] * y
    den = y.copy()
    for c, d in zip(_ERF_C[:7], _ERF_D[:7]):
        num += c
        num *= y
        den += d
        den *= y
    return (num + _ERF_C[7]) / (den + _ERF_D[7])


def _erfc_scaled_large(y):
    """exp(y^2) erfc(y) for y > 4."""
    z = 1.0 / (y * y)
    num = _ERF_P[5] * z
    den = z.copy()
    for p, q in zip(_ERF_P[:4], _ERF_Q[:4]):
        num += p
        num *= z
        den += q
        den *= z
    return (0.56418958354775628695 - z * (num + _ERF_P[4]) / (den + _ERF_Q[4])) / y


def _erfc_positive(y, relative):
    """erfc(y) for a flat array of y > 0.46875 (or nan). With `relative`, exp(-y^2) is formed
    without the rounding error of y*y (Cody's split), which erfc needs in its far tail and erf
    (which only needs erfc to absolute accuracy) can skip."""
    y = np.minimum(y, 30.0)  # erfc(30) underflows to 0; keeps inf out of the arithmetic
    large = np.flatnonzero(y > 4.0)
    if large.size == 0:
        r = _erfc_scaled_mid(y)
    elif large.size == y.size:
        r = _erfc_scaled_large(y)
    else:  # NOTE: take/put with indices: far cheaper than boolean-mask indexing in NumPy
        r = _erfc_scaled_mid(np.minimum(y, 4.0))
        r.put(large, _erfc_scaled_large(y.take(large)))
    if relative:
        head = np.trunc(y * 16.0) / 16.0
        return np.exp(-head * head) * np.exp(-(y - head) * (y + head)) * r
    return np.exp(-(y * y)) * r


def _erf_float32(x):
    """erf in single precision (a few ulp): Eigen's rational approximation on [-4, 4], one pass
    per coefficient and no branches, so the float32 hot path (GELU) stays cheap."""
    x = np.clip(x, -4.0, 4.0)  # erf(+-4) rounds to +-1 in float32
    z = x * x
    p = z * _ERF32_ALPHA[0]
    for a in _ERF32_ALPHA[1:-1]:
        p += a
        p *= z
    p += _ERF32_ALPHA[-1]
    p *= x
    q = z * _ERF32_BETA[0]
    for b in _ERF32_BETA[1:-1]:
        q += b
        q *= z
    q += _ERF32_BETA[-1]
    p /= q
    return p


_ERF32_ALPHA = (-2.72614225801306e-10, 2.77068142495902e-08, -2.10102402082508e-06,
                -5.69250639462346e-05, -7.34990630326855e-04, -2.95459980854025e-03,
                -1.60960333262415e-02)
_ERF32_BETA = (-1.45660718464996e-05, -2.13374055278905e-04, -1.68282697438203e-03,
               -7.37332916720468e-03, -1.42647390514189e-02)


def _as_float(x, dtype):
    """`x` as an array of `dtype` and the dtype to return (x's own, when it differs)."""
    x = np.asarray(x)
    if x.dtype == dtype:
        return x, None
    return x.astype(dtype), (x.dtype if x.dtype.kind == "f" or x.dtype.kind == "V" else None)


def erf(x):
    x = np.asarray(x)
    if x.dtype != np.float64:
        x32, back = _as_float(x, np.float32)
        out = _erf_float32(x32)
        return out if back is None else out.astype(back)
    flat = x.reshape(-1)
    big = np.flatnonzero(np.abs(flat) > _ERF_SMALL)
    if big.size == 0:
        out = _erf_small(flat)
    else:
        out = _erf_small(np.clip(flat, -_ERF_SMALL, _ERF_SMALL))
        xb = flat.take(big)
        out.put(big, np.copysign((0.5 - _erfc_positive(np.abs(xb), False)) + 0.5, xb))
    return out.reshape(x.shape)


def erfc(x):
    x = np.asarray(x)
    x, back = _as_float(x, np.float64 if x.dtype == np.float64 else np.float32)
    flat = x.reshape(-1)
    big = np.flatnonzero(np.abs(flat) > _ERF_SMALL)
    out = 1.0 - _erf_small(np.clip(flat, -_ERF_SMALL, _ERF_SMALL))
    if big.size:
        xb = flat.take(big)
        tail = _erfc_positive(np.abs(xb), True)
        out.put(big, np.where(xb < 0, 2.0 - tail, tail))
    out = out.reshape(x.shape)
    return out if back is None else out.astype(back)


def erfinv(x):
    """Inverse error function: a starting guess from M. Giles' single-precision approximation
    ("Approximating the erfinv function", GPU Computing Gems, 2011), refined in float64 by
    Halley steps on erf near the centre and by Newton steps on log(erfc) near +-1, where
    1 - |x| is exact and erfc keeps its relative precision."""
    x, back = _as_float(x, np.float64)
    a = np.abs(x)
    with np.errstate(divide="ignore", invalid="ignore"):
        w = -np.log((1.0 - a) * (1.0 + a))
        central = w < 5.0
        u = np.where(central, w - 2.5, np.sqrt(w) - 3.0)
        p = np.where(central, 2.81022636e-08, -0.000200214257)
        for c_central, c_tail in _ERFINV_GILES:
            p = np.where(central, c_central, c_tail) + p * u
        finite = a < 1.0
        z = np.where(finite, p * a, 0.0)
        tail = a > 0.5
        log_target = np.log(np.where(tail, 1.0 - a, 1.0))
        for _ in range(4):
            # centre: f = erf(z) - a, f' = 2/sqrt(pi) exp(-z^2), f''/f' = -2z (Halley);
            # tail: f = log erfc(z) - log(1 - a), f' = -2/sqrt(pi) exp(-z^2) / erfc(z) (Newton)
            density = _TWO_OVER_SQRT_PI * np.exp(-(z * z))
            c = erfc(np.where(tail, z, 0.0))
            step_tail = (np.log(c) - log_target) / (-density / c)
            step = (erf(z) - a) / density
            z = np.where(tail, z - step_tail, z - step / (1.0 + z * step))
        z = np.where(finite, z, np.where(a == 1.0, np.inf, np.nan))
    out = np.copysign(z, x)
    return out if back is None else out.astype(back)


_TWO_OVER_SQRT_PI = 1.1283791670955125739
_ERFINV_GILES = (  # (central, tail) coefficient pairs, highest degree first after the leading one
    (3.43273939e-07, 0.000100950558),
    (-3.5233877e-06, 0.00134934322),
    (-4.39150654e-06, -0.00367342844),
    (0.00021858087, 0.00573950773),
    (-0.00125372503, -0.0076224613),
    (-0.00417768164, 0.00943887047),
    (0.246640727, 1.00167406),
    (1.50140941, 2.83297682),
)


# reductions (ops/reduction.py)
def prod(x, dim=None, keepdim=False):
    return np.prod(x, axis=dim, keepdims=keepdim)


def cumsum(x, dim, reverse=False):
    """Cumulative sum; `reverse=True` sums from the end (jax.lax.cumsum's keyword): the VJP of
    a cumsum is a reversed cumsum."""
    if reverse:
        return np.flip(np.cumsum(np.flip(x, dim), axis=dim), dim)
    return np.cumsum(x, axis=dim)


def cumprod(x, dim):
    return np.cumprod(x, axis=dim)


# losses (ops/loss.py)
def softmax(x, dim):
    e = np.exp(x - np.max(x, axis=dim, keepdims=True))
    e /= np.sum(e, axis=dim, keepdims=True)
    return e


# convolution and pooling (ops/conv.py, ops/pooling.py): NumPy kernels in their own module
from . import _array_conv  # noqa: E402 - grouped with its section

conv2d = _array_conv.conv2d
conv_transpose2d = _array_conv.conv_transpose2d
conv2d_weight = _array_conv.conv2d_weight
max_pool2d_with_indices_backward = _array_conv.max_pool2d_with_indices_backward
adaptive_max_pool2d_backward = _array_conv.adaptive_max_pool2d_backward


# linear algebra (ops/linalg_decomp.py): batches of matrices
inverse = np.linalg.inv
solve = np.linalg.solve


def logcumsumexp(x, dim, reverse=False):
    """log(cumsum(exp(x))) along dim without overflow; `reverse=True` scans from the end."""
    if reverse:
        return np.flip(np.logaddexp.accumulate(np.flip(x, dim), axis=dim), dim)
    return np.logaddexp.accumulate(x, axis=dim)


# gamma-family functions (ops/gamma.py): float64 kernels on NumPy (which has none of these)
from math import factorial as _factorial  # noqa: E402 - grouped with its section

_LANCZOS = np.array([0.99999999999980993, 676.5203681218851, -1259.1392167224028,
                     771.32342877765313, -176.61502916214059, 12.507343278686905,
                     -0.13857109526572012, 9.9843695780195716e-6, 1.5056327351493116e-7])
_HALF_LOG_2PI = 0.9189385332046727


def _lgamma_right(x):
    """log|Gamma(x)| for x >= 0.5 (Lanczos, g = 7: about 1e-15 relative)."""
    z = x - 1.0
    series = np.full_like(z, _LANCZOS[0])
    for i in range(1, 9):
        series += _LANCZOS[i] / (z + i)
    t = z + 7.5
    return _HALF_LOG_2PI + (z + 0.5) * np.log(t) - t + np.log(series)


def lgamma(x):
    """log|Gamma(x)|: inf at 0 and the negative integers."""
    x = np.asarray(x, dtype=np.float64)
    with np.errstate(divide="ignore", invalid="ignore", over="ignore"):
        right = _lgamma_right(np.where(x >= 0.5, x, 0.5))
        left = (np.log(np.pi / np.abs(np.sin(np.pi * x)))
                - _lgamma_right(np.where(x >= 0.5, 0.5, 1.0 - x)))
        out = np.where(x >= 0.5, right, left)
    return np.where((x <= 0) & (x == np.floor(x)), np.inf, out)


def _shifted_up(x, n, threshold):
    """(x moved up by whole steps to >= threshold, the sum of the steps' terms) for the
    recurrence psi^(n)(x) = psi^(n)(x + 1) + (-1)^(n + 1) n! / x^(n + 1) (digamma: -1 / x)."""
    total = np.zeros_like(x)
    x = x.copy()
    for _ in range(100_000):
        low = x < threshold
        if not low.any():
            break
        step = -1.0 / x if n == 0 else (-1.0) ** (n + 1) * _factorial(n) / x ** (n + 1)
        total = np.where(low, total + step, total)
        x = np.where(low, x + 1.0, x)
    return x, total


_BERNOULLI = (1 / 6, -1 / 30, 1 / 42, -1 / 30, 5 / 66, -691 / 2730, 7 / 6, -3617 / 510)


def digamma(x):
    """d/dx log Gamma(x): -inf at 0, NaN at the negative integers (PyTorch's values)."""
    x = np.asarray(x, dtype=np.float64)
    with np.errstate(divide="ignore", invalid="ignore", over="ignore"):
        reflect = x < 0
        y = np.where(reflect, 1.0 - x, x)
        y = np.where(y == 0, 1.0, y)
        big, total = _shifted_up(y, 0, 10.0)
        inverse = 1.0 / (big * big)
        tail = np.zeros_like(big)
        for k in range(len(_BERNOULLI) - 1, -1, -1):
            tail = tail * inverse + _BERNOULLI[k] / (2 * (k + 1))
        out = np.log(big) - 0.5 / big - tail * inverse + total
        out = np.where(reflect, out - np.pi / np.tan(np.pi * x), out)
    out = np.where(x == 0, -np.inf, out)
    return np.where(reflect & (x == np.floor(x)), np.nan, out)


def polygamma(n, x):
    """The n-th derivative of digamma (n >= 1), from the recurrence and the asymptotic series."""
    if n == 0:
        return digamma(x)
    x = np.asarray(x, dtype=np.float64)
    with np.errstate(divide="ignore", invalid="ignore", over="ignore"):
        big, total = _shifted_up(x, n, 15.0 + n)
        sign = (-1.0) ** (n + 1)
        series = (_factorial(n - 1) / big**n + _factorial(n) / (2 * big ** (n + 1)))
        for k, b in enumerate(_BERNOULLI, start=1):
            series = series + b * _factorial(2 * k + n - 1) / (
                _factorial(2 * k) * big ** (2 * k + n))
        out = sign * series + total
    return np.where((x <= 0) & (x == np.floor(x)), np.inf if n % 2 else np.nan, out)
