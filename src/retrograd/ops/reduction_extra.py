"""More reductions and scans: nansum, nanmean, aminmax, logcumsumexp, cummax, cummin,
quantile, nanquantile.

nansum/nanmean read NaN as missing (the gradient is zero there); aminmax is amin and amax (ties
share the gradient); cummax/cummin gather their values at the returned indices; quantile sorts
and interpolates between neighbouring order statistics, all differentiable through existing
primitives. logcumsumexp is a primitive (see its NOTE).
"""

import collections

import numpy as np

from ..autograd import array_ns, dtypes
from ..autograd.graph import Op
from ._reduction_base import integers_as_int64, reduce_dims
from ._reduction_base import sum as _sum
from ._selection import where
from ._util import Tensor, apply, check_dim, new_tensor, numpy_names
from .reduction import amax, amin
from .scatter_gather import gather
from .sorting import sort

__all__ = [
    "nansum", "nanmean", "aminmax", "logcumsumexp", "cummax", "cummin", "quantile",
    "nanquantile",
]  # fmt: skip

aminmax_result = collections.namedtuple("aminmax", ("min", "max"))
cummax_result = collections.namedtuple("cummax", ("values", "indices"))
cummin_result = collections.namedtuple("cummin", ("values", "indices"))


def _without_nan(input):
    x = input.data
    if x.dtype.kind != "f" or not np.isnan(x).any():
        return input
    return where(new_tensor(np.isnan(x)), new_tensor(np.zeros((), x.dtype)), input)


def nansum(input, dim=None, keepdim=False, *, dtype=None, axis=None, keepdims=None):
    """Sum over `dim` with NaN counted as zero (the gradient is zero at the NaNs)."""
    if axis is not None or keepdims is not None:
        dim, keepdim = numpy_names(dim, keepdim, axis, keepdims)
    return _sum(_without_nan(integers_as_int64(input, dtype)), dim, keepdim)


def nanmean(input, dim=None, keepdim=False, *, dtype=None, axis=None, keepdims=None):
    """Mean over `dim` of the elements that are not NaN (NaN where a slice has none)."""
    if axis is not None or keepdims is not None:
        dim, keepdim = numpy_names(dim, keepdim, axis, keepdims)
    if dtype is not None:
        input = input.to(dtype)
    if not dtypes.is_floating(input.data.dtype):
        raise TypeError(
            f"nanmean: expected a floating-point input, got dtype {input.dtype}; cast it first "
            "(x.float()) or pass dtype="
        )
    dims = reduce_dims(dim, input.data.ndim, "nanmean")
    count = np.sum(~np.isnan(input.data), axis=dims, keepdims=bool(keepdim))
    return nansum(input, dim, keepdim) / new_tensor(count.astype(input.data.dtype))


def aminmax(input, *, dim=None, keepdim=False):
    """A `(min, max)` named tuple over `dim` (one int) or over everything; ties share the
    gradient as in amin and amax."""
    if dim is None:
        if input.data.size == 0:
            raise RuntimeError(
                f"aminmax: cannot reduce an empty tensor of shape {input.shape} without a dim"
            )
        if keepdim:
            full = (1,) * input.data.ndim
            return aminmax_result(amin(input).reshape(full), amax(input).reshape(full))
        return aminmax_result(amin(input), amax(input))
    d = check_dim(dim, input.data.ndim, "aminmax")
    return aminmax_result(amin(input, d, keepdim), amax(input, d, keepdim))


# ------------------------------------------------------------------ logcumsumexp


_logcumsumexp = array_ns.logcumsumexp


class LogCumSumExp(Op):
    """NOTE: a primitive: log(cumsum(exp(x))) overflows and underflows where the running
    logaddexp does not. The VJP, gx_j = sum over i >= j of g_i exp(x_j - out_i), is computed in
    log space from the positive and negative parts of g (PyTorch's method); when the gradient is
    recorded it is written out as an upper-triangular matrix (O(n^2) per slice), whose
    derivatives have no log of zero."""

    name = "logcumsumexp"
    save = (0,)
    save_out = True

    @staticmethod
    def forward(x, dim, reverse):
        return _logcumsumexp(x, dim, reverse)

    @staticmethod
    def vjp(ns, g, saved, params, needs):
        x, out = saved
        dim, reverse = params["dim"], params["reverse"]
        if isinstance(g, Tensor):
            return _logcumsumexp_vjp_exact(ns, g, x, out, dim, reverse)
        with np.errstate(divide="ignore"):
            log_pos = ns.log(ns.maximum(g, 0.0)) - out
            log_neg = ns.log(ns.maximum(-g, 0.0)) - out
        pos = ns.logcumsumexp(log_pos, dim, reverse=not reverse)
        neg = ns.logcumsumexp(log_neg, dim, reverse=not reverse)
        return ns.exp(x + pos) - ns.exp(x + neg)

    @staticmethod
    def jvp(ns, ts, xs, out, params):
        (t,), (x,) = ts, xs
        dim, reverse = params["dim"], params["reverse"]
        with np.errstate(divide="ignore"):
            pos = _logcumsumexp(np.log(np.maximum(t, 0.0)) + x, dim, reverse)
            neg = _logcumsumexp(np.log(np.maximum(-t, 0.0)) + x, dim, reverse)
        return np.exp(pos - out) - np.exp(neg - out)


def _logcumsumexp_vjp_exact(ns, g, x, out, dim, reverse):
    """gx_j = sum over i of g_i exp(x_j - out_i) [i >= j] (i <= j when reversed), the pairs
    laid out along two trailing dims."""
    n = x.shape[dim]
    xj = ns.unsqueeze(ns.transpose(x, dim, -1), -1)  # [..., j, 1]
    oi = ns.unsqueeze(ns.transpose(out, dim, -1), -2)  # [..., 1, i]
    gi = ns.unsqueeze(ns.transpose(g, dim, -1), -2)
    later = np.triu(np.ones((n, n), dtype=bool))  # i >= j
    mask = later.T if reverse else later
    # exp only where the pair counts: elsewhere x_j - out_i may be large.
    terms = gi * ns.exp(ns.where(mask, xj - oi, 0.0)) * mask
    return ns.transpose(ns.sum(terms, -1), dim, -1)


def logcumsumexp(input, dim=None, *, axis=None):
    """log(cumsum(exp(input))) along `dim`, computed without overflow."""
    if axis is not None:
        dim = axis
    if not dtypes.is_floating(input.data.dtype):
        input = input.to(dtypes.get_default_dtype())
    if input.data.ndim == 0:
        check_dim(dim, 0, "logcumsumexp")
        return input.clone()
    d = check_dim(dim, input.data.ndim, "logcumsumexp")
    return apply(LogCumSumExp, input, dim=d, reverse=False)


def logcumsumexp_ns(input, dim, reverse=False):
    """`ns.logcumsumexp` for rules; `reverse=True` scans from the end."""
    d = check_dim(dim, input.data.ndim, "logcumsumexp")
    return apply(LogCumSumExp, input, dim=d, reverse=reverse)


# ------------------------------------------------------------------ cummax, cummin


def _cumulative_extreme(input, dim, accumulate, result, name):
    x = input.data
    if x.ndim == 0:
        check_dim(dim, 0, name)
        return result(input.clone(), new_tensor(np.zeros((), np.int64)))
    d = check_dim(dim, x.ndim, name)
    if x.shape[d] == 0:
        return result(input.clone(), new_tensor(np.zeros(x.shape, np.int64)))
    running = accumulate(x, axis=d)  # NaN propagates, as in PyTorch
    positions = np.arange(x.shape[d]).reshape((-1,) + (1,) * (x.ndim - 1 - d))
    # PyTorch moves the index to every element that equals the running value (the last of
    # ties) and to every NaN.
    hits = x == running
    if x.dtype.kind == "f":
        hits |= np.isnan(x)
    indices = np.maximum.accumulate(np.where(hits, positions, 0), axis=d).astype(np.int64)
    return result(gather(input, d, indices), new_tensor(indices))


def cummax(input, dim=None, *, axis=None):
    """A `(values, indices)` named tuple: the running maximum along `dim` and where it was last
    reached; the gradient of each value goes to that element."""
    if axis is not None:
        dim = axis
    return _cumulative_extreme(input, dim, np.maximum.accumulate, cummax_result, "cummax")


def cummin(input, dim=None, *, axis=None):
    """Like cummax, for the running minimum."""
    if axis is not None:
        dim = axis
    return _cumulative_extreme(input, dim, np.minimum.accumulate, cummin_result, "cummin")


# ------------------------------------------------------------------ quantile

_INTERPOLATIONS = ("linear", "lower", "higher", "midpoint", "nearest")


def quantile(input, q, dim=None, keepdim=False,
             *, interpolation="linear", axis=None, keepdims=None):
    """The q-th quantiles over `dim` (or all elements), interpolating between the two nearest
    order statistics as `interpolation` says; `q` is a number or a 1-D tensor of them in [0, 1]
    (its values then index a new first dim). NaN where a slice holds a NaN."""
    if axis is not None or keepdims is not None:
        dim, keepdim = numpy_names(dim, keepdim, axis, keepdims)
    return _quantile(input, q, dim, keepdim, interpolation, False, "quantile")


def nanquantile(input, q, dim=None, keepdim=False,
                *, interpolation="linear", axis=None, keepdims=None):
    """quantile ignoring NaN (NaN only where a slice is all NaN)."""
    if axis is not None or keepdims is not None:
        dim, keepdim = numpy_names(dim, keepdim, axis, keepdims)
    return _quantile(input, q, dim, keepdim, interpolation, True, "nanquantile")


def _quantile(input, q, dim, keepdim, interpolation, ignore_nan, name):
    if not dtypes.is_floating(input.data.dtype):
        raise RuntimeError(f"{name}: expected a floating-point input, got dtype {input.dtype}")
    if interpolation not in _INTERPOLATIONS:
        raise ValueError(f"{name}: interpolation must be one of {_INTERPOLATIONS}, got "
                         f"{interpolation!r}")
    qs = np.asarray(q.data if isinstance(q, Tensor) else q, dtype=np.float64)
    if qs.ndim > 1:
        raise ValueError(f"{name}: q must be a number or a 1-D tensor, got shape {qs.shape}")
    if ((qs < 0) | (qs > 1)).any():
        raise ValueError(f"{name}: q must be in [0, 1], got {qs.tolist()}")
    full_shape = input.data.shape
    if dim is None:
        x, d = input.reshape(-1), 0
    else:
        d = check_dim(dim, input.data.ndim, name)
        x = input.reshape(1) if input.data.ndim == 0 else input
        d = 0 if input.data.ndim == 0 else d
    n = x.data.shape[d]
    if n == 0:
        raise RuntimeError(f"{name}: cannot take a quantile of an empty slice (input of shape "
                           f"{input.shape})")
    values = sort(x, d).values.movedim(d, -1)  # NaN sort last
    nan = np.isnan(values.data)
    count = (n - nan.sum(-1, keepdims=True)) if ignore_nan else np.full(nan.shape[:-1] + (1,), n)
    rank = qs.reshape((-1,) + (1,) * values.data.ndim) * np.maximum(count - 1, 0)  # [q, ..., 1]
    lo, hi = np.floor(rank), np.ceil(rank)
    if interpolation == "lower":
        hi = lo
    elif interpolation == "higher":
        lo = hi
    elif interpolation == "nearest":
        lo = hi = np.round(rank)  # half to even, as PyTorch
    weight = {"linear": rank - lo, "midpoint": np.where(hi > lo, 0.5, 0.0)}.get(interpolation, 0)
    expand = (len(qs.reshape(-1)),) + values.data.shape
    stacked = values.unsqueeze(0).expand(*expand)
    below = gather(stacked, -1, lo.astype(np.int64))
    above = gather(stacked, -1, hi.astype(np.int64))
    w = np.asarray(weight, dtype=input.data.dtype)
    out = below + (above - below) * new_tensor(w) if np.any(w) else below
    invalid = (count == 0) if ignore_nan else nan.any(-1, keepdims=True)
    if invalid.any():
        out = where(new_tensor(np.broadcast_to(invalid, out.data.shape)),
                    new_tensor(np.asarray(np.nan, input.data.dtype)), out)
    out = out.squeeze(-1)  # [q, kept dims...]
    if keepdim:
        kept = (1,) * len(full_shape) if dim is None else full_shape[:d] + (1,) + full_shape[d + 1:]
        out = out.reshape((out.data.shape[0],) + tuple(kept))
    if qs.ndim == 0:
        out = out.squeeze(0)
    return out


TENSOR_METHODS = {
    "nansum": nansum,
    "nanmean": nanmean,
    "aminmax": aminmax,
    "logcumsumexp": logcumsumexp,
    "cummax": cummax,
    "cummin": cummin,
    "quantile": quantile,
    "nanquantile": nanquantile,
}
