"""The gamma family: lgamma, digamma (psi), polygamma and mvlgamma.

Primitives whose derivatives chain into each other (lgamma' = digamma, digamma' =
polygamma(1), polygamma(n)' = polygamma(n + 1)), so every order of derivative exists. The
kernels (in the array namespace) compute in float64: Lanczos for lgamma, the recurrence and the
asymptotic series for digamma and polygamma, reflection for negative arguments.
"""

import math

import numpy as np

from ..autograd import array_ns
from ..autograd.graph import Op
from ._elementwise import Elementwise, floating
from ._util import apply

__all__ = ["lgamma", "digamma", "polygamma", "mvlgamma"]


def _kernel(fn):
    def forward(x, **params):
        return fn(x, **params).astype(x.dtype, copy=False)

    return staticmethod(forward)


class Lgamma(Elementwise):
    name = "lgamma"
    save = (0,)
    forward = _kernel(array_ns.lgamma)

    @staticmethod
    def derivative(ns, x, out):
        return ns.digamma(x)


class Digamma(Elementwise):
    name = "digamma"
    save = (0,)
    forward = _kernel(array_ns.digamma)

    @staticmethod
    def derivative(ns, x, out):
        return ns.polygamma(1, x)


class Polygamma(Op):
    name = "polygamma"
    save = (0,)

    @staticmethod
    def forward(x, n):
        return array_ns.polygamma(n, x).astype(x.dtype, copy=False)

    @staticmethod
    def vjp(ns, g, saved, params, needs):
        return g * ns.polygamma(params["n"] + 1, saved[0])

    @staticmethod
    def jvp(ns, ts, xs, out, params):
        return ts[0] * array_ns.polygamma(params["n"] + 1, xs[0]).astype(out.dtype)


def lgamma(input):
    """log |Gamma(x)| (inf at 0 and the negative integers)."""
    return apply(Lgamma, floating(input, Lgamma))


def digamma(input):
    """psi(x) = d/dx log Gamma(x) (-inf at 0, NaN at the negative integers)."""
    return apply(Digamma, floating(input, Digamma))


psi = digamma


def polygamma(n, input):
    """The n-th derivative of digamma (n = 0 is digamma itself)."""
    n = int(n)
    if n < 0:
        raise ValueError(f"polygamma: n must be non-negative, got {n}")
    if n == 0:
        return digamma(input)
    return apply(Polygamma, floating(input), n=n)


def mvlgamma(input, p):
    """The log of the multivariate gamma function of dimension p: sum over i < p of
    lgamma(x - i / 2) plus p (p - 1) / 4 log(pi); every element must exceed (p - 1) / 2."""
    x = floating(input)
    if p < 1:
        raise ValueError(f"mvlgamma: p must be at least 1, got {p}")
    if (x.data <= (p - 1) / 2).any():
        raise RuntimeError(f"mvlgamma: all elements must be greater than (p - 1) / 2 = "
                           f"{(p - 1) / 2}")
    offsets = np.arange(p, dtype=x.data.dtype) / 2
    terms = lgamma(x.unsqueeze(-1) - offsets)
    return terms.sum(-1) + p * (p - 1) / 4 * math.log(math.pi)


def _polygamma_method(self, n):
    return polygamma(n, self)


TENSOR_METHODS = {
    "lgamma": lgamma,
    "digamma": digamma,
    "polygamma": _polygamma_method,
    "mvlgamma": mvlgamma,
}
