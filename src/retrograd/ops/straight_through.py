"""Straight-through estimators (Bengio, Leonard and Courville, 2013) for discrete ops.

round and sign have a zero gradient almost everywhere, which stops learning through them.
A straight-through estimator keeps the discrete forward value but passes the gradient as if
the op were the identity; with ``clip=True``, ste_sign zeroes it where |x| > 1 (the "hardtanh"
estimator of binarised networks, Hubara et al. 2016), so weights that saturate stop moving.
"""

import numpy as np

from ..autograd.graph import Op
from ._elementwise import floating
from ._util import apply

__all__ = ["ste_round", "ste_sign"]


class SteRound(Op):
    name = "ste_round"

    @staticmethod
    def forward(x):
        return np.round(x)

    @staticmethod
    def vjp(ns, g, saved, params, needs):
        return g

    @staticmethod
    def jvp(ns, ts, xs, out, params):
        return ts[0]


class SteSign(Op):
    name = "ste_sign"
    save = (0,)

    @staticmethod
    def forward(x, clip):
        return np.sign(x)

    @staticmethod
    def vjp(ns, g, saved, params, needs):
        if not params["clip"]:
            return g
        x = saved[0]
        return ns.where((x >= -1) & (x <= 1), g, 0.0)

    @staticmethod
    def jvp(ns, ts, xs, out, params):
        if not params["clip"]:
            return ts[0]
        return np.where(np.abs(xs[0]) <= 1, ts[0], 0.0)


def ste_round(input):
    """round(x) (half to even) forward; the gradient passes through unchanged."""
    return apply(SteRound, floating(input, SteRound))


def ste_sign(input, clip=False):
    """sign(x) forward (-1, 0 or 1, as rg.sign); the gradient passes through unchanged, or,
    with clip=True, only where -1 <= x <= 1."""
    return apply(SteSign, floating(input), clip=bool(clip))


TENSOR_METHODS = {}
