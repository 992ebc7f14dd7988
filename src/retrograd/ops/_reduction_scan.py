"""Ops along one dim that keep its length: softmax, log_softmax, cumsum, cumprod.
Re-exported by `reduction.py`."""

import numpy as np

from ..autograd import array_ns, dtypes
from ..autograd.graph import Op
from ._util import Tensor, apply, check_dim

__all__ = ["softmax", "log_softmax", "cumsum", "cumprod"]


def _shifted(x, dim):
    """x minus its maximum along dim, so exp never overflows."""
    m = np.max(x, axis=dim, keepdims=True, initial=-np.inf)  # initial: a dim of size 0
    return x - m


class Softmax(Op):
    """NOTE: a primitive for stability and speed: one node, and a VJP that needs only the
    output, out * (g - sum(g * out)), which is itself differentiable (Hessians of losses)."""

    name = "softmax"
    save_out = True

    @staticmethod
    def forward(x, dim):
        e = np.exp(_shifted(x, dim))
        return e / np.sum(e, axis=dim, keepdims=True)

    @staticmethod
    def vjp(ns, g, saved, params, needs):
        (out,) = saved
        return out * (g - ns.sum(g * out, params["dim"], keepdim=True))

    @staticmethod
    def jvp(ns, ts, xs, out, params):
        t = ts[0]
        return out * (t - np.sum(t * out, axis=params["dim"], keepdims=True))


class LogSoftmax(Op):
    """NOTE: a primitive for stability: x - logsumexp(x) without overflow; VJP
    g - exp(out) * sum(g)."""

    name = "log_softmax"
    save_out = True

    @staticmethod
    def forward(x, dim):
        s = _shifted(x, dim)
        with np.errstate(divide="ignore"):
            return s - np.log(np.sum(np.exp(s), axis=dim, keepdims=True))

    @staticmethod
    def vjp(ns, g, saved, params, needs):
        (out,) = saved
        return g - ns.exp(out) * ns.sum(g, params["dim"], keepdim=True)

    @staticmethod
    def jvp(ns, ts, xs, out, params):
        t = ts[0]
        return t - np.sum(np.exp(out) * t, axis=params["dim"], keepdims=True)


def _along(op, input, dim, dtype, name):
    if dtype is not None:
        input = input.to(dtype)
    if not dtypes.is_floating(input.data.dtype):
        raise TypeError(
            f"{name}: expected a floating-point input, got dtype {input.dtype}; cast it first "
            "or pass dtype="
        )
    if input.data.ndim == 0:
        check_dim(dim, 0, name)
        return apply(op, input.reshape(1), dim=0).reshape(())
    return apply(op, input, dim=check_dim(dim, input.data.ndim, name))


def softmax(input, dim=None, dtype=None, *, axis=None):
    """exp(x) / sum(exp(x)) along `dim` (required, as in PyTorch), computed stably."""
    if axis is not None:
        dim = axis
    return _along(Softmax, input, dim, dtype, "softmax")


def log_softmax(input, dim=None, dtype=None, *, axis=None):
    """log(softmax(x)) along `dim`, computed stably (never log of an underflowed 0)."""
    if axis is not None:
        dim = axis
    return _along(LogSoftmax, input, dim, dtype, "log_softmax")


class Cumsum(Op):
    name = "cumsum"

    @staticmethod
    def forward(x, dim, reverse):
        return array_ns.cumsum(x, dim, reverse)

    @staticmethod
    def vjp(ns, g, saved, params, needs):
        return ns.cumsum(g, params["dim"], reverse=not params["reverse"])

    @staticmethod
    def jvp(ns, ts, xs, out, params):
        return array_ns.cumsum(ts[0], params["dim"], params["reverse"])


class Cumprod(Op):
    """Cumulative product. Its gradient is exact with zeros in the input: without zeros it is
    reverse_cumsum(g * out) / x; with zeros a division-free form (O(n) at first order, O(n^2)
    per slice when the gradient itself is recorded, as in PyTorch)."""

    name = "cumprod"
    save = (0,)
    save_out = True

    @staticmethod
    def forward(x, dim):
        return np.cumprod(x, axis=dim)

    @staticmethod
    def vjp(ns, g, saved, params, needs):
        x, out = saved
        dim = params["dim"]
        zeros = np.asarray(x) == 0
        if not zeros.any():
            return ns.cumsum(g * out, dim, reverse=True) / x
        if isinstance(g, Tensor):
            return _cumprod_vjp_exact(ns, g, x, dim)
        return _cumprod_vjp_zeros(ns, g, x, out, zeros, dim)

    @staticmethod
    def jvp(ns, ts, xs, out, params):
        (t,), (x,), dim = ts, xs, params["dim"]
        zeros = x == 0
        if not zeros.any():
            return out * np.cumsum(t / x, axis=dim)
        # out_i = sum over k <= i of t_k * prod(x_j, j <= i, j != k): before the first zero
        # that is out_i * cumsum(t / x); from it to the second zero only k = z1 is left.
        seen = np.cumsum(zeros, axis=dim)
        before, first = seen == 0, zeros & (seen == 1)
        between = (seen == 1) & ~first
        nonzero = x + zeros
        head = before * out * np.cumsum(t * before / nonzero, axis=dim)
        lead = np.prod(np.where(before, x, 1), axis=dim, keepdims=True)
        t_first = np.sum(t * first, axis=dim, keepdims=True)
        tail = (seen == 1) * t_first * lead * np.cumprod(np.where(between, x, 1), axis=dim)
        return head + tail


def _cumprod_vjp_zeros(ns, g, x, out, zeros, dim):
    """First-order gradient with zeros, O(n): with z1 the first zero of a slice, elements before
    it get reverse_cumsum(g * out) / x (out is 0 from z1 on), z1 itself gets
    prod(x before z1) * sum(g_i * prod(x_j, z1 < j <= i), z1 <= i < z2), the rest 0."""
    seen = np.cumsum(zeros, axis=dim)
    before, first = seen == 0, zeros & (seen == 1)
    between = (seen == 1) & ~first
    head = before * ns.cumsum(g * out, dim, reverse=True) / (x + zeros)
    lead = ns.prod(x * before + ~before, dim, keepdim=True)
    run = ns.cumprod(x * between + ~between, dim)
    return head + first * lead * ns.sum(g * run * (seen == 1), dim, keepdim=True)


def _cumprod_vjp_exact(ns, g, x, dim):
    """Division-free gradient whose own derivative is right too: gx_k = sum over i >= k of
    g_i * prod(x_j, j <= i, j != k), with the products from the cumprod of an n x n matrix whose
    row k is the slice with x_k replaced by 1."""
    n = x.shape[dim]
    eye = np.eye(n, dtype=bool)
    rows = ns.unsqueeze(ns.transpose(x, dim, -1), -2) * ~eye + eye  # [..., k, j]
    products = ns.cumprod(rows, -1)  # [..., k, i]
    upper = np.triu(np.ones((n, n), dtype=bool))  # i >= k
    gx = ns.sum(ns.unsqueeze(ns.transpose(g, dim, -1), -2) * products * upper, -1)
    return ns.transpose(gx, dim, -1)


def _scan(op, input, dim, dtype, name, **params):
    if dtype is not None:
        input = input.to(dtype)
    elif input.data.dtype.kind in "iub":
        input = input.to(dtypes.int64)  # as PyTorch: integer and bool scans give int64
    if input.data.ndim == 0:
        check_dim(dim, 0, name)
        return input.clone()
    return apply(op, input, dim=check_dim(dim, input.data.ndim, name), **params)


def cumsum(input, dim=None, *, dtype=None, axis=None):
    """Cumulative sum along `dim`."""
    if axis is not None:
        dim = axis
    return _scan(Cumsum, input, dim, dtype, "cumsum", reverse=False)


def cumprod(input, dim=None, *, dtype=None, axis=None):
    """Cumulative product along `dim`; the gradient is exact with zeros in the input."""
    if axis is not None:
        dim = axis
    return _scan(Cumprod, input, dim, dtype, "cumprod")


def cumsum_ns(input, dim, reverse=False):
    """`ns.cumsum` for rules: `reverse=True` sums from the end (the VJP of a cumsum is a
    reversed one), the keyword of jax.lax.cumsum."""
    return apply(Cumsum, input, dim=check_dim(dim, input.data.ndim, "cumsum"), reverse=reverse)
