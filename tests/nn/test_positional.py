"""Sinusoidal and learned positional encodings: values, layouts, state dicts, errors."""

import math

import numpy as np
import pytest

import retrograd as rg


def _reference_table(max_len, d):
    """The formula of Vaswani et al., element by element."""
    table = np.zeros((max_len, d))
    for pos in range(max_len):
        for i in range(d):
            angle = pos / 10000 ** (2 * (i // 2) / d)
            table[pos, i] = math.sin(angle) if i % 2 == 0 else math.cos(angle)
    return table


@pytest.mark.parametrize("d", [6, 7])
def test_sinusoidal_table_matches_the_formula(d):
    pe = rg.nn.SinusoidalPositionalEncoding(d, max_len=20)
    assert pe.pe.dtype == rg.float32
    np.testing.assert_allclose(pe.pe.numpy(), _reference_table(20, d), atol=1e-6)


@pytest.mark.parametrize("layout", ["seq_first", "batch_first", "unbatched"])
def test_sinusoidal_adds_the_encoding_of_each_position(layout):
    pe = rg.nn.SinusoidalPositionalEncoding(4, max_len=10, batch_first=layout == "batch_first",
                                            dtype=rg.float64)
    table = _reference_table(10, 4)[:5]
    shape = {"seq_first": (5, 3, 4), "batch_first": (3, 5, 4), "unbatched": (5, 4)}[layout]
    x = rg.randn(*shape, dtype=rg.float64, requires_grad=True)
    out = pe(x)
    expected = {"seq_first": table[:, None], "batch_first": table[None], "unbatched": table}
    np.testing.assert_allclose(out.data - x.data, np.broadcast_to(expected[layout], shape),
                               atol=1e-12)
    out.sum().backward()
    np.testing.assert_array_equal(x.grad.data, np.ones(shape))


def test_sinusoidal_has_no_parameters_and_no_state():
    pe = rg.nn.SinusoidalPositionalEncoding(8, max_len=16)
    assert list(pe.parameters()) == [] and list(pe.state_dict()) == []
    assert pe.pe.shape == (16, 8)  # a buffer: cast by .double()
    assert pe.double().pe.dtype == rg.float64


def test_learned_encoding_is_an_embedding_of_positions():
    rg.manual_seed(0)
    pe = rg.nn.LearnedPositionalEncoding(4, max_len=6, batch_first=True)
    assert list(pe.state_dict()) == ["embedding.weight"]
    w = pe.embedding.weight
    assert w.shape == (6, 4) and 0.005 < w.data.std() < 0.05
    x = rg.randn(2, 3, 4)
    out = pe(x)
    np.testing.assert_allclose(out.data, x.data + w.data[:3], atol=1e-7)
    out.sum().backward()
    np.testing.assert_array_equal(w.grad.data[:3], np.full((3, 4), 2.0))  # batch of 2
    assert not w.grad.data[3:].any()  # unused positions get no gradient


def test_dropout_applies_in_training_only():
    pe = rg.nn.SinusoidalPositionalEncoding(8, max_len=16, dropout=0.5)
    x = rg.randn(10, 2, 8)
    assert (pe(x).data == 0).mean() > 0.2
    pe.eval()
    assert not (pe(x).data == 0).any()


def test_errors_name_the_problem():
    pe = rg.nn.LearnedPositionalEncoding(4, max_len=3)
    with pytest.raises(ValueError, match=r"sequence length 5 exceeds max_len 3"):
        pe(rg.randn(5, 4))
    with pytest.raises(ValueError, match=r"last dimension 4 \(d_model\), got shape \(2, 5\)"):
        pe(rg.randn(2, 5))
    with pytest.raises(ValueError, match="must be positive"):
        rg.nn.SinusoidalPositionalEncoding(0)
