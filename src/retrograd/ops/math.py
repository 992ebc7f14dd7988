"""Elementwise math: exp, log, powers and roots, trigonometric and hyperbolic functions."""

import numpy as np

from ..autograd.graph import Op
from ._util import apply

__all__ = ["exp", "log", "tanh"]


class Exp(Op):
    name = "exp"
    save_out = True

    @staticmethod
    def forward(x):
        return np.exp(x)

    @staticmethod
    def vjp(ns, g, saved, params, needs):
        (out,) = saved
        return g * out

    @staticmethod
    def jvp(ns, ts, xs, out, params):
        return ts[0] * out


class Log(Op):
    name = "log"
    save = (0,)

    @staticmethod
    def forward(x):
        return np.log(x)

    @staticmethod
    def vjp(ns, g, saved, params, needs):
        (x,) = saved
        return g / x

    @staticmethod
    def jvp(ns, ts, xs, out, params):
        return ts[0] / xs[0]


class Tanh(Op):
    name = "tanh"
    save_out = True

    @staticmethod
    def forward(x):
        return np.tanh(x)

    @staticmethod
    def vjp(ns, g, saved, params, needs):
        (out,) = saved
        return g * (1 - out * out)

    @staticmethod
    def jvp(ns, ts, xs, out, params):
        return ts[0] * (1 - out * out)


def exp(input):
    return apply(Exp, input)


def log(input):
    return apply(Log, input)


def tanh(input):
    return apply(Tanh, input)


TENSOR_METHODS = {"exp": exp, "log": log, "tanh": tanh}
