"""More elementwise math that PyTorch model code reaches for: nan_to_num, addcmul/addcdiv (out of
place), xlogy, logaddexp/logaddexp2, logit, sinc, copysign, float_power, heaviside, signbit,
deg2rad/rad2deg, ldexp, frexp, gcd/lcm.

Composites where the primitives give the right derivative; primitives where a composite would
lose accuracy or produce 0 * inf at the edges (xlogy at x = 0, logaddexp of large inputs, sinc
at 0, copysign's derivative at 0).
"""

import collections
import math

import numpy as np

from ..autograd import dtypes
from ..autograd.graph import Op
from . import arithmetic
from ._elementwise import Elementwise, floating
from ._selection import clamp, where
from ._trigonometric import _binary_floating
from ._util import Tensor, apply, new_tensor, operand, result_dtype

__all__ = [
    "nan_to_num", "addcmul", "addcdiv", "xlogy", "logaddexp", "logaddexp2", "logit", "sinc",
    "copysign", "float_power", "heaviside", "signbit", "deg2rad", "rad2deg", "ldexp", "frexp",
    "gcd", "lcm",
]  # fmt: skip

frexp_result = collections.namedtuple("frexp", ("mantissa", "exponent"))


def nan_to_num(input, nan=0.0, posinf=None, neginf=None):
    """NaN, +inf and -inf replaced by `nan`, `posinf` and `neginf` (by default the dtype's
    largest and smallest finite values). The gradient flows where the input is finite."""
    x = input.data
    if not dtypes.is_floating(x.dtype):
        return new_tensor(x.copy())
    info = np.finfo(x.dtype)
    posinf = info.max if posinf is None else posinf
    neginf = info.min if neginf is None else neginf
    with np.errstate(over="ignore"):  # a posinf beyond the dtype's range becomes inf, as in torch
        filled = np.nan_to_num(x, nan=nan, posinf=posinf, neginf=neginf)
    return where(new_tensor(np.isfinite(x)), input, new_tensor(filled.astype(x.dtype)))


def addcmul(input, tensor1, tensor2, *, value=1):
    """input + value * tensor1 * tensor2."""
    return arithmetic.add(input, arithmetic.mul(tensor1, tensor2), alpha=value)


def addcdiv(input, tensor1, tensor2, *, value=1):
    """input + value * tensor1 / tensor2 (tensor1 and tensor2 must not both be integers)."""
    if _integral(tensor1) and _integral(tensor2):
        raise RuntimeError(
            "addcdiv: integer division of tensors is not supported; cast tensor1 or tensor2 to a "
            "floating dtype"
        )
    return arithmetic.add(input, arithmetic.div(tensor1, tensor2), alpha=value)


def _integral(value):
    return isinstance(value, Tensor) and value.data.dtype.kind in "iub"


# ------------------------------------------------------------------ xlogy


class Xlogy(Op):
    """x * log(y), 0 where x == 0 (NaN where y is NaN), as in PyTorch and SciPy."""

    name = "xlogy"
    input_names = ("x", "y")
    save = (0, 1)

    @staticmethod
    def forward(x, y):
        with np.errstate(divide="ignore", invalid="ignore"):
            out = x * np.log(y)
        return np.where((x == 0) & ~np.isnan(y), np.zeros((), out.dtype), out)

    @staticmethod
    def vjp(ns, g, saved, params, needs):
        x, y = saved
        gx = None
        if needs[0]:  # log(y), except 0 where x == 0 and y <= 0 (PyTorch's convention)
            flat = (x == 0) & (y <= 0)
            gx = g * ns.where(flat, 0.0, ns.log(ns.where(flat, 1.0, y)))
        return gx, (g * x / y if needs[1] else None)

    @staticmethod
    def jvp(ns, ts, xs, out, params):
        x, y = xs
        flat = (x == 0) & (y <= 0)
        with np.errstate(divide="ignore", invalid="ignore"):
            return ts[0] * np.where(flat, 0.0, np.log(np.where(flat, 1.0, y))) + ts[1] * x / y


def xlogy(input, other):
    """input * log(other), taken as 0 where input is 0 (unless other is NaN): the entropy-like
    terms p log p and p log q without NaN at p = 0. Either argument may be a number."""
    return apply(Xlogy, *_binary_floating(input, other, "xlogy"))


# ------------------------------------------------------------------ logaddexp


class LogAddExp(Op):
    # NOTE: a primitive: log(exp(x) + exp(y)) overflows past 88 in float32, and its derivative
    # exp(x - out) stays in [0, 1] when written against the saved output.
    name = "logaddexp"
    input_names = ("x", "y")
    save = (0, 1)
    save_out = True
    forward = staticmethod(np.logaddexp)

    @staticmethod
    def vjp(ns, g, saved, params, needs):
        x, y, out = saved
        return (g * ns.exp(x - out) if needs[0] else None), (
            g * ns.exp(y - out) if needs[1] else None
        )

    @staticmethod
    def jvp(ns, ts, xs, out, params):
        x, y = xs
        return ts[0] * np.exp(x - out) + ts[1] * np.exp(y - out)


class LogAddExp2(Op):
    name = "logaddexp2"
    input_names = ("x", "y")
    save = (0, 1)
    save_out = True
    forward = staticmethod(np.logaddexp2)

    @staticmethod
    def vjp(ns, g, saved, params, needs):
        x, y, out = saved
        return (g * ns.pow(2.0, x - out) if needs[0] else None), (
            g * ns.pow(2.0, y - out) if needs[1] else None
        )

    @staticmethod
    def jvp(ns, ts, xs, out, params):
        x, y = xs
        return ts[0] * np.exp2(x - out) + ts[1] * np.exp2(y - out)


def logaddexp(input, other):
    """log(exp(input) + exp(other)) without overflow."""
    return apply(LogAddExp, *_binary_floating(input, other, "logaddexp"))


def logaddexp2(input, other):
    """log2(2**input + 2**other) without overflow."""
    return apply(LogAddExp2, *_binary_floating(input, other, "logaddexp2"))


# ------------------------------------------------------------------ logit, sinc


def logit(input, eps=None):
    """log(p / (1 - p)), the inverse of sigmoid; with `eps`, p is first clamped to
    [eps, 1 - eps] (and the gradient is zero outside it)."""
    p = floating(input)
    if eps is not None:
        p = clamp(p, eps, 1.0 - eps)
    return p.log() - (-p).log1p()


class Sinc(Elementwise):
    """sin(pi x) / (pi x), 1 at 0 (a primitive: the quotient is 0 / 0 there)."""

    name = "sinc"
    save = (0,)
    save_out = True
    forward = staticmethod(np.sinc)

    @staticmethod
    def derivative(ns, x, out):
        zero = x == 0
        safe = ns.where(zero, 1.0, x)
        return ns.where(zero, 0.0, (ns.cos(safe * math.pi) - out) / safe)


def sinc(input):
    """The normalised sinc function sin(pi x) / (pi x)."""
    return apply(Sinc, floating(input, Sinc))


# ------------------------------------------------------------------ signs


class Copysign(Op):
    """|x| with the sign of y. d/dx is the ratio out / x (0 where x = 0, as in PyTorch); y gets a
    zero gradient (PyTorch gives it one, of zeros)."""

    name = "copysign"
    input_names = ("x", "y")
    save = (0,)
    save_out = True
    forward = staticmethod(np.copysign)

    @staticmethod
    def vjp(ns, g, saved, params, needs):
        x, out = saved
        gx = g * ns.where(x == 0, 0.0, out / ns.where(x == 0, 1.0, x)) if needs[0] else None
        return gx, (g * 0.0 if needs[1] else None)

    @staticmethod
    def jvp(ns, ts, xs, out, params):
        x = xs[0]
        with np.errstate(divide="ignore", invalid="ignore"):
            return ts[0] * np.where(x == 0, 0.0, out / np.where(x == 0, 1.0, x))


def copysign(input, other):
    """input's magnitude with other's sign (the sign bit, so -0.0 counts as negative)."""
    return apply(Copysign, *_binary_floating(input, other, "copysign"))


def signbit(input):
    """True where the sign bit is set (negative numbers and -0.0). No gradient."""
    return new_tensor(np.signbit(input.data))


def heaviside(input, values):
    """0 where input < 0, 1 where input > 0, `values` where input == 0. No gradient (PyTorch
    has none either)."""
    other = operand(values, input, "heaviside")
    dtype = result_dtype(input, other)
    if input.data.dtype != dtype or other.data.dtype != dtype:
        raise RuntimeError(
            f"heaviside: input ({input.dtype}) and values ({other.dtype}) must have the same "
            "dtype"
        )
    x = input.data
    out = np.where(x == 0, other.data, (x > 0).astype(dtype))
    return new_tensor(np.asarray(out, dtype=dtype))


# ------------------------------------------------------------------ powers, angles, integers


def float_power(input, exponent):
    """input ** exponent computed in float64 (the result is float64 whatever the inputs)."""
    if not isinstance(input, Tensor):
        input = operand(input, exponent, "float_power")
    if isinstance(exponent, Tensor):
        exponent = exponent.to(dtypes.float64)
    return arithmetic.pow(input.to(dtypes.float64), exponent)


def deg2rad(input):
    return floating(input) * (math.pi / 180.0)


def rad2deg(input):
    return floating(input) * (180.0 / math.pi)


def ldexp(input, other):
    """input * 2 ** other (a floating result)."""
    if not isinstance(other, Tensor):
        other = operand(other, input, "ldexp")
    return arithmetic.mul(floating(input), arithmetic.pow(2.0, floating(other)))


def frexp(input):
    """(mantissa, exponent) with input = mantissa * 2 ** exponent, |mantissa| in [0.5, 1);
    exponent is int32 as in PyTorch. No gradient."""
    if not dtypes.is_floating(input.data.dtype):
        raise RuntimeError(f"frexp: expected a floating-point input, got dtype {input.dtype}")
    mantissa, exponent = np.frexp(input.data)
    return frexp_result(new_tensor(mantissa), new_tensor(exponent.astype(np.int32)))


def _integer_pair(input, other, name):
    other = operand(other, input, name)
    for t in (input, other):
        if t.data.dtype.kind not in "iu":
            raise RuntimeError(f"{name}: expected integer tensors, got dtype {t.dtype}")
    dtype = result_dtype(input, other)
    return input.data.astype(dtype, copy=False), other.data.astype(dtype, copy=False)


def gcd(input, other):
    """Greatest common divisor, elementwise (integers only)."""
    return new_tensor(np.gcd(*_integer_pair(input, other, "gcd")))


def lcm(input, other):
    """Least common multiple, elementwise (integers only)."""
    return new_tensor(np.lcm(*_integer_pair(input, other, "lcm")))


TENSOR_METHODS = {
    "nan_to_num": nan_to_num,
    "addcmul": addcmul,
    "addcdiv": addcdiv,
    "xlogy": xlogy,
    "logaddexp": logaddexp,
    "logaddexp2": logaddexp2,
    "logit": logit,
    "sinc": sinc,
    "copysign": copysign,
    "float_power": float_power,
    "heaviside": heaviside,
    "signbit": signbit,
    "deg2rad": deg2rad,
    "rad2deg": rad2deg,
    "ldexp": ldexp,
    "frexp": frexp,
    "gcd": gcd,
    "lcm": lcm,
    "positive": arithmetic.positive,
}
