"""EmbeddingBag against torch: 2-D bags and 1-D with offsets, every mode, per-sample weights,
padding_idx, include_last_offset, empty bags; gradients of the weight and of the weights."""

import numpy as np
import pytest

import retrograd as rg
from retrograd import nn

INDICES = np.array([1, 2, 4, 5, 4, 3, 2, 9, 0, 0])
OFFSETS = np.array([0, 4, 4, 7])  # the second bag is empty
WEIGHTS = np.random.default_rng(6).standard_normal(INDICES.shape)


def _run(lib, module, args, per_sample):
    tensors = [lib.tensor(a) for a in args]
    if per_sample:
        w = lib.tensor(WEIGHTS, requires_grad=True)
        return module(*tensors, per_sample_weights=w), w
    return module(*tensors), None


CASES = [  # (constructor keywords, inputs, per_sample_weights)
    ({"mode": "mean"}, (INDICES, OFFSETS), False),
    ({"mode": "sum"}, (INDICES, OFFSETS), False),
    ({"mode": "max"}, (INDICES, OFFSETS), False),
    ({"mode": "sum"}, (INDICES, OFFSETS), True),
    ({"mode": "mean", "padding_idx": 4}, (INDICES, OFFSETS), False),
    ({"mode": "sum", "padding_idx": 0}, (INDICES, OFFSETS), True),
    ({"mode": "max", "padding_idx": 2}, (INDICES, OFFSETS), False),
    ({"mode": "mean", "include_last_offset": True},
     (INDICES, np.append(OFFSETS, INDICES.size)), False),
    ({"mode": "mean"}, (INDICES.reshape(2, 5),), False),
    ({"mode": "max"}, (INDICES.reshape(5, 2),), False),
    ({"mode": "sum"}, (INDICES.reshape(2, 5),), True),
]


@pytest.mark.parametrize("kwargs,args,per_sample", CASES, ids=[str(i) for i in range(len(CASES))])
def test_matches_torch(torch, kwargs, args, per_sample):
    weight = np.random.default_rng(7).standard_normal((10, 3))
    tlayer = torch.nn.EmbeddingBag.from_pretrained(torch.tensor(weight), freeze=False, **kwargs)
    layer = nn.EmbeddingBag.from_pretrained(rg.tensor(weight), freeze=False, **kwargs)
    if per_sample:
        args = (args[0].reshape(-1) if len(args) == 2 else args[0],) + args[1:]
    psw = (WEIGHTS.reshape(args[0].shape) if per_sample else None)
    tensors_t = [torch.tensor(a) for a in args]
    tensors_r = [rg.tensor(a) for a in args]
    w_t = torch.tensor(psw, requires_grad=True) if per_sample else None
    w_r = rg.tensor(psw, requires_grad=True) if per_sample else None
    out_t = tlayer(*tensors_t, per_sample_weights=w_t)
    out_r = layer(*tensors_r, per_sample_weights=w_r)
    np.testing.assert_allclose(out_r.data, out_t.detach().numpy(), rtol=1e-12, atol=1e-12)
    upstream = np.random.default_rng(8).standard_normal(out_t.shape)
    (out_t * torch.tensor(upstream)).sum().backward()
    (out_r * rg.tensor(upstream)).sum().backward()
    np.testing.assert_allclose(layer.weight.grad.data, tlayer.weight.grad.numpy(), rtol=1e-12,
                               atol=1e-12)
    if per_sample:
        np.testing.assert_allclose(w_r.grad.data, w_t.grad.numpy(), rtol=1e-12, atol=1e-12)
    assert repr(layer) == repr(tlayer)


def test_init_shape_and_padding_row():
    rg.manual_seed(0)
    layer = nn.EmbeddingBag(50, 4, mode="sum", padding_idx=3)
    assert layer.weight.shape == (50, 4) and not layer.weight.data[3].any()
    out = layer(rg.tensor([[3, 3], [1, 3]]))
    np.testing.assert_array_equal(out.data[0], 0)
    np.testing.assert_array_equal(out.data[1], layer.weight.data[1])


def test_errors():
    layer = nn.EmbeddingBag(10, 2)
    with pytest.raises(NotImplementedError, match="per_sample_weights"):
        layer(rg.tensor([[1, 2]]), per_sample_weights=rg.ones(1, 2))
    with pytest.raises(ValueError, match="offsets"):
        layer(rg.tensor([1, 2]))
    with pytest.raises(ValueError, match="offsets must start"):
        layer(rg.tensor([1, 2]), rg.tensor([1]))
    with pytest.raises(ValueError, match="mode"):
        nn.EmbeddingBag(10, 2, mode="median")
