"""Activation functions (PyTorch's `torch.nn.functional` names, keywords and defaults).

relu, sigmoid and gelu sit on the hot path of training, so they are primitives that keep the
cheapest thing for backward (the output, or the input when the derivative needs it), and
their rules use mask multiplication rather than `where`. At the kinks the gradient follows
PyTorch's conventions: relu'(0) = 0, leaky_relu'(0) = negative_slope, hardtanh is flat at its
bounds, elu'(0) = alpha.

The `inplace` keyword is accepted for compatibility with `torch.nn.functional`; the result is
always a new tensor (assign it: ``x = F.relu(x, inplace=True)`` behaves the same).
"""

import math

import numpy as np

from ..autograd import array_ns
from ..autograd.graph import Op, apply1, fast_primitive
from ._elementwise import Elementwise, floating
from ._trigonometric import tanh
from ._util import apply
from .comparison import where

__all__ = [
    "sigmoid", "logsigmoid", "relu", "relu6", "leaky_relu", "elu", "selu", "celu", "gelu",
    "silu", "mish", "softplus", "softsign", "hardtanh", "hardsigmoid", "hardswish",
    "tanhshrink", "softshrink", "hardshrink",
]  # fmt: skip

_SQRT1_2 = math.sqrt(0.5)
_INV_SQRT_2PI = 1.0 / math.sqrt(2.0 * math.pi)
_TANH_K = math.sqrt(2.0 / math.pi)
_TANH_C = 0.044715
_SELU_ALPHA = 1.6732632423543772848170429916717
_SELU_SCALE = 1.0507009873554804934193349852946


class Sigmoid(Elementwise):
    name = "sigmoid"
    save_out = True
    forward = staticmethod(array_ns.sigmoid)

    @staticmethod
    def derivative(ns, x, out):
        return out * (1 - out)


class LogSigmoid(Elementwise):
    # NOTE: a primitive: -softplus(-x) would lose the tail to softplus's threshold.
    name = "logsigmoid"
    save = (0,)

    @staticmethod
    def forward(x):
        return np.minimum(x, 0) - np.log1p(np.exp(-np.abs(x)))

    @staticmethod
    def derivative(ns, x, out):
        return ns.sigmoid(-x)


class Relu(Elementwise):
    name = "relu"
    save_out = True  # the output is alive anyway (the next layer keeps it): no extra memory

    @staticmethod
    def forward(x):
        return np.maximum(x, 0)

    @staticmethod
    def derivative(ns, x, out):
        return out > 0  # NOTE: g * mask: ~10x faster than where() on random masks


class LeakyRelu(Op):
    name = "leaky_relu"
    save = (0,)

    @staticmethod
    def forward(x, negative_slope):
        # exact in both branches, and cheaper than where() on a random sign pattern
        return np.maximum(x, 0) + np.minimum(x, 0) * negative_slope

    @staticmethod
    def vjp(ns, g, saved, params, needs):
        return g * _leaky_slope(saved[0], params["negative_slope"])

    @staticmethod
    def jvp(ns, ts, xs, out, params):
        return ts[0] * _leaky_slope(xs[0], params["negative_slope"])


def _leaky_slope(x, negative_slope):
    return (x > 0) * (1 - negative_slope) + negative_slope


class Elu(Op):
    """scale * (x if x > 0 else alpha * (exp(x * input_scale) - 1)): elu, selu and celu."""

    name = "elu"
    save_out = True

    @staticmethod
    def forward(x, alpha, scale, input_scale):
        negative = np.expm1(np.minimum(x, 0) * input_scale) * (alpha * scale)
        return np.where(x > 0, x * scale, negative)

    @staticmethod
    def vjp(ns, g, saved, params, needs):
        return g * _elu_derivative(ns, saved[0], params)

    @staticmethod
    def jvp(ns, ts, xs, out, params):
        return ts[0] * _elu_derivative(ns, out, params)


def _elu_derivative(ns, out, params):
    # PyTorch's elu_backward from the result: the x <= 0 branch applies at 0 (elu'(0) = alpha)
    scale, alpha, input_scale = params["scale"], params["alpha"], params["input_scale"]
    return ns.where(out > 0, scale, (out + alpha * scale) * input_scale)


class Gelu(Op):
    name = "gelu"
    save = (0,)

    @staticmethod
    def forward(x, approximate):
        if approximate == "tanh":
            out = np.tanh(_TANH_K * (x + _TANH_C * x * x * x))
        else:
            out = array_ns.erf(x * _SQRT1_2)
        out += 1
        out *= x
        out *= 0.5
        return out

    @staticmethod
    def vjp(ns, g, saved, params, needs):
        return g * _gelu_derivative(ns, saved[0], params["approximate"])

    @staticmethod
    def jvp(ns, ts, xs, out, params):
        return ts[0] * _gelu_derivative(ns, xs[0], params["approximate"])


def _gelu_derivative(ns, x, approximate):
    if approximate == "tanh":
        x2 = x * x
        t = ns.tanh(_TANH_K * (x + _TANH_C * x2 * x))
        return 0.5 * (1 + t) + 0.5 * x * (1 - t * t) * (_TANH_K * (1 + 3 * _TANH_C * x2))
    cdf = 0.5 * (1 + ns.erf(x * _SQRT1_2))
    return cdf + x * ns.exp(-0.5 * x * x) * _INV_SQRT_2PI


class Silu(Elementwise):
    # NOTE: a primitive rather than x * sigmoid(x): one node and one sigmoid in backward.
    name = "silu"
    save = (0,)

    @staticmethod
    def forward(x):
        return x * array_ns.sigmoid(x)

    @staticmethod
    def derivative(ns, x, out):
        s = ns.sigmoid(x)
        return s * (1 + x * (1 - s))


class Softplus(Op):
    name = "softplus"
    save = (0,)

    @staticmethod
    def forward(x, beta, threshold):
        bx = x * beta
        return np.where(bx > threshold, x, np.logaddexp(0, bx) / beta)

    @staticmethod
    def vjp(ns, g, saved, params, needs):
        return g * _softplus_derivative(ns, saved[0], params)

    @staticmethod
    def jvp(ns, ts, xs, out, params):
        return ts[0] * _softplus_derivative(ns, xs[0], params)


def _softplus_derivative(ns, x, params):
    bx = x * params["beta"]
    return ns.where(bx > params["threshold"], 1.0, ns.sigmoid(bx))


class Hardtanh(Op):
    name = "hardtanh"
    save = (0,)

    @staticmethod
    def forward(x, min_val, max_val):
        return np.clip(x, min_val, max_val)

    @staticmethod
    def vjp(ns, g, saved, params, needs):
        return g * _hardtanh_mask(saved[0], params)

    @staticmethod
    def jvp(ns, ts, xs, out, params):
        return ts[0] * _hardtanh_mask(xs[0], params)


def _hardtanh_mask(x, params):
    return (x > params["min_val"]) & (x < params["max_val"])  # flat at the bounds (PyTorch)


class Hardswish(Elementwise):
    name = "hardswish"
    save = (0,)

    @staticmethod
    def forward(x):
        return x * np.clip(x + 3, 0, 6) / 6

    @staticmethod
    def derivative(ns, x, out):
        # PyTorch: 0 for x <= -3, x/3 + 1/2 inside, 1 for x >= 3
        return ns.where(x <= -3, 0.0, ns.where(x < 3, x / 3 + 0.5, 1.0))


def sigmoid(input):
    """1 / (1 + exp(-x)), accurate for large |x|."""
    return apply1(Sigmoid, floating(input, Sigmoid))


def logsigmoid(input):
    """log(sigmoid(x)) without overflow or underflow: min(x, 0) - log1p(exp(-|x|))."""
    return apply1(LogSigmoid, floating(input, LogSigmoid))


def relu(input, inplace=False):
    """max(x, 0); the gradient at 0 is 0. Integer tensors stay integer."""
    return apply1(Relu, input)


def relu6(input, inplace=False):
    """min(max(x, 0), 6)."""
    return hardtanh(input, 0.0, 6.0)


def leaky_relu(input, negative_slope=0.01, inplace=False):
    """x for x > 0, negative_slope * x otherwise."""
    return apply(LeakyRelu, floating(input), negative_slope=negative_slope)


def elu(input, alpha=1.0, inplace=False):
    """x for x > 0, alpha * (exp(x) - 1) otherwise."""
    return apply(Elu, floating(input), alpha=alpha, scale=1.0, input_scale=1.0)


def selu(input, inplace=False):
    """scale * elu(x, alpha) with the self-normalising constants of Klambauer et al. (2017)."""
    return apply(Elu, floating(input), alpha=_SELU_ALPHA, scale=_SELU_SCALE, input_scale=1.0)


def celu(input, alpha=1.0, inplace=False):
    """max(0, x) + min(0, alpha * (exp(x / alpha) - 1))."""
    if alpha == 0:
        raise ValueError("celu: alpha must not be 0")
    return apply(Elu, floating(input), alpha=alpha, scale=1.0, input_scale=1.0 / alpha)


def gelu(input, approximate="none"):
    """x * Phi(x), Phi the standard normal CDF; approximate='tanh' uses the tanh formula."""
    if approximate not in ("none", "tanh"):
        raise ValueError(f"gelu: approximate must be 'none' or 'tanh', got {approximate!r}")
    return apply(Gelu, floating(input), approximate=approximate)


def silu(input, inplace=False):
    """x * sigmoid(x) (also called swish)."""
    return apply1(Silu, floating(input, Silu))


def mish(input, inplace=False):
    """x * tanh(softplus(x))."""
    input = floating(input)
    return input * tanh(softplus(input))


def softplus(input, beta=1.0, threshold=20.0):
    """log(1 + exp(beta * x)) / beta; linear (x) where beta * x > threshold."""
    return apply(Softplus, floating(input), beta=beta, threshold=threshold)


def softsign(input):
    """x / (1 + |x|)."""
    input = floating(input)
    return input / (input.abs() + 1)


def hardtanh(input, min_val=-1.0, max_val=1.0, inplace=False):
    """x clamped to [min_val, max_val]; unlike clamp, the gradient is 0 at the bounds."""
    if min_val > max_val:
        raise ValueError(f"hardtanh: min_val ({min_val}) must not exceed max_val ({max_val})")
    return apply(Hardtanh, floating(input), min_val=min_val, max_val=max_val)


def hardsigmoid(input, inplace=False):
    """relu6(x + 3) / 6."""
    return relu6(floating(input) + 3) / 6


def hardswish(input, inplace=False):
    """x * relu6(x + 3) / 6."""
    return apply1(Hardswish, floating(input, Hardswish))


def tanhshrink(input):
    """x - tanh(x)."""
    input = floating(input)
    return input - tanh(input)


def softshrink(input, lambd=0.5):
    """x - lambd for x > lambd, x + lambd for x < -lambd, 0 in between."""
    if lambd < 0:
        raise ValueError(f"softshrink: lambd must be non-negative, got {lambd}")
    input = floating(input)
    return where(input > lambd, input - lambd, where(input < -lambd, input + lambd, 0.0))


def hardshrink(input, lambd=0.5):
    """x where |x| > lambd, 0 elsewhere."""
    return where((input > lambd) | (input < -lambd), input, 0.0)


def _relu_method(self):
    return relu(self)


# The compiled path for plain calls, where the accelerator is built (graph.fast_primitive).
sigmoid = fast_primitive(Sigmoid, sigmoid, 1, floating=True)
relu = fast_primitive(Relu, relu, 1)

TENSOR_METHODS = {
    "sigmoid": sigmoid,
    "relu": _relu_method,
    "hardshrink": hardshrink,
}
