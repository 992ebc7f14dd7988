"""Margin, embedding and likelihood losses, composed from ordinary ops (re-exported by
`_loss.py`): margin_ranking_loss, soft_margin_loss, hinge_embedding_loss, cosine_embedding_loss,
triplet_margin_loss, poisson_nll_loss, gaussian_nll_loss, multilabel_soft_margin_loss."""

import math

from ...ops.activation import logsigmoid
from ...ops.comparison import minimum, where
from ...ops.math import exp, log
from ...ops.reduction import norm
from ._loss import (
    check_floating,
    check_pair,
    check_reduction,
    check_tensor,
    legacy_reduction,
    reduce_loss,
)

__all__ = [
    "margin_ranking_loss",
    "soft_margin_loss",
    "hinge_embedding_loss",
    "cosine_embedding_loss",
    "triplet_margin_loss",
    "poisson_nll_loss",
    "gaussian_nll_loss",
    "multilabel_soft_margin_loss",
]


def _setup(name, size_average, reduce, reduction):
    reduction = legacy_reduction(size_average, reduce, reduction)
    check_reduction(reduction, name)
    return reduction


def margin_ranking_loss(input1, input2, target, margin=0.0, size_average=None, reduce=None,
                        reduction="mean"):
    """max(0, -target (input1 - input2) + margin), target +1 or -1 (input1 should rank
    higher, or lower)."""
    reduction = _setup("margin_ranking_loss", size_average, reduce, reduction)
    for t, what in ((input1, "input1"), (input2, "input2"), (target, "target")):
        check_tensor(t, what, "margin_ranking_loss")
    if not input1.ndim == input2.ndim == target.ndim:
        raise ValueError(
            f"margin_ranking_loss: input1, input2 and target must have the same number of dims, "
            f"got shapes {tuple(input1.shape)}, {tuple(input2.shape)} and {tuple(target.shape)}"
        )
    return reduce_loss((-target * (input1 - input2) + margin).clamp_min(0), reduction)


def soft_margin_loss(input, target, size_average=None, reduce=None, reduction="mean"):
    """log(1 + exp(-target input)) for targets +1 or -1, computed stably."""
    reduction = _setup("soft_margin_loss", size_average, reduce, reduction)
    check_pair(input, target, "soft_margin_loss")
    return reduce_loss(-logsigmoid(target * input), reduction)


def hinge_embedding_loss(input, target, margin=1.0, size_average=None, reduce=None,
                         reduction="mean"):
    """input where target is 1, max(0, margin - input) where target is -1 (input: a distance)."""
    reduction = _setup("hinge_embedding_loss", size_average, reduce, reduction)
    check_pair(input, target, "hinge_embedding_loss")
    below = where(target != 1, (margin - input).clamp_min(0), 0.0)
    return reduce_loss(below + where(target != -1, input, 0.0), reduction)


def cosine_embedding_loss(input1, input2, target, margin=0.0, size_average=None, reduce=None,
                          reduction="mean"):
    """1 - cos(input1, input2) where target is 1, max(0, cos - margin) where target is -1;
    inputs (N, D) with targets (N,), or (D,) with a 0-d target."""
    reduction = _setup("cosine_embedding_loss", size_average, reduce, reduction)
    check_floating(input1, "input1", "cosine_embedding_loss")
    check_floating(input2, "input2", "cosine_embedding_loss")
    check_tensor(target, "target", "cosine_embedding_loss")
    if input1.ndim not in (1, 2) or input1.shape != input2.shape:
        raise ValueError(
            f"cosine_embedding_loss: expected two inputs of one shape (N, D) or (D,), got "
            f"{tuple(input1.shape)} and {tuple(input2.shape)}"
        )
    if tuple(target.shape) != tuple(input1.shape[:-1]):
        raise ValueError(
            f"cosine_embedding_loss: expected target of shape {tuple(input1.shape[:-1])} for "
            f"inputs of shape {tuple(input1.shape)}, got {tuple(target.shape)}"
        )
    eps = 1e-12  # PyTorch's EPSILON, added to each squared magnitude
    dim = input1.ndim - 1
    prod = (input1 * input2).sum(dim)
    mag1 = (input1 * input1).sum(dim) + eps
    mag2 = (input2 * input2).sum(dim) + eps
    cos = prod / (mag1 * mag2).sqrt()
    loss = where(target == 1, 1 - cos, 0.0) + where(target == -1, (cos - margin).clamp_min(0),
                                                    0.0)
    return reduce_loss(loss, reduction)


def _pairwise_distance(x1, x2, p, eps):
    return norm(x1 - x2 + eps, p, dim=-1)


def triplet_margin_loss(anchor, positive, negative, margin=1.0, p=2, eps=1e-6, swap=False,
                        size_average=None, reduce=None, reduction="mean"):
    """max(0, margin + d(anchor, positive) - d(anchor, negative)), d the p-norm distance of
    the last dim (eps added to the difference); `swap` uses the smaller of d(a, n), d(p, n)."""
    reduction = _setup("triplet_margin_loss", size_average, reduce, reduction)
    for t, what in ((anchor, "anchor"), (positive, "positive"), (negative, "negative")):
        check_floating(t, what, "triplet_margin_loss")
    if margin <= 0:
        raise ValueError(f"triplet_margin_loss: margin must be greater than 0, got {margin}")
    if not anchor.ndim == positive.ndim == negative.ndim:
        raise ValueError(
            f"triplet_margin_loss: anchor, positive and negative must have the same number of "
            f"dims, got shapes {tuple(anchor.shape)}, {tuple(positive.shape)} and "
            f"{tuple(negative.shape)}"
        )
    d_pos = _pairwise_distance(anchor, positive, p, eps)
    d_neg = _pairwise_distance(anchor, negative, p, eps)
    if swap:
        d_neg = minimum(d_neg, _pairwise_distance(positive, negative, p, eps))
    return reduce_loss((d_pos - d_neg + margin).clamp_min(0), reduction)


def poisson_nll_loss(input, target, log_input=True, full=False, size_average=None, eps=1e-8,
                     reduce=None, reduction="mean"):
    """Poisson negative log-likelihood: exp(input) - target input (log_input), else
    input - target log(input + eps); `full` adds Stirling's approximation of log(target!)
    where target > 1."""
    reduction = _setup("poisson_nll_loss", size_average, reduce, reduction)
    check_pair(input, target, "poisson_nll_loss")
    if log_input:
        loss = exp(input) - target * input
    else:
        loss = input - target * log(input + eps)
    if full:
        big = target > 1
        t = where(big, target, 2.0)  # keeps log away from t <= 0 in the branch not taken
        stirling = t * log(t) - t + 0.5 * log(2 * math.pi * t)
        loss = loss + where(big, stirling, 0.0)
    return reduce_loss(loss, reduction)


def gaussian_nll_loss(input, target, var, full=False, eps=1e-6, reduction="mean"):
    """0.5 (log var + (input - target)^2 / var) (+ 0.5 log 2 pi with `full`): the negative
    log-likelihood of `target` under N(input, var). `var` has the input's shape, or one
    dimension of size 1 (or missing last) for a shared variance; it is clamped at `eps` for
    stability, the gradient passing through the clamp as in PyTorch."""
    check_reduction(reduction, "gaussian_nll_loss")
    check_pair(input, target, "gaussian_nll_loss")
    if isinstance(var, (int, float)):
        if var < 0:
            raise ValueError(f"gaussian_nll_loss: var must be non-negative, got {var}")
        var = input.detach() * 0 + float(var)
    check_tensor(var, "var", "gaussian_nll_loss")
    if (var.data < 0).any():
        raise ValueError("gaussian_nll_loss: var has negative entries")
    if tuple(var.shape) != tuple(input.shape):
        if tuple(input.shape[:-1]) == tuple(var.shape):
            var = var.unsqueeze(-1)
        elif not (
            var.ndim == input.ndim
            and sum(v for i, v in zip(input.shape, var.shape) if i != v) == 1
        ):
            raise ValueError(
                f"gaussian_nll_loss: var of shape {tuple(var.shape)} does not fit input of shape "
                f"{tuple(input.shape)} (same shape, one dim of size 1, or the last dim missing)"
            )
    v = var.detach()
    var = var + (v.clamp(min=eps) - v)  # the clamped value, with the identity's gradient
    loss = 0.5 * (log(var) + (input - target) ** 2 / var)
    if full:
        loss = loss + 0.5 * math.log(2 * math.pi)
    return reduce_loss(loss, reduction)


def multilabel_soft_margin_loss(input, target, weight=None, size_average=None, reduce=None,
                                reduction="mean"):
    """Binary cross-entropy from logits for each of C labels of (N, C) inputs, averaged over
    the labels, then reduced over the batch."""
    reduction = _setup("multilabel_soft_margin_loss", size_average, reduce, reduction)
    check_pair(input, target, "multilabel_soft_margin_loss", same_shape=True)
    loss = -(target * logsigmoid(input) + (1 - target) * logsigmoid(-input))
    if weight is not None:
        loss = loss * weight
    dim = input.ndim - 1
    loss = loss.sum(dim) / input.shape[dim]
    return reduce_loss(loss, reduction)
