"""The Distribution base class and Independent (PyTorch's torch.distributions API)."""

import numpy as np

from ..autograd.grad_mode import no_grad
from ..autograd.tensor import Tensor, new_tensor
from ..autograd.typeinfo import Size
from ..ops.shape_extra import broadcast_tensors

__all__ = ["Distribution", "Independent"]

_VALIDATE = True


class Distribution:
    """A family of probability distributions with `batch_shape` independent members, each over
    values of `event_shape`.

    `sample(shape)` draws without gradient, `rsample(shape)` with the reparameterisation
    gradient where the distribution has one; both return `shape + batch_shape + event_shape`.
    Draws come from rg's default generator (`rg.manual_seed` makes them reproducible).
    """

    has_rsample = False
    has_enumerate_support = False

    def __init__(self, batch_shape=(), event_shape=(), validate_args=None):
        self._batch_shape = Size(batch_shape)
        self._event_shape = Size(event_shape)
        self._validate_args = _VALIDATE if validate_args is None else validate_args

    @staticmethod
    def set_default_validate_args(value):
        """Whether new distributions check their parameters (on by default, as in PyTorch)."""
        global _VALIDATE
        _VALIDATE = bool(value)

    @property
    def batch_shape(self):
        return self._batch_shape

    @property
    def event_shape(self):
        return self._event_shape

    def _extended_shape(self, sample_shape=()):
        if isinstance(sample_shape, int):
            sample_shape = (sample_shape,)
        return Size(tuple(sample_shape) + tuple(self._batch_shape) + tuple(self._event_shape))

    def sample(self, sample_shape=()):
        with no_grad():
            return self.rsample(sample_shape).detach()

    def sample_n(self, n):
        return self.sample((n,))

    def rsample(self, sample_shape=()):
        raise NotImplementedError(
            f"{type(self).__name__}: rsample is not available (no reparameterised sampler); "
            "use sample() and a score-function estimator"
        )

    def log_prob(self, value):
        raise NotImplementedError(f"{type(self).__name__}: log_prob is not implemented")

    def entropy(self):
        raise NotImplementedError(f"{type(self).__name__}: entropy is not implemented")

    def cdf(self, value):
        raise NotImplementedError(f"{type(self).__name__}: cdf is not implemented")

    def icdf(self, value):
        raise NotImplementedError(f"{type(self).__name__}: icdf is not implemented")

    def perplexity(self):
        return self.entropy().exp()

    @property
    def mean(self):
        raise NotImplementedError(f"{type(self).__name__}: mean is not implemented")

    @property
    def mode(self):
        raise NotImplementedError(f"{type(self).__name__}: mode is not implemented")

    @property
    def variance(self):
        raise NotImplementedError(f"{type(self).__name__}: variance is not implemented")

    @property
    def stddev(self):
        return self.variance.sqrt()

    def __repr__(self):
        params = ", ".join(
            f"{name}: {tuple(value.shape) if value.ndim else value.item()!r}"
            for name, value in self._params().items()
        )
        return f"{type(self).__name__}({params})"

    def _params(self):
        return {}


def as_parameters(*values):
    """The parameters as tensors broadcast together (numbers take the tensors' float dtype)."""
    like = next((v for v in values if isinstance(v, Tensor)), None)
    tensors = []
    for v in values:
        if isinstance(v, Tensor):
            tensors.append(v if v.is_floating_point() else v.float())
        else:
            dtype = like.dtype if like is not None and like.is_floating_point() else None
            array = np.asarray(v, dtype=dtype if dtype is not None else np.float32)
            tensors.append(new_tensor(array))
    return broadcast_tensors(*tensors)


class Independent(Distribution):
    """`base_distribution` with its last `reinterpreted_batch_ndims` batch dims read as event
    dims: log_prob and entropy sum over them (a diagonal Gaussian from a batch of Normals)."""

    def __init__(self, base_distribution, reinterpreted_batch_ndims, validate_args=None):
        shape = tuple(base_distribution.batch_shape) + tuple(base_distribution.event_shape)
        n = reinterpreted_batch_ndims
        if n > len(base_distribution.batch_shape):
            raise ValueError(
                f"Independent: reinterpreted_batch_ndims ({n}) must be at most the base "
                f"distribution's number of batch dims ({len(base_distribution.batch_shape)})"
            )
        event_dims = n + len(base_distribution.event_shape)
        split = len(shape) - event_dims
        super().__init__(shape[:split], shape[split:], validate_args)
        self.base_dist = base_distribution
        self.reinterpreted_batch_ndims = n
        self.has_rsample = base_distribution.has_rsample

    def _sum_rightmost(self, value):
        n = self.reinterpreted_batch_ndims
        return value.sum(tuple(range(-n, 0))) if n else value

    def sample(self, sample_shape=()):
        return self.base_dist.sample(sample_shape)

    def rsample(self, sample_shape=()):
        return self.base_dist.rsample(sample_shape)

    def log_prob(self, value):
        return self._sum_rightmost(self.base_dist.log_prob(value))

    def entropy(self):
        return self._sum_rightmost(self.base_dist.entropy())

    @property
    def mean(self):
        return self.base_dist.mean

    @property
    def mode(self):
        return self.base_dist.mode

    @property
    def variance(self):
        return self.base_dist.variance

    def __repr__(self):
        return f"Independent({self.base_dist!r}, {self.reinterpreted_batch_ndims})"
