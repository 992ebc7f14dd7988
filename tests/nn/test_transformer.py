"""Transformer layers and stacks against PyTorch (float64, copied weights, dropout off):
post-LN and pre-LN, relu/gelu/callable activations, masks; outputs and every gradient;
state-dict keys; deep-copied stacks; gradcheck on a small layer."""

import numpy as np
import pytest

import retrograd as rg
from retrograd.autograd.gradcheck import gradcheck

from .helpers import assert_close

D, HEADS, FF = 8, 2, 12


def _copy(layer, t):
    state = {k: v.detach().numpy() for k, v in t.state_dict().items()}
    assert list(state) == list(layer.state_dict())
    layer.load_state_dict(state)
    return layer.double(), t.double()


def _compare(torch, layer, t, arrays, rg_kw=None, t_kw=None, seed=1):
    """Run both on the same inputs; compare outputs, input and parameter gradients."""
    xs = [rg.tensor(a, requires_grad=True) for a in arrays]
    txs = [torch.tensor(a, requires_grad=True) for a in arrays]
    out = layer(*xs, **(rg_kw or {}))
    t_out = t(*txs, **(t_kw or {}))
    assert_close(out, t_out)
    g = np.random.default_rng(seed).standard_normal(t_out.shape)
    (out * rg.tensor(g)).sum().backward()
    (t_out * torch.tensor(g)).sum().backward()
    for x, tx in zip(xs, txs):
        assert_close(x.grad, tx.grad)
    t_params = dict(t.named_parameters())
    assert [n for n, _ in layer.named_parameters()] == list(t_params)
    for name, p in layer.named_parameters():
        assert_close(p.grad, t_params[name].grad, atol=1e-10)


def _masks(torch, L, N, kinds):
    rng = np.random.default_rng(3)
    rg_kw, t_kw = {}, {}
    if "causal" in kinds:
        causal = np.triu(np.ones((L, L), bool), 1)  # True = masked, as the padding mask
        rg_kw["src_mask"], t_kw["src_mask"] = rg.tensor(causal), torch.tensor(causal)
    if "padding" in kinds:
        pad = rng.random((N, L)) > 0.7
        pad[:, 0] = False
        rg_kw["src_key_padding_mask"] = rg.tensor(pad)
        t_kw["src_key_padding_mask"] = torch.tensor(pad)
    return rg_kw, t_kw


ACTIVATIONS = ["relu", "gelu", "callable"]


def _activation(torch, name):
    if name == "callable":  # any function of tensors: here SiLU in each framework
        return rg.nn.functional.silu, torch.nn.functional.silu
    return name, name


@pytest.mark.parametrize("norm_first", [False, True], ids=["post_ln", "pre_ln"])
@pytest.mark.parametrize("activation", ACTIVATIONS)
@pytest.mark.parametrize("batch_first", [False, True], ids=["seq_first", "batch_first"])
def test_encoder_layer_matches_torch(torch, norm_first, activation, batch_first):
    act, t_act = _activation(torch, activation)
    kw = dict(dim_feedforward=FF, dropout=0.0, batch_first=batch_first, norm_first=norm_first)
    layer, t = _copy(rg.nn.TransformerEncoderLayer(D, HEADS, activation=act, **kw),
                     torch.nn.TransformerEncoderLayer(D, HEADS, activation=t_act, **kw))
    N, L = 2, 5
    x = np.random.default_rng(0).standard_normal((N, L, D) if batch_first else (L, N, D))
    rg_kw, t_kw = _masks(torch, L, N, ("causal", "padding"))
    _compare(torch, layer, t, [x], rg_kw, t_kw)


def test_encoder_layer_without_bias_and_eps_matches_torch(torch):
    kw = dict(dim_feedforward=FF, dropout=0.0, bias=False, layer_norm_eps=1e-3)
    layer, t = _copy(rg.nn.TransformerEncoderLayer(D, HEADS, **kw),
                     torch.nn.TransformerEncoderLayer(D, HEADS, **kw))
    _compare(torch, layer, t, [np.random.default_rng(1).standard_normal((4, D))])


def test_encoder_layer_eval_mode_turns_dropout_off(torch):
    kw = dict(dim_feedforward=FF, dropout=0.3, batch_first=True)
    layer, t = _copy(rg.nn.TransformerEncoderLayer(D, HEADS, **kw),
                     torch.nn.TransformerEncoderLayer(D, HEADS, **kw))
    layer.eval()
    t.eval()
    x = np.random.default_rng(2).standard_normal((2, 4, D))
    with torch.no_grad():
        expected = t(torch.tensor(x))
    assert_close(layer(rg.tensor(x)), expected)
    layer.train()
    assert not np.allclose(layer(rg.tensor(x)).data, expected.numpy())


@pytest.mark.parametrize("norm_first", [False, True], ids=["post_ln", "pre_ln"])
@pytest.mark.parametrize("activation", ["relu", "gelu"])
def test_decoder_layer_matches_torch(torch, norm_first, activation):
    kw = dict(dim_feedforward=FF, dropout=0.0, activation=activation, norm_first=norm_first,
              batch_first=True)
    layer, t = _copy(rg.nn.TransformerDecoderLayer(D, HEADS, **kw),
                     torch.nn.TransformerDecoderLayer(D, HEADS, **kw))
    rng = np.random.default_rng(4)
    tgt, memory = rng.standard_normal((2, 4, D)), rng.standard_normal((2, 6, D))
    causal = rg.nn.Transformer.generate_square_subsequent_mask(4, dtype=rg.float64)
    pad = np.array([[False] * 5 + [True], [False] * 6])
    rg_kw = dict(tgt_mask=causal, memory_key_padding_mask=rg.tensor(pad))
    t_kw = dict(tgt_mask=torch.tensor(causal.numpy()), memory_key_padding_mask=torch.tensor(pad))
    _compare(torch, layer, t, [tgt, memory], rg_kw, t_kw)


@pytest.mark.parametrize("norm_first", [False, True], ids=["post_ln", "pre_ln"])
def test_encoder_stack_matches_torch(torch, norm_first):
    kw = dict(dim_feedforward=FF, dropout=0.0, norm_first=norm_first)
    stack = rg.nn.TransformerEncoder(rg.nn.TransformerEncoderLayer(D, HEADS, **kw), 2,
                                     norm=rg.nn.LayerNorm(D))
    t = torch.nn.TransformerEncoder(torch.nn.TransformerEncoderLayer(D, HEADS, **kw), 2,
                                    norm=torch.nn.LayerNorm(D), enable_nested_tensor=False)
    layer, t = _copy(stack, t)
    x = np.random.default_rng(5).standard_normal((5, 3, D))
    rg_kw, t_kw = _masks(torch, 5, 3, ("padding",))
    _compare(torch, layer, t, [x], rg_kw, t_kw)


def test_encoder_stack_deep_copies_the_layer():
    layer = rg.nn.TransformerEncoderLayer(D, HEADS, dim_feedforward=FF)
    stack = rg.nn.TransformerEncoder(layer, 3)
    weights = [m.linear1.weight for m in stack.layers]
    assert len({id(w) for w in weights}) == 3 and all(w is not layer.linear1.weight
                                                      for w in weights)
    for w in weights:
        np.testing.assert_array_equal(w.data, layer.linear1.weight.data)
    assert len(list(stack.parameters())) == 3 * len(list(layer.parameters()))


def test_encoder_is_causal_without_mask_equals_the_causal_mask():
    rg.manual_seed(0)
    stack = rg.nn.TransformerEncoder(
        rg.nn.TransformerEncoderLayer(D, HEADS, dim_feedforward=FF, dropout=0.0,
                                      batch_first=True, norm_first=True), 2)
    x = rg.randn(2, 6, D)
    mask = rg.nn.Transformer.generate_square_subsequent_mask(6)
    np.testing.assert_allclose(stack(x, is_causal=True).data, stack(x, mask=mask).data,
                               atol=1e-6)
    # causality: changing a later position leaves earlier outputs unchanged
    y = x.clone()
    y[:, 4:] = rg.randn(2, 2, D)
    np.testing.assert_allclose(stack(y, is_causal=True).data[:, :4],
                               stack(x, is_causal=True).data[:, :4], atol=1e-6)


def test_full_transformer_matches_torch(torch):
    kw = dict(d_model=D, nhead=HEADS, num_encoder_layers=1, num_decoder_layers=2,
              dim_feedforward=FF, dropout=0.0, batch_first=True)
    layer, t = _copy(rg.nn.Transformer(**kw), torch.nn.Transformer(**kw))
    rng = np.random.default_rng(6)
    src, tgt = rng.standard_normal((2, 5, D)), rng.standard_normal((2, 3, D))
    mask = rg.nn.Transformer.generate_square_subsequent_mask(3, dtype=rg.float64)
    _compare(torch, layer, t, [src, tgt], dict(tgt_mask=mask),
             dict(tgt_mask=torch.tensor(mask.numpy())))


def test_transformer_reinitialises_matrices_xavier_uniform():
    model = rg.nn.Transformer(d_model=16, nhead=2, num_encoder_layers=1, num_decoder_layers=1,
                              dim_feedforward=32)
    w = model.encoder.layers[0].linear1.weight.data  # (32, 16)
    bound = np.sqrt(6 / (16 + 32))
    assert np.abs(w).max() <= bound and np.abs(w).max() > 0.9 * bound


def test_generate_square_subsequent_mask_matches_torch(torch):
    mask = rg.nn.Transformer.generate_square_subsequent_mask(4)
    assert mask.dtype == rg.float32
    np.testing.assert_array_equal(mask.numpy(),
                                  torch.nn.Transformer.generate_square_subsequent_mask(4).numpy())


def test_encoder_layer_gradcheck():
    rg.manual_seed(1)
    layer = rg.nn.TransformerEncoderLayer(4, 2, dim_feedforward=6, dropout=0.0,
                                          activation="gelu", norm_first=True).double()
    x = rg.randn(3, 2, 4, dtype=rg.float64, requires_grad=True)
    assert gradcheck(lambda x, w: layer(x, is_causal=True), (x, layer.linear1.weight))


def test_bad_activation_is_rejected():
    with pytest.raises(ValueError, match="relu/gelu"):
        rg.nn.TransformerEncoderLayer(D, HEADS, activation="swish")


def test_transformer_checks_shapes():
    model = rg.nn.Transformer(d_model=D, nhead=HEADS, num_encoder_layers=1,
                              num_decoder_layers=1, dim_feedforward=FF)
    with pytest.raises(ValueError, match=r"batch sizes of src \(5, 2, 8\) and tgt \(3, 4, 8\)"):
        model(rg.randn(5, 2, D), rg.randn(3, 4, D))
