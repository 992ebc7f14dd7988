"""Tensor creation: tensor, zeros, ones, full, empty, arange, linspace, eye and the *_like forms;
diagonal matrices (diag, diag_embed, diagflat), index grids (tril_indices, triu_indices,
meshgrid, cartesian_prod); trace; the queries is_floating_point, numel; and PyTorch's legacy
typed constructors (FloatTensor, LongTensor, ...)."""

import numpy as np

from ..autograd import dtypes
from . import shape
from ._util import Tensor, as_array, check_dim, new_tensor
from .indexing import _FULL, index_put_normalized
from .joining import stack

__all__ = [
    "tensor",
    "as_tensor",
    "from_numpy",
    "zeros",
    "ones",
    "full",
    "empty",
    "arange",
    "linspace",
    "logspace",
    "eye",
    "zeros_like",
    "ones_like",
    "full_like",
    "empty_like",
    "diag",
    "diag_embed",
    "diagflat",
    "trace",
    "tril_indices",
    "triu_indices",
    "meshgrid",
    "cartesian_prod",
    "is_floating_point",
    "numel",
    "FloatTensor",
    "DoubleTensor",
    "HalfTensor",
    "LongTensor",
    "IntTensor",
    "ShortTensor",
    "CharTensor",
    "ByteTensor",
    "BoolTensor",
]


def tensor(data, dtype=None, requires_grad=False, device=None):
    """A new tensor that owns a copy of `data` (a number, nested lists, an array or a tensor)."""
    array = as_array(data, dtype)
    if isinstance(data, (np.ndarray, Tensor)) or array is data:
        array = array.copy()
    return _finish(array, requires_grad)


def as_tensor(data, dtype=None, device=None):
    """Like `tensor`, but shares memory with a NumPy array when no conversion is needed."""
    if isinstance(data, Tensor) and (dtype is None or dtypes.as_dtype(dtype) == data.dtype):
        return data
    return new_tensor(as_array(data, dtype))


def from_numpy(array):
    if not isinstance(array, np.ndarray):
        raise TypeError(f"from_numpy: expected an np.ndarray, got {type(array).__name__}")
    return new_tensor(array)


def _size(size, where):
    if len(size) == 1 and isinstance(size[0], (tuple, list)):
        size = tuple(size[0])
    for n in size:
        if not isinstance(n, (int, np.integer)) or isinstance(n, bool):
            raise TypeError(f"{where}: sizes must be ints, got {tuple(size)}")
        if n < 0:
            raise ValueError(f"{where}: sizes must be non-negative, got {tuple(size)}")
    return tuple(int(n) for n in size)


def _finish(array, requires_grad):
    t = new_tensor(array)
    if requires_grad:
        t.requires_grad_(True)
    return t


def _dtype(dtype):
    return dtypes.as_dtype(dtype) or dtypes.default_float()


def zeros(*size, dtype=None, requires_grad=False, device=None):
    return _finish(np.zeros(_size(size, "zeros"), _dtype(dtype)), requires_grad)


def ones(*size, dtype=None, requires_grad=False, device=None):
    return _finish(np.ones(_size(size, "ones"), _dtype(dtype)), requires_grad)


def empty(*size, dtype=None, requires_grad=False, device=None):
    return _finish(np.empty(_size(size, "empty"), _dtype(dtype)), requires_grad)


def full(size, fill_value, dtype=None, requires_grad=False, device=None):
    if dtype is None:
        dtype = as_array(fill_value).dtype  # PyTorch infers the dtype from the fill value
    if isinstance(size, (int, np.integer)):
        size = (size,)
    return _finish(np.full(_size(tuple(size), "full"), fill_value, _dtype(dtype)), requires_grad)


def arange(start, end=None, step=1, dtype=None, requires_grad=False, device=None):
    """Values in [start, end) with `step`; integer arguments give int64, as in PyTorch."""
    if end is None:
        start, end = 0, start
    if step == 0:
        raise ValueError("arange: step must be non-zero")
    if dtype is None:
        is_int = all(isinstance(v, (int, np.integer)) for v in (start, end, step))
        dtype = dtypes.int64 if is_int else dtypes.default_float()
    return _finish(np.arange(start, end, step).astype(dtypes.as_dtype(dtype)), requires_grad)


def linspace(start, end, steps, dtype=None, requires_grad=False, device=None):
    if steps < 0:
        raise ValueError(f"linspace: steps must be non-negative, got {steps}")
    return _finish(np.linspace(start, end, int(steps)).astype(_dtype(dtype)), requires_grad)


def logspace(start, end, steps, base=10.0, dtype=None, requires_grad=False, device=None):
    return _finish(np.logspace(start, end, int(steps), base=base).astype(_dtype(dtype)),
                   requires_grad)


def eye(n, m=None, dtype=None, requires_grad=False, device=None):
    return _finish(np.eye(n, m, dtype=_dtype(dtype)), requires_grad)


def zeros_like(input, dtype=None, requires_grad=False, device=None):
    return _finish(np.zeros_like(input.data, dtype=dtypes.as_dtype(dtype)), requires_grad)


def ones_like(input, dtype=None, requires_grad=False, device=None):
    return _finish(np.ones_like(input.data, dtype=dtypes.as_dtype(dtype)), requires_grad)


def empty_like(input, dtype=None, requires_grad=False, device=None):
    return _finish(np.empty_like(input.data, dtype=dtypes.as_dtype(dtype)), requires_grad)


def full_like(input, fill_value, dtype=None, requires_grad=False, device=None):
    return _finish(np.full_like(input.data, fill_value, dtype=dtypes.as_dtype(dtype)),
                   requires_grad)


# ----------------------------------------------------------------- diagonal matrices


def _diagonal_positions(n, offset):
    rows = np.arange(n) + max(-offset, 0)
    return rows, rows + offset


def diag_embed(input, offset=0, dim1=-2, dim2=-1):
    """Matrices whose `offset` diagonal holds input's last dim: those new two dims go to `dim1`
    and `dim2` (of the output). Differentiable."""
    n = input.data.shape[-1] if input.data.ndim else 1
    if input.data.ndim == 0:
        input = input.reshape(1)
    m = n + abs(offset)
    batch = input.data.shape[:-1]
    ndim = len(batch) + 2
    d1, d2 = check_dim(dim1, ndim, "diag_embed"), check_dim(dim2, ndim, "diag_embed")
    if d1 == d2:
        raise ValueError(f"diag_embed: dim1 and dim2 are both dimension {d1}")
    rows, cols = _diagonal_positions(n, offset)
    zeros = new_tensor(np.zeros(batch + (m, m), dtype=input.data.dtype))
    out = index_put_normalized(zeros, (None, (_FULL,) * len(batch) + (rows, cols)), input)
    if (d1, d2) != (ndim - 2, ndim - 1):
        out = shape.movedim(out, (ndim - 2, ndim - 1), (d1, d2))
    return out


def diag(input, diagonal=0):
    """A 1-D input becomes a square matrix with it on the `diagonal`-th diagonal; a 2-D input
    gives that diagonal as 1-D. Differentiable."""
    if input.data.ndim == 1:
        return diag_embed(input, diagonal)
    if input.data.ndim == 2:
        return shape.diagonal(input, diagonal)
    raise RuntimeError(f"diag: expected a 1-D or 2-D input, got shape {input.shape}")


def diagflat(input, offset=0):
    """The flattened input on the `offset` diagonal of a square matrix."""
    return diag_embed(input.reshape(-1), offset)


def trace(input):
    """The sum of a matrix's main diagonal."""
    if input.data.ndim != 2:
        raise RuntimeError(f"trace: expected a matrix, got shape {input.shape}")
    return shape.diagonal(input).sum()


# ----------------------------------------------------------------- index grids


def _triangle_indices(fn, row, col, offset, dtype, name):
    if row < 0 or col < 0:
        raise RuntimeError(f"{name}: row and col must be non-negative, got {row} and {col}")
    rows, cols = fn(row, offset, col)
    return new_tensor(np.stack([rows, cols]).astype(dtypes.as_dtype(dtype) or dtypes.int64))


def tril_indices(row, col, offset=0, *, dtype=None, device=None, layout=None):
    """The (2, N) row and column indices of the lower triangle of a row x col matrix (with the
    `offset` diagonal), row by row."""
    return _triangle_indices(np.tril_indices, row, col, offset, dtype, "tril_indices")


def triu_indices(row, col, offset=0, *, dtype=None, device=None, layout=None):
    """The (2, N) row and column indices of the upper triangle (from the `offset` diagonal)."""
    return _triangle_indices(np.triu_indices, row, col, offset, dtype, "triu_indices")


def meshgrid(*tensors, indexing="ij"):
    """Coordinate grids from 1-D tensors: with 'ij' output k varies along dim k; with 'xy' the
    first two dims are swapped (Cartesian, as NumPy's default). The outputs are expanded views,
    differentiable."""
    if len(tensors) == 1 and isinstance(tensors[0], (list, tuple)):
        tensors = tuple(tensors[0])
    if indexing not in ("ij", "xy"):
        raise ValueError(f"meshgrid: indexing must be 'ij' or 'xy', got {indexing!r}")
    for t in tensors:
        if t.data.ndim > 1:
            raise RuntimeError(f"meshgrid: expected 0-D or 1-D tensors, got shape {t.shape}")
    sizes = [t.data.size for t in tensors]
    axes = list(range(len(tensors)))
    if indexing == "xy" and len(tensors) > 1:
        axes[0], axes[1] = 1, 0
    out_shape = [0] * len(tensors)
    for axis, n in zip(axes, sizes):
        out_shape[axis] = n
    grids = []
    for t, axis in zip(tensors, axes):
        view = [1] * len(tensors)
        view[axis] = -1
        grids.append(t.reshape(view).expand(tuple(out_shape)))
    return tuple(grids)


def cartesian_prod(*tensors):
    """Every combination of one element from each 1-D tensor, as rows (N, len(tensors)); one
    tensor is returned as is."""
    if len(tensors) == 1:
        return tensors[0]
    return stack([g.reshape(-1) for g in meshgrid(*tensors, indexing="ij")], dim=1)


# ----------------------------------------------------------------- queries


def is_floating_point(input):
    return dtypes.is_floating(input.data.dtype)


def numel(input):
    return int(input.data.size)


# ----------------------------------------------------------------- legacy typed constructors


class _LegacyTensorType(type):
    """`rg.FloatTensor([1, 2])` or `rg.FloatTensor(2, 3)` makes a tensor of that dtype (data, or
    sizes filled with zeros), and `isinstance(x, rg.FloatTensor)` checks x's dtype, as the
    legacy PyTorch types do."""

    def __call__(cls, *args):
        return Tensor(*args, dtype=cls.dtype)

    def __instancecheck__(cls, obj):
        return isinstance(obj, Tensor) and obj.data.dtype == cls.dtype


def _legacy(name, dtype):
    return _LegacyTensorType(name, (), {"dtype": dtype, "__module__": "retrograd"})


FloatTensor = _legacy("FloatTensor", dtypes.float32)
DoubleTensor = _legacy("DoubleTensor", dtypes.float64)
HalfTensor = _legacy("HalfTensor", dtypes.float16)
LongTensor = _legacy("LongTensor", dtypes.int64)
IntTensor = _legacy("IntTensor", dtypes.int32)
ShortTensor = _legacy("ShortTensor", dtypes.int16)
CharTensor = _legacy("CharTensor", dtypes.int8)
ByteTensor = _legacy("ByteTensor", dtypes.uint8)
BoolTensor = _legacy("BoolTensor", dtypes.bool)


def _new(self, *args):
    """PyTorch's legacy `x.new(...)`: `Tensor(...)` in x's dtype."""
    return Tensor(*args, dtype=self.data.dtype)


def _new_zeros(self, *size, dtype=None, requires_grad=False):
    return zeros(*size, dtype=dtype or self.dtype, requires_grad=requires_grad)


def _new_ones(self, *size, dtype=None, requires_grad=False):
    return ones(*size, dtype=dtype or self.dtype, requires_grad=requires_grad)


def _new_full(self, size, fill_value, dtype=None, requires_grad=False):
    return full(size, fill_value, dtype=dtype or self.dtype, requires_grad=requires_grad)


def _new_empty(self, *size, dtype=None, requires_grad=False):
    return empty(*size, dtype=dtype or self.dtype, requires_grad=requires_grad)


def _new_tensor(self, data, dtype=None, requires_grad=False):
    return tensor(data, dtype=dtype or self.dtype, requires_grad=requires_grad)


TENSOR_METHODS = {
    "diag": diag,
    "diag_embed": diag_embed,
    "diagflat": diagflat,
    "trace": trace,
    "new": _new,
    "new_zeros": _new_zeros,
    "new_ones": _new_ones,
    "new_full": _new_full,
    "new_empty": _new_empty,
    "new_tensor": _new_tensor,
}
