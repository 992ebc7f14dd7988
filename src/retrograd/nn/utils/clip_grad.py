"""Gradient clipping: clip_grad_norm_, clip_grad_value_, get_total_norm, clip_grads_with_norm_.

As in PyTorch, the gradients are changed in place (under no_grad) and the total norm is
returned as a 0-d tensor, so training loops can log it.
"""

import math

import numpy as np

from ...autograd.grad_mode import no_grad
from ...autograd.tensor import Tensor
from ...ops.creation import tensor as _tensor
from ...ops.joining import stack
from ...ops.reduction import norm

__all__ = ["clip_grad_norm_", "clip_grad_value_", "get_total_norm", "clip_grads_with_norm_"]


def _params(parameters):
    if isinstance(parameters, Tensor):
        return [parameters]
    return list(parameters)


def get_total_norm(tensors, norm_type=2.0, error_if_nonfinite=False, foreach=None):
    """The `norm_type`-norm of all `tensors` together, as if concatenated into one vector
    (inf: the largest absolute value)."""
    tensors = [t for t in _params(tensors) if t is not None]
    norm_type = float(norm_type)
    if not tensors:
        return _tensor(0.0)
    with no_grad():
        norms = stack([norm(t.detach(), norm_type).to(tensors[0].dtype) for t in tensors])
        total = norm(norms, norm_type)
    if error_if_nonfinite and not math.isfinite(total.item()):
        raise RuntimeError(
            f"The total norm of order {norm_type} for gradients from `parameters` is "
            "non-finite, so it cannot be clipped. To disable this error and scale the gradients "
            "by the non-finite norm anyway, set `error_if_nonfinite=False`"
        )
    return total


def clip_grads_with_norm_(parameters, max_norm, total_norm, foreach=None):
    """Scale every gradient by min(1, max_norm / (total_norm + 1e-6)), in place."""
    grads = [p.grad for p in _params(parameters) if p.grad is not None]
    if not grads:
        return
    coef = min(float(max_norm) / (float(total_norm) + 1e-6), 1.0)
    if math.isnan(float(total_norm)):
        coef = math.nan  # PyTorch lets a NaN norm through to the gradients
    # NOTE: an infinite gradient times a zero coefficient is NaN, which PyTorch passes on
    # silently; so do we.
    with no_grad(), np.errstate(invalid="ignore"):
        for g in grads:
            g.mul_(coef)


def clip_grad_norm_(parameters, max_norm, norm_type=2.0, error_if_nonfinite=False, foreach=None):
    """Rescale the gradients of `parameters` so their total `norm_type`-norm is at most
    `max_norm`; returns the total norm before clipping.

    The gradients are multiplied by min(1, max_norm / (total_norm + 1e-6)). A non-finite
    total norm raises a RuntimeError when `error_if_nonfinite` is True.
    """
    params = _params(parameters)
    grads = [p.grad for p in params if p.grad is not None]
    total = get_total_norm(grads, norm_type, error_if_nonfinite)
    clip_grads_with_norm_(params, max_norm, total)
    return total


def clip_grad_value_(parameters, clip_value, foreach=None):
    """Clamp every gradient to [-clip_value, clip_value], in place."""
    clip_value = float(clip_value)
    with no_grad():
        for p in _params(parameters):
            if p.grad is not None:
                p.grad.clamp_(-clip_value, clip_value)
