"""What the reductions share: dim handling, the JVP of a reduction, sum and mean.

(`reduction.py` is the public category module; this and its other private siblings keep each
file short.)
"""

import numpy as np

from ..autograd import array_ns, dtypes
from ..autograd.graph import Op
from ._util import apply, normalize_dims, numpy_names

__all__ = ["sum", "mean"]


def reduce_dims(dim, ndim, op_name):
    """The reduced axes as a sorted tuple; None and () mean all of them (PyTorch's rule)."""
    if dim is None or (isinstance(dim, (tuple, list)) and len(dim) == 0):
        return tuple(range(ndim))
    dims = normalize_dims(dim, ndim, op_name)
    return dims if ndim else ()  # dim 0 (or -1) of a 0-d tensor is the tensor itself


def keepdim_shape(shape, dims):
    return tuple(1 if i in dims else n for i, n in enumerate(shape))


def check_nonempty(shape, dims, op_name):
    for d in dims:
        if shape[d] == 0:
            raise IndexError(
                f"{op_name}: cannot reduce over dimension {d} of size 0 (input of shape "
                f"{tuple(shape)}): the operation has no identity"
            )


def reduction_jvp(op, ts, xs, out, params):
    """JVP of a reduction in which each input element feeds one output element: the VJP with a
    gradient of ones gives d out / d x elementwise, and the tangent is its weighted sum."""
    ones = np.ones(params["kept_shape"], dtype=out.dtype)
    saved = [xs[i] for i in op.save] + ([out] if op.save_out else [])
    factor = op.vjp(array_ns, ones, saved, params, (True,))
    if factor is None:  # the rule says the gradient is zero
        return np.zeros(out.shape, dtype=out.dtype)
    return np.sum(ts[0] * factor, axis=params["dims"], keepdims=params["keepdim"])


def kept(ns, params, *values):
    """Reshape reduced values (gradient, output) to keepdim shape so they broadcast."""
    if params["keepdim"]:
        return values
    return tuple(ns.reshape(v, params["kept_shape"]) for v in values)


class Sum(Op):
    name = "sum"

    @staticmethod
    def forward(x, dims, keepdim, **_):
        return np.sum(x, axis=dims, keepdims=keepdim)

    @staticmethod
    def vjp(ns, g, saved, params, needs):
        (g,) = kept(ns, params, g)
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
        (g,) = kept(ns, params, g)
        return g * (1.0 / max(params["count"], 1))  # count 0: the input is empty

    @staticmethod
    def jvp(ns, ts, xs, out, params):
        return np.mean(ts[0], axis=params["dims"], keepdims=params["keepdim"])


def tie_weights(x, out, dims):
    """1/count on the elements equal to their slice's selected value `out` (keepdim), else 0."""
    mask = x == out
    if x.dtype.kind == "f":
        mask |= np.isnan(x) & np.isnan(out)  # a NaN result was selected from a NaN
    count = mask.sum(axis=dims, keepdims=True)
    return mask / np.maximum(count, 1).astype(x.dtype)


def reduce(op, input, dim, keepdim, name):
    shape = input.data.shape
    dims = reduce_dims(dim, len(shape), name)
    count = 1
    for d in dims:
        count *= shape[d]
    kept_shape = keepdim_shape(shape, dims)
    return apply(op, input, dims=dims, keepdim=bool(keepdim), kept_shape=kept_shape, count=count)


def integers_as_int64(input, dtype):
    if dtype is not None:
        return input.to(dtype)
    if input.data.dtype.kind in "iub":
        return input.to(dtypes.int64)  # PyTorch sums and multiplies integers and bools as int64
    return input


def sum(input, dim=None, keepdim=False, dtype=None,  # noqa: A001 - PyTorch's name
        *, axis=None, keepdims=None):
    if axis is not None or keepdims is not None:
        dim, keepdim = numpy_names(dim, keepdim, axis, keepdims)
    return reduce(Sum, integers_as_int64(input, dtype), dim, keepdim, "sum")


def mean(input, dim=None, keepdim=False, dtype=None, *, axis=None, keepdims=None):
    if axis is not None or keepdims is not None:
        dim, keepdim = numpy_names(dim, keepdim, axis, keepdims)
    if dtype is not None:
        input = input.to(dtype)
    if not dtypes.is_floating(input.data.dtype):
        raise TypeError(
            f"mean: expected a floating-point input, got dtype {input.dtype}; "
            "cast it first (x.float()) or pass dtype="
        )
    return reduce(Mean, input, dim, keepdim, "mean")


