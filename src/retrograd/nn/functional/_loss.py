"""Loss functions with PyTorch's signatures, defaults and reductions ('mean', 'sum', 'none').

Cross-entropy and NLL with class indices and binary cross-entropy are fused primitives
(`ops/loss.py`); everything else is composed from ordinary differentiable ops, so any function
of tensors is a valid loss in the same way. The regression and margin losses live in
`_loss_extra.py`.
"""

import warnings

from ...autograd import dtypes
from ...autograd.tensor import Tensor
from ...ops.activation import logsigmoid
from ...ops.comparison import where
from ...ops.loss import binary_cross_entropy_elementwise, cross_entropy_indices, nll_loss_indices
from ...ops.math import exp, log
from ...ops.reduction import log_softmax

__all__ = [
    "mse_loss",
    "l1_loss",
    "smooth_l1_loss",
    "huber_loss",
    "cross_entropy",
    "nll_loss",
    "binary_cross_entropy",
    "binary_cross_entropy_with_logits",
    "kl_div",
]

_REDUCTIONS = ("mean", "sum", "none")


# ----------------------------------------------------------------- argument checks
def legacy_reduction(size_average, reduce, reduction):
    """PyTorch's deprecated size_average/reduce pair, turned into a reduction string."""
    if size_average is None and reduce is None:
        return reduction
    warnings.warn(
        "size_average and reduce are deprecated, please use reduction='mean'|'sum'|'none'",
        DeprecationWarning,
        stacklevel=3,
    )
    size_average = True if size_average is None else size_average
    reduce = True if reduce is None else reduce
    return "mean" if size_average and reduce else "sum" if reduce else "none"


def check_reduction(reduction, name, allowed=_REDUCTIONS):
    if reduction not in allowed:
        choices = ", ".join(repr(r) for r in allowed)
        raise ValueError(f"{name}: reduction must be one of {choices}; got {reduction!r}")


def check_tensor(t, what, name):
    if not isinstance(t, Tensor):
        raise TypeError(f"{name}: {what} must be a Tensor, got {type(t).__name__}")


def check_floating(t, what, name):
    check_tensor(t, what, name)
    if not dtypes.is_floating(t.data.dtype):
        raise TypeError(
            f"{name}: expected a floating-point {what}, got dtype {t.dtype}; cast it first "
            f"({what}.float())"
        )


def _broadcast_shape(a, b):
    out = []
    for i in range(1, max(len(a), len(b)) + 1):
        m = a[-i] if i <= len(a) else 1
        n = b[-i] if i <= len(b) else 1
        if m != n and m != 1 and n != 1:
            return None
        out.append(max(m, n) if m != 0 and n != 0 else 0)
    return tuple(reversed(out))


def check_pair(input, target, name, same_shape=False):
    """Input and target must be Tensors whose shapes broadcast (equal, with `same_shape`);
    different but broadcastable shapes warn, as in PyTorch."""
    check_tensor(input, "input", name)
    check_tensor(target, "target", name)
    a, b = tuple(input.shape), tuple(target.shape)
    if a == b:
        return
    if same_shape:
        raise ValueError(f"{name}: target of shape {b} must have the input's shape {a}")
    if _broadcast_shape(a, b) is None:
        raise ValueError(f"{name}: target of shape {b} does not broadcast with input of shape {a}")
    warnings.warn(
        f"{name}: using a target of shape {b} with an input of shape {a}; they are broadcast, "
        "which is likely not what you meant. Make them the same shape.",
        UserWarning,
        stacklevel=3,
    )


def reduce_loss(loss, reduction):
    if reduction == "none":
        return loss
    return loss.sum() if reduction == "sum" else loss.mean()


def _weighted(loss, weight, input, reduction, name, mean_by_weight):
    """Elementwise `weight` (the input's shape, PyTorch's new keyword): 'mean' divides by the
    total weight (mse, l1) or by the element count (huber), as PyTorch does."""
    if weight is None:
        return reduce_loss(loss, reduction)
    check_tensor(weight, "weight", name)
    if tuple(weight.shape) != tuple(input.shape):
        raise ValueError(
            f"{name}: weight of shape {tuple(weight.shape)} must have the input's shape "
            f"{tuple(input.shape)}"
        )
    loss = loss * weight
    if reduction == "mean" and mean_by_weight:
        return loss.sum() / weight.sum()
    return reduce_loss(loss, reduction)


# ----------------------------------------------------------------- regression
def mse_loss(input, target, size_average=None, reduce=None, reduction="mean", weight=None):
    """Mean squared error (input - target)^2, reduced; input and target broadcast."""
    reduction = legacy_reduction(size_average, reduce, reduction)
    check_reduction(reduction, "mse_loss")
    check_pair(input, target, "mse_loss")
    d = input - target
    return _weighted(d * d, weight, input, reduction, "mse_loss", True)


def l1_loss(input, target, size_average=None, reduce=None, reduction="mean", weight=None):
    """Mean absolute error |input - target| (gradient 0 where they are equal)."""
    reduction = legacy_reduction(size_average, reduce, reduction)
    check_reduction(reduction, "l1_loss")
    check_pair(input, target, "l1_loss")
    return _weighted((input - target).abs(), weight, input, reduction, "l1_loss", True)


def smooth_l1_loss(input, target, size_average=None, reduce=None, reduction="mean", beta=1.0):
    """0.5 d^2 / beta where |d| < beta, else |d| - 0.5 beta (d = input - target); beta = 0 is
    the L1 loss."""
    reduction = legacy_reduction(size_average, reduce, reduction)
    check_reduction(reduction, "smooth_l1_loss")
    check_pair(input, target, "smooth_l1_loss")
    if beta < 0:
        raise ValueError(f"smooth_l1_loss: beta must be non-negative, got {beta}")
    d = input - target
    ad = d.abs()
    if beta == 0:
        return reduce_loss(ad, reduction)
    return reduce_loss(where(ad < beta, d * d * (0.5 / beta), ad - 0.5 * beta), reduction)


def huber_loss(input, target, reduction="mean", delta=1.0, weight=None):
    """0.5 d^2 where |d| < delta, else delta (|d| - 0.5 delta): smooth_l1_loss times delta."""
    check_reduction(reduction, "huber_loss")
    check_pair(input, target, "huber_loss")
    if delta <= 0:
        raise ValueError(f"huber_loss: delta must be positive, got {delta}")
    d = input - target
    ad = d.abs()
    loss = where(ad < delta, d * d * 0.5, (ad - 0.5 * delta) * delta)
    return _weighted(loss, weight, input, reduction, "huber_loss", False)


# ----------------------------------------------------------------- classification
def _class_weight(weight, classes, input, name):
    """The class weight as an array of the input's dtype (PyTorch does not differentiate it)."""
    if weight is None:
        return None
    check_tensor(weight, "weight", name)
    if tuple(weight.shape) != (classes,):
        raise ValueError(
            f"{name}: weight must be a 1-D tensor with one entry per class ({classes}), got "
            f"shape {tuple(weight.shape)}"
        )
    return weight.data.astype(input.data.dtype, copy=False)


def _class_indices(input, target, name):
    """(input as (N, C, *), target as an integer array (N, *), whether the input was 1-D)."""
    if target.data.dtype.kind not in "iu":
        raise TypeError(
            f"{name}: expected class indices of an integer dtype as target, got dtype "
            f"{target.dtype} and shape {tuple(target.shape)}"
            + (
                f" (probability targets must have the input's shape {tuple(input.shape)})"
                if name == "cross_entropy"
                else ""
            )
        )
    if input.ndim == 1:
        if target.ndim != 0:
            raise ValueError(
                f"{name}: an unbatched input of shape {tuple(input.shape)} takes a 0-d target "
                f"(one class index), got shape {tuple(target.shape)}"
            )
        return input.reshape(1, -1), target.data.reshape(1), True
    expected = (input.shape[0],) + tuple(input.shape[2:])
    if tuple(target.shape) != expected:
        raise ValueError(
            f"{name}: expected target of shape {expected} for an input of shape "
            f"{tuple(input.shape)} (N, C, ...), got shape {tuple(target.shape)}"
        )
    return input, target.data, False


def _check_classifier_input(input, name):
    check_floating(input, "input", name)
    if input.ndim == 0:
        raise ValueError(f"{name}: input must have a class dimension, got a 0-d tensor")


def cross_entropy(input, target, weight=None, size_average=None, ignore_index=-100,
                  reduce=None, reduction="mean", label_smoothing=0.0):
    """Cross-entropy between logits `input` (C,), (N, C) or (N, C, d1, ...) and either class
    indices (an integer target of shape (), (N,) or (N, d1, ...)) or class probabilities (a
    floating target of the input's shape), computed stably from log_softmax.

    `weight` (C,) rescales each class; `ignore_index` targets contribute nothing and, with
    'mean', are left out of the denominator, which is the total weight of the other targets;
    `label_smoothing` mixes the target with the uniform distribution."""
    reduction = legacy_reduction(size_average, reduce, reduction)
    check_reduction(reduction, "cross_entropy")
    _check_classifier_input(input, "cross_entropy")
    check_tensor(target, "target", "cross_entropy")
    if not 0.0 <= label_smoothing <= 1.0:
        raise ValueError(
            f"cross_entropy: label_smoothing must be in [0, 1], got {label_smoothing}"
        )
    class_dim = 0 if input.ndim == 1 else 1
    classes = input.shape[class_dim]
    w = _class_weight(weight, classes, input, "cross_entropy")
    if dtypes.is_floating(target.data.dtype) and tuple(target.shape) == tuple(input.shape):
        return _cross_entropy_probs(input, target, weight, class_dim, reduction, label_smoothing)
    x, t, unbatched = _class_indices(input, target, "cross_entropy")
    out = cross_entropy_indices(x, t, w, ignore_index, label_smoothing, reduction)
    return out.reshape(()) if unbatched and reduction == "none" else out


def _cross_entropy_probs(input, target, weight, class_dim, reduction, label_smoothing):
    classes = input.shape[class_dim]
    logp = log_softmax(input, class_dim)
    if label_smoothing > 0.0:
        target = target * (1.0 - label_smoothing) + label_smoothing / classes
    terms = logp * target
    if weight is not None:
        shape = [1] * input.ndim
        shape[class_dim] = classes
        terms = terms * _same_dtype(weight, input).reshape(shape)
    if reduction == "none":
        return -terms.sum(class_dim)
    total = -terms.sum()
    if reduction == "sum":
        return total
    count = input.numel() // classes if classes else 0
    return total / count if count else total * float("nan")


def nll_loss(input, target, weight=None, size_average=None, ignore_index=-100, reduce=None,
             reduction="mean"):
    """Negative log-likelihood of log-probabilities `input` (C,), (N, C) or (N, C, d1, ...)
    for class-index targets, with cross_entropy's `weight`, `ignore_index` and 'mean'."""
    reduction = legacy_reduction(size_average, reduce, reduction)
    check_reduction(reduction, "nll_loss")
    _check_classifier_input(input, "nll_loss")
    check_tensor(target, "target", "nll_loss")
    classes = input.shape[0 if input.ndim == 1 else 1]
    w = _class_weight(weight, classes, input, "nll_loss")
    x, t, unbatched = _class_indices(input, target, "nll_loss")
    out = nll_loss_indices(x, t, w, ignore_index, reduction)
    return out.reshape(()) if unbatched and reduction == "none" else out


def _same_dtype(target, input):
    return target if target.data.dtype == input.data.dtype else target.to(input.dtype)


def binary_cross_entropy(input, target, weight=None, size_average=None, reduce=None,
                         reduction="mean"):
    """-(t log x + (1 - t) log(1 - x)) for probabilities x = `input` and targets t of the same
    shape; logs are clamped at -100, as in PyTorch. `weight` broadcasts against the loss."""
    reduction = legacy_reduction(size_average, reduce, reduction)
    check_reduction(reduction, "binary_cross_entropy")
    check_floating(input, "input", "binary_cross_entropy")
    check_pair(input, target, "binary_cross_entropy", same_shape=True)
    check_floating(target, "target", "binary_cross_entropy")
    loss = binary_cross_entropy_elementwise(input, _same_dtype(target, input))
    if weight is not None:
        check_tensor(weight, "weight", "binary_cross_entropy")
        if _broadcast_shape(tuple(weight.shape), tuple(target.shape)) is None:
            raise ValueError(
                f"binary_cross_entropy: weight of shape {tuple(weight.shape)} does not "
                f"broadcast with target of shape {tuple(target.shape)}"
            )
        loss = loss * weight
    return reduce_loss(loss, reduction)


def binary_cross_entropy_with_logits(input, target, weight=None, size_average=None,
                                     reduce=None, reduction="mean", pos_weight=None):
    """Binary cross-entropy of sigmoid(input), computed stably from the logits:
    (1 - t) x - (1 + (pos_weight - 1) t) logsigmoid(x), times `weight`. `pos_weight` weighs the
    positive examples of each class (it broadcasts against the last dim)."""
    reduction = legacy_reduction(size_average, reduce, reduction)
    check_reduction(reduction, "binary_cross_entropy_with_logits")
    check_floating(input, "input", "binary_cross_entropy_with_logits")
    check_pair(input, target, "binary_cross_entropy_with_logits", same_shape=True)
    target = _same_dtype(target, input)
    log_sig = logsigmoid(input)
    if pos_weight is not None:
        check_tensor(pos_weight, "pos_weight", "binary_cross_entropy_with_logits")
        log_sig = log_sig * ((pos_weight - 1) * target + 1)
    loss = (1 - target) * input - log_sig
    if weight is not None:
        check_tensor(weight, "weight", "binary_cross_entropy_with_logits")
        loss = loss * weight
    return reduce_loss(loss, reduction)


def kl_div(input, target, size_average=None, reduce=None, reduction="mean", log_target=False):
    """Kullback-Leibler divergence with log-probabilities `input`: target (log target - input)
    elementwise (0 where target is 0); with `log_target` the target is given as log-probabilities.
    'batchmean' divides the sum by the batch size (the mathematical KL divergence); 'mean'
    divides by the element count and warns, as in PyTorch."""
    reduction = legacy_reduction(size_average, reduce, reduction)
    check_reduction(reduction, "kl_div", _REDUCTIONS + ("batchmean",))
    check_pair(input, target, "kl_div")
    if reduction == "mean" and size_average is None and reduce is None:
        warnings.warn(
            "kl_div: reduction='mean' divides the total loss by both the batch size and the "
            "support size; 'batchmean' divides only by the batch size, which is the KL "
            "divergence. 'mean' will behave as 'batchmean' in a future release (as PyTorch).",
            UserWarning,
            stacklevel=2,
        )
    if log_target:
        loss = exp(target) * (target - input)
    else:
        positive = where(target == 0, 1.0, target)  # xlogy: 0 log 0 = 0
        loss = target * log(positive) - target * input
    if reduction == "batchmean":
        total = loss.sum()
        return total / input.shape[0] if input.ndim else total
    return reduce_loss(loss, reduction)


# NOTE: imported last, as _loss_extra builds on the argument checks above.
from . import _loss_extra  # noqa: E402
from ._loss_extra import *  # noqa: E402, F403

__all__ += _loss_extra.__all__
