"""Statistics over dims: var, std, var_mean, std_mean (composites), norm and logsumexp
(primitives). Re-exported by `reduction.py`."""

import math
import warnings

import numpy as np

from ..autograd import dtypes
from ..autograd.graph import Op
from ._reduction_base import (
    check_nonempty,
    keepdim_shape,
    kept,
    mean,
    reduce_dims,
    reduction_jvp,
    sum,  # noqa: A004
    tie_weights,
)
from ._util import apply, numpy_names

__all__ = ["var", "std", "var_mean", "std_mean", "norm", "logsumexp"]


def _require_floating(input, name):
    if not dtypes.is_floating(input.data.dtype):
        raise TypeError(
            f"{name}: expected a floating-point input, got dtype {input.dtype}; cast it first "
            "(x.float())"
        )


def _correction(unbiased, correction, name):
    if unbiased is not None and correction is not None:
        raise TypeError(f"{name}: pass either unbiased= or correction=, not both")
    if correction is None:
        return 0 if unbiased is False else 1
    return correction


def _var_and_mean(input, dim, unbiased, keepdim, correction, name):
    """The variance and the mean (keepdim) over `dim`, in two passes (stable).

    A composite of mean, sub, mul and sum: its gradient, at every order, comes from theirs.
    """
    if isinstance(dim, bool):  # PyTorch's legacy overload var(input, unbiased)
        dim, unbiased = None, dim
    _require_floating(input, name)
    correction = _correction(unbiased, correction, name)
    shape = input.data.shape
    dims = reduce_dims(dim, len(shape), name)
    count = math.prod(shape[d] for d in dims)
    mu = mean(input, dims, keepdim=True)
    centred = input - mu
    squares = sum(centred * centred, dims, keepdim=keepdim)
    dof = max(count - correction, 0)
    if dof == 0:
        warnings.warn(
            f"{name}: degrees of freedom is <= 0 (reducing {count} elements with "
            f"correction={correction}); the result is nan or inf",
            stacklevel=3,
        )
    with np.errstate(divide="ignore", invalid="ignore"):
        return squares / float(dof), mu


def var(input, dim=None, unbiased=None, keepdim=False,
        *, correction=None, axis=None, keepdims=None):
    """Variance over `dim` with Bessel's `correction` (default 1: divide by N - 1).
    The legacy `unbiased=False` means correction=0."""
    if axis is not None or keepdims is not None:
        dim, keepdim = numpy_names(dim, keepdim, axis, keepdims)
    return _var_and_mean(input, dim, unbiased, keepdim, correction, "var")[0]


def std(input, dim=None, unbiased=None, keepdim=False,
        *, correction=None, axis=None, keepdims=None):
    """Standard deviation: sqrt(var(...)), same arguments as `var`."""
    if axis is not None or keepdims is not None:
        dim, keepdim = numpy_names(dim, keepdim, axis, keepdims)
    return _var_and_mean(input, dim, unbiased, keepdim, correction, "std")[0] ** 0.5


def _mean_out(mu, input, dim, keepdim):
    if keepdim:
        return mu
    dims = reduce_dims(dim if not isinstance(dim, bool) else None, input.data.ndim, "mean")
    shape = tuple(n for i, n in enumerate(input.data.shape) if i not in dims)
    return mu.reshape(shape)


def var_mean(input, dim=None, unbiased=None, keepdim=False,
             *, correction=None, axis=None, keepdims=None):
    """(var, mean) over `dim`, sharing one pass for the mean."""
    if axis is not None or keepdims is not None:
        dim, keepdim = numpy_names(dim, keepdim, axis, keepdims)
    v, mu = _var_and_mean(input, dim, unbiased, keepdim, correction, "var_mean")
    return v, _mean_out(mu, input, dim, keepdim)


def std_mean(input, dim=None, unbiased=None, keepdim=False,
             *, correction=None, axis=None, keepdims=None):
    """(std, mean) over `dim`."""
    if axis is not None or keepdims is not None:
        dim, keepdim = numpy_names(dim, keepdim, axis, keepdims)
    v, mu = _var_and_mean(input, dim, unbiased, keepdim, correction, "std_mean")
    return v**0.5, _mean_out(mu, input, dim, keepdim)


class Norm(Op):
    """The vector p-norm over dims.

    NOTE: a primitive, not sqrt(sum(x*x)): PyTorch's gradient conventions (0 at a zero
    2-norm, ties of the inf-norm sharing the gradient) need the rule to see the output."""

    name = "norm"
    save = (0,)
    save_out = True

    @staticmethod
    def forward(x, dims, keepdim, p, **_):
        axis = {"axis": dims, "keepdims": keepdim}
        if p == 2:
            return np.sqrt(np.sum(x * x, **axis))
        if p == 1:
            return np.sum(np.abs(x), **axis)
        if p == math.inf:
            return np.amax(np.abs(x), **axis)
        if p == -math.inf:
            return np.amin(np.abs(x), **axis)
        if p == 0:
            return np.sum(x != 0, **axis).astype(x.dtype)
        with np.errstate(divide="ignore"):
            return np.sum(np.abs(x) ** p, **axis) ** (1.0 / p)

    @staticmethod
    def vjp(ns, g, saved, params, needs):
        x, out = saved
        g, out = kept(ns, params, g, out)
        p = params["p"]
        if p == 0:
            return None  # a count: its gradient is zero
        sign = np.sign(np.asarray(x))  # |x| = x * sign, a constant factor
        if p == 1:
            return g * sign
        if math.isinf(p):
            abs_x = np.abs(np.asarray(x))
            return g * (sign * tie_weights(abs_x, np.asarray(out), params["dims"]))
        nonzero = np.asarray(out) != 0  # PyTorch: the gradient at a zero norm is 0
        if p == 2:
            return x * (g / (out + ~nonzero) * nonzero)
        if p < 1:
            zero = np.asarray(x) == 0
            scaled = sign * ns.pow(x * sign + zero, p - 1) * ~zero
            return scaled * g * ns.pow(out, 1 - p)
        scaled = sign * ns.pow(x * sign, p - 1)
        return scaled * (g / ns.pow(out + ~nonzero, p - 1) * nonzero)

    @staticmethod
    def jvp(ns, ts, xs, out, params):
        return reduction_jvp(Norm, ts, xs, out, params)


def _norm_order(p):
    if p is None or p == "fro":
        return 2.0
    if isinstance(p, str):
        raise ValueError(
            f"norm: p={p!r} is not supported; use a number, inf, -inf or 'fro' (the nuclear "
            "norm needs an SVD)"
        )
    return float(p)


def norm(input, p="fro", dim=None, keepdim=False, dtype=None):
    """The vector p-norm of the elements over `dim` (all when None): p=2 ('fro', the default),
    1, inf (max |x|), -inf (min |x|), 0 (count of nonzeros) or any other number.
    The gradient of a zero 2-norm is 0, as in PyTorch."""
    if dtype is not None:
        input = input.to(dtype)
    _require_floating(input, "norm")
    p = _norm_order(p)
    shape = input.data.shape
    dims = reduce_dims(dim, len(shape), "norm")
    if math.isinf(p):
        check_nonempty(shape, dims, "norm")
    return apply(Norm, input, dims=dims, keepdim=bool(keepdim), p=p,
                 kept_shape=keepdim_shape(shape, dims))


class LogSumExp(Op):
    """log(sum(exp(x))) over dims, computed stably around the maximum.

    NOTE: a primitive for stability (no exp overflow); its gradient is the softmax."""

    name = "logsumexp"
    save = (0,)
    save_out = True

    @staticmethod
    def forward(x, dims, keepdim, **_):
        m = np.max(x, axis=dims, keepdims=True, initial=-np.inf)
        m = np.where(np.isfinite(m), m, 0.0).astype(x.dtype)  # all -inf (or inf): shift by 0
        with np.errstate(divide="ignore"):
            out = np.log(np.sum(np.exp(x - m), axis=dims, keepdims=True)) + m
        return out if keepdim else np.squeeze(out, axis=dims)

    @staticmethod
    def vjp(ns, g, saved, params, needs):
        x, out = saved
        g, out = kept(ns, params, g, out)
        return g * ns.exp(x - out)

    @staticmethod
    def jvp(ns, ts, xs, out, params):
        return reduction_jvp(LogSumExp, ts, xs, out, params)


def logsumexp(input, dim=None, keepdim=False, *, axis=None, keepdims=None):
    """log(sum(exp(input))) over `dim`, without overflow. Integer inputs give the default
    float dtype."""
    if axis is not None or keepdims is not None:
        dim, keepdim = numpy_names(dim, keepdim, axis, keepdims)
    if not dtypes.is_floating(input.data.dtype):
        input = input.to(dtypes.get_default_dtype())
    shape = input.data.shape
    dims = reduce_dims(dim, len(shape), "logsumexp")
    return apply(LogSumExp, input, dims=dims, keepdim=bool(keepdim),
                 kept_shape=keepdim_shape(shape, dims))
