"""scaled_dot_product_attention and MultiheadAttention against PyTorch (float64, copied
weights): outputs, attention weights and every gradient; masks of both kinds; fully masked rows
give zeros, not NaN; gradcheck on small instances; errors name the layer."""

import numpy as np
import pytest

import retrograd as rg
from retrograd.autograd.gradcheck import gradcheck, gradgradcheck

from .helpers import assert_close

F = rg.nn.functional


def _pair(torch, array, requires_grad=True):
    floating = array.dtype.kind == "f"
    return (rg.tensor(array, requires_grad=requires_grad and floating),
            torch.tensor(array, requires_grad=requires_grad and floating))


def _backward_both(out, t_out, seed=1, extra=()):
    """Backpropagate the same random upstream gradient through both outputs (and the pairs of
    `extra` outputs)."""
    rng = np.random.default_rng(seed)
    loss, t_loss = 0, 0
    for a, b in ((out, t_out), *extra):
        g = rng.standard_normal(tuple(a.shape))
        loss = loss + (a * rg.tensor(g)).sum()
        t_loss = t_loss + (b * b.new_tensor(g)).sum()
    loss.backward()
    t_loss.backward()


# ----------------------------------------------------------------- scaled_dot_product_attention
SDPA_CASES = {
    "plain": dict(),
    "scale": dict(scale=0.3),
    "causal": dict(is_causal=True),
    "bool_mask_broadcast": dict(mask=("bool", (5, 7))),
    "bool_mask_per_head": dict(mask=("bool", (2, 1, 5, 7))),
    "float_mask": dict(mask=("float", (3, 5, 7))),
    "float_mask_grad": dict(mask=("float_grad", (2, 3, 5, 7))),
}


def _mask_array(rng, kind, shape):
    if kind == "bool":
        m = rng.random(shape) > 0.4
        m[..., 0] = True  # no fully masked rows here (PyTorch agrees on those separately)
        return m
    return rng.standard_normal(shape)


@pytest.mark.parametrize("case", SDPA_CASES)
def test_sdpa_matches_torch(torch, case):
    kw = dict(SDPA_CASES[case])
    rng = np.random.default_rng(0)
    q, k, v = (rng.standard_normal(s) for s in ((2, 3, 5, 4), (2, 3, 7, 4), (2, 3, 7, 6)))
    if case == "causal":
        k, v = k[:, :, :5], v[:, :, :5]
    pairs = [_pair(torch, a) for a in (q, k, v)]
    rg_kw, t_kw = {}, {}
    for name in ("scale", "is_causal"):
        if name in kw:
            rg_kw[name] = t_kw[name] = kw[name]
    mask = None
    if "mask" in kw:
        kind, shape = kw["mask"]
        mask = _pair(torch, _mask_array(rng, kind, shape), requires_grad=kind == "float_grad")
        rg_kw["attn_mask"], t_kw["attn_mask"] = mask
    out = F.scaled_dot_product_attention(*[p[0] for p in pairs], **rg_kw)
    t_out = torch.nn.functional.scaled_dot_product_attention(*[p[1] for p in pairs], **t_kw)
    assert_close(out, t_out)
    _backward_both(out, t_out)
    for a, b in pairs:
        assert_close(a.grad, b.grad)
    if mask is not None and mask[1].requires_grad:
        assert_close(mask[0].grad, mask[1].grad)


def test_sdpa_grouped_query_attention_matches_torch(torch):
    rng = np.random.default_rng(1)
    q, k, v = (rng.standard_normal(s) for s in ((2, 6, 4, 3), (2, 2, 5, 3), (2, 2, 5, 2)))
    pairs = [_pair(torch, a) for a in (q, k, v)]
    out = F.scaled_dot_product_attention(*[p[0] for p in pairs], enable_gqa=True)
    t_out = torch.nn.functional.scaled_dot_product_attention(*[p[1] for p in pairs],
                                                             enable_gqa=True)
    assert_close(out, t_out)
    _backward_both(out, t_out)
    for a, b in pairs:
        assert_close(a.grad, b.grad)


def test_sdpa_fully_masked_rows_give_zeros_and_zero_gradients(torch):
    rng = np.random.default_rng(2)
    q, k, v = (rng.standard_normal(s) for s in ((3, 4), (5, 4), (5, 2)))
    allowed = rng.random((3, 5)) > 0.3
    allowed[1] = False
    allowed[[0, 2], 0] = True
    pairs = [_pair(torch, a) for a in (q, k, v)]
    for mask in (rg.tensor(allowed), rg.tensor(np.where(allowed, 0.0, -np.inf))):
        for p, _ in pairs:
            p.grad = None
        out = F.scaled_dot_product_attention(*[p[0] for p in pairs], attn_mask=mask)
        assert np.all(out.data[1] == 0) and np.all(np.isfinite(out.data))
        out.sum().backward()
        for p, _ in pairs:
            assert np.all(np.isfinite(p.grad.data))
        assert np.all(pairs[0][0].grad.data[1] == 0)
    # the other rows are PyTorch's
    t_out = torch.nn.functional.scaled_dot_product_attention(
        *[p[1] for p in pairs], attn_mask=torch.tensor(allowed))
    assert_close(out.data[[0, 2]], t_out[[0, 2]])


def test_sdpa_dropout_is_seeded_and_scales_kept_probabilities():
    rng = np.random.default_rng(3)
    q, k, v = (rg.tensor(rng.standard_normal(s)) for s in ((2, 6, 4), (2, 8, 4), (2, 8, 8)))
    rg.manual_seed(7)
    a = F.scaled_dot_product_attention(q, k, v, dropout_p=0.5)
    rg.manual_seed(7)
    b = F.scaled_dot_product_attention(q, k, v, dropout_p=0.5)
    plain = F.scaled_dot_product_attention(q, k, v)
    np.testing.assert_array_equal(a.data, b.data)
    assert not np.allclose(a.data, plain.data)
    # with value = identity the output is the dropped-out probability matrix itself
    eye = rg.tensor(np.eye(8))
    rg.manual_seed(8)
    probs = F.scaled_dot_product_attention(q, k, eye, dropout_p=0.25).data
    full = F.scaled_dot_product_attention(q, k, eye).data
    kept = probs != 0
    np.testing.assert_allclose(probs[kept], full[kept] / 0.75)
    assert 0.5 < kept.mean() < 0.95


def test_sdpa_second_order_through_mask_and_inputs():
    rng = np.random.default_rng(4)
    q, k, v = (rg.tensor(rng.standard_normal(s), requires_grad=True)
               for s in ((2, 3, 2), (2, 4, 2), (2, 4, 3)))
    mask = rg.tensor(rng.standard_normal((3, 4)), requires_grad=True)
    fn = F.scaled_dot_product_attention
    assert gradcheck(fn, (q, k, v, mask))
    assert gradgradcheck(fn, (q, k, v, mask))


@pytest.mark.parametrize("kwargs,message", [
    (dict(attn_mask=rg.ones(3, 4, dtype=rg.bool), is_causal=True), "not both"),
    (dict(attn_mask=rg.ones(2, 3, dtype=rg.bool)), r"does not broadcast to the scores' shape"),
    (dict(attn_mask=rg.ones(3, 4, dtype=rg.int64)), "bool or floating point"),
    (dict(dropout_p=1.5), "between 0 and 1"),
])
def test_sdpa_errors(kwargs, message):
    q, k, v = rg.randn(3, 2), rg.randn(4, 2), rg.randn(4, 5)
    with pytest.raises((ValueError, TypeError), match=message):
        F.scaled_dot_product_attention(q, k, v, **kwargs)


def test_sdpa_shape_errors_name_the_shapes():
    with pytest.raises(ValueError, match=r"query \(3, 2\), key \(4, 3\)"):
        F.scaled_dot_product_attention(rg.randn(3, 2), rg.randn(4, 3), rg.randn(4, 3))
    with pytest.raises(TypeError, match="same dtype"):
        F.scaled_dot_product_attention(rg.randn(3, 2), rg.randn(4, 2, dtype=rg.float64),
                                       rg.randn(4, 3))


# ----------------------------------------------------------------- MultiheadAttention
def _mha_pair(torch, E=8, heads=2, **kw):
    t = torch.nn.MultiheadAttention(E, heads, **kw).double()
    layer = rg.nn.MultiheadAttention(E, heads, **kw).double()
    state = {k: v.detach().numpy() for k, v in t.state_dict().items()}
    assert list(state) == list(layer.state_dict())
    layer.load_state_dict(state)
    return layer, t


def _masks(rng, spec, N, L, S, heads):
    """rg and torch keyword arguments for the masks named in `spec`."""
    makers = {
        "kpm_bool": ("key_padding_mask", lambda: rng.random((N, S)) > 0.7),
        "kpm_float": ("key_padding_mask", lambda: rng.standard_normal((N, S))),
        "attn_bool": ("attn_mask", lambda: rng.random((L, S)) > 0.7),
        "attn_float": ("attn_mask", lambda: rng.standard_normal((L, S))),
        "attn_3d": ("attn_mask", lambda: rng.standard_normal((N * heads, L, S))),
    }
    rg_kw, t_kw = {}, {}
    for name in spec:
        key, make = makers[name]
        value = make()
        rg_kw[key], t_kw[key] = rg.tensor(value), torch_tensor(value)
    return rg_kw, t_kw


def torch_tensor(value):
    import torch

    return torch.tensor(value)


MHA_CASES = [
    ("default", {}, (), {}),
    ("batch_first", dict(batch_first=True), (), {}),
    ("no_weights", dict(batch_first=True), (), dict(need_weights=False)),
    ("per_head_weights", {}, (), dict(average_attn_weights=False)),
    ("kdim_vdim", dict(kdim=5, vdim=3), (), {}),
    ("no_bias", dict(bias=False), (), {}),
    ("kpm_bool", {}, ("kpm_bool",), {}),
    ("kpm_float_fused", dict(batch_first=True), ("kpm_float",), dict(need_weights=False)),
    ("attn_bool", {}, ("attn_bool",), {}),
    ("attn_float_and_kpm", {}, ("attn_float", "kpm_float"), {}),
    ("attn_3d_fused", {}, ("attn_3d",), dict(need_weights=False)),
    ("bias_kv_zero_attn", dict(add_bias_kv=True, add_zero_attn=True, batch_first=True),
     ("attn_float", "kpm_float"), {}),
]


@pytest.mark.parametrize("name,init_kw,masks,call_kw", MHA_CASES, ids=[c[0] for c in MHA_CASES])
def test_multihead_attention_matches_torch(torch, name, init_kw, masks, call_kw):
    N, L, S, E, heads = 2, 3, 4, 8, 2
    layer, t = _mha_pair(torch, E, heads, **init_kw)
    rng = np.random.default_rng(5)
    first = init_kw.get("batch_first", False)

    def shaped(n, e):
        return rng.standard_normal((N, n, e) if first else (n, N, e))

    arrays = (shaped(L, E), shaped(S, init_kw.get("kdim", E)), shaped(S, init_kw.get("vdim", E)))
    pairs = [_pair(torch, a) for a in arrays]
    rg_kw, t_kw = _masks(rng, masks, N, L, S, heads)
    out, w = layer(*[p[0] for p in pairs], **rg_kw, **call_kw)
    t_out, t_w = t(*[p[1] for p in pairs], **t_kw, **call_kw)
    assert_close(out, t_out)
    if t_w is None:
        assert w is None
        _backward_both(out, t_out)
    else:
        assert_close(w, t_w)
        _backward_both(out, t_out, extra=[(w, t_w)])
    for a, b in pairs:
        assert_close(a.grad, b.grad)
    t_params = dict(t.named_parameters())
    for pname, p in layer.named_parameters():
        assert_close(p.grad, t_params[pname].grad)


@pytest.mark.parametrize("need_weights", [True, False])
def test_multihead_self_attention_unbatched_matches_torch(torch, need_weights):
    layer, t = _mha_pair(torch, 6, 3)
    x, tx = _pair(torch, np.random.default_rng(6).standard_normal((5, 6)))
    causal = np.triu(np.ones((5, 5), bool), 1)
    out, w = layer(x, x, x, attn_mask=rg.tensor(causal), need_weights=need_weights)
    t_out, t_w = t(tx, tx, tx, attn_mask=torch.tensor(causal), need_weights=need_weights)
    assert_close(out, t_out)
    if need_weights:
        assert_close(w, t_w)
    _backward_both(out, t_out)
    assert_close(x.grad, tx.grad)


def test_multihead_attention_is_causal_alone_applies_the_causal_mask(torch):
    layer, _ = _mha_pair(torch, batch_first=True)
    x = rg.randn(2, 5, 8, dtype=rg.float64)
    mask = rg.nn.Transformer.generate_square_subsequent_mask(5, dtype=rg.float64)
    for need_weights in (True, False):
        a = layer(x, x, x, is_causal=True, need_weights=need_weights)[0]
        b = layer(x, x, x, attn_mask=mask, need_weights=need_weights)[0]
        np.testing.assert_allclose(a.data, b.data, atol=1e-12)


def test_multihead_attention_fully_padded_sequence_gives_bias_not_nan(torch):
    layer, t = _mha_pair(torch, batch_first=True)
    x = rg.tensor(np.random.default_rng(7).standard_normal((2, 3, 8)), requires_grad=True)
    pad = np.zeros((2, 3), bool)
    pad[1] = True  # every key of the second sequence is padding
    for need_weights in (True, False):
        x.grad = None
        layer.zero_grad()
        out, _ = layer(x, x, x, key_padding_mask=rg.tensor(pad), need_weights=need_weights)
        np.testing.assert_allclose(out.data[1], np.broadcast_to(layer.out_proj.bias.data,
                                                                (3, 8)))
        t_out, _ = t(torch.tensor(x.data), torch.tensor(x.data), torch.tensor(x.data),
                     key_padding_mask=torch.tensor(pad))
        assert torch.isnan(t_out[1]).all()  # what PyTorch gives instead
        assert_close(out.data[0], t_out[0])
        out.sum().backward()
        for p in [x, *layer.parameters()]:
            assert np.all(np.isfinite(p.grad.data))


def test_multihead_attention_state_dict_loads_into_torch(torch):
    layer = rg.nn.MultiheadAttention(8, 4, kdim=3, vdim=5, add_bias_kv=True).double()
    t = torch.nn.MultiheadAttention(8, 4, kdim=3, vdim=5, add_bias_kv=True).double()
    t.load_state_dict({k: torch.tensor(v.numpy()) for k, v in layer.state_dict().items()})
    q, k, v = (rng_array((4, 2, n)) for n in (8, 3, 5))
    out, w = layer(rg.tensor(q), rg.tensor(k), rg.tensor(v))
    t_out, t_w = t(torch.tensor(q), torch.tensor(k), torch.tensor(v))
    assert_close(out, t_out)
    assert_close(w, t_w)


def rng_array(shape, seed=8):
    return np.random.default_rng(seed).standard_normal(shape)


def _structure(text):
    """A retrograd repr without its parameter-count comments: PyTorch's repr."""
    lines = [line.split("  # ")[0] for line in text.splitlines() if not line.startswith("#")]
    return "\n".join(lines)


def test_multihead_attention_init_and_repr_match_torch(torch):
    layer = rg.nn.MultiheadAttention(16, 4)
    t = torch.nn.MultiheadAttention(16, 4)
    assert _structure(repr(layer)) == repr(t)
    assert not layer.in_proj_bias.data.any() and not layer.out_proj.bias.data.any()
    bound = np.sqrt(6 / (16 + 48))  # xavier_uniform_ of (3E, E)
    w = layer.in_proj_weight.data
    assert np.abs(w).max() <= bound and np.abs(w).max() > 0.9 * bound
    assert layer.in_proj_weight.dtype == rg.float32


def test_multihead_attention_dropout_only_in_training():
    layer = rg.nn.MultiheadAttention(8, 2, dropout=0.5, batch_first=True)
    x = rg.randn(2, 6, 8)
    layer.eval()
    a, b = layer(x, x, x)[0], layer(x, x, x)[0]
    np.testing.assert_array_equal(a.data, b.data)
    layer.train()
    for need_weights in (True, False):
        c = layer(x, x, x, need_weights=need_weights)[0]
        assert not np.allclose(c.data, a.data)


def test_multihead_attention_gradcheck_small():
    rg.manual_seed(0)
    layer = rg.nn.MultiheadAttention(4, 2, kdim=3, vdim=2, add_bias_kv=True).double()
    q = rg.randn(2, 1, 4, dtype=rg.float64, requires_grad=True)
    k = rg.randn(3, 1, 3, dtype=rg.float64, requires_grad=True)
    v = rg.randn(3, 1, 2, dtype=rg.float64, requires_grad=True)
    mask = rg.tensor([[False, True, False], [False, False, False]])

    def fn(q, k, v, w):
        layer.q_proj_weight = w
        return layer(q, k, v, attn_mask=mask)[0]

    assert gradcheck(fn, (q, k, v, layer.q_proj_weight))
    assert gradgradcheck(lambda q, k, v: layer(q, k, v, need_weights=False)[0], (q, k, v))


@pytest.mark.parametrize("call,message", [
    (lambda m: m(rg.randn(3, 2, 6), rg.randn(3, 2, 8), rg.randn(3, 2, 8)),
     r"attn \(MultiheadAttention\): expected input with last dimension 8 \(embed_dim\), "
     r"got shape \(3, 2, 6\)"),
    (lambda m: m(rg.randn(3, 2, 8), rg.randn(4, 2, 8), rg.randn(5, 2, 8)),
     r"key \(4, 2, 8\) and value \(5, 2, 8\) need the same sequence length"),
    (lambda m: m(rg.randn(3, 2, 8), rg.randn(4, 2, 8), rg.randn(4, 2, 8),
                 attn_mask=rg.ones(4, 3, dtype=rg.bool)),
     r"a 2-D mask must be \(L, S\) = \(3, 4\), got shape \(4, 3\)"),
    (lambda m: m(rg.randn(3, 2, 8), rg.randn(4, 2, 8), rg.randn(4, 2, 8),
                 key_padding_mask=rg.ones(2, 3, dtype=rg.bool)),
     r"key_padding_mask: expected shape \(N, S\) = \(2, 4\), got \(2, 3\)"),
    (lambda m: m(rg.randn(2, 8), rg.randn(2, 2, 8), rg.randn(2, 2, 8)),
     "must all be 2-D"),
])
def test_multihead_attention_errors_name_the_layer(call, message):
    model = _Wrapper(rg.nn.MultiheadAttention(8, 2))
    with pytest.raises(ValueError, match=message) as info:
        call(model)
    assert str(info.value).startswith("attn (MultiheadAttention): ")


class _Wrapper(rg.nn.Module):
    def __init__(self, attn):
        super().__init__()
        self.attn = attn

    def forward(self, *args, **kwargs):
        return self.attn(*args, **kwargs)


def test_multihead_attention_constructor_errors():
    with pytest.raises(ValueError, match="divisible"):
        rg.nn.MultiheadAttention(10, 3)
    with pytest.raises(ValueError, match="greater than 0"):
        rg.nn.MultiheadAttention(0, 1)
