"""Reductions: sum and mean (more reductions follow the same pattern)."""

import numpy as np

from ..autograd import dtypes
from ..autograd.graph import Op
from ._util import apply, normalize_dims

__all__ = ["sum", "mean"]


def _keepdim_shape(shape, dims):
    return tuple(1 if i in dims else n for i, n in enumerate(shape))


class Sum(Op):
    name = "sum"

    @staticmethod
    def forward(x, dims, keepdim, **_):
        return np.sum(x, axis=dims, keepdims=keepdim)

    @staticmethod
    def vjp(ns, g, saved, params, needs):
        if not params["keepdim"]:
            g = ns.reshape(g, params["kept_shape"])
        return g  # the engine expands it back to the input's shape

    @staticmethod
    def jvp(ns, ts, xs, out, params):
        return np.sum(ts[0], axis=params["dims"], keepdims=params["keepdim"])


class Mean(Op):
    name = "mean"

    @staticmethod
    def forward(x, dims, keepdim, **_):
        return np.mean(x, axis=dims, keepdims=keepdim)

    @staticmethod
    def vjp(ns, g, saved, params, needs):
        if not params["keepdim"]:
            g = ns.reshape(g, params["kept_shape"])
        return g * (1.0 / params["count"])

    @staticmethod
    def jvp(ns, ts, xs, out, params):
        return np.mean(ts[0], axis=params["dims"], keepdims=params["keepdim"])


def _reduce(op, input, dim, keepdim, name):
    dims = normalize_dims(dim, input.data.ndim, name)
    kept = _keepdim_shape(input.data.shape, dims)
    count = 1
    for d in dims:
        count *= input.data.shape[d]
    return apply(op, input, dims=dims, keepdim=bool(keepdim), kept_shape=kept, count=count)


def sum(input, dim=None, keepdim=False, dtype=None):  # noqa: A001 - PyTorch's name
    if dtype is not None:
        input = input.to(dtype)
    elif input.data.dtype.kind in "ib":
        input = input.to(dtypes.int64)  # PyTorch sums integers and bools as int64
    return _reduce(Sum, input, dim, keepdim, "sum")


def mean(input, dim=None, keepdim=False, dtype=None):
    if dtype is not None:
        input = input.to(dtype)
    if not dtypes.is_floating(input.data.dtype):
        raise TypeError(
            f"mean: expected a floating-point input, got dtype {input.dtype}; "
            "cast it first (x.float()) or pass dtype="
        )
    return _reduce(Mean, input, dim, keepdim, "mean")


TENSOR_METHODS = {"sum": sum, "mean": mean}
