"""Tensor creation: tensor, zeros, ones, full, empty, arange, linspace, eye and the *_like forms."""

import numpy as np

from ..autograd import dtypes
from ._util import Tensor, as_array, new_tensor

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
    return dtypes.as_dtype(dtype) or dtypes.get_default_dtype()


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
        dtype = dtypes.int64 if is_int else dtypes.get_default_dtype()
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
    "new_zeros": _new_zeros,
    "new_ones": _new_ones,
    "new_full": _new_full,
    "new_empty": _new_empty,
    "new_tensor": _new_tensor,
}
