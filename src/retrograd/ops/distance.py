"""Distances and similarities: cdist, pdist, dist, pairwise_distance, cosine_similarity.

`cdist` with p=2 is a primitive: its forward is one matmul (no (P, R, M) difference tensor) and
its gradient, as PyTorch's, is 0 where two points coincide. Other p are composites of the
p-norm primitive over the broadcast differences.
"""

import numpy as np

from ..autograd import dtypes
from ..autograd.graph import Op
from ._util import apply, new_tensor
from .reduction import norm

__all__ = ["cdist", "pdist", "dist", "pairwise_distance", "cosine_similarity"]


def _sq_norms(x):
    return np.sum(x * x, axis=-1)


class Cdist(Op):
    """Euclidean distances between the rows of x1 (..., P, M) and of x2 (..., R, M)."""

    name = "cdist"
    input_names = ("x1", "x2")
    save = (0, 1)
    save_out = True

    @staticmethod
    def forward(x1, x2, use_mm):
        if use_mm:  # PyTorch's large-input path: |a|^2 + |b|^2 - 2 a.b, clamped at 0
            d2 = _sq_norms(x1)[..., :, None] + _sq_norms(x2)[..., None, :] - 2 * (
                x1 @ np.swapaxes(x2, -1, -2)
            )
            return np.sqrt(np.maximum(d2, 0))
        diff = x1[..., :, None, :] - x2[..., None, :, :]
        return np.sqrt(_sq_norms(diff))

    @staticmethod
    def vjp(ns, g, saved, params, needs):
        x1, x2, out = saved
        nonzero = out > 0
        w = ns.where(nonzero, g / ns.where(nonzero, out, 1.0), 0.0)  # g / d, 0 where d = 0
        gx1 = gx2 = None
        if needs[0]:
            gx1 = x1 * ns.unsqueeze(ns.sum(w, -1), -1) - ns.matmul(w, x2)
        if needs[1]:
            gx2 = x2 * ns.unsqueeze(ns.sum(w, -2), -1) - ns.matmul(ns.mT(w), x1)
        return gx1, gx2

    @staticmethod
    def jvp(ns, ts, xs, out, params):
        (x1, x2), (t1, t2) = xs, ts
        dot = (
            np.sum(x1 * t1, axis=-1)[..., :, None] + np.sum(x2 * t2, axis=-1)[..., None, :]
            - x1 @ np.swapaxes(t2, -1, -2) - t1 @ np.swapaxes(x2, -1, -2)
        )
        return np.divide(dot, out, out=np.zeros_like(out), where=out > 0)


_MODES = (
    "use_mm_for_euclid_dist_if_necessary",
    "use_mm_for_euclid_dist",
    "donot_use_mm_for_euclid_dist",
)


def cdist(x1, x2, p=2.0, compute_mode="use_mm_for_euclid_dist_if_necessary"):
    """The p-norm distances between each row of x1 (..., P, M) and each row of x2 (..., R, M):
    shape (..., P, R). For p=2 PyTorch's compute_mode decides between the exact differences and
    the faster matmul form (by default when P or R exceeds 25)."""
    if x1.data.ndim < 2 or x2.data.ndim < 2:
        raise RuntimeError(
            f"cdist: x1 and x2 must have at least 2 dimensions, got {x1.shape} and {x2.shape}"
        )
    if x1.data.shape[-1] != x2.data.shape[-1]:
        raise RuntimeError(
            f"cdist: x1 {x1.shape} and x2 {x2.shape} must have the same number of columns"
        )
    if not dtypes.is_floating(x1.data.dtype) or not dtypes.is_floating(x2.data.dtype):
        raise TypeError(f"cdist: expected floating inputs, got {x1.dtype} and {x2.dtype}")
    if compute_mode not in _MODES:
        raise ValueError(f"cdist: compute_mode must be one of {_MODES}, got {compute_mode!r}")
    if p < 0:
        raise RuntimeError(f"cdist: p must be non-negative, got {p}")
    if p == 2:
        big = x1.data.shape[-2] > 25 or x2.data.shape[-2] > 25
        use_mm = compute_mode == _MODES[1] or (compute_mode == _MODES[0] and big)
        batch = np.broadcast_shapes(x1.data.shape[:-2], x2.data.shape[:-2])
        a = x1.expand(batch + x1.data.shape[-2:])
        b = x2.expand(batch + x2.data.shape[-2:])
        if a.data.dtype != b.data.dtype:
            a, b = a.to(np.result_type(a.data, b.data)), b.to(np.result_type(a.data, b.data))
        return apply(Cdist, a, b, use_mm=bool(use_mm))
    diff = x1.unsqueeze(-2) - x2.unsqueeze(-3)
    return norm(diff, p, dim=-1)


def pdist(input, p=2):
    """The distances between every pair of rows i < j of an (N, M) input, as a 1-D tensor of
    N (N - 1) / 2 entries, row by row."""
    if input.data.ndim != 2:
        raise RuntimeError(f"pdist: expected a 2-D input, got shape {input.shape}")
    n = input.data.shape[0]
    rows, cols = np.triu_indices(n, 1)
    if p == 2:
        return cdist(input, input, 2.0, "donot_use_mm_for_euclid_dist")[rows, cols]
    return norm(input[rows] - input[cols], p, dim=-1)


def dist(input, other, p=2):
    """The p-norm of input - other (broadcast), over all elements."""
    return norm(input - other, p)


def pairwise_distance(x1, x2, p=2.0, eps=1e-6, keepdim=False):
    """The p-norm of x1 - x2 + eps over the last dim (x1 and x2 broadcast)."""
    diff = x1 - x2 + eps
    if diff.data.ndim == 0:
        return norm(diff, p, keepdim=keepdim)
    return norm(diff, p, dim=-1, keepdim=keepdim)


def cosine_similarity(x1, x2, dim=1, eps=1e-8):
    """sum(x1 * x2) / (max(|x1|, eps) max(|x2|, eps)) over `dim`, x1 and x2 broadcast.

    As PyTorch: each input is divided by its norm first (so the result stays in [-1, 1]), and
    the clamp at eps changes the value only: the gradient flows through the norm.
    """
    shape = np.broadcast_shapes(x1.data.shape, x2.data.shape)
    x1, x2 = x1.expand(shape), x2.expand(shape)
    n1 = _clamped_norm(x1, dim, eps)
    n2 = _clamped_norm(x2, dim, eps)
    return ((x1 / n1) * (x2 / n2)).sum(dim)


def _clamped_norm(x, dim, eps):
    n = norm(x, 2, dim=dim, keepdim=True)
    floor = np.maximum(n.data, eps) - n.data
    return n + new_tensor(floor.astype(n.data.dtype, copy=False))


TENSOR_METHODS = {"dist": dist}
