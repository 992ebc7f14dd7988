"""Elementwise math: exponentials and logarithms, powers and roots, abs and sign, the error
function, and lerp; the trigonometric and hyperbolic functions, atan2 and hypot live in
`_trigonometric.py` and are re-exported here.

Most primitives are `Elementwise`: y = f(x) with one rule for the derivative f'(x) in terms of
x and/or y. Functions of a real variable promote integer and bool inputs to the default float
dtype, as PyTorch does; abs, sign and square keep integer dtypes.
"""

import math

import numpy as np

from ..autograd import array_ns
from ..autograd.graph import Op, apply1, fast_primitive
from . import _trigonometric
from ._elementwise import Elementwise, floating
from ._trigonometric import *  # noqa: F403

__all__ = [
    "exp", "exp2", "expm1", "log", "log1p", "log2", "log10",
    "sqrt", "rsqrt", "square", "reciprocal",
    "abs", "absolute", "sign", "sgn",
    "erf", "erfc", "erfinv", "lerp",
    *_trigonometric.__all__,
]  # fmt: skip

_LN2 = math.log(2.0)
_LN10 = math.log(10.0)
_TWO_OVER_SQRT_PI = 2.0 / math.sqrt(math.pi)
_SQRT_PI_OVER_TWO = math.sqrt(math.pi) / 2.0


# ------------------------------------------------------------------ exponentials and logs
class Exp(Elementwise):
    name = "exp"
    save_out = True
    forward = staticmethod(np.exp)

    @staticmethod
    def derivative(ns, x, out):
        return out


class Exp2(Elementwise):
    name = "exp2"
    save_out = True
    forward = staticmethod(np.exp2)

    @staticmethod
    def derivative(ns, x, out):
        return out * _LN2


class Expm1(Elementwise):
    name = "expm1"
    save_out = True
    forward = staticmethod(np.expm1)

    @staticmethod
    def derivative(ns, x, out):
        return out + 1


class Log(Elementwise):
    name = "log"
    save = (0,)
    forward = staticmethod(np.log)

    @staticmethod
    def derivative(ns, x, out):
        return 1 / x


class Log1p(Elementwise):
    name = "log1p"
    save = (0,)
    forward = staticmethod(np.log1p)

    @staticmethod
    def derivative(ns, x, out):
        return 1 / (x + 1)


class Log2(Elementwise):
    name = "log2"
    save = (0,)
    forward = staticmethod(np.log2)

    @staticmethod
    def derivative(ns, x, out):
        return 1 / (x * _LN2)


class Log10(Elementwise):
    name = "log10"
    save = (0,)
    forward = staticmethod(np.log10)

    @staticmethod
    def derivative(ns, x, out):
        return 1 / (x * _LN10)


# ------------------------------------------------------------------ powers and roots
class Sqrt(Elementwise):
    name = "sqrt"
    save_out = True
    forward = staticmethod(np.sqrt)

    @staticmethod
    def derivative(ns, x, out):
        return 0.5 / out


class Rsqrt(Elementwise):
    name = "rsqrt"
    save_out = True

    @staticmethod
    def forward(x):
        with np.errstate(divide="ignore"):  # rsqrt(0) = inf, as in PyTorch
            return 1 / np.sqrt(x)

    @staticmethod
    def derivative(ns, x, out):
        return -0.5 * out * out * out


class Reciprocal(Elementwise):
    name = "reciprocal"
    save_out = True

    @staticmethod
    def forward(x):
        with np.errstate(divide="ignore"):
            return 1 / x

    @staticmethod
    def derivative(ns, x, out):
        return -(out * out)


# ------------------------------------------------------------------ abs and sign
class Abs(Elementwise):
    name = "abs"
    save = (0,)
    forward = staticmethod(np.abs)

    @staticmethod
    def derivative(ns, x, out):
        return ns.sign(x)  # abs'(0) = 0, PyTorch's subgradient


class Sign(Op):
    name = "sign"
    forward = staticmethod(np.sign)

    @staticmethod
    def vjp(ns, g, saved, params, needs):
        return ns.zeros_like(g)

    @staticmethod
    def jvp(ns, ts, xs, out, params):
        return np.zeros_like(ts[0])


# ------------------------------------------------------------------ error function
# NOTE: NumPy has no erf; array_ns carries a vectorised W. J. Cody rational approximation.
class Erf(Elementwise):
    name = "erf"
    save = (0,)
    forward = staticmethod(array_ns.erf)

    @staticmethod
    def derivative(ns, x, out):
        return _TWO_OVER_SQRT_PI * ns.exp(-(x * x))


class Erfc(Elementwise):
    name = "erfc"
    save = (0,)
    forward = staticmethod(array_ns.erfc)

    @staticmethod
    def derivative(ns, x, out):
        return -_TWO_OVER_SQRT_PI * ns.exp(-(x * x))


class Erfinv(Elementwise):
    name = "erfinv"
    save_out = True
    forward = staticmethod(array_ns.erfinv)

    @staticmethod
    def derivative(ns, x, out):
        return _SQRT_PI_OVER_TWO * ns.exp(out * out)


# ------------------------------------------------------------------ public functions
def exp(input):
    return apply1(Exp, floating(input, Exp))


def exp2(input):
    return apply1(Exp2, floating(input, Exp2))


def expm1(input):
    return apply1(Expm1, floating(input, Expm1))


def log(input):
    return apply1(Log, floating(input, Log))


def log1p(input):
    return apply1(Log1p, floating(input, Log1p))


def log2(input):
    return apply1(Log2, floating(input, Log2))


def log10(input):
    return apply1(Log10, floating(input, Log10))


def sqrt(input):
    return apply1(Sqrt, floating(input, Sqrt))


def rsqrt(input):
    return apply1(Rsqrt, floating(input, Rsqrt))


def square(input):
    """input * input; integer tensors stay integer."""
    return input.pow(2)


def reciprocal(input):
    return apply1(Reciprocal, floating(input, Reciprocal))


def abs(input):  # noqa: A001 - PyTorch's name
    return apply1(Abs, input)


def sign(input):
    """-1, 0 or 1 by the sign of each element; its gradient is zero everywhere."""
    return apply1(Sign, input)


def erf(input):
    """The error function 2/sqrt(pi) * integral of exp(-t^2) from 0 to x."""
    return apply1(Erf, floating(input, Erf))


def erfc(input):
    """1 - erf(x), accurate where erf(x) is close to 1."""
    return apply1(Erfc, floating(input, Erfc))


def erfinv(input):
    """The inverse of erf on (-1, 1); +-inf at +-1 and nan outside."""
    return apply1(Erfinv, floating(input, Erfinv))


def lerp(input, end, weight):
    """input + weight * (end - input); weight is a number or a tensor."""
    return input + weight * (end - input)


absolute = abs
sgn = sign

# The compiled path for plain calls, where the accelerator is built (graph.fast_primitive).
exp = fast_primitive(Exp, exp, 1, floating=True)
log = fast_primitive(Log, log, 1, floating=True)
sqrt = fast_primitive(Sqrt, sqrt, 1, floating=True)

TENSOR_METHODS = {
    name: globals()[name] for name in __all__
}
TENSOR_METHODS["__abs__"] = abs
