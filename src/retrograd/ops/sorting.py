"""Sorting, searching and counting: sort, argsort, msort, topk, kthvalue, mode, unique,
unique_consecutive, searchsorted, bucketize, bincount, histc.

The order is found with NumPy (always a stable sort, which is one of the orders PyTorch allows
for `stable=False`); the values are then a `gather` of the input at those indices, so their
gradient is scattered back to where each value came from, to any order. NaN counts as larger
than every number, as in PyTorch: last in an ascending sort, first in a descending one.
Indices, `unique`, `searchsorted`, `bucketize` and the counts are not differentiable.
"""

import collections

import numpy as np

from ._util import Tensor, check_dim, new_tensor, numpy_names
from .scatter_gather import gather

__all__ = [
    "sort",
    "argsort",
    "msort",
    "topk",
    "kthvalue",
    "mode",
    "unique",
    "unique_consecutive",
    "searchsorted",
    "bucketize",
    "bincount",
    "histc",
]

sort_result = collections.namedtuple("sort", ("values", "indices"))
topk_result = collections.namedtuple("topk", ("values", "indices"))
kthvalue_result = collections.namedtuple("kthvalue", ("values", "indices"))
mode_result = collections.namedtuple("mode", ("values", "indices"))


def _order(x, axis, descending):
    """Stable sorting indices along `axis` (ties keep their order in both directions)."""
    if not descending:
        return np.argsort(x, axis=axis, kind="stable")
    # A stable ascending sort of the reversed array, reversed again, is a stable descending
    # sort (negating would overflow the smallest integer and fail on bools).
    n = x.shape[axis]
    flipped = np.argsort(np.flip(x, axis), axis=axis, kind="stable")
    return (n - 1) - np.flip(flipped, axis)


def _sorted_along(input, dim, descending, name):
    """(values, int64 indices) of input sorted along dim; a 0-d input is its own sort."""
    x = input.data
    d = check_dim(dim, x.ndim, name)
    if x.ndim == 0:
        idx = np.zeros((), np.int64)
        return gather(input, 0, idx), idx
    idx = _order(x, d, descending).astype(np.int64, copy=False)
    return gather(input, d, idx), idx


def sort(input, dim=-1, descending=False, stable=False, *, axis=None):
    """A `(values, indices)` named tuple: input sorted along `dim` and where each value came from.

    `stable` is accepted for PyTorch's signature; the sort is always stable."""
    if axis is not None:
        dim = axis
    values, idx = _sorted_along(input, dim, descending, "sort")
    return sort_result(values, new_tensor(idx))


def argsort(input, dim=-1, descending=False, stable=False, *, axis=None):
    """The indices that sort input along `dim` (int64, no gradient)."""
    if axis is not None:
        dim = axis
    x = input.data
    d = check_dim(dim, x.ndim, "argsort")
    if x.ndim == 0:
        return new_tensor(np.zeros((), np.int64))
    return new_tensor(_order(x, d, descending).astype(np.int64, copy=False))


def msort(input):
    """input sorted along its first dimension (the values of `sort(input, dim=0)`)."""
    return sort(input, dim=0).values


def _dim_size(input, dim, name):
    x = input.data
    d = check_dim(dim, x.ndim, name)
    n = x.shape[d] if x.ndim else 1
    return d, n


def topk(input, k, dim=-1, largest=True, sorted=True, *, axis=None):
    """The k largest (smallest with largest=False) elements along `dim`, as a `(values, indices)`
    named tuple, in sorted order. Which of several equal elements is picked is unspecified in
    PyTorch; here it is the first ones."""
    if axis is not None:
        dim = axis
    d, n = _dim_size(input, dim, "topk")
    if not 0 <= k <= n:
        raise RuntimeError(
            f"topk: selected index k out of range: k={k} for dimension {d} of size {n} "
            f"(input shape {input.shape})"
        )
    if input.data.ndim == 0:
        values, idx = _sorted_along(input, d, largest, "topk")
        return topk_result(values, new_tensor(idx))
    idx = _order(input.data, d, largest)
    idx = np.take(idx, np.arange(k), axis=d).astype(np.int64, copy=False)
    return topk_result(gather(input, d, idx), new_tensor(idx))


def kthvalue(input, k, dim=-1, keepdim=False, *, axis=None, keepdims=None):
    """The k-th smallest element (k counts from 1) along `dim`, as a `(values, indices)` named
    tuple."""
    if axis is not None or keepdims is not None:
        dim, keepdim = numpy_names(dim, keepdim, axis, keepdims)
    d, n = _dim_size(input, dim, "kthvalue")
    if not 1 <= k <= n:
        raise RuntimeError(
            f"kthvalue: selected number k out of range: k={k} for dimension {d} of size {n} "
            f"(input shape {input.shape})"
        )
    if input.data.ndim == 0:
        values, idx = _sorted_along(input, d, False, "kthvalue")
        return kthvalue_result(values, new_tensor(idx))
    idx = np.take(_order(input.data, d, False), [k - 1], axis=d).astype(np.int64, copy=False)
    values = gather(input, d, idx)
    if not keepdim:
        values, idx = values.squeeze(d), np.squeeze(idx, axis=d)
    return kthvalue_result(values, new_tensor(idx))


def mode(input, dim=-1, keepdim=False, *, axis=None, keepdims=None):
    """The most frequent value along `dim` (the smallest of equally frequent ones) and the index
    of its last occurrence, as a `(values, indices)` named tuple, as PyTorch."""
    if axis is not None or keepdims is not None:
        dim, keepdim = numpy_names(dim, keepdim, axis, keepdims)
    x = input.data
    d = check_dim(dim, x.ndim, "mode")
    if x.ndim == 0:
        values, idx = _sorted_along(input, d, False, "mode")
        return mode_result(values, new_tensor(idx))
    if x.shape[d] == 0:
        raise IndexError(f"mode: dimension {d} of the input of shape {input.shape} is empty")
    rows = np.moveaxis(x, d, -1)
    order = np.argsort(rows, axis=-1, kind="stable")
    ranked = np.take_along_axis(rows, order, axis=-1)
    position = np.arange(rows.shape[-1])
    new_run = np.ones(ranked.shape, bool)
    new_run[..., 1:] = ranked[..., 1:] != ranked[..., :-1]
    run_start = np.maximum.accumulate(np.where(new_run, position, 0), axis=-1)
    # the longest run's last element (the first such run: the smallest value); stable sorting
    # puts the value's last occurrence there
    best = np.argmax(position - run_start, axis=-1)[..., None]
    idx = np.moveaxis(np.take_along_axis(order, best, axis=-1), -1, d).astype(np.int64)
    values = gather(input, d, idx)
    if not keepdim:
        values, idx = values.squeeze(d), np.squeeze(idx, axis=d)
    return mode_result(values, new_tensor(idx))


# ----------------------------------------------------------------- unique


def _unique_results(unique_values, inverse, counts, return_inverse, return_counts):
    out = [new_tensor(unique_values)]
    if return_inverse:
        out.append(new_tensor(inverse.astype(np.int64, copy=False)))
    if return_counts:
        out.append(new_tensor(counts.astype(np.int64, copy=False)))
    return out[0] if len(out) == 1 else tuple(out)


def unique(input, sorted=True, return_inverse=False, return_counts=False, dim=None):  # noqa: A002
    """The distinct elements of input (of its slices along `dim` when given), in ascending order;
    with `return_inverse` also where each element landed (input's shape, or (input.shape[dim],)),
    with `return_counts` how often each occurs. Not differentiable. The result is sorted even
    with sorted=False, as PyTorch's CPU implementation does."""
    x = input.data
    if dim is None:
        values, inverse, counts = np.unique(x.reshape(-1), return_inverse=True,
                                            return_counts=True)
        inverse = inverse.reshape(x.shape)
    else:
        d = check_dim(dim, x.ndim, "unique")
        if x.ndim == 0:
            raise IndexError("unique: dim is given but the input is 0-d")
        values, inverse, counts = np.unique(x, return_inverse=True, return_counts=True, axis=d)
        inverse = inverse.reshape(-1)
    return _unique_results(values, inverse, counts, return_inverse, return_counts)


def unique_consecutive(input, return_inverse=False, return_counts=False, dim=None):
    """Collapse each run of equal consecutive elements (slices along `dim` when given) to one.
    Not differentiable."""
    x = input.data
    if dim is None:
        flat = x.reshape(-1)
        starts = np.ones(flat.shape, bool)
        starts[1:] = flat[1:] != flat[:-1]
        values = flat[starts]
        inverse_shape = x.shape
    else:
        d = check_dim(dim, x.ndim, "unique_consecutive")
        moved = np.moveaxis(x, d, 0)
        starts = np.ones(moved.shape[0], bool)
        if moved.shape[0] > 1:
            other = tuple(range(1, moved.ndim))
            starts[1:] = np.any(moved[1:] != moved[:-1], axis=other)
        values = np.moveaxis(moved[starts], 0, d)
        inverse_shape = (x.shape[d],)
    inverse = (np.cumsum(starts) - 1).reshape(inverse_shape)
    counts = np.diff(np.append(np.flatnonzero(starts), starts.size))
    return _unique_results(values, inverse, counts, return_inverse, return_counts)


# ----------------------------------------------------------------- searching


def _array(value):
    return value.data if isinstance(value, Tensor) else np.asarray(value)


def searchsorted(sorted_sequence, input, *, out_int32=False, right=False, side=None,
                 sorter=None):
    """For each value of input, the index in `sorted_sequence` (sorted along its last dim) where
    it would be inserted to keep the order: the first such place, or the last with right=True
    (or side='right'). A 1-D sequence serves every value; otherwise the sequence's leading dims
    must equal input's. Not differentiable."""
    seq, values = _array(sorted_sequence), _array(input)
    if side is not None:
        if side not in ("left", "right"):
            raise ValueError(f"searchsorted: side must be 'left' or 'right', got {side!r}")
        if right and side == "left":
            raise RuntimeError("searchsorted: side='left' and right=True contradict each other")
        right = side == "right"
    if sorter is not None:
        seq = np.take_along_axis(seq, _array(sorter).astype(np.intp), axis=-1)
    where = "right" if right else "left"
    if seq.ndim == 0:
        raise RuntimeError("searchsorted: the sorted sequence must have at least one dimension")
    if seq.ndim == 1:
        out = np.searchsorted(seq, values, side=where)
    else:
        if values.ndim != seq.ndim or values.shape[:-1] != seq.shape[:-1]:
            raise RuntimeError(
                f"searchsorted: the sorted sequence of shape {seq.shape} and the input of shape "
                f"{values.shape} must have the same leading dimensions (all but the last)"
            )
        out = np.empty(values.shape, np.intp)
        for row in np.ndindex(seq.shape[:-1]):
            out[row] = np.searchsorted(seq[row], values[row], side=where)
    return new_tensor(np.asarray(out).astype(np.int32 if out_int32 else np.int64))


def bucketize(input, boundaries, *, out_int32=False, right=False):
    """The bucket of each value given the increasing 1-D `boundaries`: i such that
    boundaries[i-1] < x <= boundaries[i] (boundaries[i-1] <= x < boundaries[i] with right=True).
    Not differentiable."""
    b = _array(boundaries)
    if b.ndim != 1:
        raise RuntimeError(f"bucketize: boundaries must be 1-D, got shape {b.shape}")
    return searchsorted(b, input, out_int32=out_int32, right=right)


# ----------------------------------------------------------------- counting


def bincount(input, weights=None, minlength=0):
    """How often each value 0, 1, ... occurs in the 1-D non-negative integer input (the sum of
    `weights` there, when given); at least `minlength` bins."""
    x = _array(input)
    if x.ndim != 1 or x.dtype.kind not in "iu":
        raise RuntimeError(
            f"bincount: expected a 1-D integer tensor, got shape {x.shape} and dtype {x.dtype}"
        )
    if x.size and x.min() < 0:
        raise RuntimeError("bincount: the input must hold non-negative integers")
    if weights is None:
        return new_tensor(np.bincount(x, minlength=minlength).astype(np.int64))
    w = _array(weights)
    dtype = w.dtype if w.dtype.kind == "f" else np.float64
    return new_tensor(np.bincount(x, weights=w, minlength=minlength).astype(dtype))


def histc(input, bins=100, min=0, max=0):  # noqa: A002 - PyTorch's names
    """A histogram of `bins` equal bins between min and max (the data's own range when both are
    0); values outside are ignored. Same dtype as input."""
    x = input.data
    if not np.issubdtype(x.dtype, np.floating):
        raise RuntimeError(f"histc: expected a floating-point input, got dtype {x.dtype}")
    lo, hi = float(min), float(max)
    if lo == hi and x.size:
        lo, hi = float(x.min()), float(x.max())
    if lo == hi:
        lo, hi = lo - 1, hi + 1
    if lo > hi:
        raise RuntimeError(f"histc: max ({hi}) must be larger than min ({lo})")
    counts, _ = np.histogram(x, bins=int(bins), range=(lo, hi))
    return new_tensor(counts.astype(x.dtype))


TENSOR_METHODS = {
    "sort": sort,
    "argsort": argsort,
    "msort": msort,
    "topk": topk,
    "kthvalue": kthvalue,
    "mode": mode,
    "bincount": bincount,
    "histc": histc,
    "unique": unique,
    "unique_consecutive": unique_consecutive,
}
