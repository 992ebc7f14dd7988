"""Fused loss primitives: cross-entropy and NLL with class-index targets, and binary
cross-entropy. `nn.functional` checks the arguments and builds every other loss from these and
ordinary ops.

NOTE: cross_entropy is one primitive rather than log_softmax followed by picking the targets:
on the MLP benchmark's loss (logits (128, 10), float32, one thread) forward + backward take
57 us against 117 us for the composite of log_softmax, indexing, mean and negation (PyTorch:
68 us), and the rule is the closed form (softmax - target distribution) * g. The forward keeps
the log-probabilities; on the first-order path the rule reads softmax from them, and with
create_graph=True it recomputes `ns.softmax` from the saved logits, so second-order gradients
are exact.

Class-index targets share one description of the loss. With weight w, label smoothing s and C
classes, the loss of element i is ``-sum_c q_ic log p_ic`` for the target distribution
``q_i = (1 - s) w[t_i] onehot(t_i) + (s / C) w`` (zero where t_i is ignore_index), and the
'mean' reduction divides by the total weight ``sum_i w[t_i]`` of the non-ignored targets, as
PyTorch does. binary_cross_entropy is a primitive for PyTorch's edge behaviour: logs clamped
at -100 and a gradient divided by max(x (1 - x), 1e-12), finite at x = 0 and 1.
"""

import numpy as np

from ..autograd import array_ns
from ..autograd.graph import Op
from ._util import apply

__all__ = []

TENSOR_METHODS = {}

# PyTorch's floor on x (1 - x) in binary_cross_entropy's gradient: 1e-12 rounded to float32
_BCE_EPS = float(np.float32(1e-12))


def _log_softmax(x):
    # NOTE: ndarray methods, not np.max/np.sum: their Python wrappers cost more than the
    # reductions themselves on a (128, 10) batch of logits.
    s = x - x.max(axis=1, keepdims=True)
    s -= np.log(np.exp(s).sum(axis=1, keepdims=True))
    return s


def _pick(a, params):
    """a[i, t_i, ...]: each element's entry at its target class, shape (N, *)."""
    rows = params["rows"]
    if rows is not None:
        return a[rows, params["target"]]
    return np.take_along_axis(a, params["target"][:, None], axis=1)[:, 0]


def _subtract_at_targets(a, params, values):
    """a[i, t_i, ...] -= values, in place (targets never repeat within one element)."""
    rows = params["rows"]
    if rows is not None:
        a[rows, params["target"]] -= values
    else:
        index = params["target"][:, None]
        np.put_along_axis(a, index, np.take_along_axis(a, index, axis=1) - values[:, None], 1)


def _weights(params):
    """The weight of each element's target, (N, *), or 1 when every weight is 1."""
    picked = params["picked_weight"]
    return 1.0 if picked is None else picked


def _target_distribution(shape, dtype, params):
    """q (the input's shape): the weight of each class in each element's loss."""
    q = np.zeros(shape, dtype=dtype)
    _subtract_at_targets(q, params, -np.broadcast_to(_weights(params), shape[:1] + shape[2:]))
    if params["smooth_weight"] is not None:
        q += params["smooth_weight"] * params["valid"]
    return q


def _softmax_minus_target(p, params):
    """(sum_c q_c) p - q, in place on the softmax p: the gradient of the unreduced loss."""
    if params["total_weight"] is not None:
        p *= params["total_weight"]
    _subtract_at_targets(p, params, np.broadcast_to(_weights(params), p.shape[:1] + p.shape[2:]))
    if params["smooth_weight"] is not None:
        p -= params["smooth_weight"] * params["valid"]
    return p


def _reduce(loss, params):
    reduction = params["reduction"]
    if reduction == "none":
        return loss
    total = loss.sum()
    return total if reduction == "sum" else total * params["scale"]


def _expand_grad(ns, g, params):
    """The incoming gradient, shaped to broadcast against the (N, C, *) input."""
    reduction = params["reduction"]
    if reduction == "none":
        return ns.unsqueeze(g, 1)
    return g if reduction == "sum" else g * params["grad_scale"]


class CrossEntropy(Op):
    """Cross-entropy from logits (N, C, *) with class-index targets; params from
    `class_target_params`. aux: the log-probabilities."""

    name = "cross_entropy"
    save = (0,)
    has_aux = True

    @staticmethod
    def forward(x, **params):
        logp = _log_softmax(x)
        loss = _pick(logp, params)
        loss *= -_weights(params)
        smooth = params["smooth_weight"]
        if smooth is not None:
            loss -= (logp * smooth).sum(axis=1) * params["valid"][:, 0]
        return np.asarray(_reduce(loss, params), dtype=x.dtype), logp

    @staticmethod
    def vjp(ns, g, saved, params, needs):
        x, logp = saved
        if ns is array_ns:
            gx = _softmax_minus_target(np.exp(logp), params)
            gx *= _expand_grad(ns, g, params)
            return gx
        p = ns.softmax(x, 1)
        total = params["total_weight"]
        if total is not None:
            p = p * total
        return (p - _target_distribution(logp.shape, logp.dtype, params)) * _expand_grad(
            ns, g, params
        )

    @staticmethod
    def jvp(ns, ts, xs, out, params):
        d = _softmax_minus_target(np.exp(_log_softmax(xs[0])), params)
        return _reduce((d * ts[0]).sum(axis=1), params)


class NLLLoss(Op):
    """Negative log-likelihood of log-probabilities (N, C, *) with class-index targets."""

    name = "nll_loss"

    @staticmethod
    def forward(x, **params):
        loss = _pick(x, params)
        loss *= -_weights(params)
        return np.asarray(_reduce(loss, params), dtype=x.dtype)

    @staticmethod
    def vjp(ns, g, saved, params, needs):
        q = _target_distribution(params["input_shape"], params["dtype"], params)
        return _expand_grad(ns, g, params) * -q

    @staticmethod
    def jvp(ns, ts, xs, out, params):
        q = _target_distribution(xs[0].shape, xs[0].dtype, params)
        return _reduce(-(q * ts[0]).sum(axis=1), params)


def class_target_params(input_shape, dtype, target, weight, ignore_index, label_smoothing,
                        reduction, name):
    """The rules' description of a class-index loss (see the module docstring): `target` an
    integer array of shape (N, *) for an input (N, C, *), `weight` None or an array (C,).
    Raises IndexError naming the first target outside [0, C) that is not ignore_index.

    Arrays of ones are left out (None) so that the common unweighted case costs nothing."""
    classes = input_shape[1]
    dtype = np.dtype(dtype)
    ignored = target == ignore_index
    any_ignored = bool(ignored.any())
    if target.size and (target.min() < 0 or target.max() >= classes):
        bad = (~ignored) & ((target < 0) | (target >= classes))
        if bad.any():
            raise IndexError(
                f"{name}: target {int(target[bad].flat[0])} is out of bounds for {classes} "
                f"classes (expected 0 <= target < {classes}, or ignore_index={ignore_index})"
            )
    valid = None
    if any_ignored:
        target = np.where(ignored, 0, target)
        valid = (~ignored).astype(dtype)
    w_t = valid if weight is None else weight[target] if valid is None else weight[target] * valid
    s = float(label_smoothing)
    picked = None if w_t is None and s == 0.0 else (1.0 - s) * (1.0 if w_t is None else w_t)
    if picked is not None:
        picked = np.broadcast_to(np.asarray(picked, dtype), target.shape)
    smooth = total = None
    valid_b = np.ones((1,) * len(input_shape), dtype) if valid is None else valid[:, None]
    if s > 0.0:
        bshape = (1, classes) + (1,) * (len(input_shape) - 2)
        w_b = np.ones(bshape, dtype) if weight is None else weight.reshape(bshape)
        smooth = ((s / classes) * w_b).astype(dtype)
        total = _weights({"picked_weight": picked})[:, None] + smooth.sum() * valid_b
    elif picked is not None:
        total = picked[:, None]
    scale = grad_scale = None
    if reduction == "mean":
        total_weight = float(target.size if w_t is None else w_t.sum())
        # 0 / 0 = nan when every target is ignored; the gradient is then 0, as in PyTorch
        scale = np.asarray(np.nan if total_weight == 0 else 1.0 / total_weight, dtype)
        grad_scale = np.asarray(0.0 if total_weight == 0 else 1.0 / total_weight, dtype)
    return {
        "target": target,
        "rows": np.arange(target.shape[0]) if target.ndim == 1 else None,
        "picked_weight": picked,
        "smooth_weight": smooth,
        "valid": valid_b,
        "total_weight": None if total is None else total.astype(dtype, copy=False),
        "reduction": reduction,
        "scale": scale,
        "grad_scale": grad_scale,
        "input_shape": tuple(input_shape),
        "dtype": dtype,
    }


def cross_entropy_indices(input, target, weight, ignore_index, label_smoothing, reduction,
                          name="cross_entropy"):
    """Cross-entropy of logits Tensor `input` (N, C, *) against integer array `target` (N, *)."""
    x = input.data
    params = class_target_params(x.shape, x.dtype, target, weight, ignore_index,
                                 label_smoothing, reduction, name)
    return apply(CrossEntropy, input, **params)


def nll_loss_indices(input, target, weight, ignore_index, reduction, name="nll_loss"):
    """NLL of log-probabilities Tensor `input` (N, C, *) against integer array `target`."""
    x = input.data
    params = class_target_params(x.shape, x.dtype, target, weight, ignore_index, 0.0,
                                 reduction, name)
    return apply(NLLLoss, input, **params)


class BinaryCrossEntropy(Op):
    """-(t log x + (1 - t) log(1 - x)) elementwise, each log clamped at -100 (PyTorch)."""

    name = "binary_cross_entropy"
    input_names = ("x", "target")
    save = (0, 1)

    @staticmethod
    def forward(x, t):
        with np.errstate(divide="ignore"):
            log_x = np.maximum(np.log(x), -100.0)
            log_1mx = np.maximum(np.log1p(-x), -100.0)
        return (t - 1) * log_1mx - t * log_x

    @staticmethod
    def vjp(ns, g, saved, params, needs):
        x, t = saved
        gx = g * (x - t) / ns.maximum((1 - x) * x, _BCE_EPS) if needs[0] else None
        gt = g * (ns.log(1 - x) - ns.log(x)) if needs[1] else None
        return gx, gt

    @staticmethod
    def jvp(ns, ts, xs, out, params):
        x, t = xs
        with np.errstate(divide="ignore"):
            dt = np.log1p(-x) - np.log(x)
        return ts[0] * (x - t) / np.maximum((1 - x) * x, _BCE_EPS) + ts[1] * dt


def binary_cross_entropy_elementwise(input, target):
    """The unreduced, unweighted binary cross-entropy of probabilities `input` (checked to lie
    in [0, 1]) and `target`, Tensors of one shape and dtype."""
    x = input.data
    if x.size and not ((x >= 0) & (x <= 1)).all():
        bad = x[~((x >= 0) & (x <= 1))].flat[0]
        raise ValueError(
            f"binary_cross_entropy: every element of input must be a probability in [0, 1], "
            f"found {bad} (apply sigmoid first, or use binary_cross_entropy_with_logits)"
        )
    return apply(BinaryCrossEntropy, input, target)
