"""Activation functions, as torch.nn.functional.

Most are the elementwise ops of `retrograd.ops.activation` (re-exported here); the ones that
work along a dimension or take a learnable weight (softmax family, glu, prelu, normalize) are
composites defined below. The `inplace=` keyword is accepted for compatibility; results are
always new tensors.
"""

import warnings

from ...autograd.tensor import Tensor
from ...ops.activation import (
    celu,
    elu,
    gelu,
    hardshrink,
    hardsigmoid,
    hardswish,
    hardtanh,
    leaky_relu,
    logsigmoid,
    mish,
    relu,
    relu6,
    selu,
    sigmoid,
    silu,
    softplus,
    softshrink,
    softsign,
    tanhshrink,
)
from ...ops.comparison import where
from ...ops.joining import chunk
from ...ops.math import tanh
from ...ops.reduction import log_softmax as _log_softmax
from ...ops.reduction import norm
from ...ops.reduction import softmax as _softmax

__all__ = [
    "celu",
    "elu",
    "gelu",
    "glu",
    "hardshrink",
    "hardsigmoid",
    "hardswish",
    "hardtanh",
    "leaky_relu",
    "log_softmax",
    "logsigmoid",
    "mish",
    "normalize",
    "prelu",
    "relu",
    "relu6",
    "selu",
    "sigmoid",
    "silu",
    "softmax",
    "softmin",
    "softplus",
    "softshrink",
    "softsign",
    "tanh",
    "tanhshrink",
    "threshold",
]


def _softmax_dim(input, dim, name):
    if dim is not None:
        return dim
    # PyTorch's legacy implicit choice, with its warning.
    warnings.warn(
        f"Implicit dimension choice for {name} has been deprecated. Change the call to include "
        "dim=X as an argument.",
        UserWarning,
        stacklevel=3,
    )
    return 0 if input.ndim in (0, 1, 3) else 1


def softmax(input, dim=None, _stacklevel=3, dtype=None):
    """exp(x) / sum(exp(x)) along `dim`."""
    return _softmax(input, _softmax_dim(input, dim, "softmax"), dtype=dtype)


def log_softmax(input, dim=None, _stacklevel=3, dtype=None):
    """log(softmax(x)) along `dim`, computed stably."""
    return _log_softmax(input, _softmax_dim(input, dim, "log_softmax"), dtype=dtype)


def softmin(input, dim=None, _stacklevel=3, dtype=None):
    """softmax(-x) along `dim`."""
    return _softmax(-input, _softmax_dim(input, dim, "softmin"), dtype=dtype)


def glu(input, dim=-1):
    """Gated linear unit: a * sigmoid(b), where a and b are the two halves of `dim`."""
    if input.ndim == 0:
        raise ValueError("glu: does not support 0-d (scalar) tensors")
    size = input.shape[dim]
    if size % 2:
        raise ValueError(
            f"glu: halving dimension {dim} needs an even size, got shape {tuple(input.shape)}"
        )
    a, b = chunk(input, 2, dim)
    return a * sigmoid(b)


def prelu(input, weight):
    """x for x > 0, weight * x otherwise; `weight` has one element or one per channel (dim 1)."""
    n = weight.numel()
    if n != 1:
        channels = input.shape[1] if input.ndim >= 2 else input.shape[0] if input.ndim else 1
        if channels != n:
            raise ValueError(
                f"prelu: weight has {n} elements but the input has {channels} channels "
                f"(shape {tuple(input.shape)})"
            )
        if input.ndim >= 2:
            weight = weight.reshape((n,) + (1,) * (input.ndim - 2))
    return where(input > 0, input, weight * input)


def threshold(input, threshold, value, inplace=False):
    """x where x > threshold, else `value`."""
    return where(input > threshold, input, value)


def normalize(input, p=2.0, dim=1, eps=1e-12, out=None):
    """x / max(||x||_p, eps) along `dim`."""
    if out is not None:
        raise TypeError("normalize: out= is not supported")
    if not isinstance(input, Tensor):
        raise TypeError(f"normalize: expected a Tensor, got {type(input).__name__}")
    denom = norm(input, p, dim, keepdim=True).clamp_min(eps)
    return input / denom
