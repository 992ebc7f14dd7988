"""Comparisons, logical and bitwise ops, and (from `_selection.py`) the selection ops where,
masked_fill, clamp, maximum/minimum and fmax/fmin.

Comparisons, logical ops and tests such as isnan return bool tensors and never record a graph
(PyTorch's operators ``==``, ``<``, ``&``... included), so rules may use them on Tensors.
The selection ops are differentiable in the values they select from.
"""

import builtins

import numpy as np

from . import _selection
from ._selection import *  # noqa: F403
from ._selection import _where_method
from ._util import Tensor, as_array, new_tensor

__all__ = [
    "eq", "ne", "lt", "le", "gt", "ge",
    "greater", "greater_equal", "less", "less_equal", "not_equal",
    "logical_and", "logical_or", "logical_xor", "logical_not",
    "bitwise_and", "bitwise_or", "bitwise_xor", "bitwise_not",
    "isnan", "isinf", "isposinf", "isneginf", "isfinite", "isclose", "allclose", "equal",
    *_selection.__all__,
]  # fmt: skip


# ------------------------------------------------------------------ non-differentiable
def _data(value, name):
    if isinstance(value, Tensor):
        return value.data
    if isinstance(value, (builtins.bool, builtins.int, builtins.float, np.generic, np.ndarray)):
        return value
    if isinstance(value, (list, tuple)):
        return as_array(value)
    raise TypeError(
        f"{name}: unsupported operand type {type(value).__name__}; expected a Tensor, a number "
        "or an array"
    )


def _elementwise(ufunc, name, input, other):
    """Apply a non-differentiable NumPy ufunc; the result carries no graph."""
    a, b = _data(input, name), _data(other, name)
    try:
        return new_tensor(np.asarray(ufunc(a, b)))
    except ValueError as err:
        raise ValueError(
            f"{name}: shapes {np.shape(a)} and {np.shape(b)} do not broadcast: {err}"
        ) from None


def eq(input, other):
    return _elementwise(np.equal, "eq", input, other)


def ne(input, other):
    return _elementwise(np.not_equal, "ne", input, other)


def lt(input, other):
    return _elementwise(np.less, "lt", input, other)


def le(input, other):
    return _elementwise(np.less_equal, "le", input, other)


def gt(input, other):
    return _elementwise(np.greater, "gt", input, other)


def ge(input, other):
    return _elementwise(np.greater_equal, "ge", input, other)


def logical_and(input, other):
    return _elementwise(np.logical_and, "logical_and", input, other)


def logical_or(input, other):
    return _elementwise(np.logical_or, "logical_or", input, other)


def logical_xor(input, other):
    return _elementwise(np.logical_xor, "logical_xor", input, other)


def logical_not(input):
    return new_tensor(np.logical_not(input.data))


def _check_integral(name, *values):
    for v in values:
        dtype = v.data.dtype if isinstance(v, Tensor) else np.asarray(v).dtype
        if dtype.kind not in "biu":
            raise TypeError(f"{name}: only bool and integer tensors are supported, got {dtype}")


def bitwise_and(input, other):
    _check_integral("bitwise_and", input, other)
    return _elementwise(np.bitwise_and, "bitwise_and", input, other)


def bitwise_or(input, other):
    _check_integral("bitwise_or", input, other)
    return _elementwise(np.bitwise_or, "bitwise_or", input, other)


def bitwise_xor(input, other):
    _check_integral("bitwise_xor", input, other)
    return _elementwise(np.bitwise_xor, "bitwise_xor", input, other)


def bitwise_not(input):
    _check_integral("bitwise_not", input)
    return new_tensor(np.asarray(np.invert(input.data)))


def isnan(input):
    return new_tensor(np.asarray(np.isnan(input.data)))


def isinf(input):
    return new_tensor(np.asarray(np.isinf(input.data)))


def isposinf(input):
    return new_tensor(np.asarray(np.isposinf(input.data)))


def isneginf(input):
    return new_tensor(np.asarray(np.isneginf(input.data)))


def isfinite(input):
    return new_tensor(np.asarray(np.isfinite(input.data)))


def isclose(input, other, rtol=1e-05, atol=1e-08, equal_nan=False):
    """|input - other| <= atol + rtol * |other|, elementwise, as a bool tensor."""
    a, b = _data(input, "isclose"), _data(other, "isclose")
    return new_tensor(np.asarray(np.isclose(a, b, rtol=rtol, atol=atol, equal_nan=equal_nan)))


def allclose(input, other, rtol=1e-05, atol=1e-08, equal_nan=False):
    """True when every element is close (see isclose); a Python bool."""
    return builtins.bool(isclose(input, other, rtol, atol, equal_nan).data.all())


def equal(input, other):
    """True when both tensors have the same shape and the same elements; a Python bool."""
    a, b = _data(input, "equal"), _data(other, "equal")
    return np.shape(a) == np.shape(b) and builtins.bool(np.array_equal(a, b))


# ------------------------------------------------------------------ operators
def _operator(function):
    """A comparison operator: NotImplemented for foreign types, so Python's fallbacks apply
    (``t == None`` is False, as in PyTorch)."""

    def method(self, other):
        if other is None or isinstance(other, (str, bytes, dict, set)):
            return NotImplemented
        return function(self, other)

    method.__name__ = function.__name__
    return method


def _reflected(function):
    def method(self, other):
        return function(other, self)

    method.__name__ = "r" + function.__name__
    return method


greater, greater_equal, less, less_equal, not_equal = gt, ge, lt, le, ne

TENSOR_METHODS = {name: globals()[name] for name in __all__ if name not in ("where",)}
TENSOR_METHODS.update({
    "where": _where_method,
    "__eq__": _operator(eq),
    "__ne__": _operator(ne),
    "__lt__": _operator(lt),
    "__le__": _operator(le),
    "__gt__": _operator(gt),
    "__ge__": _operator(ge),
    "__and__": bitwise_and,
    "__or__": bitwise_or,
    "__xor__": bitwise_xor,
    "__rand__": _reflected(bitwise_and),
    "__ror__": _reflected(bitwise_or),
    "__rxor__": _reflected(bitwise_xor),
    "__invert__": bitwise_not,
    "__hash__": object.__hash__,  # __eq__ is elementwise: identity stays the hash
})
