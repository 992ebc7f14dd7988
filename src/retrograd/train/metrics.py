"""Batch metrics for the fit loop: built-in `accuracy` and user functions, averaged per sample."""

import numpy as np

from ..autograd.tensor import Tensor

__all__ = ["accuracy", "resolve_metrics", "MetricTotals"]


def accuracy(output, target):
    """The fraction of samples whose arg-max class in `output` (N, C, ...) equals the integer
    label in `target` (N, ...)."""
    out, tgt = _array(output), _array(target)
    if out.ndim != tgt.ndim + 1 or tgt.dtype.kind not in "iu":
        raise ValueError(
            f"accuracy: expected class scores of shape (N, C, ...) and integer labels of shape "
            f"(N, ...), got {out.shape} ({out.dtype}) and {tgt.shape} ({tgt.dtype})"
        )
    return float(np.mean(out.argmax(axis=1) == tgt)) if tgt.size else 0.0


_BUILTIN = {"accuracy": accuracy, "acc": accuracy}


def is_classification(output, target):
    out, tgt = _array(output), _array(target)
    return tgt.dtype.kind in "iu" and out.ndim == tgt.ndim + 1


def resolve_metrics(metrics):
    """`{name: fn(output, target) -> float}` from `metrics`, or None for "auto".

    `metrics` is "auto" / None (accuracy whenever the targets are class labels), a sequence of
    names ("accuracy") and functions (named by `__name__`), or a dict {name: function}.
    """
    if metrics is None or metrics == "auto":
        return None
    if isinstance(metrics, str) or callable(metrics):
        metrics = [metrics]
    items = metrics.items() if isinstance(metrics, dict) else ((None, m) for m in metrics)
    resolved = {}
    for name, metric in items:
        if isinstance(metric, str):
            if metric not in _BUILTIN:
                raise ValueError(
                    f"fit: unknown metric {metric!r}; built in: {sorted(_BUILTIN)}, or pass a "
                    "function fn(output, target) -> float"
                )
            name, metric = name or ("accuracy" if metric == "acc" else metric), _BUILTIN[metric]
        elif not callable(metric):
            raise TypeError(f"fit: a metric must be a name or a function, got {metric!r}")
        resolved[name or getattr(metric, "__name__", f"metric{len(resolved)}")] = metric
    return resolved


class MetricTotals:
    """Sums of per-sample loss and metrics over an epoch, for sample-weighted means."""

    def __init__(self, metrics):
        self.metrics = metrics  # dict, or None for "auto"
        self.samples = 0
        self.loss = 0.0
        self.sums = {}

    def add(self, loss, output, target, size):
        self.samples += size
        self.loss += loss * size
        metrics = self.metrics
        if metrics is None:
            metrics = {"accuracy": accuracy} if is_classification(output, target) else {}
        for name, fn in metrics.items():
            value = fn(output, target)
            if isinstance(value, Tensor):
                value = value.item()
            self.sums[name] = self.sums.get(name, 0.0) + float(value) * size

    def means(self, prefix):
        if not self.samples:
            return {}
        out = {f"{prefix}loss": self.loss / self.samples}
        out.update({f"{prefix}{k}": v / self.samples for k, v in self.sums.items()})
        return out


def batch_size(target):
    """The number of samples in a batch: the first dimension of its target."""
    shape = getattr(target, "shape", None)
    if shape:
        return int(shape[0])
    if isinstance(target, (list, tuple)):
        return len(target)
    return 1


def _array(x):
    return x.data if isinstance(x, Tensor) else np.asarray(x)
