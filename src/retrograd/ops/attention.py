"""The fused attention primitive behind `nn.functional.scaled_dot_product_attention`.

``attention(q, k, v, mask, scale, keep)`` is ``(softmax(scale * q @ k^T + mask) * keep) @ v``
over the last two dims (q (..., L, E), k (..., S, E), v (..., S, Ev), batch dims broadcast),
where `mask` is an additive float mask (or None), `keep` an optional dropout mask of 0 and
1 / (1 - p) applied to the probabilities, and a row of scores that is all -inf (every key
masked out) gets probabilities 0, so its output row is 0 and its gradients are 0, not NaN.

NOTE: one primitive instead of the composite matmul, mul, add, softmax, mul, matmul: the
forward works in place on one (..., L, S) array (no separate scaled, masked and exponentiated
copies) and records one node instead of six. The matmuls dominate, so the gain is modest:
forward + backward of causal self-attention at batch 16, 4 heads, seq 64, head 32 (float32,
one thread) take about 0.8-0.9 of the composite's time (medians and minima over 200
alternating runs on a busy 2-core machine). The VJP is written against `ns`; with
create_graph=True it recomputes the probabilities from the saved q, k and mask, so
second-order gradients are exact.
"""

import numpy as np

from ..autograd import array_ns
from ..autograd.graph import Op
from ._util import apply

__all__ = []

TENSOR_METHODS = {}


def _probabilities(q, k, mask, scale):
    """softmax(scale * q @ k^T + mask) on arrays, with rows that are all -inf set to 0.
    Returns the probabilities and a (..., L, 1) bool array of those dead rows (None if none)."""
    s = np.matmul(q, np.swapaxes(k, -1, -2))
    s *= scale
    if mask is not None:
        if np.broadcast_shapes(s.shape, mask.shape) == s.shape:
            s += mask
        else:
            s = s + mask
    if s.shape[-1] == 0:
        return s, None
    m = np.max(s, axis=-1, keepdims=True)
    dead = np.isneginf(m)
    if dead.any():
        m[dead] = 0.0  # exp(-inf - 0) = 0: the row's sum is 0, then divided by 1
    else:
        dead = None
    s -= m
    np.exp(s, out=s)
    total = np.sum(s, axis=-1, keepdims=True)
    if dead is not None:
        total[dead] = 1.0
    s /= total
    return s, dead


def _recorded_probabilities(ns, q, k, mask, scale, dead):
    """The same probabilities from retrograd ops, so create_graph records their dependence on
    q, k and mask; `dead` (from the forward) marks the rows forced to 0."""
    s = ns.matmul(q, ns.mT(k)) * scale
    if mask is not None:
        s = s + mask
    if dead is None:
        return ns.softmax(s, -1)
    return ns.where(dead, 0.0, ns.softmax(ns.where(dead, 0.0, s), -1))


class ScaledDotProductAttention(Op):
    """Attention without a differentiable mask: inputs q, k, v."""

    name = "scaled_dot_product_attention"
    input_names = ("query", "key", "value")
    save = (0, 1, 2)
    has_aux = True

    @staticmethod
    def forward(q, k, v, mask=None, *, scale, keep, bias):
        if bias is not None:
            mask = bias if mask is None else mask + bias
        p, dead = _probabilities(q, k, mask, scale)
        pd = p if keep is None else p * keep
        return np.matmul(pd, v), (p, dead)

    @staticmethod
    def vjp(ns, g, saved, params, needs):
        q, k, v = saved[:3]
        mask = saved[3] if len(saved) == 5 else None
        p, dead = saved[-1]
        scale, keep, bias = params["scale"], params["keep"], params["bias"]
        if ns is not array_ns:
            if bias is not None:
                mask = bias if mask is None else mask + bias
            p = _recorded_probabilities(ns, q, k, mask, scale, dead)
        pd = p if keep is None else p * keep
        gv = ns.matmul(ns.mT(pd), g) if needs[2] else None
        if not (needs[0] or needs[1] or (len(needs) == 4 and needs[3])):
            return None, None, gv, *((None,) if len(needs) == 4 else ())
        gp = ns.matmul(g, ns.mT(v))
        if keep is not None:
            gp = gp * keep
        gs = p * (gp - ns.sum(gp * p, -1, keepdim=True))
        gq = ns.matmul(gs, k) * scale if needs[0] else None
        gk = ns.matmul(ns.mT(gs), q) * scale if needs[1] else None
        if len(needs) == 4:
            return gq, gk, gv, gs if needs[3] else None
        return gq, gk, gv

    @staticmethod
    def jvp(ns, ts, xs, out, params):
        q, k, v = xs[:3]
        tq, tk, tv = ts[:3]
        scale, keep, bias = params["scale"], params["keep"], params["bias"]
        mask = xs[3] if len(xs) == 4 else None
        if bias is not None:
            mask = bias if mask is None else mask + bias
        p, _ = _probabilities(q, k, mask, scale)
        ts_ = (np.matmul(tq, np.swapaxes(k, -1, -2)) + np.matmul(q, np.swapaxes(tk, -1, -2)))
        ts_ = ts_ * scale
        if len(ts) == 4:
            ts_ = ts_ + ts[3]
        tp = p * (ts_ - np.sum(ts_ * p, axis=-1, keepdims=True))
        if keep is not None:
            tp, p = tp * keep, p * keep
        return np.matmul(tp, v) + np.matmul(p, tv)


class MaskedScaledDotProductAttention(ScaledDotProductAttention):
    """Attention with a float mask that is an input (it may require grad): q, k, v, mask."""

    name = "scaled_dot_product_attention_masked"
    input_names = ("query", "key", "value", "attn_mask")
    save = (0, 1, 2, 3)


def attention(q, k, v, mask=None, *, scale, keep=None, bias=None):
    """The primitive on Tensors: `mask` a float Tensor added to the scores (differentiable),
    `bias` a constant additive array (from boolean or causal masks), `keep` the dropout mask
    array (or None)."""
    if mask is None:
        return apply(ScaledDotProductAttention, q, k, v, scale=scale, keep=keep, bias=bias)
    return apply(MaskedScaledDotProductAttention, q, k, v, mask, scale=scale, keep=keep,
                 bias=bias)
