"""Joining and splitting: cat/stack (one primitive each, with many inputs), hstack/vstack,
split/chunk/tensor_split/unbind (views of the input), and repeat/tile/repeat_interleave.
"""

import numpy as np

from ..autograd.graph import Op
from ._util import Tensor, apply, check_dim, new_tensor, result_dtype
from .scatter_gather import index_select
from .shape import _sizes, expand, reshape, unsqueeze

__all__ = [
    "cat",
    "concat",
    "concatenate",
    "stack",
    "hstack",
    "vstack",
    "row_stack",
    "split",
    "chunk",
    "tensor_split",
    "unbind",
    "repeat",
    "tile",
    "repeat_interleave",
]

_FULL = slice(None)


class Cat(Op):
    """Concatenate the inputs along `dim`; the VJP hands each input its slice of g."""

    name = "cat"
    input_names = ("tensors",)

    @staticmethod
    def forward(*xs, dim, bounds):
        return np.concatenate(xs, axis=dim)

    @staticmethod
    def vjp(ns, g, saved, params, needs):
        lead = (_FULL,) * params["dim"]
        gxs = tuple(
            g[lead + (slice(start, stop),)] if need else None
            for (start, stop), need in zip(params["bounds"], needs)
        )
        return gxs if len(gxs) > 1 else gxs[0]

    @staticmethod
    def jvp(ns, ts, xs, out, params):
        return np.concatenate(ts, axis=params["dim"])


class Stack(Op):
    # NOTE: a primitive rather than cat of unsqueezed inputs: one node instead of n + 1 when
    # an RNN stacks its per-step outputs.
    name = "stack"
    input_names = ("tensors",)

    @staticmethod
    def forward(*xs, dim):
        return np.stack(xs, axis=dim)

    @staticmethod
    def vjp(ns, g, saved, params, needs):
        lead = (_FULL,) * params["dim"]
        gxs = tuple(g[lead + (i,)] if need else None for i, need in enumerate(needs))
        return gxs if len(gxs) > 1 else gxs[0]

    @staticmethod
    def jvp(ns, ts, xs, out, params):
        return np.stack(ts, axis=params["dim"])


def _tensor_list(tensors, op_name):
    if isinstance(tensors, Tensor):
        raise TypeError(f"{op_name}: expected a sequence of tensors, got a single Tensor")
    tensors = list(tensors)
    if not tensors:
        raise ValueError(f"{op_name}: expected a non-empty sequence of tensors")
    for i, t in enumerate(tensors):
        if not isinstance(t, Tensor):
            raise TypeError(f"{op_name}: expected Tensors, got {type(t).__name__} at position {i}")
    return tensors


def _common_dtype(tensors):
    """Cast the tensors to their promoted dtype (as PyTorch's cat and stack do)."""
    ref = tensors[0]
    for t in tensors[1:]:
        if t.data.dtype != ref.data.dtype:
            ref = new_tensor(np.empty(1, dtype=result_dtype(ref, t)))
    dtype = ref.data.dtype
    return [t if t.data.dtype == dtype else t.to(dtype) for t in tensors]


def cat(tensors, dim=0, *, axis=None):
    """Concatenate along an existing dim; all other sizes must match. 1-d empty tensors are
    skipped, as in PyTorch."""
    if axis is not None:
        dim = axis
    tensors = _tensor_list(tensors, "cat")
    for i, t in enumerate(tensors):
        if t.data.ndim == 0:
            raise ValueError(
                f"cat: zero-dimensional tensor (at position {i}) cannot be concatenated"
            )
    kept = [t for t in tensors if t.data.shape != (0,)] or tensors[:1]
    ref = kept[0].data.shape
    d = check_dim(dim, len(ref), "cat")
    bounds, start = [], 0
    for i, t in enumerate(kept):
        shape = t.data.shape
        if len(shape) != len(ref) or any(
            n != m for k, (n, m) in enumerate(zip(shape, ref)) if k != d
        ):
            raise ValueError(
                f"cat: sizes of tensors must match except in dimension {d}: got {ref} and "
                f"{shape} (tensor {i})"
            )
        bounds.append((start, start + shape[d]))
        start += shape[d]
    return apply(Cat, *_common_dtype(kept), dim=d, bounds=tuple(bounds))


concat = concatenate = cat


def stack(tensors, dim=0, *, axis=None):
    """Join equal-shaped tensors along a new dim."""
    if axis is not None:
        dim = axis
    tensors = _tensor_list(tensors, "stack")
    ref = tensors[0].data.shape
    for i, t in enumerate(tensors):
        if t.data.shape != ref:
            raise ValueError(
                f"stack: expects each tensor to be equal size, but got {ref} at entry 0 and "
                f"{t.data.shape} at entry {i}"
            )
    d = check_dim(dim, len(ref) + 1, "stack")
    return apply(Stack, *_common_dtype(tensors), dim=d)


def hstack(tensors):
    """cat along dim 1 (dim 0 for 1-d tensors); 0-d tensors count as 1-d."""
    tensors = [t.reshape(1) if t.data.ndim == 0 else t for t in _tensor_list(tensors, "hstack")]
    return cat(tensors, 0 if all(t.data.ndim == 1 for t in tensors) else 1)


def vstack(tensors):
    """cat along dim 0 after making each tensor at least 2-d ((n,) becomes (1, n))."""
    tensors = _tensor_list(tensors, "vstack")
    return cat([t.reshape(1, -1) if t.data.ndim < 2 else t for t in tensors], 0)


row_stack = vstack


def _pieces(input, dim, sizes):
    """Consecutive views of lengths `sizes` along dim."""
    lead = (_FULL,) * dim
    pieces, start = [], 0
    for n in sizes:
        pieces.append(input[lead + (slice(start, start + n),)])
        start += n
    return tuple(pieces)


def split(tensor, split_size_or_sections, dim=0):
    """Views of `split_size` along dim (the last may be smaller), or of the given sizes."""
    d = check_dim(dim, tensor.data.ndim, "split")
    n = tensor.data.shape[d]
    if isinstance(split_size_or_sections, (int, np.integer)):
        size = int(split_size_or_sections)
        if size < 0 or (size == 0 and n):
            raise ValueError(f"split: split_size must be positive, got {size} for size {n}")
        sizes = [size] * (n // size) + ([n % size] if n % size else []) if n else [0]
    else:
        sizes = [int(s) for s in split_size_or_sections]
        if sum(sizes) != n or any(s < 0 for s in sizes):
            raise ValueError(
                f"split: sizes {sizes} must be non-negative and sum to {n}, the size of dimension "
                f"{d} (input of shape {tensor.shape})"
            )
    return _pieces(tensor, d, sizes)


def chunk(input, chunks, dim=0):
    """`chunks` views of equal size along dim (the last smaller); fewer when the size is short."""
    if int(chunks) <= 0:
        raise ValueError(f"chunk: chunks must be positive, got {chunks}")
    d = check_dim(dim, input.data.ndim, "chunk")
    n = input.data.shape[d]
    if n == 0:
        return _pieces(input, d, [0] * int(chunks))
    return split(input, -(-n // int(chunks)), d)


def tensor_split(input, indices_or_sections, dim=0):
    """Views split at the given indices, or into `sections` parts whose sizes differ by <= 1."""
    d = check_dim(dim, input.data.ndim, "tensor_split")
    n = input.data.shape[d]
    spec = indices_or_sections
    if isinstance(spec, Tensor):
        spec = spec.data.item() if spec.data.ndim == 0 else spec.data.tolist()
    if isinstance(spec, (int, np.integer)):
        k = int(spec)
        if k <= 0:
            raise ValueError(f"tensor_split: sections must be positive, got {k}")
        sizes = [n // k + 1] * (n % k) + [n // k] * (k - n % k)
        return _pieces(input, d, sizes)
    bounds = [min(max(int(i) + n if int(i) < 0 else int(i), 0), n) for i in spec]
    edges = [0, *bounds, n]
    return tuple(
        input[(_FULL,) * d + (slice(start, max(start, stop)),)]
        for start, stop in zip(edges[:-1], edges[1:])
    )


def unbind(input, dim=0):
    """The slices along dim, each without that dim (views)."""
    d = check_dim(dim, input.data.ndim, "unbind")
    lead = (_FULL,) * d
    return tuple(input[lead + (i,)] for i in range(input.data.shape[d]))


def repeat(input, *sizes):
    """Tile the input sizes[i] times along dim i (extra sizes add leading dims); a copy."""
    sizes = _sizes(sizes)
    shape = input.data.shape
    if len(sizes) < len(shape):
        raise ValueError(
            f"repeat: {len(sizes)} repeat sizes for an input of shape {shape}; give at least one "
            "per dimension"
        )
    if any(r < 0 for r in sizes):
        raise ValueError(f"repeat: sizes must be non-negative, got {sizes}")
    shape = (1,) * (len(sizes) - len(shape)) + shape
    if all(r == 1 for r in sizes):
        return reshape(input, shape).clone()
    # Tiling is broadcasting over a new dim in front of each dim: (1, n) -> (r, n) -> (r * n,).
    spread = reshape(input, tuple(v for n in shape for v in (1, n)))
    spread = expand(spread, tuple(v for r, n in zip(sizes, shape) for v in (r, n)))
    return reshape(spread, tuple(r * n for r, n in zip(sizes, shape)))


def tile(input, dims):
    """repeat, with missing leading sizes taken as 1."""
    dims = _sizes((dims,))
    return repeat(input, (1,) * (input.data.ndim - len(dims)) + dims)


def repeat_interleave(input, repeats, dim=None, *, output_size=None):
    """Repeat each element (of the flattened input, or each slice along dim) `repeats` times;
    `repeats` is an int or a 1-d tensor with one count per element."""
    if dim is None:
        input, dim = reshape(input, (-1,)), 0
    d = check_dim(dim, input.data.ndim, "repeat_interleave")
    counts = np.asarray(repeats.data if hasattr(repeats, "data") else repeats)
    if counts.dtype.kind not in "iu":
        raise TypeError(f"repeat_interleave: repeats must be integers, got dtype {counts.dtype}")
    if (counts < 0).any():
        raise ValueError("repeat_interleave: repeats must be non-negative")
    n = input.data.shape[d]
    if counts.size == 1:
        r = int(counts.reshape(()))
        shape = input.data.shape
        spread = expand(unsqueeze(input, d + 1), shape[: d + 1] + (r,) + shape[d + 1 :])
        return reshape(spread, shape[:d] + (n * r,) + shape[d + 1 :])
    if counts.shape != (n,):
        raise ValueError(
            f"repeat_interleave: repeats of shape {counts.shape} for dimension {d} of size {n}"
        )
    return index_select(input, d, np.repeat(np.arange(n), counts))


TENSOR_METHODS = {
    "split": split,
    "chunk": chunk,
    "tensor_split": tensor_split,
    "unbind": unbind,
    "repeat": repeat,
    "tile": tile,
    "repeat_interleave": repeat_interleave,
}
