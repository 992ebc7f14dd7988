"""Arithmetic: add, sub, mul, div, neg, pow, and the Python operators built on them.

Each primitive's forward, VJP and JVP sit together. The engine sums broadcast gradients back
to the input shapes, so the rules below return gradients in the output's shape.
"""

import numpy as np

from ..autograd import dtypes
from ..autograd.graph import Op, apply1, binary_primitive, fast_primitive
from ._util import Tensor, apply, operand, operands, promote

__all__ = ["add", "sub", "mul", "div", "neg", "pow", "true_divide", "subtract", "multiply",
           "divide", "negative", "rsub", "positive"]


class Add(Op):
    name = "add"
    input_names = ("x", "y")

    forward = staticmethod(np.add)  # NOTE: the ufunc itself: no Python frame per call

    @staticmethod
    def vjp(ns, g, saved, params, needs):
        return g, g

    @staticmethod
    def jvp(ns, ts, xs, out, params):
        return ts[0] + ts[1]


class Sub(Op):
    # NOTE: a primitive rather than add(x, neg(y)): one node instead of two on a hot path.
    name = "sub"
    input_names = ("x", "y")

    forward = staticmethod(np.subtract)

    @staticmethod
    def vjp(ns, g, saved, params, needs):
        return g, (-g if needs[1] else None)

    @staticmethod
    def jvp(ns, ts, xs, out, params):
        return ts[0] - ts[1]


class Mul(Op):
    name = "mul"
    input_names = ("x", "y")
    save = (0, 1)

    forward = staticmethod(np.multiply)

    @staticmethod
    def vjp(ns, g, saved, params, needs):
        x, y = saved
        return (g * y if needs[0] else None), (g * x if needs[1] else None)

    @staticmethod
    def jvp(ns, ts, xs, out, params):
        x, y = xs
        return ts[0] * y + x * ts[1]


class Div(Op):
    name = "div"
    input_names = ("x", "y")
    save = (0, 1)

    @staticmethod
    def forward(x, y):
        out = np.true_divide(x, y)
        if x.dtype.kind in "iub" and y.dtype.kind in "iub":
            out = out.astype(dtypes.default_float())  # PyTorch: int / int -> default float
        return out

    @staticmethod
    def vjp(ns, g, saved, params, needs):
        x, y = saved
        gx = g / y
        return gx, (-gx * x / y if needs[1] else None)

    @staticmethod
    def jvp(ns, ts, xs, out, params):
        x, y = xs
        return (ts[0] - ts[1] * (x / y)) / y


class Neg(Op):
    name = "neg"

    @staticmethod
    def forward(x):
        return -x

    @staticmethod
    def vjp(ns, g, saved, params, needs):
        return -g

    @staticmethod
    def jvp(ns, ts, xs, out, params):
        return -ts[0]


class Pow(Op):
    """x ** y for a tensor exponent y."""

    name = "pow"
    input_names = ("x", "y")
    save = (0, 1)
    save_out = True

    @staticmethod
    def forward(x, y):
        return np.power(x, y)

    @staticmethod
    def vjp(ns, g, saved, params, needs):
        x, y, out = saved
        gx = g * y * ns.pow(x, y - 1) if needs[0] else None
        # NOTE: d/dy x^y = x^y log x; where x == 0 the limit is 0 (PyTorch's convention).
        gy = g * ns.where(x == 0, 0.0, out * ns.log(ns.where(x == 0, 1.0, x))) if needs[1] else None
        return gx, gy

    @staticmethod
    def jvp(ns, ts, xs, out, params):
        x, y = xs
        safe_log = np.log(np.where(x == 0, 1.0, x))
        return ts[0] * y * np.power(x, y - 1) + ts[1] * np.where(x == 0, 0.0, out * safe_log)


class PowScalar(Op):
    """x ** c for a Python number c (kept as a parameter, so no gradient flows into it)."""

    name = "pow_scalar"
    input_names = ("x",)
    save = (0,)

    @staticmethod
    def forward(x, exponent):
        return np.power(x, exponent)

    @staticmethod
    def vjp(ns, g, saved, params, needs):
        (x,) = saved
        c = params["exponent"]
        if c == 0:
            return g * 0.0
        return g * (c * ns.pow(x, c - 1))

    @staticmethod
    def jvp(ns, ts, xs, out, params):
        c = params["exponent"]
        return ts[0] * (c * np.power(xs[0], c - 1)) if c != 0 else ts[0] * 0.0


# The operators, each one primitive applied with PyTorch's operand rules (`_util.operands`).
_add = binary_primitive(Add, operands)
_sub = binary_primitive(Sub, operands)
mul = binary_primitive(Mul, operands)
mul.__doc__ = "input * other, with broadcasting."


def add(input, other, alpha=1):
    """input + alpha * other, with broadcasting."""
    if alpha != 1:
        input, other = operands(Add, input, other)
        other = mul(other, alpha)
    return _add(input, other)


def sub(input, other, alpha=1):
    """input - alpha * other, with broadcasting."""
    if alpha != 1:
        input, other = operands(Sub, input, other)
        other = mul(other, alpha)
    return _sub(input, other)


def rsub(input, other, alpha=1):
    """other - alpha * input."""
    return sub(operand(other, input, "rsub"), input, alpha=alpha)


def div(input, other, rounding_mode=None):
    """True division; rounding_mode 'trunc' or 'floor' gives a result without gradient."""
    if not isinstance(input, Tensor):
        input = operand(input, other, "div")
    other = operand(other, input, "div")
    if rounding_mode is None:
        return apply(Div, *promote(input, other))
    from .rounding import floor_divide, trunc_divide  # noqa: PLC0415

    if rounding_mode == "floor":
        return floor_divide(input, other)
    if rounding_mode == "trunc":
        return trunc_divide(input, other)
    raise ValueError(f"div: rounding_mode must be None, 'trunc' or 'floor', got {rounding_mode!r}")


def neg(input):
    return apply1(Neg, input)


def pow(input, exponent):  # noqa: A001 - PyTorch's name
    """input ** exponent; a Python-number exponent is a constant, a Tensor one is differentiated."""
    if isinstance(exponent, Tensor):
        if not isinstance(input, Tensor):
            input = operand(input, exponent, "pow")
        return apply(Pow, *promote(input, exponent))
    if not isinstance(exponent, (int, float, np.integer, np.floating)):
        raise TypeError(
            f"pow: exponent must be a number or a Tensor, got {type(exponent).__name__}"
        )
    if input.data.dtype.kind in "iub" and isinstance(exponent, (float, np.floating)):
        input = input.to(dtypes.get_default_dtype())
    return apply(PowScalar, input, exponent=exponent)


def rtruediv(input, other):
    """other / input (Python's reflected division)."""
    return div(operand(other, input, "div"), input)


def rpow(input, other):
    """other ** input (Python's reflected power)."""
    return pow(operand(other, input, "pow"), input)


def positive(input):
    return input


true_divide = divide = div
subtract = sub
multiply = mul
negative = neg

# The compiled path for plain calls, where the accelerator is built (graph.fast_primitive).
_add = fast_primitive(Add, _add, 2)
_sub = fast_primitive(Sub, _sub, 2)
mul = fast_primitive(Mul, mul, 2)
neg = fast_primitive(Neg, neg, 1)

TENSOR_METHODS = {
    "add": add,
    "sub": sub,
    "mul": mul,
    "div": div,
    "neg": neg,
    "pow": pow,
    "subtract": sub,
    "multiply": mul,
    "divide": div,
    "true_divide": div,
    "negative": neg,
    "__add__": _add,
    "__radd__": _add,
    "__sub__": _sub,
    "__rsub__": rsub,
    "__mul__": mul,
    "__rmul__": mul,
    "__truediv__": div,
    "__rtruediv__": rtruediv,
    "__neg__": neg,
    "__pos__": positive,
    "__pow__": pow,
    "__rpow__": rpow,
}
