"""Shape ops: reshape/view, expand, transpose/permute, squeeze/unsqueeze, sum_to, flatten,
unflatten, movedim, narrow, diagonal.

Shape ops return NumPy views where NumPy can, sharing memory (and the version counter) with
their input, as PyTorch's views do.
"""

import math

import numpy as np

from ..autograd import array_ns
from ..autograd.graph import Op
from ._util import apply, check_dim, normalize_dims

__all__ = [
    "reshape",
    "view",
    "expand",
    "broadcast_to",
    "sum_to",
    "transpose",
    "swapaxes",
    "permute",
    "squeeze",
    "unsqueeze",
    "flatten",
    "unflatten",
    "movedim",
    "moveaxis",
    "narrow",
    "diagonal",
]


def _as_view(out, input):
    """Mark `out` as a view of `input` when it shares its memory (for in-place checks)."""
    if out is not input and np.may_share_memory(out.data, input.data):
        base = input if input._base is None else input._base
        out._base = base
        out._version = base._counter()
    return out


class Reshape(Op):
    name = "reshape"

    @staticmethod
    def forward(x, shape, **_):
        return np.reshape(x, shape)

    @staticmethod
    def vjp(ns, g, saved, params, needs):
        return ns.reshape(g, params["in_shape"])

    @staticmethod
    def jvp(ns, ts, xs, out, params):
        return np.reshape(ts[0], out.shape)


class Expand(Op):
    name = "expand"

    @staticmethod
    def forward(x, shape):
        return np.broadcast_to(x, shape)

    @staticmethod
    def vjp(ns, g, saved, params, needs):
        return g  # the engine sums it back down to the input's shape

    @staticmethod
    def jvp(ns, ts, xs, out, params):
        return np.broadcast_to(ts[0], out.shape)


class SumTo(Op):
    """Sum a broadcast tensor down to `shape`: the adjoint of expand (used by create_graph)."""

    name = "sum_to"

    @staticmethod
    def forward(x, shape):
        return array_ns.sum_to(x, shape)

    @staticmethod
    def vjp(ns, g, saved, params, needs):
        return g  # the engine expands it back up to the input's shape

    @staticmethod
    def jvp(ns, ts, xs, out, params):
        return array_ns.sum_to(ts[0], out.shape)


class Permute(Op):
    name = "permute"

    @staticmethod
    def forward(x, dims):
        return np.transpose(x, dims)

    @staticmethod
    def vjp(ns, g, saved, params, needs):
        return ns.permute(g, tuple(np.argsort(params["dims"])))

    @staticmethod
    def jvp(ns, ts, xs, out, params):
        return np.transpose(ts[0], params["dims"])


def _infer_shape(shape, size, where):
    if len(shape) == 1 and isinstance(shape[0], (tuple, list)):
        shape = tuple(shape[0])
    shape = tuple(int(n) for n in shape)
    unknown = [i for i, n in enumerate(shape) if n == -1]
    if len(unknown) > 1 or any(n < -1 for n in shape):
        raise ValueError(f"{where}: invalid shape {shape}: at most one -1, no other negatives")
    known = 1
    for n in shape:
        if n != -1:
            known *= n
    if unknown:
        if known == 0 or size % known:
            raise ValueError(f"{where}: shape {shape} is invalid for an input of size {size}")
        shape = shape[: unknown[0]] + (size // known,) + shape[unknown[0] + 1 :]
    elif known != size:
        raise ValueError(f"{where}: shape {shape} is invalid for an input of size {size}")
    return shape


def reshape(input, *shape):
    shape = _infer_shape(shape, input.data.size, "reshape")
    if shape == input.data.shape:
        return input
    return _as_view(apply(Reshape, input, shape=shape, in_shape=input.data.shape), input)


def view(input, *shape):
    """Like reshape; PyTorch's view needs contiguous memory, NumPy copies when it must."""
    return reshape(input, *shape)


def expand(input, *sizes):
    if len(sizes) == 1 and isinstance(sizes[0], (tuple, list)):
        sizes = tuple(sizes[0])
    ndim = input.data.ndim
    if len(sizes) < ndim:
        raise ValueError(
            f"expand: the number of sizes ({len(sizes)}) must be at least the number of "
            f"dimensions ({ndim}) of the input of shape {input.shape}"
        )
    lead = len(sizes) - ndim
    shape = []
    for i, n in enumerate(sizes):
        old = input.data.shape[i - lead] if i >= lead else None
        if n == -1:
            if old is None:
                raise ValueError("expand: -1 is not allowed for a new leading dimension")
            n = old
        elif old is not None and old != 1 and old != n:
            raise ValueError(
                f"expand: cannot expand shape {input.shape} to {tuple(sizes)}: dimension {i} "
                f"has size {old}, which is not 1"
            )
        shape.append(int(n))
    shape = tuple(shape)
    if shape == input.data.shape:
        return input
    return _as_view(apply(Expand, input, shape=shape), input)


def broadcast_to(input, size):
    return expand(input, *size)


def sum_to(input, shape):
    shape = tuple(shape)
    if shape == input.data.shape:
        return input
    return apply(SumTo, input, shape=shape)


def permute(input, *dims):
    if len(dims) == 1 and isinstance(dims[0], (tuple, list)):
        dims = tuple(dims[0])
    ndim = input.data.ndim
    dims = tuple(check_dim(d, ndim, "permute") for d in dims)
    if sorted(dims) != list(range(ndim)):
        raise ValueError(
            f"permute: dims {dims} must be a permutation of the {ndim} dimensions of an input "
            f"of shape {input.shape}"
        )
    if dims == tuple(range(ndim)):
        return input
    return _as_view(apply(Permute, input, dims=dims), input)


def transpose(input, dim0, dim1):
    ndim = input.data.ndim
    d0, d1 = check_dim(dim0, ndim, "transpose"), check_dim(dim1, ndim, "transpose")
    dims = list(range(ndim))
    dims[d0], dims[d1] = dims[d1], dims[d0]
    return permute(input, dims)


swapaxes = swapdims = transpose


def squeeze(input, dim=None, *, axis=None):
    if axis is not None:
        dim = axis
    shape = input.data.shape
    if dim is None:
        new = tuple(n for n in shape if n != 1)
    else:
        dims = dim if isinstance(dim, (tuple, list)) else (dim,)
        dims = {check_dim(d, input.data.ndim, "squeeze") for d in dims}
        new = tuple(n for i, n in enumerate(shape) if not (i in dims and n == 1))
    return reshape(input, new)


def unsqueeze(input, dim=None, *, axis=None):
    if axis is not None:
        dim = axis
    ndim = input.data.ndim + 1
    d = check_dim(dim, ndim, "unsqueeze")
    shape = list(input.data.shape)
    shape.insert(d, 1)
    return reshape(input, tuple(shape))


def _sizes(sizes):
    if len(sizes) == 1 and isinstance(sizes[0], (tuple, list)):
        return tuple(int(n) for n in sizes[0])
    return tuple(int(n) for n in sizes)


def flatten(input, start_dim=0, end_dim=-1):
    """Merge dims start_dim..end_dim into one (a 0-d input becomes shape (1,))."""
    shape = input.data.shape
    if not shape:
        return reshape(input, (1,))
    start = check_dim(start_dim, len(shape), "flatten")
    end = check_dim(end_dim, len(shape), "flatten")
    if start > end:
        raise ValueError(
            f"flatten: start_dim {start_dim} comes after end_dim {end_dim} for an input of "
            f"shape {shape}"
        )
    return reshape(input, shape[:start] + (math.prod(shape[start : end + 1]),) + shape[end + 1 :])


def unflatten(input, dim, sizes):
    """Split dim `dim` into `sizes` (one of them may be -1)."""
    shape = input.data.shape
    d = check_dim(dim, len(shape), "unflatten")
    sizes = _infer_shape(tuple(sizes), shape[d], "unflatten")
    return reshape(input, shape[:d] + sizes + shape[d + 1 :])


def movedim(input, source, destination):
    """Move dims `source` to positions `destination`, the others keeping their order."""
    ndim = input.data.ndim
    source = (source,) if isinstance(source, (int, np.integer)) else tuple(source)
    destination = (destination,) if isinstance(destination, (int, np.integer)) else tuple(
        destination
    )
    if len(source) != len(destination):
        raise ValueError(
            f"movedim: source {source} and destination {destination} must have the same length"
        )
    for dims in (source, destination):
        normalize_dims(dims, ndim, "movedim")  # rejects repeated dims
    src = tuple(check_dim(d, ndim, "movedim") for d in source)
    dst = tuple(check_dim(d, ndim, "movedim") for d in destination)
    order = [d for d in range(ndim) if d not in src]
    for d, s in sorted(zip(dst, src)):
        order.insert(d, s)
    return permute(input, order)


moveaxis = movedim


def narrow(input, dim, start, length):
    """input[..., start:start + length, ...] along `dim` (start may be negative): a view."""
    d = check_dim(dim, input.data.ndim, "narrow")
    n = input.data.shape[d]
    start, length = int(start), int(length)
    if not -n <= start <= n:
        raise IndexError(f"narrow: start {start} is out of range for dimension {d} of size {n}")
    if start < 0:
        start += n
    if length < 0 or start + length > n:
        raise ValueError(
            f"narrow: start ({start}) + length ({length}) exceeds dimension {d} of size {n} "
            f"(input of shape {input.shape})"
        )
    return input[(slice(None),) * d + (slice(start, start + length),)]


def diagonal(input, offset=0, dim1=0, dim2=1):
    """The diagonal of the (dim1, dim2) planes, as a new last dim.

    NOTE: a copy (built from advanced indexing), where PyTorch returns a view.
    """
    ndim = input.data.ndim
    d1, d2 = check_dim(dim1, ndim, "diagonal"), check_dim(dim2, ndim, "diagonal")
    if d1 == d2:
        raise ValueError(f"diagonal: dim1 and dim2 are both dimension {d1}")
    n1, n2 = input.data.shape[d1], input.data.shape[d2]
    if offset >= 0:
        size = max(0, min(n1, n2 - offset))
        rows, cols = np.arange(size), np.arange(size) + offset
    else:
        size = max(0, min(n1 + offset, n2))
        rows, cols = np.arange(size) - offset, np.arange(size)
    x = movedim(input, (d1, d2), (ndim - 2, ndim - 1))
    return x[..., rows, cols]


def _t(input):
    if input.data.ndim > 2:
        raise ValueError(f"t(): expects a tensor with <= 2 dimensions, got shape {input.shape}")
    return transpose(input, 0, 1) if input.data.ndim == 2 else input


def _T(input):  # noqa: N802
    return permute(input, tuple(reversed(range(input.data.ndim))))


def _mT(input):  # noqa: N802
    if input.data.ndim < 2:
        raise ValueError(f"mT: expects a tensor with >= 2 dimensions, got shape {input.shape}")
    return transpose(input, -2, -1)


def mT(input):  # noqa: N802
    return _mT(input)


TENSOR_METHODS = {
    "reshape": reshape,
    "view": view,
    "expand": expand,
    "broadcast_to": broadcast_to,
    "permute": permute,
    "transpose": transpose,
    "swapaxes": swapaxes,
    "swapdims": swapaxes,
    "squeeze": squeeze,
    "unsqueeze": unsqueeze,
    "t": _t,
    "T": property(_T),
    "mT": property(_mT),
    "expand_as": lambda self, other: expand(self, other.shape),
    "view_as": lambda self, other: reshape(self, other.shape),
    "reshape_as": lambda self, other: reshape(self, other.shape),
    "flatten": flatten,
    "unflatten": unflatten,
    "movedim": movedim,
    "moveaxis": movedim,
    "narrow": narrow,
    "diagonal": diagonal,
}
