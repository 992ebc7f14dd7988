"""Connectionist temporal classification: ctc_loss (PyTorch's torch.nn.functional.ctc_loss).

The loss of a sequence is -log p(target | input), p summing the probabilities of every
alignment: a path of one label or blank per input step that collapses (merging repeats, then
dropping blanks) to the target. The forward-backward recursions run in log space over the
extended target (blank, l1, blank, l2, ..., blank), vectorised over the batch and the target
positions, one step of time at a time.

NOTE: a primitive: the dynamic programme has no useful composite form. The gradient with
respect to log_probs[t, c] is minus the posterior probability that step t emits c (the
derivative of the loss as a function of log_probs). PyTorch returns that plus exp(log_probs),
which is the same once it has gone back through the log_softmax that produced log_probs.
"""

import numpy as np

from ..autograd.graph import Op
from ._util import Tensor, apply, new_tensor

__all__ = ["ctc_loss"]

_NEG_INF = -np.inf


def _logsumexp(*arrays):
    stacked = np.stack(arrays)
    top = np.max(stacked, axis=0)
    safe = np.where(np.isfinite(top), top, 0.0)
    with np.errstate(divide="ignore"):
        return safe + np.log(np.sum(np.exp(stacked - safe), axis=0))


def _shift(a, k):
    """a moved k places right along the last dim, -inf coming in."""
    out = np.full_like(a, _NEG_INF)
    out[..., k:] = a[..., :-k]
    return out


def _unshift(a, k):
    """a moved k places left along the last dim, -inf coming in."""
    out = np.full_like(a, _NEG_INF)
    out[..., :-k] = a[..., k:]
    return out


def _forward_backward(lp, ext, ext_len, in_len, blank):
    """(nll per sample, posterior occupation gamma[t, n, c]) for log-probs lp (T, N, C) and the
    extended targets ext (N, L) of lengths ext_len (N,)."""
    steps, batch, _ = lp.shape
    width = ext.shape[1]
    rows = np.arange(batch)[:, None]
    emit = lp[:, rows, ext]  # (T, N, L): log-prob of each extended label at each step
    positions = np.arange(width)[None, :]
    inside = positions < ext_len[:, None]
    # A skip over a blank is allowed onto a label that differs from the one two places back.
    skip = np.zeros((batch, width), bool)
    skip[:, 2:] = (ext[:, 2:] != blank) & (ext[:, 2:] != ext[:, :-2])
    alpha = np.full((steps, batch, width), _NEG_INF)
    alpha[0, :, :2] = emit[0, :, :2]
    alpha[0][~inside] = _NEG_INF
    for t in range(1, steps):
        prev = alpha[t - 1]
        moved = _logsumexp(prev, _shift(prev, 1), np.where(skip, _shift(prev, 2), _NEG_INF))
        alpha[t] = np.where(inside, emit[t] + moved, _NEG_INF)
    beta = np.full((steps, batch, width), _NEG_INF)
    last = in_len - 1
    ends = (positions >= ext_len[:, None] - 2) & inside
    for t in range(steps - 1, -1, -1):
        starting = (last == t)[:, None]
        if t + 1 < steps:
            nxt = beta[t + 1]
            skip_next = np.zeros((batch, width), bool)
            skip_next[:, :-2] = skip[:, 2:]
            moved = _logsumexp(nxt, _unshift(nxt, 1),
                               np.where(skip_next, _unshift(nxt, 2), _NEG_INF))
            running = np.where(inside, emit[t] + moved, _NEG_INF)
        else:
            running = np.full((batch, width), _NEG_INF)
        beta[t] = np.where(starting, np.where(ends, emit[t], _NEG_INF),
                           np.where((t < last)[:, None], running, _NEG_INF))
    final = alpha[last, np.arange(batch)]  # (N, L)
    end_a = np.take_along_axis(final, np.maximum(ext_len - 1, 0)[:, None], 1)[:, 0]
    end_b = np.take_along_axis(final, np.maximum(ext_len - 2, 0)[:, None], 1)[:, 0]
    end_b = np.where(ext_len >= 2, end_b, _NEG_INF)
    nll = -_logsumexp(end_a, end_b)
    with np.errstate(invalid="ignore", over="ignore"):
        occupancy = np.exp(alpha + beta - emit + nll[None, :, None])  # (T, N, L)
    occupancy = np.where(np.isfinite(nll)[None, :, None], occupancy, 0.0)
    gamma = np.zeros(lp.shape)
    t_index = np.arange(steps)[:, None, None]
    np.add.at(gamma, (t_index, rows[None], ext[None]), np.nan_to_num(occupancy))
    return nll, gamma


class CTCLoss(Op):
    name = "ctc_loss"
    input_names = ("log_probs",)
    has_aux = True  # gamma: the posterior occupation of each label at each step

    @staticmethod
    def forward(lp, ext, ext_len, in_len, blank, zero_infinity):
        nll, gamma = _forward_backward(lp.astype(np.float64), ext, ext_len, in_len, blank)
        if zero_infinity:
            bad = ~np.isfinite(nll)
            nll = np.where(bad, 0.0, nll)
            gamma[:, bad] = 0.0
        return nll.astype(lp.dtype), gamma

    @staticmethod
    def vjp(ns, g, saved, params, needs):
        (gamma,) = saved
        if isinstance(g, Tensor):
            raise NotImplementedError(
                "ctc_loss: the gradient of the gradient is not implemented (nor is it in "
                "PyTorch)"
            )
        return -gamma * ns.reshape(g, (1, -1, 1))

    @staticmethod
    def jvp(ns, ts, xs, out, params):
        _, gamma = CTCLoss.forward(xs[0], **params)  # the posteriors, recomputed
        return -np.sum(ts[0] * gamma, axis=(0, 2))


def _lengths(value, n, name):
    array = value.data if isinstance(value, Tensor) else np.asarray(value)
    array = np.asarray(array).astype(np.int64).reshape(-1)
    if array.size != n:
        raise ValueError(f"ctc_loss: {name} has {array.size} entries for a batch of {n}")
    return array


def ctc_loss(log_probs, targets, input_lengths, target_lengths, blank=0, reduction="mean",
             zero_infinity=False):
    """The CTC loss of log-probabilities `log_probs` (T, N, C) (or (T, C) unbatched; usually a
    log_softmax over C) for `targets`, padded (N, S) or concatenated 1-D, with the lengths of
    each input and target. reduction 'mean' divides each loss by its target length and averages
    over the batch; 'sum' adds; 'none' gives one loss per sequence. An impossible alignment
    (target too long for its input) has infinite loss, or 0 and no gradient with
    zero_infinity=True."""
    if reduction not in ("mean", "sum", "none"):
        raise ValueError(f"ctc_loss: reduction must be 'mean', 'sum' or 'none', got {reduction!r}")
    unbatched = log_probs.ndim == 2
    if unbatched:
        log_probs = log_probs.unsqueeze(1)
    if log_probs.ndim != 3:
        raise ValueError(f"ctc_loss: log_probs must be (T, N, C) or (T, C), got shape "
                         f"{tuple(log_probs.shape)}")
    steps, batch, classes = log_probs.shape
    in_len = _lengths(input_lengths, batch, "input_lengths")
    tgt_len = _lengths(target_lengths, batch, "target_lengths")
    tgt = targets.data if isinstance(targets, Tensor) else np.asarray(targets)
    tgt = np.asarray(tgt).astype(np.int64)
    if unbatched:
        tgt = tgt.reshape(1, -1)
    if (in_len > steps).any() or (in_len < 1).any():
        raise ValueError(f"ctc_loss: input_lengths must be in [1, {steps}], got {in_len}")
    if tgt.ndim == 2 and tgt.shape[0] == batch:
        labels = [tgt[n, :tgt_len[n]] for n in range(batch)]
    else:
        starts = np.concatenate([[0], np.cumsum(tgt_len)[:-1]])
        flat = tgt.reshape(-1)
        labels = [flat[s:s + k] for s, k in zip(starts, tgt_len)]
    if any(len(lab) != k for lab, k in zip(labels, tgt_len)):
        raise ValueError("ctc_loss: targets are shorter than target_lengths says")
    for lab in labels:
        if lab.size and ((lab < 0).any() or (lab >= classes).any() or (lab == blank).any()):
            raise ValueError(f"ctc_loss: target labels must be in [0, {classes}) and not the "
                             f"blank {blank}")
    width = 2 * int(tgt_len.max(initial=0)) + 1
    ext = np.full((batch, width), blank, np.int64)
    for n, lab in enumerate(labels):
        ext[n, 1:2 * len(lab):2] = lab
    ext_len = 2 * tgt_len + 1
    nll = apply(CTCLoss, log_probs, ext=ext, ext_len=ext_len, in_len=in_len, blank=blank,
                zero_infinity=bool(zero_infinity))
    if reduction == "sum":
        return nll.sum()
    if reduction == "mean":
        divisor = np.maximum(tgt_len, 1).astype(log_probs.data.dtype)
        return (nll / new_tensor(divisor)).mean()
    return nll[0] if unbatched else nll

TENSOR_METHODS = {}
