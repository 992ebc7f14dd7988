"""Categorical, OneHotCategorical and Bernoulli, parameterised by probabilities or logits."""

import numpy as np

from ..autograd.tensor import Tensor, new_tensor
from ..autograd.typeinfo import Size, finfo
from ..nn.functional._loss import binary_cross_entropy_with_logits
from ..ops import random as _random
from ..ops.activation import sigmoid
from ..ops.reduction import logsumexp, softmax
from ..ops.shape_extra import broadcast_tensors
from .distribution import Distribution

__all__ = ["Categorical", "OneHotCategorical", "Bernoulli"]


def _one_of(probs, logits, name):
    if (probs is None) == (logits is None):
        raise ValueError(f"{name}: give either probs or logits, not both and not neither")
    value = probs if probs is not None else logits
    if not isinstance(value, Tensor):
        value = new_tensor(np.asarray(value, dtype=np.float32))
    return value if value.is_floating_point() else value.float()


def _clamp_probs(probs):
    eps = finfo(probs.dtype).eps
    return probs.clamp(min=eps, max=1 - eps)


class Categorical(Distribution):
    """A distribution over the categories 0..K-1 of the last dim of `probs` (normalised to sum
    to 1) or `logits` (unnormalised log-probabilities); samples are int64 indices."""

    has_enumerate_support = True

    def __init__(self, probs=None, logits=None, validate_args=None):
        value = _one_of(probs, logits, "Categorical")
        if value.ndim < 1:
            raise ValueError("Categorical: probs or logits must have at least one dimension")
        if probs is not None:
            if validate_args is not False and (value.data < 0).any():
                raise ValueError("Categorical: probs must be non-negative")
            self.probs = value / value.sum(-1, keepdim=True)
            self.logits = _clamp_probs(self.probs).log()
        else:
            self.logits = value - logsumexp(value, -1, keepdim=True)
            self.probs = softmax(self.logits, -1)
        self._num_events = value.shape[-1]
        super().__init__(value.shape[:-1], Size(), validate_args)

    def _params(self):
        return {"probs": self.probs}

    @property
    def param_shape(self):
        return self.probs.shape

    @property
    def mean(self):
        return self.probs.new_full(tuple(self.batch_shape), float("nan"))

    @property
    def variance(self):
        return self.mean

    @property
    def mode(self):
        return self.probs.argmax(-1)

    def sample(self, sample_shape=()):
        shape = self._extended_shape(sample_shape)
        probs = self.probs.data.reshape(-1, self._num_events).astype(np.float64)
        cumulative = np.cumsum(probs, axis=-1)
        n = int(np.prod(shape[: len(shape) - len(self.batch_shape)], dtype=np.int64))
        u = _random._gen(None).random((n, probs.shape[0])) * cumulative[:, -1]
        picks = np.empty((n, probs.shape[0]), np.int64)
        for row in range(probs.shape[0]):  # one searchsorted per batch member
            picks[:, row] = np.searchsorted(cumulative[row], u[:, row], side="right")
        picks = np.minimum(picks, self._num_events - 1)
        return new_tensor(picks.reshape(shape))

    def log_prob(self, value):
        value = value if isinstance(value, Tensor) else new_tensor(np.asarray(value))
        if self._validate_args and value.data.size and (
            (value.data < 0).any() or (value.data >= self._num_events).any()
        ):
            raise ValueError(
                f"Categorical: values must be in 0..{self._num_events - 1}, got "
                f"{value.data.min()}..{value.data.max()}"
            )
        index, log_pmf = broadcast_tensors(value.long().unsqueeze(-1), self.logits)
        return log_pmf.gather(-1, index[..., :1]).squeeze(-1)

    def entropy(self):
        logits = self.logits.clamp(min=finfo(self.logits.dtype).min)
        return -(logits * self.probs).sum(-1)

    def enumerate_support(self, expand=True):
        values = new_tensor(np.arange(self._num_events, dtype=np.int64))
        values = values.reshape((-1,) + (1,) * len(self.batch_shape))
        return values.expand(-1, *self.batch_shape) if expand else values


class OneHotCategorical(Distribution):
    """Categorical with one-hot samples (a float vector per draw)."""

    has_enumerate_support = True

    def __init__(self, probs=None, logits=None, validate_args=None):
        self._categorical = Categorical(probs, logits, validate_args)
        self.probs, self.logits = self._categorical.probs, self._categorical.logits
        super().__init__(self._categorical.batch_shape, self.probs.shape[-1:], validate_args)

    def _params(self):
        return {"probs": self.probs}

    @property
    def mean(self):
        return self.probs

    @property
    def variance(self):
        return self.probs * (1 - self.probs)

    @property
    def mode(self):
        index = self.probs.argmax(-1)
        return new_tensor(np.eye(self.probs.shape[-1], dtype=self.probs.dtype)[index.data])

    def sample(self, sample_shape=()):
        index = self._categorical.sample(sample_shape)
        return new_tensor(np.eye(self.probs.shape[-1], dtype=self.probs.dtype)[index.data])

    def log_prob(self, value):
        return self._categorical.log_prob(value.argmax(-1))

    def entropy(self):
        return self._categorical.entropy()


class Bernoulli(Distribution):
    """1 with probability `probs` (or sigmoid(`logits`)), else 0; samples have the
    parameter's float dtype."""

    has_enumerate_support = True

    def __init__(self, probs=None, logits=None, validate_args=None):
        value = _one_of(probs, logits, "Bernoulli")
        if probs is not None:
            if validate_args is not False and ((value.data < 0) | (value.data > 1)).any():
                raise ValueError("Bernoulli: probs must be in [0, 1]")
            self.probs = value
            clamped = _clamp_probs(value)
            self.logits = clamped.log() - (-clamped).log1p()
        else:
            self.logits = value
            self.probs = sigmoid(value)
        super().__init__(value.shape, Size(), validate_args)

    def _params(self):
        return {"probs": self.probs}

    @property
    def mean(self):
        return self.probs

    @property
    def mode(self):
        return (self.probs >= 0.5).to(self.probs.dtype)

    @property
    def variance(self):
        return self.probs * (1 - self.probs)

    def sample(self, sample_shape=()):
        shape = self._extended_shape(sample_shape)
        p = np.broadcast_to(self.probs.data, shape)
        draws = _random._gen(None).random(shape) < p
        return new_tensor(draws.astype(self.probs.dtype))

    def log_prob(self, value):
        if not isinstance(value, Tensor):
            value = new_tensor(np.asarray(value, dtype=self.logits.dtype))
        logits, value = broadcast_tensors(self.logits, value.to(self.logits.dtype))
        return -binary_cross_entropy_with_logits(logits, value, reduction="none")

    def entropy(self):
        return binary_cross_entropy_with_logits(self.logits, self.probs, reduction="none")

    def enumerate_support(self, expand=True):
        values = new_tensor(np.arange(2, dtype=self.probs.dtype))
        values = values.reshape((-1,) + (1,) * len(self.batch_shape))
        return values.expand(-1, *self.batch_shape) if expand else values
