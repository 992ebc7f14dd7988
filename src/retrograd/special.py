"""rg.special: PyTorch's torch.special names for the functions retrograd has (most are the
ordinary ops under their SciPy-style names), plus entr, xlog1py, ndtr, ndtri and log_ndtr.
All are differentiable."""

import math

from .autograd.tensor import Tensor, new_tensor
from .ops._selection import where
from .ops.activation import sigmoid as expit
from .ops.arithmetic import mul
from .ops.gamma import digamma, mvlgamma, polygamma
from .ops.gamma import lgamma as gammaln
from .ops.math import erf, erfc, erfinv, exp2, expm1, log, log1p
from .ops.math_extra import logit, sinc, xlogy
from .ops.reduction import log_softmax, logsumexp, softmax
from .ops.rounding import round  # noqa: A004

__all__ = [
    "expit", "logit", "xlogy", "xlog1py", "entr", "erf", "erfc", "erfinv", "expm1", "exp2",
    "log1p", "logsumexp", "softmax", "log_softmax", "sinc", "round", "gammaln", "digamma",
    "psi", "polygamma", "multigammaln", "ndtr", "ndtri", "log_ndtr",
]  # fmt: skip

psi = digamma
_SQRT_HALF = math.sqrt(0.5)


def multigammaln(input, p):
    """mvlgamma under SciPy's name."""
    return mvlgamma(input, p)


def xlog1py(input, other):
    """input * log1p(other), 0 where input is 0 (and other <= -1, where log1p is not finite)."""
    x = input if isinstance(input, Tensor) else other.new_tensor(input)
    y = other if isinstance(other, Tensor) else x.new_tensor(other)
    flat = (x.data == 0) & (y.data <= -1)
    if not flat.any():
        return mul(x, log1p(y))
    mask = new_tensor(flat)
    return where(mask, 0.0, mul(x, log1p(where(mask, 0.0, y))))


def entr(input):
    """-x log x elementwise: 0 at 0, -inf for negative x."""
    positive = new_tensor(input.data > 0)
    value = -input * log(where(positive, input, 1.0))
    return where(positive, value, where(input == 0, 0.0, -math.inf))


def ndtr(input):
    """The standard normal CDF."""
    return 0.5 * erfc(-input * _SQRT_HALF)


def ndtri(input):
    """The inverse of the standard normal CDF."""
    return math.sqrt(2.0) * erfinv(2 * input - 1)


def log_ndtr(input):
    """log of the standard normal CDF."""
    return log(ndtr(input))
