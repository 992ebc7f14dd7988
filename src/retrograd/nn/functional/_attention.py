"""scaled_dot_product_attention, as torch.nn.functional.

Masks follow PyTorch: a boolean `attn_mask` is True where a query may attend to a key (the
opposite of MultiheadAttention's boolean masks, where True means "masked out"); a float mask is
added to the scores. Both broadcast over the batch and head dims.

A query whose keys are all masked out (a row of scores that is all -inf) gets attention
probabilities 0 and so an output of 0 and zero gradients, never NaN. PyTorch's math kernel does
the same in this version; other PyTorch kernels and MultiheadAttention give NaN there, which then
spreads to every parameter through backward. Zeros keep training stable when padding or a
causal mask with a left offset leaves a row empty.
"""

import math

import numpy as np

from ...autograd import dtypes
from ...autograd.tensor import Tensor, new_tensor
from ...ops.attention import attention
from ...ops.comparison import where
from ...ops.joining import repeat_interleave
from ...ops.linalg import matmul
from ...ops.reduction import softmax
from ._dropout import _check_p, _keep_mask

__all__ = ["scaled_dot_product_attention"]

_NAME = "scaled_dot_product_attention"


def scaled_dot_product_attention(query, key, value, attn_mask=None, dropout_p=0.0,
                                 is_causal=False, scale=None, enable_gqa=False):
    """softmax(query @ key^T * scale + mask) @ value, with dropout on the probabilities.

    query (..., L, E), key (..., S, E), value (..., S, Ev) -> (..., L, Ev); the batch dims
    broadcast. `attn_mask`: bool (True = take part) or float (added), broadcastable to
    (..., L, S). `is_causal`: query i attends to keys 0..i (top-left aligned, as PyTorch; not
    together with attn_mask). `scale` defaults to 1 / sqrt(E). `dropout_p` applies whenever it
    is > 0 (pass 0 in evaluation). `enable_gqa`: key and value may have fewer heads (dim -3)
    than query, a divisor of them; each key head then serves a group of query heads.
    """
    q, k, v = _check_qkv(query, key, value)
    if enable_gqa:
        k, v = _expand_heads(q, k, v)
    L, S = q.shape[-2], k.shape[-2]
    scale = 1.0 / math.sqrt(q.shape[-1]) if scale is None else float(scale)
    mask, bias = _split_mask(attn_mask, q.data.dtype, L, S)
    if is_causal:
        if attn_mask is not None:
            raise ValueError(f"{_NAME}: give attn_mask or is_causal=True, not both")
        bias = causal_bias(L, S, q.data.dtype)
    _check_p(dropout_p, _NAME)
    keep = None
    if dropout_p > 0.0:
        batch = np.broadcast_shapes(q.shape[:-2], k.shape[:-2], v.shape[:-2])
        shape = np.broadcast_shapes(batch + (L, S), _mask_shape(mask, bias))
        keep = _keep_mask(shape, dropout_p, q.data.dtype, None)
    return attention(q, k, v, mask, scale=scale, keep=keep, bias=bias)


def _check_qkv(query, key, value):
    for name, t in (("query", query), ("key", key), ("value", value)):
        if not isinstance(t, Tensor):
            raise TypeError(f"{_NAME}: {name} must be a Tensor, got {type(t).__name__}")
        if t.ndim < 2:
            raise ValueError(f"{_NAME}: {name} must have at least 2 dims (..., L, E), got shape "
                             f"{tuple(t.shape)}")
        if not dtypes.is_floating(t.data.dtype):
            raise TypeError(f"{_NAME}: {name} must be floating point, got dtype {t.dtype}")
    if not query.dtype == key.dtype == value.dtype:
        raise TypeError(f"{_NAME}: query, key and value must have the same dtype, got "
                        f"{query.dtype}, {key.dtype} and {value.dtype}")
    if query.shape[-1] != key.shape[-1] or key.shape[-2] != value.shape[-2]:
        raise ValueError(
            f"{_NAME}: query {tuple(query.shape)}, key {tuple(key.shape)} and value "
            f"{tuple(value.shape)} don't fit (..., L, E), (..., S, E), (..., S, Ev)"
        )
    return query, key, value


def _expand_heads(q, k, v):
    """Grouped-query attention: repeat each key/value head for its group of query heads."""
    if q.ndim < 3:
        raise ValueError(f"{_NAME}: enable_gqa needs a heads dim (..., H, L, E)")
    hq, hk, hv = q.shape[-3], k.shape[-3], v.shape[-3]
    if hk != hv or hq % hk:
        raise ValueError(f"{_NAME}: with enable_gqa, key and value need the same number of "
                         f"heads, a divisor of the query's {hq}; got {hk} and {hv}")
    if hq != hk:
        k = repeat_interleave(k, hq // hk, dim=-3)
        v = repeat_interleave(v, hq // hk, dim=-3)
    return k, v


def causal_bias(L, S, dtype):
    """An (L, S) additive mask: 0 where key j <= query i, -inf above the diagonal."""
    return np.triu(np.full((L, S), -np.inf, dtype=dtype), 1)


def _split_mask(attn_mask, dtype, L, S):
    """(mask Tensor or None, bias array or None): a float mask that requires grad stays a
    differentiable input; boolean and constant float masks become an additive array."""
    if attn_mask is None:
        return None, None
    if not isinstance(attn_mask, Tensor):
        raise TypeError(f"{_NAME}: attn_mask must be a Tensor, got {type(attn_mask).__name__}")
    shape = tuple(attn_mask.shape)
    try:
        fits = np.broadcast_shapes(shape, (L, S))[-2:] == (L, S)
    except ValueError:
        fits = False
    if not fits:
        raise ValueError(f"{_NAME}: attn_mask of shape {shape} does not broadcast to the "
                         f"scores' shape (..., {L}, {S})")
    data = attn_mask.data
    if data.dtype == np.bool_:
        return None, np.where(data, np.zeros((), dtype), np.asarray(-np.inf, dtype))
    if not dtypes.is_floating(data.dtype):
        raise TypeError(f"{_NAME}: attn_mask must be bool or floating point, got "
                        f"dtype {attn_mask.dtype}")
    if attn_mask.requires_grad:
        return attn_mask.to(dtype), None
    return None, data.astype(dtype, copy=False)


def _mask_shape(mask, bias):
    if mask is not None:
        return tuple(mask.shape)
    return () if bias is None else bias.shape


def attention_probs(q, k, scale, mask=None, bias=None):
    """softmax(q @ k^T * scale + mask + bias) from differentiable ops, rows that are all -inf
    set to 0: the attention weights when a caller needs them as a Tensor (MultiheadAttention's
    need_weights=True)."""
    s = matmul(q, k.mT) * scale
    if mask is not None:
        s = s + mask
    if bias is not None:
        s = s + new_tensor(bias)
    if s.shape[-1] == 0:
        return s
    dead = np.isneginf(np.max(s.data, axis=-1, keepdims=True))
    if not dead.any():
        return softmax(s, -1)
    return where(dead, 0.0, softmax(where(dead, 0.0, s), -1))
