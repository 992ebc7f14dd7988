"""scatter_reduce (and scatter_reduce_, index_reduce, index_reduce_): src reduced into input at
the positions an index names, with 'sum', 'prod', 'mean', 'amax' or 'amin'.

One primitive. Each output element depends on its own input element (unless include_self=False
drops it) and on the src elements scattered there, so the VJP is a product with the partial
derivatives (gathered back to src's positions) and the JVP is the same partials applied to the
tangents. The partials follow PyTorch's: 'mean' divides by the count, 'amax'/'amin' share the
gradient among every element equal to the result, 'prod' divides the result by the element
without dividing by zero.
"""

import numpy as np

from ..autograd import array_ns
from ..autograd.graph import Op
from ._inplace_core import record_inplace
from ._util import Tensor, apply, check_dim, operand
from .indexing import _index_array

__all__ = ["scatter_reduce", "index_reduce"]

_UFUNCS = {"sum": np.add, "mean": np.add, "prod": np.multiply, "amax": np.maximum,
           "amin": np.minimum}


def _identity(reduce, dtype):
    """The value a position starts from when include_self=False drops the input there."""
    if reduce in ("sum", "mean"):
        return 0
    if reduce == "prod":
        return 1
    if dtype.kind == "f":
        return -np.inf if reduce == "amax" else np.inf
    if dtype.kind == "b":
        return reduce == "amin"
    info = np.iinfo(dtype)
    return info.min if reduce == "amax" else info.max


class ScatterReduce(Op):
    name = "scatter_reduce"
    input_names = ("x", "src")
    save = (0, 1)
    save_out = True
    has_aux = True  # the number of values reduced into each position (input included)

    @staticmethod
    def forward(x, src, dim, index, reduce, include_self):
        positions = array_ns._along_dim(index, dim)
        hits = np.zeros(x.shape, np.int64)
        np.add.at(hits, positions, 1)
        out = x.copy()
        if not include_self:
            out[hits > 0] = _identity(reduce, x.dtype)
        _UFUNCS[reduce].at(out, positions, src)
        count = hits + (1 if include_self else 0)
        if reduce == "mean":
            divisor = np.maximum(count, 1).astype(out.dtype)
            if out.dtype.kind in "iub":
                out = np.floor_divide(out, divisor)
            else:
                out = out / divisor
        return out, count

    @staticmethod
    def vjp(ns, g, saved, params, needs):
        x, src, out, count = saved
        dim, index = params["dim"], params["index"]
        if params["reduce"] == "prod" and not (np.asarray(x) == 0).any() and not (
            np.asarray(src) == 0
        ).any():
            # Written against the (possibly recorded) values, so second order is right too.
            gx = g * out / x if params["include_self"] else g * _untouched(params, count)
            gsrc = ns.gather(g * out, dim, index) / src if needs[1] else None
            return (gx if needs[0] else None), gsrc
        dx, dsrc = _partials(np.asarray(x), np.asarray(src), np.asarray(out), count, params)
        gx = g * dx if needs[0] else None
        gsrc = ns.gather(g, dim, index) * dsrc if needs[1] else None
        return gx, gsrc

    @staticmethod
    def jvp(ns, ts, xs, out, params):
        x, src = xs
        count = np.zeros(x.shape, np.int64)
        np.add.at(count, array_ns._along_dim(params["index"], params["dim"]), 1)
        count += 1 if params["include_self"] else 0
        dx, dsrc = _partials(x, src, out, count, params)
        t = ts[0] * dx
        return array_ns.scatter_add(t, params["dim"], params["index"], ts[1] * dsrc)


def _untouched(params, count):
    """1 where no src value landed (with include_self=False those keep the input), else 0."""
    return count == (1 if params["include_self"] else 0)


def _partials(x, src, out, count, params):
    """d out / d x (input's shape) and d out[index] / d src (src's shape), as arrays."""
    dim, index, reduce = params["dim"], params["index"], params["reduce"]
    include_self = params["include_self"]
    dtype = out.dtype
    keep = _untouched(params, count)  # positions that hold the input unchanged
    if reduce == "sum":
        dx = np.ones(x.shape, dtype) if include_self else keep.astype(dtype)
        return dx, np.ones(src.shape, dtype)
    if reduce == "mean":
        inverse = 1 / np.maximum(count, 1).astype(dtype)
        dx = inverse if include_self else keep.astype(dtype)
        return dx, array_ns.gather(inverse, dim, index)
    if reduce == "prod":
        return _prod_partials(x, src, out, count, params)
    value = array_ns.gather(out, dim, index)
    self_is = (x == out) if include_self else keep
    src_is = src == value
    ties = self_is.astype(dtype)
    np.add.at(ties, array_ns._along_dim(index, dim), src_is)
    share = self_is / np.maximum(ties, 1)
    return share.astype(dtype), (src_is / np.maximum(array_ns.gather(ties, dim, index), 1)).astype(
        dtype
    )


def _prod_partials(x, src, out, count, params):
    """The product of the other factors of each position, for each factor, with zeros: a zero
    factor's partial is the product of the rest; any factor's partial is 0 when another factor
    of its position is zero."""
    dim, index, include_self = params["dim"], params["index"], params["include_self"]
    positions = array_ns._along_dim(index, dim)
    zeros = np.zeros(x.shape, np.int64)  # zero factors per position
    if include_self:
        zeros += x == 0
    np.add.at(zeros, positions, src == 0)
    nonzero = np.ones_like(out)  # product of the nonzero factors per position
    if include_self:
        nonzero = np.where(x == 0, 1, x).astype(out.dtype)
    else:
        nonzero = np.where(_untouched(params, count), x, 1).astype(out.dtype)
    np.multiply.at(nonzero, positions, np.where(src == 0, 1, src))

    def partial(values, n_zeros, rest):
        own = values == 0
        safe = np.where(own, 1, values)
        return np.where(own, np.where(n_zeros == 1, rest, 0), np.where(n_zeros == 0,
                                                                       rest / safe, 0))

    if include_self:
        dx = partial(x, zeros, nonzero)
    else:
        dx = _untouched(params, count).astype(out.dtype)
    src_zeros = array_ns.gather(zeros, dim, index)
    dsrc = partial(src, src_zeros, array_ns.gather(nonzero, dim, index))
    return dx.astype(out.dtype), dsrc.astype(out.dtype)


def _checked_index(input, dim, index, src, name):
    idx = _index_array(index, name, ndim=input.data.ndim)
    d = check_dim(dim, input.data.ndim, name) if input.data.ndim else 0
    for k, n in enumerate(idx.shape):
        if k != d and n > input.data.shape[k]:
            raise RuntimeError(f"{name}: index of shape {idx.shape} is larger than the input of "
                               f"shape {input.shape} in dimension {k}")
        if n > src.data.shape[k]:
            raise RuntimeError(f"{name}: index of shape {idx.shape} is larger than src of shape "
                               f"{src.shape} in dimension {k}")
    size = input.data.shape[d] if input.data.ndim else 1
    if idx.size and (idx.min() < 0 or idx.max() >= size):
        raise IndexError(f"{name}: index {int(idx.max() if idx.max() >= size else idx.min())} "
                         f"is out of bounds for dimension {d} with size {size}")
    return idx.astype(np.int64, copy=False), d


def scatter_reduce(input, dim, index, src, reduce, *, include_self=True):
    """input with src[i][j] reduced into position [i][index[i][j]] (dim=1) by `reduce`:
    'sum', 'prod', 'mean', 'amax' or 'amin'. With include_self=False the input's own value at
    a position that receives any src value is left out. Differentiable in input and src."""
    if reduce not in _UFUNCS:
        raise ValueError(
            f"scatter_reduce: reduce must be one of 'sum', 'prod', 'mean', 'amax', 'amin', got "
            f"{reduce!r}"
        )
    src = operand(src, input, "scatter_reduce")
    if src.data.dtype != input.data.dtype:
        src = src.to(input.data.dtype)
    squeeze = input.data.ndim == 0
    if squeeze:
        input, src = input.reshape(1), src.reshape(1)
        index = _index_array(index, "scatter_reduce").reshape(1)
    idx, d = _checked_index(input, dim, index, src, "scatter_reduce")
    if src.data.shape != idx.shape:
        src = src[tuple(slice(0, n) for n in idx.shape)]
    out = apply(ScatterReduce, input, src, dim=d, index=idx, reduce=reduce,
                include_self=bool(include_self))
    return out.reshape(()) if squeeze else out


def scatter_reduce_(self, dim, index, src, reduce, *, include_self=True):
    """scatter_reduce in place."""
    return record_inplace(self, "scatter_reduce_", _scatter_reduce, (src,), saves_input=True,
                          dim=dim, index=index, reduce=reduce, include_self=include_self)


def _scatter_reduce(x, src, dim, index, reduce, include_self):
    return scatter_reduce(x, dim, index, src, reduce, include_self=include_self)


def index_reduce(input, dim, index, source, reduce, *, include_self=True):
    """input with source[..., j, ...] reduced into input[..., index[j], ...] (at dim) by
    `reduce`: 'prod', 'mean', 'amax' or 'amin'."""
    if reduce not in ("prod", "mean", "amax", "amin"):
        raise ValueError(
            f"index_reduce: reduce must be one of 'prod', 'mean', 'amax', 'amin', got {reduce!r}"
        )
    idx = _index_array(index, "index_reduce").reshape(-1)
    d = check_dim(dim, input.data.ndim, "index_reduce")
    if source.data.shape[d] != idx.size:
        raise RuntimeError(
            f"index_reduce: source of shape {source.shape} has {source.data.shape[d]} entries "
            f"in dim {d} but index has {idx.size}"
        )
    full = np.broadcast_to(idx.reshape((-1,) + (1,) * (source.data.ndim - 1 - d)),
                           source.data.shape)
    return scatter_reduce(input, d, full, source, reduce, include_self=include_self)


def index_reduce_(self, dim, index, source, reduce, *, include_self=True):
    """index_reduce in place."""
    return record_inplace(self, "index_reduce_", _index_reduce, (source,), saves_input=True,
                          dim=dim, index=index, reduce=reduce, include_self=include_self)


def _index_reduce(x, source, dim, index, reduce, include_self):
    return index_reduce(x, dim, index, source, reduce, include_self=include_self)


def scatter_multiply(input, dim, index, src):
    """scatter(..., reduce='multiply') out of place: 'prod' including the input."""
    if not isinstance(src, Tensor):
        idx = _index_array(index, "scatter")
        src = operand(src, input, "scatter").expand(idx.shape)
    return scatter_reduce(input, dim, index, src, "prod", include_self=True)


TENSOR_METHODS = {
    "scatter_reduce": scatter_reduce,
    "scatter_reduce_": scatter_reduce_,
    "index_reduce": index_reduce,
    "index_reduce_": index_reduce_,
}
