"""Indexing along one dim: gather, take_along_dim, index_select, and (out of place) scatter,
scatter_add, index_add, index_copy, index_fill.

All are composites of the indexing primitives (`index`, `index_backward`, `index_put`): a
gather is an advanced index made of the index tensor and an arange for every other dim, so it
and its adjoint, the scatter-add, are differentiable to any order in both input and source.
"""

import numpy as np

from ..autograd import array_ns
from ._util import Tensor, check_dim
from .indexing import _FULL, _index, _index_array, index_put_normalized

__all__ = [
    "gather",
    "take_along_dim",
    "index_select",
    "scatter",
    "scatter_add",
    "index_add",
    "index_copy",
    "index_fill",
]


def _along(input, dim, index, op_name, other=None):
    """Check a gather/scatter index and build its normalized index."""
    ndim = input.data.ndim
    idx = _index_array(index, op_name, ndim=ndim)
    d = check_dim(dim, ndim, op_name)
    for k, n in enumerate(idx.shape):
        if k != d and n > input.data.shape[k]:
            raise ValueError(
                f"{op_name}: index of shape {idx.shape} is larger than the input of shape "
                f"{input.shape} in dimension {k}"
            )
        if other is not None and n > other.data.shape[k]:
            raise ValueError(
                f"{op_name}: index of shape {idx.shape} is larger than src of shape "
                f"{other.shape} in dimension {k}"
            )
    return idx, (None, array_ns._along_dim(idx, d))


def gather(input, dim, index, *, sparse_grad=False):
    """out[i][j][k] = input[i][index[i][j][k]][k] (dim=1): index has input's number of dims."""
    if input.data.ndim == 0:
        idx = _index_array(index, "gather", ndim=0)
        return gather(input.reshape(1), 0, idx.reshape(1)).reshape(())
    _, indices = _along(input, dim, index, "gather")
    return _index(input, indices, "gather", index)


def take_along_dim(input, indices, dim=None):
    """gather with input and indices broadcast against each other outside `dim`."""
    if dim is None:
        return gather(input.reshape(-1), 0, _index_array(indices, "take_along_dim").reshape(-1))
    idx = _index_array(indices, "take_along_dim", ndim=input.data.ndim)
    d = check_dim(dim, input.data.ndim, "take_along_dim")
    shape_x, shape_i = list(input.data.shape), list(idx.shape)
    for k in range(len(shape_x)):
        if k != d:
            shape_x[k] = shape_i[k] = np.broadcast_shapes((shape_x[k],), (shape_i[k],))[0]
    return gather(input.expand(tuple(shape_x)), d, np.broadcast_to(idx, tuple(shape_i)))


def index_select(input, dim, index):
    idx = _index_array(index, "index_select")
    if idx.ndim > 1:
        raise ValueError(f"index_select: index must be 0-d or 1-d, got shape {idx.shape}")
    d = check_dim(dim, input.data.ndim, "index_select")
    indices = (None, (_FULL,) * d + (idx.reshape(-1),))
    return _index(input, indices, "index_select", index)


def _dim_indices(input, dim, index, source, op_name):
    idx = _index_array(index, op_name)
    if idx.ndim > 1:
        raise ValueError(f"{op_name}: index must be 0-d or 1-d, got shape {idx.shape}")
    idx = idx.reshape(-1)
    d = check_dim(dim, input.data.ndim, op_name)
    if source is not None and isinstance(source, Tensor):
        expected = list(input.data.shape)
        if expected:
            expected[d] = idx.size
        if source.data.shape != tuple(expected) and source.data.ndim:
            raise ValueError(
                f"{op_name}: source of shape {source.shape} does not fit an input of shape "
                f"{input.shape} with {idx.size} indices in dim {d} (expected {tuple(expected)})"
            )
    return (None, (_FULL,) * d + (idx,))


def scatter(input, dim, index, src=None, *, value=None, reduce=None):
    """input with input[i][index[i][j]] = src[i][j] (dim=1), out of place; `reduce='add'` adds,
    `reduce='multiply'` multiplies (see scatter_reduce).

    Where index repeats a position, which src element lands there is unspecified in PyTorch.
    """
    if src is None:
        src = value
    if src is None:
        raise TypeError("scatter: give src (a tensor) or value (a number)")
    if reduce == "multiply":
        from .scatter_reduction import scatter_multiply  # noqa: PLC0415 - it builds on indexing

        return scatter_multiply(input, dim, index, src)
    if reduce not in (None, "add"):
        raise ValueError(f"scatter: reduce must be None, 'add' or 'multiply', got {reduce!r}")
    other = src if isinstance(src, Tensor) else None
    idx, indices = _along(input, dim, index, "scatter", other)
    if other is not None and other.data.shape != idx.shape:
        src = other[tuple(slice(0, n) for n in idx.shape)]
    try:
        return index_put_normalized(input, indices, src, accumulate=reduce == "add")
    except IndexError as err:
        raise IndexError(f"scatter: {err}") from None


def scatter_add(input, dim, index, src):
    """input with src added at input[i][index[i][j]] (dim=1), repeated positions adding up."""
    return scatter(input, dim, index, src, reduce="add")


def index_add(input, dim, index, source, *, alpha=1):
    """input with alpha * source[..., j, ...] added at input[..., index[j], ...] (at dim)."""
    indices = _dim_indices(input, dim, index, source, "index_add")
    if alpha != 1:
        source = source * alpha
    return index_put_normalized(input, indices, source, accumulate=True)


def index_copy(input, dim, index, source):
    """input with input[..., index[j], ...] = source[..., j, ...] (at dim)."""
    indices = _dim_indices(input, dim, index, source, "index_copy")
    return index_put_normalized(input, indices, source)


def index_fill(input, dim, index, value):
    """input with input[..., index[j], ...] = value (at dim)."""
    return index_put_normalized(input, _dim_indices(input, dim, index, None, "index_fill"), value)



TENSOR_METHODS = {
    "gather": gather,
    "take_along_dim": take_along_dim,
    "index_select": index_select,
    "scatter": scatter,
    "scatter_add": scatter_add,
    "index_add": index_add,
    "index_copy": index_copy,
    "index_fill": index_fill,
}
