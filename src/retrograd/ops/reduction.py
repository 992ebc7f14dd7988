"""Reductions: sum, mean, prod, amax/amin, max/min (with indices), argmax/argmin, median,
all/any, count_nonzero; var/std/norm/logsumexp (`_reduction_stats.py`); softmax, log_softmax,
cumsum and cumprod (`_reduction_scan.py`).

As in PyTorch, `dim` is an int, a tuple of ints or None, and `dim=None` or `dim=()` reduces every
dimension (except for all/any, where `()` reduces none). Ops that return indices (max(dim),
argmax, median(dim)) take a single int.
"""

import collections

import numpy as np

from ..autograd.graph import Op
from ._reduction_base import (  # noqa: A004
    check_nonempty,
    integers_as_int64,
    kept,
    mean,
    reduce,
    reduce_dims,
    reduction_jvp,
    sum,
    tie_weights,
)
from ._reduction_scan import cumprod, cumsum, log_softmax, softmax
from ._reduction_stats import logsumexp, norm, std, std_mean, var, var_mean
from ._util import Tensor, apply, check_dim, new_tensor, normalize_dims, numpy_names

__all__ = [
    "sum", "mean", "prod", "amax", "amin", "max", "min", "argmax", "argmin", "median", "all",
    "any", "count_nonzero", "var", "std", "var_mean", "std_mean", "norm", "logsumexp",
    "softmax", "log_softmax", "cumsum", "cumprod",
]

# PyTorch's torch.return_types.max etc.: tuples with .values and .indices.
max_result = collections.namedtuple("max", ("values", "indices"))
min_result = collections.namedtuple("min", ("values", "indices"))
median_result = collections.namedtuple("median", ("values", "indices"))


class Prod(Op):
    name = "prod"
    save = (0,)
    save_out = True

    @staticmethod
    def forward(x, dims, keepdim, **_):
        return np.prod(x, axis=dims, keepdims=keepdim)

    @staticmethod
    def vjp(ns, g, saved, params, needs):
        x, out = saved
        g, out = kept(ns, params, g, out)
        zeros = np.asarray(x) == 0
        if not zeros.any():
            return g * out / x
        return g * _prod_of_others(ns, x, zeros, params["dims"], exact=isinstance(g, Tensor))

    @staticmethod
    def jvp(ns, ts, xs, out, params):
        return reduction_jvp(Prod, ts, xs, out, params)


def _prod_of_others(ns, x, zeros, dims, exact):
    """For each element, the product of the other elements of its slice, without dividing by
    a zero.

    First order (`exact=False`) counts the zeros per slice: with none the answer is P / x, with
    one it is P (the product of the nonzero elements) at the zero and 0 elsewhere, with more it
    is 0. Those zeros are constants, so their derivative would be wrong; when the gradient is
    being recorded (create_graph) every product is written out instead: row k of an n x n
    matrix holds the slice with x_k replaced by 1, and its product is the answer for x_k. That
    costs O(n^2) per slice, as PyTorch's double-backward path does, and only with zeros.
    """
    if not exact:
        n_zeros = zeros.sum(axis=dims, keepdims=True)
        nonzero = x + zeros  # the zeros become ones
        p = ns.prod(nonzero, dims, keepdim=True)
        return p * ((n_zeros == 0) / nonzero + (n_zeros == 1) * zeros)
    kept = [d for d in range(x.ndim) if d not in dims]
    order = kept + list(dims)
    moved = ns.permute(x, order)
    lead = tuple(moved.shape[: len(kept)])
    n = int(np.prod(moved.shape[len(kept) :], dtype=np.int64))
    eye = np.eye(n, dtype=bool)
    rows = ns.unsqueeze(ns.reshape(moved, (*lead, n)), -2) * ~eye + eye
    others = ns.reshape(ns.prod(rows, -1), moved.shape)
    return ns.permute(others, tuple(int(i) for i in np.argsort(order)))


class _TieSplit(Op):
    """A reduction that selects a value (amax, amin, the full median). Where several elements tie
    for it, they share the gradient equally, as in PyTorch."""

    save = (0,)
    save_out = True
    select = None  # (array, dims) -> the selected value, keepdims

    @classmethod
    def forward(cls, x, dims, keepdim, **_):
        out = cls.select(x, dims)
        return out if keepdim else np.squeeze(out, axis=dims)

    @staticmethod
    def vjp(ns, g, saved, params, needs):
        x, out = saved
        (g,) = kept(ns, params, g)
        x, out = np.asarray(x), np.asarray(out).reshape(params["kept_shape"])
        return g * tie_weights(x, out, params["dims"])

    @classmethod
    def jvp(cls, ns, ts, xs, out, params):
        return reduction_jvp(cls, ts, xs, out, params)


def _lower_median(x, dims):
    flat = np.sort(x, axis=None)  # dims is every dimension
    if flat.size == 0 or (flat.dtype.kind == "f" and np.isnan(flat[-1])):
        value = np.nan if flat.dtype.kind == "f" else 0
    else:
        value = flat[(flat.size - 1) // 2]
    return np.full((1,) * x.ndim, value, dtype=x.dtype)


class Amax(_TieSplit):
    name = "amax"
    select = staticmethod(lambda x, dims: np.amax(x, axis=dims, keepdims=True))


class Amin(_TieSplit):
    name = "amin"
    select = staticmethod(lambda x, dims: np.amin(x, axis=dims, keepdims=True))


class MedianAll(_TieSplit):
    name = "median_all"
    select = staticmethod(_lower_median)


class _IndexSelect(Op):
    """values = x at `indices` along `dim` (max/min/median with a dim). The gradient goes to the
    selected element only, as in PyTorch. The indices are found before the op runs (they are
    returned to the caller even when no graph is recorded) and travel as a parameter."""

    @staticmethod
    def forward(x, dim, keepdim, indices, **_):
        out = np.take_along_axis(x, indices, axis=dim)
        return out if keepdim else np.squeeze(out, axis=dim)

    @staticmethod
    def vjp(ns, g, saved, params, needs):
        indices, dim = params["indices"], params["dim"]
        if not params["keepdim"]:
            g = ns.reshape(g, indices.shape)
        mask = np.zeros(params["in_shape"], dtype=bool)
        np.put_along_axis(mask, indices, True, axis=dim)
        return g * mask

    @staticmethod
    def jvp(ns, ts, xs, out, params):
        out = np.take_along_axis(ts[0], params["indices"], axis=params["dim"])
        return out if params["keepdim"] else np.squeeze(out, axis=params["dim"])


class MaxDim(_IndexSelect):
    name = "max"


class MinDim(_IndexSelect):
    name = "min"


class MedianDim(_IndexSelect):
    name = "median"


def prod(input, dim=None, keepdim=False, dtype=None, *, axis=None, keepdims=None):
    """Product over `dim` (PyTorch takes one int; a tuple works here too). The gradient is exact
    with zeros in the input, also at second order."""
    if axis is not None or keepdims is not None:
        dim, keepdim = numpy_names(dim, keepdim, axis, keepdims)
    return reduce(Prod, integers_as_int64(input, dtype), dim, keepdim, "prod")


def _select_all(op, input, dim, keepdim, name):
    shape = input.data.shape
    check_nonempty(shape, reduce_dims(dim, len(shape), name), name)
    return reduce(op, input, dim, keepdim, name)


def amax(input, dim=(), keepdim=False, *, axis=None, keepdims=None):
    """Largest value over `dim`; ties share the gradient equally."""
    if axis is not None or keepdims is not None:
        dim, keepdim = numpy_names(dim, keepdim, axis, keepdims)
    return _select_all(Amax, input, dim, keepdim, "amax")


def amin(input, dim=(), keepdim=False, *, axis=None, keepdims=None):
    """Smallest value over `dim`; ties share the gradient equally."""
    if axis is not None or keepdims is not None:
        dim, keepdim = numpy_names(dim, keepdim, axis, keepdims)
    return _select_all(Amin, input, dim, keepdim, "amin")


def _select_dim(op, find, result, input, dim, keepdim, name):
    x = input.data
    d = check_dim(dim, x.ndim, name)
    if x.ndim == 0:
        values, indices = _select_dim(op, find, result, input.reshape(1), 0, False, name)
        return result(values, indices)
    check_nonempty(x.shape, (d,), name)
    indices = find(x, d)  # keepdim shape
    values = apply(op, input, dim=d, keepdim=bool(keepdim), indices=indices, in_shape=x.shape)
    if not keepdim:
        indices = np.squeeze(indices, axis=d)
    return result(values, new_tensor(indices.astype(np.int64, copy=False)))


def _argmax(x, d):
    return np.argmax(x, axis=d, keepdims=True)


def _argmin(x, d):
    return np.argmin(x, axis=d, keepdims=True)


def _median_index(x, d):
    order = np.argsort(x, axis=d, kind="stable")
    indices = np.take(order, [(x.shape[d] - 1) // 2], axis=d)
    if x.dtype.kind == "f":
        nan = np.isnan(x)
        if nan.any():  # PyTorch: a slice with a NaN has median NaN, at its first NaN
            first = np.argmax(nan, axis=d, keepdims=True)
            indices = np.where(nan.any(axis=d, keepdims=True), first, indices)
    return indices


def _binary(name, input, other):
    from . import comparison  # noqa: PLC0415 - comparison may import reductions

    return getattr(comparison, name)(input, other)


def max(input, dim=None, keepdim=False,  # noqa: A001 - PyTorch's name
        *, other=None, axis=None, keepdims=None):
    """`max(x)`: the largest value (ties share the gradient); `max(x, dim, keepdim=False)`:
    a `(values, indices)` named tuple, the gradient going to the selected element;
    `max(x, other)`: the elementwise maximum (`maximum`)."""
    if axis is not None or keepdims is not None:
        dim, keepdim = numpy_names(dim, keepdim, axis, keepdims)
    if isinstance(dim, Tensor) or other is not None:
        return _binary("maximum", input, dim if other is None else other)
    if dim is None:
        _check_full(input, "max")
        return amax(input)
    return _select_dim(MaxDim, _argmax, max_result, input, dim, keepdim, "max")


def min(input, dim=None, keepdim=False,  # noqa: A001 - PyTorch's name
        *, other=None, axis=None, keepdims=None):
    """Like `max`, for the smallest value; `min(x, other)` is `minimum`."""
    if axis is not None or keepdims is not None:
        dim, keepdim = numpy_names(dim, keepdim, axis, keepdims)
    if isinstance(dim, Tensor) or other is not None:
        return _binary("minimum", input, dim if other is None else other)
    if dim is None:
        _check_full(input, "min")
        return amin(input)
    return _select_dim(MinDim, _argmin, min_result, input, dim, keepdim, "min")


def median(input, dim=None, keepdim=False, *, axis=None, keepdims=None):
    """The lower median. `median(x)` over all elements (ties share the gradient; NaN if any
    element is NaN); `median(x, dim)` a `(values, indices)` named tuple. For ties the index
    returned is the first in sorted order, which may differ from PyTorch's choice."""
    if axis is not None or keepdims is not None:
        dim, keepdim = numpy_names(dim, keepdim, axis, keepdims)
    if dim is None:
        return reduce(MedianAll, input, None, False, "median")
    return _select_dim(MedianDim, _median_index, median_result, input, dim, keepdim, "median")


def _check_full(input, name):
    if input.data.size == 0:
        raise RuntimeError(
            f"{name}: cannot reduce an empty tensor of shape {input.shape} without a dim; "
            "pass dim= to reduce one dimension"
        )


def _arg(find, input, dim, keepdim, name):
    x = input.data
    if dim is None:
        _check_full(input, name)
        out = np.asarray(find(x.reshape(-1), 0)).reshape((1,) * x.ndim if keepdim else ())
    else:
        d = check_dim(dim, x.ndim, name)
        if x.ndim == 0:
            out = np.zeros((), dtype=np.int64)
        else:
            check_nonempty(x.shape, (d,), name)
            out = find(x, d)
            if not keepdim:
                out = np.squeeze(out, axis=d)
    return new_tensor(out.astype(np.int64, copy=False))


def argmax(input, dim=None, keepdim=False, *, axis=None, keepdims=None):
    """Index of the largest value (the first one on ties); over the flattened tensor for
    dim=None. No gradient."""
    if axis is not None or keepdims is not None:
        dim, keepdim = numpy_names(dim, keepdim, axis, keepdims)
    return _arg(_argmax, input, dim, keepdim, "argmax")


def argmin(input, dim=None, keepdim=False, *, axis=None, keepdims=None):
    """Index of the smallest value (the first one on ties). No gradient."""
    if axis is not None or keepdims is not None:
        dim, keepdim = numpy_names(dim, keepdim, axis, keepdims)
    return _arg(_argmin, input, dim, keepdim, "argmin")


def _logical(fn, input, dim, keepdim, name):
    x = input.data
    if dim is None:
        dims = tuple(range(x.ndim))
    else:
        dims = normalize_dims(dim, x.ndim, name) if x.ndim else ()  # () reduces nothing
    out = np.asarray(fn(x, axis=dims, keepdims=bool(keepdim)))
    if x.dtype == np.uint8:
        out = out.astype(np.uint8)  # PyTorch keeps uint8 for all/any of uint8
    return new_tensor(out)


def all(input, dim=None, keepdim=False,  # noqa: A001 - PyTorch's name
        *, axis=None, keepdims=None):
    """True where every element over `dim` is nonzero (a bool tensor, no gradient)."""
    if axis is not None or keepdims is not None:
        dim, keepdim = numpy_names(dim, keepdim, axis, keepdims)
    return _logical(np.all, input, dim, keepdim, "all")


def any(input, dim=None, keepdim=False,  # noqa: A001 - PyTorch's name
        *, axis=None, keepdims=None):
    """True where some element over `dim` is nonzero (a bool tensor, no gradient)."""
    if axis is not None or keepdims is not None:
        dim, keepdim = numpy_names(dim, keepdim, axis, keepdims)
    return _logical(np.any, input, dim, keepdim, "any")


def count_nonzero(input, dim=None, *, axis=None):
    """How many elements over `dim` are nonzero (int64, no gradient)."""
    if axis is not None:
        dim = axis
    dims = reduce_dims(dim, input.data.ndim, "count_nonzero")
    return new_tensor(np.asarray(np.count_nonzero(input.data, axis=dims), dtype=np.int64))


TENSOR_METHODS = {
    "sum": sum,
    "mean": mean,
    "prod": prod,
    "amax": amax,
    "amin": amin,
    "max": max,
    "min": min,
    "argmax": argmax,
    "argmin": argmin,
    "median": median,
    "all": all,
    "any": any,
    "count_nonzero": count_nonzero,
    "var": var,
    "std": std,
    "norm": norm,
    "logsumexp": logsumexp,
    "softmax": softmax,
    "log_softmax": log_softmax,
    "cumsum": cumsum,
    "cumprod": cumprod,
}
