"""In-place writes by index: scatter_, scatter_add_, index_add_, index_copy_, index_fill_,
index_put_, masked_scatter_, put_; and the out-of-place masked_scatter and put.

Each is the out-of-place composite (scatter_gather.py, indexing.py) run through
`record_inplace`, so the in-place form is differentiable exactly where the out-of-place one is
(PyTorch refuses the gradient of scatter_ with a `reduce`; here reduce='add' has one, and
reduce='multiply' has one with respect to the tensor written into).
"""

import numpy as np

from ..autograd import array_ns, graph
from . import indexing, scatter_gather
from ._inplace_core import record_inplace
from ._util import Tensor, check_dim, new_tensor

__all__ = ["masked_scatter", "put"]


# ----------------------------------------------------------------- out-of-place helpers


def masked_scatter(input, mask, source):
    """input with the elements where the (broadcast) bool mask is True replaced, in row-major
    order, by the first elements of `source`."""
    m = mask.data if isinstance(mask, Tensor) else np.asarray(mask)
    if m.dtype != np.bool_:
        raise TypeError(f"masked_scatter: the mask must be a bool tensor, got dtype {m.dtype}")
    try:
        m = np.broadcast_to(m, input.data.shape)
    except ValueError:
        raise RuntimeError(
            f"masked_scatter: the mask of shape {mask.shape} can't be broadcast to the input's "
            f"shape {input.shape}"
        ) from None
    k = int(np.count_nonzero(m))
    if source.data.size < k:
        raise RuntimeError(
            f"masked_scatter: the mask selects {k} elements but source of shape {source.shape} "
            f"has only {source.data.size}"
        )
    return indexing.index_put(input, (m,), source.reshape(-1)[:k])


def put(input, index, source, accumulate=False):
    """input, seen as 1-D, with input[index] = source (or += with accumulate, repeats adding
    up); index and source are read flat too."""
    idx = indexing._index_array(index, "put").reshape(-1)
    n = input.data.size
    if idx.size and (idx.min() < -n or idx.max() >= n):
        bad = idx[(idx < -n) | (idx >= n)][0]
        raise IndexError(f"put: index {bad} is out of range for a tensor of {n} elements")
    if not isinstance(source, Tensor) or source.data.size != idx.size:
        size = source.data.size if isinstance(source, Tensor) else np.size(source)
        raise RuntimeError(
            f"put: source has {size} elements but index has {idx.size}; they must be equal"
        )
    flat = indexing.index_put(input.reshape(-1), (idx,), source.reshape(-1), accumulate)
    return flat.reshape(input.data.shape)


def _scatter_multiply(input, src, dim, index):
    """input with each scattered src element multiplied in (repeats multiply up): input times a
    constant factor, so only input gets a gradient (PyTorch gives none at all)."""
    idx = indexing._index_array(index, "scatter_", ndim=input.data.ndim)
    d = check_dim(dim, input.data.ndim, "scatter_")
    values = src.data if isinstance(src, Tensor) else np.asarray(src)
    if values.ndim:
        values = values[tuple(slice(0, n) for n in idx.shape)]
    factor = np.ones(input.data.shape, input.data.dtype)
    np.multiply.at(factor, array_ns._along_dim(idx, d), np.broadcast_to(values, idx.shape))
    return input * new_tensor(factor)


# ----------------------------------------------------------------- in place


def scatter_(self, dim, index, src=None, *, value=None, reduce=None):
    """self[i][index[i][j]] = src[i][j] (dim=1), in place; `src` may be a number (or pass
    value=). reduce='add' adds, reduce='multiply' multiplies, repeated positions accumulating."""
    if src is None:
        src = value
    if src is None:
        raise TypeError("scatter_: give src (a tensor) or value (a number)")
    if reduce == "multiply":
        if isinstance(src, Tensor) and src.requires_grad and graph._grad_enabled:
            raise RuntimeError(
                "scatter_: the gradient of reduce='multiply' with respect to src is not "
                "implemented (PyTorch has none either); detach src"
            )
        return record_inplace(self, "scatter_", _scatter_multiply, (src,), saves_input=True,
                              dim=dim, index=index)
    if reduce not in (None, "add"):
        raise ValueError(f"scatter_: reduce must be None, 'add' or 'multiply', got {reduce!r}")
    return record_inplace(self, "scatter_", _scatter, (src,), dim=dim, index=index,
                          reduce=reduce)


def _scatter(x, src, dim, index, reduce):
    return scatter_gather.scatter(x, dim, index, src, reduce=reduce)


def scatter_add_(self, dim, index, src):
    """src added at self[i][index[i][j]] (dim=1), in place; repeated positions add up."""
    return record_inplace(self, "scatter_add_", _scatter, (src,), dim=dim, index=index,
                          reduce="add")


def index_add_(self, dim, index, source, *, alpha=1):
    """alpha * source[..., j, ...] added at self[..., index[j], ...] (at dim), in place."""
    return record_inplace(self, "index_add_", _index_add, (source,), dim=dim, index=index,
                          alpha=alpha)


def _index_add(x, source, dim, index, alpha):
    return scatter_gather.index_add(x, dim, index, source, alpha=alpha)


def index_copy_(self, dim, index, source):
    """self[..., index[j], ...] = source[..., j, ...] (at dim), in place."""
    return record_inplace(self, "index_copy_", _index_copy, (source,), dim=dim, index=index)


def _index_copy(x, source, dim, index):
    return scatter_gather.index_copy(x, dim, index, source)


def index_fill_(self, dim, index, value):
    """self[..., index[j], ...] = value (a number or a 0-d tensor) at dim, in place."""
    if isinstance(value, Tensor) and value.data.ndim != 0:
        raise RuntimeError(
            f"index_fill_: only a 0-dimensional value tensor is supported, got shape "
            f"{value.shape}"
        )
    return record_inplace(self, "index_fill_", _index_fill, (value,), dim=dim, index=index)


def _index_fill(x, value, dim, index):
    return scatter_gather.index_fill(x, dim, index, value)


def index_put_(self, indices, values, accumulate=False):
    """self[indices] = values (+= with accumulate, repeated indices adding up), in place."""
    return record_inplace(self, "index_put_", _index_put, (values,), indices=indices,
                          accumulate=accumulate)


def _index_put(x, values, indices, accumulate):
    return indexing.index_put(x, indices, values, accumulate)


def masked_scatter_(self, mask, source):
    """The elements where mask is True replaced by source's first elements, in place."""
    return record_inplace(self, "masked_scatter_", _masked_scatter, (source,), mask=mask)


def _masked_scatter(x, source, mask):
    return masked_scatter(x, mask, source)


def put_(self, index, source, accumulate=False):
    """self, seen as 1-D, with self[index] = source (+= with accumulate), in place."""
    return record_inplace(self, "put_", _put, (source,), index=index, accumulate=accumulate)


def _put(x, source, index, accumulate):
    return put(x, index, source, accumulate)


TENSOR_METHODS = {
    "scatter_": scatter_,
    "scatter_add_": scatter_add_,
    "index_add_": index_add_,
    "index_copy_": index_copy_,
    "index_fill_": index_fill_,
    "index_put_": index_put_,
    "masked_scatter_": masked_scatter_,
    "masked_scatter": masked_scatter,
    "put_": put_,
    "put": put,
}
