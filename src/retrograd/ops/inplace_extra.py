"""Less common in-place ops: fill_diagonal_, the random fills (bernoulli_, random_,
exponential_, geometric_, log_normal_, cauchy_) and the in-place view changes (unsqueeze_,
squeeze_, t_, transpose_, swapdims_).

Same rules as inplace.py: the array is changed in place and the version counter goes up, so a
node that saved the old tensor refuses to backpropagate through it (PyTorch counts a view change
as an in-place change too).
"""

import numpy as np

from ..autograd import dtypes, graph
from . import indexing, shape
from ._inplace_core import as_value, bump_version, check_writable, is_plain, record_inplace
from ._util import Tensor, new_tensor
from .inplace import _random_fill
from .random import _gen

__all__ = []


# ----------------------------------------------------------------- fill_diagonal_


def _diagonal_positions(shape_, wrap):
    """Flat positions of a[i, i, ..., i] (for a tall 2-D matrix with wrap, the diagonal starts
    again every cols + 1 rows, as NumPy's and PyTorch's fill_diagonal)."""
    size = int(np.prod(shape_))
    step = 1 + sum(int(np.prod(shape_[k + 1:])) for k in range(len(shape_) - 1))
    end = size if wrap and len(shape_) == 2 else min(shape_) * step
    return np.arange(0, min(end, size), step)


def fill_diagonal_(self, fill_value, wrap=False):
    """Write fill_value on the main diagonal: a[i, i] (2-D, any shape) or a[i, i, ..., i]
    (all dims equal); `wrap` continues the diagonal of a tall matrix below its first square."""
    shape_ = self.data.shape
    if self.data.ndim < 2 or (self.data.ndim > 2 and len(set(shape_)) != 1):
        raise RuntimeError(
            f"fill_diagonal_: expected a 2-D tensor or one whose dims are all equal, got shape "
            f"{self.shape}"
        )
    positions = _diagonal_positions(shape_, wrap)
    if is_plain(self, fill_value):
        check_writable(self, "fill_diagonal_")
        np.fill_diagonal(self.data, fill_value, wrap=wrap)
        bump_version(self, "fill_diagonal_")
        return self
    value = as_value(fill_value, self, "fill_diagonal_")
    return record_inplace(self, "fill_diagonal_", _fill_flat, (value,), cast=True,
                          positions=positions)


def _fill_flat(x, value, positions):
    flat = indexing.index_put(x.reshape(-1), (positions,), value)
    return flat.reshape(x.data.shape)


# ----------------------------------------------------------------- random fills


def _random_any(self, name, draw):
    """A random fill allowed on integer tensors too (bernoulli_, random_, geometric_)."""
    values = draw(self.shape)
    if is_plain(self):
        check_writable(self, name)
        np.copyto(self.data, values, casting="unsafe")
        bump_version(self, name)
        return self
    return record_inplace(self, name, _overwrite, (new_tensor(values),), cast=True)


def _overwrite(x, values):
    return indexing.index_put(x, Ellipsis, values)


def bernoulli_(self, p=0.5, *, generator=None):
    """1 with probability p (a number or a tensor broadcast to self), else 0."""
    rng = _gen(generator)
    prob = p.data if isinstance(p, Tensor) else np.asarray(p)
    if np.any((prob < 0) | (prob > 1)):
        raise ValueError("bernoulli_: p must be in [0, 1]")
    return _random_any(self, "bernoulli_", lambda s: rng.random(s) < prob)


def random_(self, *args, generator=None, **kwargs):
    """Integers uniform in [from, to): `random_(to)`, `random_(from, to)`, or `random_()` for
    [0, 2^mantissa] (floats) / [0, max] (integers), as PyTorch."""
    low, high = 0, None
    if "from" in kwargs:
        low = kwargs.pop("from")
    if "to" in kwargs:
        high = kwargs.pop("to")
    if kwargs:
        raise TypeError(f"random_: unexpected keyword arguments {sorted(kwargs)}")
    if len(args) == 1:
        high = args[0]
    elif len(args) == 2:
        low, high = args
    elif args:
        raise TypeError(f"random_: expected at most 2 positional arguments, got {len(args)}")
    dtype = self.dtype
    if high is None:  # the largest value the dtype holds exactly, inclusive
        if dtype.kind == "b":
            top = 1
        elif dtypes.is_floating(dtype):
            top = 2 ** (np.finfo(dtype).nmant + 1) if dtype.kind == "f" else 2**8
        else:
            top = int(np.iinfo(dtype).max)
    else:
        top = high - 1
    if low > top:
        raise RuntimeError(f"random_: expects 'from' ({low}) < 'to' ({top + 1})")
    rng = _gen(generator)
    return _random_any(self, "random_",
                       lambda s: rng.integers(low, top, s, dtype=np.int64, endpoint=True))


def exponential_(self, lambd=1.0, *, generator=None):
    """Samples of the exponential distribution with rate lambd."""
    rng = _gen(generator)
    return _random_fill(self, "exponential_",
                        lambda s, dt: rng.exponential(1.0 / lambd, s).astype(dt))


def geometric_(self, p, *, generator=None):
    """Samples of the geometric distribution: the number of trials up to the first success."""
    rng = _gen(generator)
    return _random_any(self, "geometric_", lambda s: rng.geometric(p, s))


def log_normal_(self, mean=1.0, std=2.0, *, generator=None):
    """exp of samples of N(mean, std^2)."""
    rng = _gen(generator)
    return _random_fill(self, "log_normal_",
                        lambda s, dt: rng.lognormal(mean, std, s).astype(dt))


def cauchy_(self, median=0.0, sigma=1.0, *, generator=None):
    rng = _gen(generator)
    return _random_fill(self, "cauchy_",
                        lambda s, dt: (median + sigma * rng.standard_cauchy(s)).astype(dt))


# ----------------------------------------------------------------- view changes in place


def _view_(self, name, fn, *args):
    """self becomes fn(self, *args) (a view op): same memory, new shape, new graph node."""
    if self._node is None and self._requires_grad and graph._grad_enabled:
        raise RuntimeError(
            f"{name}: a leaf tensor that requires grad is used in an in-place operation; use "
            f"the out-of-place '{name[:-1]}'"
        )
    result = fn(self, *args)
    bump_version(self, name)  # as PyTorch: a node that saved self sees the change
    self.data = result.data
    self._node = result._node
    self._requires_grad = result._requires_grad
    return self


def unsqueeze_(self, dim):
    return _view_(self, "unsqueeze_", shape.unsqueeze, dim)


def squeeze_(self, dim=None):
    return _view_(self, "squeeze_", shape.squeeze, dim)


def transpose_(self, dim0, dim1):
    return _view_(self, "transpose_", shape.transpose, dim0, dim1)


def t_(self):
    if self.data.ndim > 2:
        raise RuntimeError(f"t_: expects a tensor with <= 2 dimensions, got {self.shape}")
    if self.data.ndim < 2:
        return _view_(self, "t_", shape.reshape, self.data.shape)
    return _view_(self, "t_", shape.transpose, 0, 1)


TENSOR_METHODS = {
    "fill_diagonal_": fill_diagonal_,
    "bernoulli_": bernoulli_,
    "random_": random_,
    "exponential_": exponential_,
    "geometric_": geometric_,
    "log_normal_": log_normal_,
    "cauchy_": cauchy_,
    "unsqueeze_": unsqueeze_,
    "squeeze_": squeeze_,
    "transpose_": transpose_,
    "swapdims_": transpose_,
    "swapaxes_": transpose_,
    "t_": t_,
}
