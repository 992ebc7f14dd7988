"""More shape and joining ops from PyTorch's API: Tensor.unfold (sliding windows), ravel, t,
swapdims, adjoint, broadcast_tensors, broadcast_shapes, atleast_1d/2d/3d, column_stack, dstack,
hsplit/vsplit/dsplit, rot90, diff, kron, block_diag, combinations, vander, and the scatter
forms select_scatter, slice_scatter, diagonal_scatter.

All are composites of the shape, indexing and joining primitives, so they are differentiable
to any order. NOTE: where PyTorch returns a view (unfold), these return a copy.
"""

import itertools

import numpy as np

from ..autograd.typeinfo import Size
from . import arrange, joining, shape
from ._util import Tensor, check_dim, new_tensor

__all__ = [
    "ravel", "t", "swapdims", "adjoint", "broadcast_tensors", "broadcast_shapes", "atleast_1d",
    "atleast_2d", "atleast_3d", "column_stack", "dstack", "hsplit", "vsplit", "dsplit", "rot90",
    "diff", "kron", "block_diag", "combinations", "vander", "select_scatter", "slice_scatter",
    "diagonal_scatter",
]  # fmt: skip


def unfold(self, dimension, size, step):
    """All windows of `size` elements along `dimension`, `step` apart (PyTorch's Tensor.unfold):
    that dim becomes the window count and a new last dim of length `size` holds each window."""
    if self.data.ndim == 0:  # one window of the one element
        check_dim(dimension, 0, "unfold")
        if size > 1 or step <= 0:
            raise RuntimeError(f"unfold: size {size} and step {step} don't fit a 0-d tensor")
        return self.reshape(1)
    x = self
    d = check_dim(dimension, x.data.ndim, "unfold")
    n = x.data.shape[d]
    if size < 0 or size > n:
        raise RuntimeError(
            f"unfold: maximum size for the tensor at dimension {d} is {n} but size is {size}"
        )
    if step <= 0:
        raise RuntimeError(f"unfold: step must be positive, got {step}")
    count = (n - size) // step + 1
    index = np.arange(count)[:, None] * step + np.arange(size)[None, :]
    return shape.movedim(shape.movedim(x, d, -1)[..., index], -2, d)


def ravel(input):
    """The elements in row-major order, as a 1-D tensor."""
    return shape.reshape(input, -1)


def t(input):
    """The transpose of a matrix (<= 2 dims; a vector or scalar is returned as is)."""
    return shape._t(input)


def swapdims(input, dim0, dim1):
    return shape.transpose(input, dim0, dim1)


def adjoint(input):
    """The conjugate transpose of the last two dims (the transpose: tensors are real)."""
    return shape.mT(input)


def _H(input):  # noqa: N802
    if input.data.ndim > 2:
        raise RuntimeError(
            f"H: expected a tensor with <= 2 dimensions, got shape {input.shape}; use mH"
        )
    return shape._t(input)


def broadcast_shapes(*shapes):
    """The shape that tensors of the given shapes broadcast to (a `Size`)."""
    shapes = [(int(s),) if isinstance(s, (int, np.integer)) else tuple(s) for s in shapes]
    try:
        return Size(np.broadcast_shapes(*shapes))
    except ValueError:
        raise RuntimeError(
            f"broadcast_shapes: shapes {', '.join(map(str, shapes))} cannot be broadcast together"
        ) from None


def broadcast_tensors(*tensors):
    """The tensors expanded to their common broadcast shape (a tuple)."""
    if len(tensors) == 1 and isinstance(tensors[0], (list, tuple)):
        tensors = tuple(tensors[0])
    target = broadcast_shapes(*(tensor.data.shape for tensor in tensors))
    return tuple(shape.expand(tensor, target) for tensor in tensors)


def _each(tensors, fn):
    """PyTorch's atleast_*d: one tensor in, one out; several (or a sequence), a tuple."""
    if len(tensors) == 1 and isinstance(tensors[0], Tensor):
        return fn(tensors[0])
    if len(tensors) == 1:
        tensors = tensors[0]
    return tuple(fn(tensor) for tensor in tensors)


def _at_least_1d(x):
    return x.reshape(1) if x.data.ndim == 0 else x


def _at_least_2d(x):
    return x.reshape(1, -1) if x.data.ndim < 2 else x


def _at_least_3d(x):
    if x.data.ndim == 0:
        return x.reshape(1, 1, 1)
    if x.data.ndim == 1:
        return x.reshape(1, -1, 1)
    if x.data.ndim == 2:
        return x.unsqueeze(-1)
    return x


def atleast_1d(*tensors):
    return _each(tensors, _at_least_1d)


def atleast_2d(*tensors):
    return _each(tensors, _at_least_2d)


def atleast_3d(*tensors):
    """0-d becomes (1, 1, 1), (n,) becomes (1, n, 1), (m, n) becomes (m, n, 1)."""
    return _each(tensors, _at_least_3d)


def column_stack(tensors):
    """Tensors side by side as columns: 0-d and 1-d ones become (n, 1) columns first."""
    columns = [x.reshape(-1, 1) if x.data.ndim < 2 else x for x in tensors]
    return joining.cat(columns, 1)


def dstack(tensors):
    """cat along the third dim after atleast_3d."""
    return joining.cat([_at_least_3d(x) for x in tensors], 2)


def _split_along(input, sections, dim, name):
    n = input.data.shape[dim]
    if isinstance(sections, (int, np.integer)) and (sections <= 0 or n % sections):
        raise RuntimeError(
            f"{name}: attempted to split along dimension {dim}, but the size of the dimension "
            f"{n} is not divisible by the split_size {sections}"
        )
    return joining.tensor_split(input, sections, dim)


def hsplit(input, indices_or_sections):
    """tensor_split along dim 1 (dim 0 for 1-D tensors); an int must divide the dim."""
    if input.data.ndim < 1:
        raise RuntimeError("hsplit: expected a tensor with at least 1 dimension")
    return _split_along(input, indices_or_sections, 0 if input.data.ndim == 1 else 1, "hsplit")


def vsplit(input, indices_or_sections):
    """tensor_split along dim 0 (at least 2-D)."""
    if input.data.ndim < 2:
        raise RuntimeError(f"vsplit: expected at least 2 dimensions, got shape {input.shape}")
    return _split_along(input, indices_or_sections, 0, "vsplit")


def dsplit(input, indices_or_sections):
    """tensor_split along dim 2 (at least 3-D)."""
    if input.data.ndim < 3:
        raise RuntimeError(f"dsplit: expected at least 3 dimensions, got shape {input.shape}")
    return _split_along(input, indices_or_sections, 2, "dsplit")


def rot90(input, k=1, dims=(0, 1)):
    """Rotate by 90 degrees k times in the plane of `dims`, from the first towards the second."""
    if len(dims) != 2:
        raise RuntimeError(f"rot90: expected 2 dims, got {len(dims)}")
    d0, d1 = (check_dim(d, input.data.ndim, "rot90") for d in dims)
    if d0 == d1:
        raise RuntimeError(f"rot90: the two dims must differ, got {tuple(dims)}")
    k %= 4
    if k == 1:
        return shape.transpose(arrange.flip(input, [d1]), d0, d1)
    if k == 2:
        return arrange.flip(input, [d0, d1])
    if k == 3:
        return arrange.flip(shape.transpose(input, d0, d1), [d1])
    return input.clone()


def diff(input, n=1, dim=-1, prepend=None, append=None):
    """The n-th forward difference along `dim`, after attaching prepend/append there."""
    d = check_dim(dim, input.data.ndim, "diff")
    parts = [p for p in (prepend, input, append) if p is not None]
    if len(parts) > 1:
        parts = [p if isinstance(p, Tensor) else new_tensor(np.asarray(p)) for p in parts]
        parts = [shape.expand(p, input.data.shape[:d] + (1,) + input.data.shape[d + 1:])
                 if p.data.ndim == 0 else p for p in parts]
        input = joining.cat(parts, d)
    for _ in range(n):
        m = input.data.shape[d]
        after = shape.narrow(input, d, 1, max(m - 1, 0))
        before = shape.narrow(input, d, 0, max(m - 1, 0))
        input = after ^ before if input.data.dtype.kind == "b" else after - before
    return input


def kron(input, other):
    """The Kronecker product: out[i*p + k, j*q + l] = input[i, j] * other[k, l] (any rank)."""
    ndim = max(input.data.ndim, other.data.ndim)
    a = input.reshape((1,) * (ndim - input.data.ndim) + input.data.shape)
    b = other.reshape((1,) * (ndim - other.data.ndim) + other.data.shape)
    a_shape = tuple(itertools.chain.from_iterable((n, 1) for n in a.data.shape))
    b_shape = tuple(itertools.chain.from_iterable((1, n) for n in b.data.shape))
    out = a.reshape(a_shape) * b.reshape(b_shape)
    return out.reshape(tuple(m * n for m, n in zip(a.data.shape, b.data.shape)))


def block_diag(*tensors):
    """A block-diagonal matrix of the given tensors (0-d and 1-d ones count as one row)."""
    blocks = [x.reshape(1, -1) if x.data.ndim < 2 else x for x in tensors]
    if any(b.data.ndim != 2 for b in blocks):
        raise RuntimeError("block_diag: expected tensors with at most 2 dimensions")
    if not blocks:
        return new_tensor(np.zeros((1, 0), np.float32))
    width = sum(b.data.shape[1] for b in blocks)
    rows, left = [], 0
    for b in joining._common_dtype(blocks):
        cols = b.data.shape[1]
        rows.append(arrange.pad(b, (left, width - left - cols)))
        left += cols
    return joining.cat(rows, 0)


def combinations(input, r=2, with_replacement=False):
    """The length-r combinations of a 1-D tensor's elements, one per row (itertools order)."""
    if input.data.ndim != 1:
        raise ValueError(f"combinations: expected a 1-D tensor, got shape {input.shape}")
    pick = itertools.combinations_with_replacement if with_replacement else itertools.combinations
    index = np.array(list(pick(range(input.data.shape[0]), r)), dtype=np.int64)
    if r == 0:
        return new_tensor(np.zeros((0,), input.data.dtype))
    return input[index.reshape(-1, r)]


def vander(x, N=None, increasing=False):  # noqa: N803 - PyTorch's keyword
    """Columns of powers of a 1-D x: x**(N-1), ..., x, 1 (reversed with increasing=True). The
    powers are running products, so the gradient is exact at x = 0."""
    if x.data.ndim != 1:
        raise ValueError(f"vander: expected a 1-D tensor, got shape {x.shape}")
    n = x.data.shape[0] if N is None else int(N)
    if n == 0:
        return new_tensor(np.zeros((x.data.shape[0], 0), x.data.dtype))
    if x.data.dtype.kind == "b":
        x = x.long()
    columns = joining.cat([x.new_ones((x.data.shape[0], 1)),
                           shape.expand(x.unsqueeze(1), (x.data.shape[0], n - 1))], 1)
    powers = columns.cumprod(1)
    return powers if increasing else arrange.flip(powers, [1])


# ------------------------------------------------------------------ scatter forms


def _write(input, index, src):
    out = input.clone()
    out[index] = src
    return out


def select_scatter(input, src, dim, index):
    """input with input.select(dim, index) replaced by src."""
    d = check_dim(dim, input.data.ndim, "select_scatter")
    return _write(input, (slice(None),) * d + (int(index),), src)


def slice_scatter(input, src, dim=0, start=None, end=None, step=1):
    """input with the slice start:end:step along dim replaced by src."""
    d = check_dim(dim, input.data.ndim, "slice_scatter")
    return _write(input, (slice(None),) * d + (slice(start, end, step),), src)


def diagonal_scatter(input, src, offset=0, dim1=0, dim2=1):
    """input with its diagonal (as `diagonal(offset, dim1, dim2)` reads it) replaced by src."""
    ndim = input.data.ndim
    d1, d2 = check_dim(dim1, ndim, "diagonal_scatter"), check_dim(dim2, ndim, "diagonal_scatter")
    n1, n2 = input.data.shape[d1], input.data.shape[d2]
    size = max(0, min(n1, n2 - offset) if offset >= 0 else min(n1 + offset, n2))
    rows = np.arange(size) + max(-offset, 0)
    cols = np.arange(size) + max(offset, 0)
    moved = shape.movedim(input, (d1, d2), (ndim - 2, ndim - 1))
    out = _write(moved, (Ellipsis, rows, cols), src)
    return shape.movedim(out, (ndim - 2, ndim - 1), (d1, d2))


TENSOR_METHODS = {
    "unfold": unfold,
    "ravel": ravel,
    "adjoint": adjoint,
    "mH": property(shape._mT),
    "H": property(_H),
    "hsplit": hsplit,
    "vsplit": vsplit,
    "dsplit": dsplit,
    "rot90": rot90,
    "diff": diff,
    "kron": kron,
    "select_scatter": select_scatter,
    "slice_scatter": slice_scatter,
    "diagonal_scatter": diagonal_scatter,
}
