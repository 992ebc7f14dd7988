"""Helpers shared by the op categories: turning Python values into operands, dim handling."""

import builtins

import numpy as np

from ..autograd import dtypes
from ..autograd import graph as _graph
from ..autograd.graph import apply
from ..autograd.tensor import Tensor, _check_dim, as_array, new_tensor

__all__ = [
    "Tensor",
    "apply",
    "as_array",
    "binary",
    "check_dim",
    "new_tensor",
    "normalize_dims",
    "operand",
    "operands",
    "promote",
    "result_dtype",
]

check_dim = _check_dim
_SCALARS = (builtins.int, builtins.float, builtins.bool, np.generic)


def operand(value, like, op_name):
    """Make `value` a Tensor for a binary op with Tensor `like`.

    Python scalars follow PyTorch's rules: they take the tensor's dtype when it is floating
    (a float32 tensor times 2.0 stays float32), and a float scalar with an integer tensor gives
    the default float dtype.
    """
    if isinstance(value, Tensor):
        return value
    if isinstance(value, _SCALARS):
        dtype = like.data.dtype
        if isinstance(value, (builtins.bool, np.bool_)):
            if dtype.kind == "b":
                return new_tensor(np.asarray(value))
        elif isinstance(value, (builtins.float, np.floating)):
            if not dtypes.is_floating(dtype):
                dtype = dtypes.default_float()
        elif dtype.kind == "b":
            dtype = dtypes.int64
        return new_tensor(np.asarray(value, dtype=dtype))
    if isinstance(value, (np.ndarray, list, tuple)):
        return new_tensor(as_array(value))
    raise TypeError(
        f"{op_name}: unsupported operand type {type(value).__name__}; expected a Tensor, "
        "a number or an array"
    )


def _category(dtype):
    kind = dtype.kind
    return 0 if kind == "b" else 1 if kind in "iu" else 2


def result_dtype(x, y):
    """PyTorch's type promotion for two tensors: a 0-d tensor (or Python scalar) only decides the
    result's dtype when it is of a higher category (bool < integer < floating)."""
    a, b = x.data.dtype, y.data.dtype
    if a == b:
        return a
    a_scalar, b_scalar = x.data.ndim == 0, y.data.ndim == 0
    if a_scalar != b_scalar:
        dims, zero_d = (b, a) if a_scalar else (a, b)
        return zero_d if _category(zero_d) > _category(dims) else dims
    if _category(a) != _category(b):  # int64 with float32 is float32 in PyTorch, not float64
        return a if _category(a) > _category(b) else b
    try:
        return np.promote_types(a, b)
    except TypeError:  # bfloat16 with float16: PyTorch gives float32
        return dtypes.float32


def promote(x, y):
    """Cast two operands to their common dtype (the cast is differentiable); cheap when equal."""
    if x.data.dtype == y.data.dtype:
        return x, y
    if _graph._autocast is not None:  # rg.amp.autocast may cast a float32 parameter down
        pair = _graph._autocast.promote(x, y)
        if pair is not None:
            return pair
    dtype = result_dtype(x, y)
    if x.data.dtype != dtype:
        x = x.to(dtype)
    if y.data.dtype != dtype:
        y = y.to(dtype)
    return x, y


def operands(op, input, other):
    """PyTorch's operand rules for a two-input elementwise primitive: Python numbers and arrays
    become tensors (`operand`), mixed dtypes are promoted (`promote`)."""
    if not isinstance(input, Tensor):
        input = operand(input, other, op.name)
    if not isinstance(other, Tensor):
        other = operand(other, input, op.name)
    if input.data.dtype is not other.data.dtype:
        input, other = promote(input, other)
    return input, other


def binary(op, input, other):
    """Apply a two-input elementwise primitive with PyTorch's operand rules (`operands`)."""
    return apply(op, *operands(op, input, other))


def normalize_dims(dim, ndim, op_name):
    """`dim` (None, int, or a sequence of ints) as a sorted tuple of non-negative axes."""
    if dim is None:
        return tuple(range(ndim))
    if isinstance(dim, (builtins.int, np.integer)):
        return (check_dim(dim, ndim, op_name),)
    dims = tuple(check_dim(d, ndim, op_name) for d in dim)
    if len(set(dims)) != len(dims):
        raise ValueError(f"{op_name}: dim {tuple(dim)} repeats a dimension")
    return tuple(sorted(dims))


def numpy_names(dim, keepdim, axis, keepdims):
    """PyTorch also accepts NumPy's names: `axis=` for `dim=` and `keepdims=` for `keepdim=`."""
    return (dim if axis is None else axis), (keepdim if keepdims is None else keepdims)
