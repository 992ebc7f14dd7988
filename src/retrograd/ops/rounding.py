"""Rounding and integer division: floor, ceil, round, trunc, frac, remainder, fmod, floor_divide
and trunc_divide (div's rounding modes), and the // and % operators.

As in PyTorch, the rounding functions are piecewise constant, so their gradient is zero
everywhere (use the straight-through estimators in `straight_through.py` for a useful one);
remainder and fmod pass the gradient of x through unchanged. Integer tensors round to
themselves.
"""

import numpy as np

from ..autograd.graph import Op
from ._util import apply, binary, new_tensor, operand

__all__ = ["floor", "ceil", "round", "trunc", "fix", "frac", "remainder", "fmod",
           "floor_divide", "trunc_divide"]


class _Flat(Op):
    """A piecewise-constant primitive: the gradient with respect to every input is zero."""

    @staticmethod
    def vjp(ns, g, saved, params, needs):
        zeros = ns.zeros_like(g)
        return zeros if len(needs) == 1 else tuple(zeros if n else None for n in needs)

    @staticmethod
    def jvp(ns, ts, xs, out, params):
        return np.zeros_like(out)


class Floor(_Flat):
    name = "floor"
    forward = staticmethod(np.floor)


class Ceil(_Flat):
    name = "ceil"
    forward = staticmethod(np.ceil)


class Round(_Flat):
    name = "round"

    @staticmethod
    def forward(x, decimals):
        return np.round(x, decimals)  # half to even, as PyTorch


class Trunc(_Flat):
    name = "trunc"
    forward = staticmethod(np.trunc)


class FloorDivide(_Flat):
    name = "floor_divide"
    input_names = ("x", "y")

    @staticmethod
    def forward(x, y):
        _check_integer_division(x, y, "floor_divide")
        with np.errstate(divide="ignore", invalid="ignore"):
            return np.floor_divide(x, y)


class TruncDivide(_Flat):
    name = "trunc_divide"
    input_names = ("x", "y")

    @staticmethod
    def forward(x, y):
        _check_integer_division(x, y, "trunc_divide")
        if x.dtype.kind in "iub" and y.dtype.kind in "iub":
            quotient = np.abs(x) // np.abs(y)
            return np.where((x < 0) != (y < 0), -quotient, quotient)
        with np.errstate(divide="ignore", invalid="ignore"):
            return np.trunc(np.true_divide(x, y))


class Remainder(Op):
    """x - y * floor(x / y): the result takes the sign of y (Python's %)."""

    name = "remainder"
    input_names = ("x", "y")
    save = (0, 1)

    @staticmethod
    def forward(x, y):
        _check_integer_division(x, y, "remainder")
        with np.errstate(divide="ignore", invalid="ignore"):
            return np.remainder(x, y)

    @staticmethod
    def vjp(ns, g, saved, params, needs):
        x, y = saved
        return g, (-g * ns.floor(x / y) if needs[1] else None)

    @staticmethod
    def jvp(ns, ts, xs, out, params):
        x, y = xs
        return ts[0] - ts[1] * np.floor(x / y)


class Fmod(Op):
    """x - y * trunc(x / y): the result takes the sign of x (C's fmod)."""

    name = "fmod"
    input_names = ("x", "y")
    save = (0, 1)

    @staticmethod
    def forward(x, y):
        _check_integer_division(x, y, "fmod")
        with np.errstate(divide="ignore", invalid="ignore"):
            return np.fmod(x, y)

    @staticmethod
    def vjp(ns, g, saved, params, needs):
        x, y = saved
        return g, (-g * ns.trunc(x / y) if needs[1] else None)

    @staticmethod
    def jvp(ns, ts, xs, out, params):
        x, y = xs
        return ts[0] - ts[1] * np.trunc(x / y)


def _check_integer_division(x, y, name):
    if y.dtype.kind in "iub" and x.dtype.kind in "iub" and not np.all(y):
        raise ZeroDivisionError(f"{name}: integer division by zero")


def _rounded(op, input, **params):
    if input.data.dtype.kind in "iub":
        return new_tensor(input.data.copy())  # integers are already whole
    return apply(op, input, **params)


def floor(input):
    return _rounded(Floor, input)


def ceil(input):
    return _rounded(Ceil, input)


def round(input, decimals=0):  # noqa: A001 - PyTorch's name
    """Round half to even, to `decimals` decimal places (negative: to tens, hundreds...)."""
    if decimals != 0 and input.data.dtype.kind in "iub":
        raise TypeError("round: decimals is only supported for floating-point tensors")
    return _rounded(Round, input, decimals=int(decimals))


def trunc(input):
    """Round towards zero."""
    return _rounded(Trunc, input)


def frac(input):
    """input - trunc(input): the fractional part, with the sign of input; gradient 1."""
    return input - trunc(input)


def remainder(input, other):
    """Python's modulus: input - other * floor(input / other), the sign of other."""
    return binary(Remainder, input, other)


def fmod(input, other):
    """C's modulus: input - other * trunc(input / other), the sign of input."""
    return binary(Fmod, input, other)


def floor_divide(input, other):
    """floor(input / other), as Python's //; the gradient is zero."""
    return binary(FloorDivide, input, other)


def trunc_divide(input, other):
    """trunc(input / other) (div with rounding_mode='trunc'); the gradient is zero."""
    return binary(TruncDivide, input, other)


def _rfloordiv(input, other):
    return floor_divide(operand(other, input, "floor_divide"), input)


def _rmod(input, other):
    return remainder(operand(other, input, "remainder"), input)


fix = trunc

TENSOR_METHODS = {name: globals()[name] for name in __all__ if name != "trunc_divide"}
TENSOR_METHODS.update({
    "__floordiv__": floor_divide,
    "__rfloordiv__": _rfloordiv,
    "__mod__": remainder,
    "__rmod__": _rmod,
})
