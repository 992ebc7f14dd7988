"""The language models: shapes, causality, configs."""

import numpy as np
import pytest

import retrograd as rg
from retrograd.lm.models import LSTMLM, TransformerLM, build_model


def test_transformer_lm_is_causal():
    rg.manual_seed(0)
    model = TransformerLM(10, block_size=8, d_model=16, nhead=2, num_layers=2,
                          dim_feedforward=32).eval()
    ids = rg.tensor(np.random.default_rng(0).integers(0, 10, (2, 8)))
    logits = model(ids)
    assert logits.shape == (2, 8, 10)
    changed = ids.numpy().copy()
    changed[:, 5:] = (changed[:, 5:] + 1) % 10
    other = model(rg.tensor(changed))
    np.testing.assert_allclose(other.data[:, :5], logits.data[:, :5], atol=1e-5)
    assert not np.allclose(other.data[:, 5:], logits.data[:, 5:])


def test_transformer_lm_layout_uses_the_library_layers():
    model = TransformerLM(5, block_size=4, d_model=8, nhead=2, num_layers=2, dim_feedforward=16)
    keys = list(model.state_dict())
    assert keys[:2] == ["embedding.weight", "position.embedding.weight"]
    assert "encoder.layers.1.self_attn.in_proj_weight" in keys
    assert "encoder.norm.weight" in keys and keys[-1] == "head.bias"
    assert model.encoder.layers[0].norm_first


def test_build_model_fills_in_defaults_and_rejects_unknown_models():
    model = build_model({"model": "transformer", "vocab": "abc", "block_size": 16,
                         "d_model": 32, "nhead": None})
    assert model.embedding.weight.shape == (3, 32)
    assert model.encoder.layers[0].self_attn.num_heads == 4
    with pytest.raises(ValueError, match="unknown model 'gru'"):
        build_model({"model": "gru", "vocab": "ab", "block_size": 4})


@pytest.mark.skipif(not hasattr(rg.nn, "LSTM"), reason="rg.nn.LSTM not available")
def test_lstm_lm_shapes_and_causality():
    rg.manual_seed(0)
    model = LSTMLM(7, block_size=6, d_model=12).eval()
    ids = rg.tensor(np.random.default_rng(1).integers(0, 7, (3, 6)))
    logits = model(ids)
    assert logits.shape == (3, 6, 7)
    changed = ids.numpy().copy()
    changed[:, 4] = (changed[:, 4] + 1) % 7
    np.testing.assert_allclose(model(rg.tensor(changed)).data[:, :4], logits.data[:, :4],
                               atol=1e-6)
