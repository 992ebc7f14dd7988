"""Normal and Uniform."""

import math

import numpy as np

from ..autograd.typeinfo import Size
from ..ops import random as _random
from ..ops.math import erf, erfinv
from .distribution import Distribution, as_parameters, new_tensor

__all__ = ["Normal", "Uniform"]

_HALF_LOG_2PI = 0.5 * math.log(2 * math.pi)


def _draw(shape, dtype, kind):
    rng = _random._gen(None)
    draw = rng.standard_normal(shape) if kind == "normal" else rng.random(shape)
    return new_tensor(np.asarray(draw, dtype=dtype))


class Normal(Distribution):
    """N(loc, scale^2), elementwise over the broadcast shape of loc and scale. rsample draws
    loc + scale * eps, differentiable in loc and scale."""

    has_rsample = True

    def __init__(self, loc, scale, validate_args=None):
        self.loc, self.scale = as_parameters(loc, scale)
        super().__init__(self.loc.shape, Size(), validate_args)
        if self._validate_args and not (self.scale.data > 0).all():
            raise ValueError(
                f"Normal: expected scale > 0 everywhere, got {self.scale.data.min()} as its "
                "smallest value"
            )

    def _params(self):
        return {"loc": self.loc, "scale": self.scale}

    @property
    def mean(self):
        return self.loc

    @property
    def mode(self):
        return self.loc

    @property
    def stddev(self):
        return self.scale

    @property
    def variance(self):
        return self.scale.pow(2)

    def rsample(self, sample_shape=()):
        shape = self._extended_shape(sample_shape)
        return self.loc + _draw(shape, self.loc.dtype, "normal") * self.scale

    def log_prob(self, value):
        return (-((value - self.loc) ** 2) / (2 * self.scale.pow(2)) - self.scale.log()
                - _HALF_LOG_2PI)

    def entropy(self):
        return 0.5 + _HALF_LOG_2PI + self.scale.log()

    def cdf(self, value):
        return 0.5 * (1 + erf((value - self.loc) * self.scale.reciprocal() / math.sqrt(2)))

    def icdf(self, value):
        return self.loc + self.scale * erfinv(2 * value - 1) * math.sqrt(2)


class Uniform(Distribution):
    """The uniform distribution on [low, high), elementwise; rsample is differentiable in both
    bounds."""

    has_rsample = True

    def __init__(self, low, high, validate_args=None):
        self.low, self.high = as_parameters(low, high)
        super().__init__(self.low.shape, Size(), validate_args)
        if self._validate_args and not (self.low.data < self.high.data).all():
            raise ValueError("Uniform: expected low < high everywhere")

    def _params(self):
        return {"low": self.low, "high": self.high}

    @property
    def mean(self):
        return (self.high + self.low) / 2

    @property
    def mode(self):
        return self.low * float("nan")

    @property
    def stddev(self):
        return (self.high - self.low) / 12**0.5

    @property
    def variance(self):
        return (self.high - self.low).pow(2) / 12

    def rsample(self, sample_shape=()):
        shape = self._extended_shape(sample_shape)
        return self.low + _draw(shape, self.low.dtype, "uniform") * (self.high - self.low)

    def log_prob(self, value):
        inside = (self.low <= value).type_as(self.low) * (self.high > value).type_as(self.low)
        return inside.log() - (self.high - self.low).log()

    def entropy(self):
        return (self.high - self.low).log()

    def cdf(self, value):
        return ((value - self.low) / (self.high - self.low)).clamp(0, 1)

    def icdf(self, value):
        return value * (self.high - self.low) + self.low
