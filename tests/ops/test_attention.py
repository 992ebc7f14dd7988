"""Specs for the fused attention primitive (ops/attention.py), through
nn.functional.scaled_dot_product_attention: plain, broadcast batch dims, causal, boolean masks
with a fully masked row, a differentiable float mask, grouped-query heads and dropout."""

import numpy as np
import pytest

import retrograd as rg
from retrograd.nn import functional as F

from .harness import OpSpec, parametrize

_BOOL_MASK = np.array([[True, False, True, True, False],
                       [False, False, False, False, False],  # every key masked: output 0
                       [True, True, True, True, True]])


def _np_attention(q, k, v, mask=None, scale=None):
    scale = 1 / np.sqrt(q.shape[-1]) if scale is None else scale
    s = q @ np.swapaxes(k, -1, -2) * scale
    if mask is not None:
        s = s + mask
    dead = np.all(np.isneginf(s), axis=-1, keepdims=True)
    s = np.where(dead, 0.0, s)
    p = np.exp(s - s.max(-1, keepdims=True))
    p = np.where(dead, 0.0, p / p.sum(-1, keepdims=True))
    return p @ v


def _causal(L, S):
    return np.where(np.tril(np.ones((L, S), bool)), 0.0, -np.inf)


def _dropout_attention(q, k, v):
    rg.manual_seed(3)  # the same dropout mask on every call, for finite differences
    return F.scaled_dot_product_attention(q, k, v, dropout_p=0.4)


SPECS = [
    OpSpec("scaled_dot_product_attention", F.scaled_dot_product_attention, _np_attention,
           [((2, 3, 4), (2, 5, 4), (2, 5, 3)), ((3, 4), (2, 5, 4), (2, 5, 2)),
            ((2, 2, 3, 4), (2, 2, 5, 4), (2, 2, 5, 2)), ((1, 4), (3, 4), (3, 1))]),
    OpSpec("scaled_dot_product_attention",
           lambda q, k, v: F.scaled_dot_product_attention(q, k, v, is_causal=True, scale=0.7),
           lambda q, k, v: _np_attention(q, k, v, _causal(q.shape[-2], k.shape[-2]), 0.7),
           [((4, 3), (4, 3), (4, 2)), ((2, 3, 2), (2, 5, 2), (2, 5, 3))], name="sdpa_causal"),
    OpSpec("scaled_dot_product_attention",
           lambda q, k, v: F.scaled_dot_product_attention(q, k, v, rg.tensor(_BOOL_MASK)),
           lambda q, k, v: _np_attention(q, k, v, np.where(_BOOL_MASK, 0.0, -np.inf)),
           [((3, 4), (5, 4), (5, 2)), ((2, 3, 4), (2, 5, 4), (2, 5, 2))], name="sdpa_bool_mask"),
    OpSpec("scaled_dot_product_attention_masked", F.scaled_dot_product_attention, _np_attention,
           [((2, 3, 4), (2, 5, 4), (2, 5, 3), (3, 5)), ((3, 2), (3, 2), (3, 2), (2, 3, 3))]),
    OpSpec("scaled_dot_product_attention",
           lambda q, k, v: F.scaled_dot_product_attention(q, k, v, enable_gqa=True),
           lambda q, k, v: _np_attention(q, np.repeat(k, 2, -3), np.repeat(v, 2, -3)),
           [((2, 4, 3, 2), (2, 2, 5, 2), (2, 2, 5, 3))], name="sdpa_gqa"),
    OpSpec("scaled_dot_product_attention", _dropout_attention, None,
           [((2, 3, 4), (2, 5, 4), (2, 5, 3))], name="sdpa_dropout"),
]

PARAMS, IDS = parametrize(SPECS)


@pytest.mark.parametrize("spec,shapes,check", PARAMS, ids=IDS)
def test_spec(spec, shapes, check):
    check(spec, shapes)
