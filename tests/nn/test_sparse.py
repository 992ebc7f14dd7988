"""Embedding and one_hot: torch parity (incl. padding_idx gradients), init, from_pretrained."""

import numpy as np
import pytest

import retrograd as rg
from retrograd import nn
from retrograd.nn import functional as F
from tests.nn.helpers import check_parity


@pytest.mark.parametrize("padding_idx", [None, 2, -1])
def test_embedding_matches_torch(torch, padding_idx):
    idx = np.array([[0, 2, 4], [2, 2, 1]])
    tlayer = torch.nn.Embedding(5, 3, padding_idx=padding_idx).double()
    layer = nn.Embedding(5, 3, padding_idx=padding_idx, dtype=rg.float64)
    check_parity(torch, layer, tlayer, idx)
    if padding_idx is not None:
        assert not layer.weight.grad.data[padding_idx].any()
        assert layer.padding_idx == padding_idx % 5


def test_padding_row_keeps_its_value_but_gets_no_gradient():
    weights = rg.arange(12.0).reshape(4, 3)
    layer = nn.Embedding.from_pretrained(weights, freeze=False, padding_idx=1)
    out = layer(rg.tensor([1, 1, 3]))
    np.testing.assert_array_equal(out.data[0], [3.0, 4.0, 5.0])
    out.sum().backward()
    np.testing.assert_array_equal(layer.weight.grad.data[1], 0)
    np.testing.assert_array_equal(layer.weight.grad.data[3], 1)


def test_init_and_padding_row():
    rg.manual_seed(0)
    layer = nn.Embedding(1000, 64, padding_idx=0)
    w = layer.weight.data
    assert not w[0].any()
    assert abs(w[1:].mean()) < 0.01 and abs(w[1:].std() - 1) < 0.01


def test_from_pretrained_freezes_and_copies_nothing_extra():
    weights = rg.randn(4, 2)
    layer = nn.Embedding.from_pretrained(weights)
    assert not layer.weight.requires_grad
    np.testing.assert_array_equal(layer(rg.tensor([3])).data[0], weights.data[3])
    assert repr(layer) == "Embedding(4, 2)"


def test_max_norm_renormalises_looked_up_rows(torch):
    weights = np.random.default_rng(0).standard_normal((6, 4)) * 3
    layer = nn.Embedding.from_pretrained(rg.tensor(weights.copy()), max_norm=1.0)
    tlayer = torch.nn.Embedding.from_pretrained(torch.tensor(weights.copy()), max_norm=1.0)
    idx = np.array([0, 2, 2])
    np.testing.assert_allclose(layer(rg.tensor(idx)).data, tlayer(torch.tensor(idx)).numpy(),
                               rtol=1e-12)
    np.testing.assert_allclose(layer.weight.data, tlayer.weight.numpy(), rtol=1e-12)


def test_embedding_errors():
    layer = nn.Embedding(3, 2)
    with pytest.raises(IndexError, match=r"^Embedding: embedding: index 3 is out of range"):
        layer(rg.tensor([0, 3]))
    with pytest.raises(TypeError, match="integer"):
        layer(rg.tensor([0.0]))
    with pytest.raises(ValueError, match="padding_idx"):
        nn.Embedding(3, 2, padding_idx=3)


def test_one_hot_matches_torch(torch):
    idx = np.array([[0, 3], [2, 1]])
    np.testing.assert_array_equal(F.one_hot(rg.tensor(idx)).data,
                                  torch.nn.functional.one_hot(torch.tensor(idx)).numpy())
    out = F.one_hot(rg.tensor(idx), num_classes=6)
    assert out.shape == (2, 2, 6) and out.dtype == rg.int64
    with pytest.raises(ValueError, match="out of range"):
        F.one_hot(rg.tensor([5]), num_classes=3)
