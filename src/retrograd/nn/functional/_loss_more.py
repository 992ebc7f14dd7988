"""ctc_loss (the primitive is ops/ctc.py), multi_margin_loss and multilabel_margin_loss, as
torch.nn.functional."""

import numpy as np

from ...autograd.tensor import Tensor, new_tensor
from ...ops.ctc import ctc_loss
from ...ops.scatter_gather import gather
from ._loss import check_reduction, legacy_reduction, reduce_loss

__all__ = ["ctc_loss", "multi_margin_loss", "multilabel_margin_loss"]


def _labels(target, rows, name):
    array = target.data if isinstance(target, Tensor) else np.asarray(target)
    if array.dtype.kind not in "iu":
        raise TypeError(f"{name}: target must be an integer tensor, got dtype {array.dtype}")
    return array.astype(np.int64).reshape(rows, -1)


def multi_margin_loss(input, target, p=1, margin=1.0, weight=None, size_average=None,
                      reduce=None, reduction="mean"):
    """Multi-class hinge loss: for each sample, sum over the classes i != y of
    max(0, margin - x[y] + x[i]) ** p (times weight[y]), divided by the number of classes."""
    reduction = legacy_reduction(size_average, reduce, reduction)
    check_reduction(reduction, "multi_margin_loss")
    if p not in (1, 2):
        raise ValueError(f"multi_margin_loss: only p = 1 and p = 2 are supported, got {p}")
    unbatched = input.ndim == 1
    x = input.unsqueeze(0) if unbatched else input
    if x.ndim != 2:
        raise ValueError(f"multi_margin_loss: input must be (N, C) or (C,), got shape "
                         f"{tuple(input.shape)}")
    n, classes = x.shape
    y = _labels(target, n, "multi_margin_loss")
    if y.shape != (n, 1) or (y < 0).any() or (y >= classes).any():
        raise ValueError(f"multi_margin_loss: target must hold one class in [0, {classes}) per "
                         f"sample, got shape {tuple(np.shape(target))}")
    correct = gather(x, 1, y)  # (N, 1)
    hinge = (margin - correct + x).clamp_min(0)
    if p == 2:
        hinge = hinge * hinge
    if weight is not None:
        hinge = hinge * weight[new_tensor(y)]
    others = new_tensor(np.arange(classes)[None, :] != y)
    loss = (hinge * others).sum(1) / classes
    if unbatched:
        loss = loss.squeeze(0)
    return reduce_loss(loss, reduction)


def multilabel_margin_loss(input, target, size_average=None, reduce=None, reduction="mean"):
    """Multi-label hinge loss: target holds each sample's class indices, ended by the first -1;
    for each target class j and non-target class i, max(0, 1 - (x[j] - x[i])), summed and
    divided by the number of classes."""
    reduction = legacy_reduction(size_average, reduce, reduction)
    check_reduction(reduction, "multilabel_margin_loss")
    unbatched = input.ndim == 1
    x = input.unsqueeze(0) if unbatched else input
    n, classes = x.shape
    y = _labels(target, n, "multilabel_margin_loss")
    if y.shape != (n, classes):
        raise ValueError(f"multilabel_margin_loss: target must have the input's shape "
                         f"{tuple(input.shape)}, got {tuple(np.shape(target))}")
    valid = np.cumprod(y >= 0, axis=1).astype(bool)  # up to the first -1
    is_target = np.zeros((n, classes), bool)
    rows = np.nonzero(valid)[0]
    is_target[rows, y[valid]] = True
    picked = gather(x, 1, new_tensor(np.where(valid, y, 0)))  # (N, C): x at target slot k
    # pairs[n, k, i] = max(0, 1 - (x[target_k] - x[i])) for valid slots k and non-targets i
    pairs = (1 - (picked.unsqueeze(2) - x.unsqueeze(1))).clamp_min(0)
    mask = new_tensor((valid[:, :, None] & ~is_target[:, None, :]).astype(x.data.dtype))
    loss = (pairs * mask).sum((1, 2)) / classes
    if unbatched:
        loss = loss.squeeze(0)
    return reduce_loss(loss, reduction)
