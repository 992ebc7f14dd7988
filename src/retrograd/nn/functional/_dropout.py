"""Dropout, as torch.nn.functional: inverted dropout (kept values scaled by 1 / (1 - p)).

Masks are drawn from rg's default generator (or `generator=`), so `rg.manual_seed` makes a
training run reproducible. With `training=False` (or p = 0) the input is returned unchanged.
"""

import numpy as np

from ...autograd import dtypes
from ...autograd.tensor import new_tensor
from ...ops import random as _random

__all__ = ["dropout", "dropout1d", "dropout2d", "dropout3d", "alpha_dropout"]


def _check_p(p, name):
    if not 0.0 <= p <= 1.0:
        raise ValueError(f"{name}: dropout probability has to be between 0 and 1, but got {p}")


def _keep_mask(shape, p, dtype, generator):
    """An array of 0 (dropped) and 1 / (1 - p) (kept), in `dtype`."""
    if p == 1.0:
        return np.zeros(shape, dtype=dtype)
    rng = _random._gen(generator)
    sample_dtype = dtype if dtype in (dtypes.float32, dtypes.float64) else np.float64
    keep = rng.random(shape, dtype=sample_dtype) >= p
    return keep.astype(dtype) * np.asarray(1.0 / (1.0 - p), dtype=dtype)


def dropout(input, p=0.5, training=True, inplace=False, *, generator=None):
    """Zero each element with probability p and scale the rest by 1 / (1 - p)."""
    _check_p(p, "dropout")
    if not training or p == 0.0:
        return input
    if not input.is_floating_point():
        raise TypeError(f"dropout: expected a floating-point input, got dtype {input.dtype}")
    return input * new_tensor(_keep_mask(input.shape, p, input.dtype, generator))


def _feature_dropout(input, p, training, name, batched_ndim, generator):
    """Drop whole channels: one draw per (sample, channel), broadcast over the rest."""
    _check_p(p, name)
    ndim = input.ndim
    if ndim not in (batched_ndim - 1, batched_ndim):
        raise ValueError(
            f"{name}: expected a {batched_ndim - 1}-D (unbatched) or {batched_ndim}-D (batched) "
            f"input, got shape {tuple(input.shape)}"
        )
    if not training or p == 0.0:
        return input
    channel_dims = 2 if ndim == batched_ndim else 1
    shape = tuple(input.shape[:channel_dims]) + (1,) * (ndim - channel_dims)
    return input * new_tensor(_keep_mask(shape, p, input.dtype, generator))


def dropout1d(input, p=0.5, training=True, inplace=False, *, generator=None):
    """Zero whole channels of a (N, C, L) or (C, L) input with probability p."""
    return _feature_dropout(input, p, training, "dropout1d", 3, generator)


def dropout2d(input, p=0.5, training=True, inplace=False, *, generator=None):
    """Zero whole channels of a (N, C, H, W) or (C, H, W) input with probability p."""
    return _feature_dropout(input, p, training, "dropout2d", 4, generator)


def dropout3d(input, p=0.5, training=True, inplace=False, *, generator=None):
    """Zero whole channels of a (N, C, D, H, W) or (C, D, H, W) input with probability p."""
    return _feature_dropout(input, p, training, "dropout3d", 5, generator)


_SELU_ALPHA = 1.6732632423543772848170429916717
_SELU_SCALE = 1.0507009873554804934193349852946


def alpha_dropout(input, p=0.5, training=False, inplace=False, *, generator=None):
    """Dropout for SELU networks: dropped values are set to SELU's negative saturation and an
    affine map keeps the mean and variance (Klambauer et al., 2017)."""
    _check_p(p, "alpha_dropout")
    if not training or p == 0.0:
        return input
    if p == 1.0:
        return input * 0.0
    alpha = -_SELU_ALPHA * _SELU_SCALE
    a = ((1 - p) * (1 + p * alpha**2)) ** -0.5
    b = -a * alpha * p
    rng = _random._gen(generator)
    keep = (rng.random(input.shape) >= p).astype(input.dtype)
    scale = new_tensor(keep * np.asarray(a, dtype=input.dtype))
    shift = new_tensor(((1 - keep) * alpha * a + b).astype(input.dtype))
    return input * scale + shift
