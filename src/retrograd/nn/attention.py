"""MultiheadAttention, with PyTorch's parameters, masks and outputs.

The parameter layout is PyTorch's, so state dicts load both ways: `in_proj_weight` (3E, E) and
`in_proj_bias` (3E,) hold the query, key and value projections stacked (or `q_proj_weight`,
`k_proj_weight`, `v_proj_weight` when kdim/vdim differ from embed_dim), `out_proj` is a Linear,
and `bias_k`/`bias_v` (1, 1, E) exist with add_bias_kv.

Boolean masks mean what they mean in PyTorch's MultiheadAttention: True = masked out (ignored),
the opposite of scaled_dot_product_attention's. A query whose keys are all masked gets zero
attention (its output is out_proj's bias) instead of PyTorch's NaN, which would otherwise reach
every gradient (see nn/functional/_attention.py).
"""

import numpy as np

from ..autograd import dtypes
from ..autograd.tensor import Tensor, new_tensor
from ..ops.creation import empty, zeros
from ..ops.joining import cat
from . import init
from .functional import _attention
from .functional import _dropout as F_dropout
from .functional._linear import linear
from .linear import Linear, _factory_dtype
from .module import Module, check_input
from .parameter import Parameter

__all__ = ["MultiheadAttention"]


class NonDynamicallyQuantizableLinear(Linear):
    """A Linear under PyTorch's name for MultiheadAttention.out_proj (so reprs match)."""


class MultiheadAttention(Module):
    """Attention over `num_heads` heads of size embed_dim // num_heads:
    out_proj(concat_h(softmax(q_h k_h^T / sqrt(d) + masks) v_h)) with q, k, v linear
    projections of query, key, value.

    Inputs are (L, N, E) (sequence first, PyTorch's default), (N, L, E) with batch_first=True,
    or unbatched (L, E). forward returns (attn_output, attn_weights); the weights (after
    dropout, averaged over heads unless average_attn_weights=False) are None when
    need_weights=False, which takes the fused attention path.
    """

    def __init__(self, embed_dim, num_heads, dropout=0.0, bias=True, add_bias_kv=False,
                 add_zero_attn=False, kdim=None, vdim=None, batch_first=False, device=None,
                 dtype=None):
        super().__init__()
        if embed_dim <= 0 or num_heads <= 0:
            raise ValueError(f"MultiheadAttention: embed_dim and num_heads must be greater than "
                             f"0, got embed_dim={embed_dim} and num_heads={num_heads}")
        if embed_dim % num_heads:
            raise ValueError(f"MultiheadAttention: embed_dim {embed_dim} must be divisible by "
                             f"num_heads {num_heads}")
        dtype = _factory_dtype(device, dtype)
        self.embed_dim = embed_dim
        self.kdim = kdim if kdim is not None else embed_dim
        self.vdim = vdim if vdim is not None else embed_dim
        self._qkv_same_embed_dim = self.kdim == embed_dim and self.vdim == embed_dim
        self.num_heads = num_heads
        self.dropout = dropout
        self.batch_first = batch_first
        self.head_dim = embed_dim // num_heads
        if self._qkv_same_embed_dim:
            self.in_proj_weight = Parameter(empty(3 * embed_dim, embed_dim, dtype=dtype))
            self.q_proj_weight = self.k_proj_weight = self.v_proj_weight = None
        else:
            self.in_proj_weight = None
            self.q_proj_weight = Parameter(empty(embed_dim, embed_dim, dtype=dtype))
            self.k_proj_weight = Parameter(empty(embed_dim, self.kdim, dtype=dtype))
            self.v_proj_weight = Parameter(empty(embed_dim, self.vdim, dtype=dtype))
        self.in_proj_bias = Parameter(empty(3 * embed_dim, dtype=dtype)) if bias else None
        self.out_proj = NonDynamicallyQuantizableLinear(embed_dim, embed_dim, bias=bias,
                                                        dtype=dtype)
        if add_bias_kv:
            self.bias_k = Parameter(empty(1, 1, embed_dim, dtype=dtype))
            self.bias_v = Parameter(empty(1, 1, embed_dim, dtype=dtype))
        else:
            self.bias_k = self.bias_v = None
        self.add_zero_attn = add_zero_attn
        self._reset_parameters()

    def _reset_parameters(self):
        if self._qkv_same_embed_dim:
            init.xavier_uniform_(self.in_proj_weight)
        else:
            init.xavier_uniform_(self.q_proj_weight)
            init.xavier_uniform_(self.k_proj_weight)
            init.xavier_uniform_(self.v_proj_weight)
        if self.in_proj_bias is not None:
            init.constant_(self.in_proj_bias, 0.0)
            init.constant_(self.out_proj.bias, 0.0)
        if self.bias_k is not None:
            init.xavier_normal_(self.bias_k)
            init.xavier_normal_(self.bias_v)

    def forward(self, query, key, value, key_padding_mask=None, need_weights=True,
                attn_mask=None, average_attn_weights=True, is_causal=False):
        """Self-attention is forward(x, x, x). `key_padding_mask` (N, S) (or (S,) unbatched):
        True (or -inf) for keys to ignore. `attn_mask` (L, S) or (N * num_heads, L, S): True
        where a query may not attend, or a float mask added to the scores. `is_causal=True`
        without attn_mask applies the causal mask (PyTorch requires the mask as well; with a
        mask the mask is used)."""
        batched = _check_inputs(self, query, key, value)
        if not batched:
            query, key, value = query.unsqueeze(0), key.unsqueeze(0), value.unsqueeze(0)
            if key_padding_mask is not None:
                key_padding_mask = key_padding_mask.unsqueeze(0)
        elif not self.batch_first:
            query, key, value = query.transpose(0, 1), key.transpose(0, 1), value.transpose(0, 1)
        n, L, _ = query.shape
        q, k, v = self._project(query, key, value)
        if self.bias_k is not None:
            k = cat([k, self.bias_k.expand(n, 1, self.embed_dim)], 1)
            v = cat([v, self.bias_v.expand(n, 1, self.embed_dim)], 1)
        q, k, v = (self._split_heads(t) for t in (q, k, v))
        if self.add_zero_attn:
            shape = (n, self.num_heads, 1, self.head_dim)
            k = cat([k, zeros(*shape, dtype=k.dtype)], 2)
            v = cat([v, zeros(*shape, dtype=v.dtype)], 2)
        mask = self._mask(key_padding_mask, attn_mask, is_causal, n, L, key.shape[1],
                          q.data.dtype)
        p = self.dropout if self.training else 0.0
        weights = None
        if need_weights:
            probs = _attention.attention_probs(q, k, self.head_dim ** -0.5, mask=mask)
            probs = F_dropout.dropout(probs, p, training=p > 0)
            out = probs @ v
            weights = probs.mean(1) if average_attn_weights else probs
            if not batched:
                weights = weights.squeeze(0)
        else:
            out = _attention.scaled_dot_product_attention(q, k, v, mask, dropout_p=p)
        out = out.transpose(1, 2).reshape(n, L, self.embed_dim)
        out = self.out_proj(out)
        if not batched:
            out = out.squeeze(0)
        elif not self.batch_first:
            out = out.transpose(0, 1)
        return out, weights

    def _project(self, query, key, value):
        e, b = self.embed_dim, self.in_proj_bias
        bq, bk, bv = (None, None, None) if b is None else (b[:e], b[e:2 * e], b[2 * e:])
        if self._qkv_same_embed_dim:
            w = self.in_proj_weight
            if query is key and key is value:  # self-attention: one matmul for all three
                return linear(query, w, b).chunk(3, dim=-1)
            wq, wk, wv = w[:e], w[e:2 * e], w[2 * e:]
        else:
            wq, wk, wv = self.q_proj_weight, self.k_proj_weight, self.v_proj_weight
        return linear(query, wq, bq), linear(key, wk, bk), linear(value, wv, bv)

    def _split_heads(self, t):
        """(N, L, E) -> (N, heads, L, head_dim)."""
        n, length, _ = t.shape
        return t.reshape(n, length, self.num_heads, self.head_dim).transpose(1, 2)

    def _mask(self, key_padding_mask, attn_mask, is_causal, n, L, S, dtype):
        """One additive mask broadcastable to (N, heads, L, S'), S' counting the keys that
        add_bias_kv and add_zero_attn append (never masked), or None."""
        extra = (self.bias_k is not None) + self.add_zero_attn
        parts = []
        if attn_mask is not None:
            am = _additive(attn_mask, "attn_mask", dtype)
            if am.ndim == 2:
                if tuple(am.shape) != (L, S):
                    raise ValueError(f"attn_mask: a 2-D mask must be (L, S) = {(L, S)}, got "
                                     f"shape {tuple(am.shape)}")
            elif am.ndim == 3:
                if tuple(am.shape) != (n * self.num_heads, L, S):
                    raise ValueError(
                        f"attn_mask: a 3-D mask must be (N * num_heads, L, S) = "
                        f"{(n * self.num_heads, L, S)}, got shape {tuple(am.shape)}"
                    )
                am = am.reshape(n, self.num_heads, L, S)
            else:
                raise ValueError(f"attn_mask: expected a 2-D or 3-D mask, got shape "
                                 f"{tuple(am.shape)}")
            parts.append(am)
        elif is_causal:
            parts.append(new_tensor(_attention.causal_bias(L, S, dtype)))
        if key_padding_mask is not None:
            kpm = _additive(key_padding_mask, "key_padding_mask", dtype)
            if tuple(kpm.shape) != (n, S):
                raise ValueError(f"key_padding_mask: expected shape (N, S) = {(n, S)}, got "
                                 f"{tuple(kpm.shape)}")
            parts.append(kpm.reshape(n, 1, 1, S))
        if not parts:
            return None
        mask = parts[0] if len(parts) == 1 else parts[0] + parts[1]
        if extra:
            pad = new_tensor(np.zeros((1,) * (mask.ndim - 1) + (extra,), dtype))
            mask = cat([mask, pad.expand(*mask.shape[:-1], extra)], -1)
        return mask


def _check_inputs(module, query, key, value):
    """True for batched (3-D) inputs; raises with the shapes when they don't fit."""
    check_input(query, ndim=(2, 3))
    if key.ndim != query.ndim or value.ndim != query.ndim:
        raise ValueError(f"query, key and value must all be 2-D (unbatched) or 3-D, got "
                         f"shapes {tuple(query.shape)}, {tuple(key.shape)}, {tuple(value.shape)}")
    check_input(query, dim=-1, size=module.embed_dim, what="embed_dim")
    check_input(key, dim=-1, size=module.kdim, what="kdim")
    check_input(value, dim=-1, size=module.vdim, what="vdim")
    batched = query.ndim == 3
    seq = 1 if batched and module.batch_first else 0
    if key.shape[seq] != value.shape[seq]:
        raise ValueError(f"key {tuple(key.shape)} and value {tuple(value.shape)} need the same "
                         f"sequence length")
    if batched:
        b = 0 if module.batch_first else 1
        if not query.shape[b] == key.shape[b] == value.shape[b]:
            raise ValueError(f"query {tuple(query.shape)}, key {tuple(key.shape)} and value "
                             f"{tuple(value.shape)} need the same batch size")
    return batched


def _additive(mask, name, dtype):
    """MultiheadAttention's mask convention as an additive Tensor: bool True -> -inf."""
    if not isinstance(mask, Tensor):
        raise TypeError(f"{name} must be a Tensor, got {type(mask).__name__}")
    if mask.data.dtype == np.bool_:
        return new_tensor(np.where(mask.data, np.asarray(-np.inf, dtype), np.zeros((), dtype)))
    if not dtypes.is_floating(mask.data.dtype):
        raise TypeError(f"{name}: only bool and floating masks are supported, got {mask.dtype}")
    return mask.to(dtype)
