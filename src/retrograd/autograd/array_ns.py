"""The NumPy array namespace that VJP/JVP rules run on in the plain first-order path.

Rules call `ns.<name>(...)` with PyTorch's names and keywords; the ops layer installs a twin
namespace of differentiable retrograd functions under the same names (`ops/tensor_ns.py`) for
`create_graph=True`. A test keeps the two name sets identical.
"""

import numpy as np

exp = np.exp
log = np.log
sqrt = np.sqrt
sin = np.sin
cos = np.cos
tanh = np.tanh
abs = np.abs  # noqa: A001 - the namespace mirrors NumPy/PyTorch names
sign = np.sign
maximum = np.maximum
minimum = np.minimum
matmul = np.matmul
pow = np.power  # noqa: A001
zeros_like = np.zeros_like
ones_like = np.ones_like


def sigmoid(x):
    # NOTE: split by sign so exp never overflows.
    out = np.empty_like(x)
    positive = x >= 0
    out[positive] = 1.0 / (1.0 + np.exp(-x[positive]))
    e = np.exp(x[~positive])
    out[~positive] = e / (1.0 + e)
    return out


def where(condition, x, y):
    return np.where(condition, x, y)


def sum(x, dim=None, keepdim=False):  # noqa: A001
    return np.sum(x, axis=dim, keepdims=keepdim)


def reshape(x, shape):
    return np.reshape(x, shape)


def expand(x, shape):
    return np.broadcast_to(x, shape)


def sum_to(x, shape):
    """Sum a broadcast array back down to `shape` (the inverse of broadcasting)."""
    lead = x.ndim - len(shape)
    axes = tuple(range(lead)) + tuple(
        i + lead for i, n in enumerate(shape) if n == 1 and x.shape[i + lead] != 1
    )
    if axes:
        x = x.sum(axis=axes, keepdims=True)
    if lead or x.shape != shape:
        x = x.reshape(shape)
    return x


def cast(x, dtype):
    return x.astype(dtype)


def transpose(x, dim0, dim1):
    return np.swapaxes(x, dim0, dim1)


def permute(x, dims):
    return np.transpose(x, dims)


def unsqueeze(x, dim):
    return np.expand_dims(x, dim)


def squeeze(x, dim):
    return np.squeeze(x, axis=dim)


def mT(x):  # noqa: N802 - PyTorch's name for the matrix transpose
    return np.swapaxes(x, -1, -2)


# reductions (ops/reduction.py)
def prod(x, dim=None, keepdim=False):
    return np.prod(x, axis=dim, keepdims=keepdim)


def cumsum(x, dim, reverse=False):
    """Cumulative sum; `reverse=True` sums from the end (jax.lax.cumsum's keyword): the VJP of
    a cumsum is a reversed cumsum."""
    if reverse:
        return np.flip(np.cumsum(np.flip(x, dim), axis=dim), dim)
    return np.cumsum(x, axis=dim)


def cumprod(x, dim):
    return np.cumprod(x, axis=dim)


# linalg (ops/linalg.py)
def einsum(equation, *operands):
    # NOTE: optimize routes two-operand contractions through BLAS; pointless for one operand.
    return np.einsum(equation, *operands, optimize=len(operands) > 1)


def eye(n, m=None, dtype=None):
    return np.eye(n, m, dtype=dtype)


# shape, joining and indexing (ops/shape.py, ops/joining.py, ops/indexing.py)
# `indices` is a normalized index `(basic, advanced)` from ops.indexing.normalize_index:
# `x[basic]` is a view (basic None: x itself); `advanced` (None, or full slices and integer or
# bool arrays) then picks from that view by NumPy's rules, which are PyTorch's once the integers
# are gone (they are in `basic`).
def index(x, indices):
    basic, advanced = indices
    if basic is not None:
        x = x[basic]
    if advanced is not None:
        x = x[advanced]
    return x


def index_put(x, indices, values, accumulate=False):
    """x with x[indices] = values (or += values, repeated indices adding up), out of place."""
    out = np.array(x, copy=True)
    _put(out, indices, np.asarray(values, dtype=out.dtype), accumulate)
    return out


def index_backward(g, indices, shape):
    """Zeros of `shape` with g added at `indices` (repeats add up): the adjoint of `index`."""
    out = np.zeros(shape, dtype=g.dtype)
    _put(out, indices, g, True)
    return out


def gather(x, dim, index):
    return x[_along_dim(index, dim)]


def scatter_add(x, dim, index, src):
    src = src[tuple(slice(0, n) for n in index.shape)]
    return index_put(x, (None, _along_dim(index, dim)), src, accumulate=True)


def index_select(x, dim, index):
    return np.take(x, index, axis=dim)


def cat(tensors, dim=0):
    return np.concatenate(tensors, axis=dim)


def stack(tensors, dim=0):
    return np.stack(tensors, axis=dim)


def flip(x, dims):
    return np.flip(x, dims)


def roll(x, shifts, dims=None):
    return np.roll(x, shifts, dims)


def tril(x, diagonal=0):
    return np.tril(x, diagonal)


def triu(x, diagonal=0):
    return np.triu(x, diagonal)


def _along_dim(index, dim):
    """The advanced index that picks x[i][j][index[i][j][k]] (for dim=2): gather's index."""
    ndim = index.ndim
    return tuple(
        index if d == dim else np.arange(n).reshape((-1,) + (1,) * (ndim - 1 - d))
        for d, n in enumerate(index.shape)
    )


def _put(out, indices, values, accumulate):
    """out[indices] = values (or +=, adding up repeated indices), in place."""
    basic, advanced = indices
    view = out if basic is None else out[basic]
    if advanced is None:
        if accumulate:
            view += values
        else:
            view[...] = values
        return
    if not accumulate:
        view[advanced] = values
        return
    if all(type(item) is slice or item.dtype == bool for item in advanced):
        view[advanced] += values  # masks never repeat a position
        return
    positions = _flat_positions(view.shape, advanced)
    values = np.broadcast_to(values, positions.shape)
    # NOTE: np.add.at is fast only for 1-d indices into a 1-d array, hence flat positions
    # (10x faster than add.at with the original index, 2x faster than bincount).
    if view.flags.c_contiguous:
        np.add.at(view.reshape(-1), positions.reshape(-1), values.reshape(-1))
    else:
        total = np.zeros(view.shape, dtype=view.dtype)
        np.add.at(total.reshape(-1), positions.reshape(-1), values.reshape(-1))
        view += total


def _flat_positions(shape, advanced):
    """C-order positions, in an array of `shape`, of the elements x[advanced] picks, laid out
    as the result is. `advanced` holds full slices and integer or bool arrays."""
    items = []
    for item in advanced:
        if type(item) is not slice and item.dtype == bool:
            items.extend(np.nonzero(item))
        else:
            items.append(item)
    items += [slice(None)] * (len(shape) - len(items))
    array_dims = [d for d, item in enumerate(items) if type(item) is not slice]
    broadcast = np.broadcast_shapes(*[items[d].shape for d in array_dims])
    first, nb = array_dims[0], len(broadcast)
    adjacent = array_dims[-1] - first + 1 == len(array_dims)
    start = first if adjacent else 0  # NumPy's rule: where the broadcast index dims land
    out_ndim = len(shape) - len(array_dims) + nb
    stride, strides = 1, [0] * len(shape)
    for d in range(len(shape) - 1, -1, -1):
        strides[d] = stride
        stride *= shape[d]
    positions = np.zeros((), dtype=np.intp)
    slices_seen = 0
    for d, item in enumerate(items):
        n = shape[d]
        if type(item) is slice:
            if not adjacent:
                axis = nb + slices_seen
            else:
                axis = d if d < first else d - len(array_dims) + nb
            slices_seen += 1
            term = np.arange(n, dtype=np.intp) * strides[d]
            positions = positions + term.reshape([n if a == axis else 1 for a in range(out_ndim)])
            continue
        if item.size and (item.min() < -n or item.max() >= n):
            bad = item[(item < -n) | (item >= n)].flat[0]
            raise IndexError(f"index {bad} is out of bounds for dimension {d} with size {n}")
        term = np.where(item < 0, item + n, item).astype(np.intp) * strides[d]
        lead = start + nb - item.ndim
        tail = (1,) * (out_ndim - lead - item.ndim)
        positions = positions + term.reshape((1,) * lead + item.shape + tail)
    return positions
