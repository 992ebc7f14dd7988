"""weight_norm and spectral_norm against torch.nn.utils: parameters, buffers, outputs and
gradients, power iterations in training mode, removal."""

import numpy as np
import pytest

import retrograd as rg
from retrograd import nn

torch = pytest.importorskip("torch")

RNG = np.random.default_rng(0)


def _pair(kind):
    if kind == "linear":
        return nn.Linear(4, 3, dtype=rg.float64), torch.nn.Linear(4, 3).double(), (2, 4)
    if kind == "conv":
        return (nn.Conv2d(2, 3, 3, dtype=rg.float64), torch.nn.Conv2d(2, 3, 3).double(),
                (2, 2, 5, 5))
    return (nn.ConvTranspose2d(2, 3, 3, dtype=rg.float64),
            torch.nn.ConvTranspose2d(2, 3, 3).double(), (2, 2, 4, 4))


def _load(layer, tlayer):
    layer.load_state_dict({k: v.detach().numpy().copy() for k, v in tlayer.state_dict().items()})


def _step(layer, tlayer, shape):
    x = RNG.standard_normal(shape)
    xr, xt = rg.tensor(x, requires_grad=True), torch.tensor(x, requires_grad=True)
    out_r, out_t = layer(xr), tlayer(xt)
    np.testing.assert_allclose(out_r.data, out_t.detach().numpy(), rtol=1e-10, atol=1e-12)
    w = RNG.standard_normal(tuple(out_t.shape))
    (out_r * rg.tensor(w)).sum().backward()
    (out_t * torch.tensor(w)).sum().backward()
    np.testing.assert_allclose(xr.grad.data, xt.grad.numpy(), rtol=1e-10, atol=1e-12)
    named = dict(tlayer.named_parameters())
    for name, p in layer.named_parameters():
        np.testing.assert_allclose(p.grad.data, named[name].grad.numpy(), rtol=1e-9,
                                   atol=1e-12, err_msg=name)


@pytest.mark.filterwarnings("ignore::FutureWarning")  # torch deprecates the hook-based form
@pytest.mark.parametrize("kind,dim", [("linear", 0), ("linear", 1), ("linear", None),
                                      ("conv", 0), ("conv", None), ("transposed", 1)])
def test_weight_norm_matches_torch(kind, dim):
    layer, tlayer, shape = _pair(kind)
    nn.utils.weight_norm(layer, dim=dim)
    torch.nn.utils.weight_norm(tlayer, dim=dim)
    assert list(layer.state_dict()) == list(tlayer.state_dict())
    _load(layer, tlayer)
    for _ in range(2):
        _step(layer, tlayer, shape)
    nn.utils.remove_weight_norm(layer)
    torch.nn.utils.remove_weight_norm(tlayer)
    assert list(layer.state_dict()) == list(tlayer.state_dict())
    np.testing.assert_allclose(layer.weight.data, tlayer.weight.detach().numpy(), rtol=1e-12)


@pytest.mark.parametrize("kind,iterations", [("linear", 1), ("conv", 3), ("transposed", 1)])
def test_spectral_norm_matches_torch(kind, iterations):
    layer, tlayer, shape = _pair(kind)
    nn.utils.spectral_norm(layer, n_power_iterations=iterations)
    torch.nn.utils.spectral_norm(tlayer, n_power_iterations=iterations)
    assert list(layer.state_dict()) == list(tlayer.state_dict())
    _load(layer, tlayer)
    for _ in range(3):  # training mode: each call advances the power iteration
        for p in list(layer.parameters()) + list(tlayer.parameters()):
            p.grad = None
        _step(layer, tlayer, shape)
        for buffer in ("weight_u", "weight_v"):
            np.testing.assert_allclose(getattr(layer, buffer).data,
                                       getattr(tlayer, buffer).numpy(), rtol=1e-10)
    layer.eval()
    tlayer.eval()
    for p in list(layer.parameters()) + list(tlayer.parameters()):
        p.grad = None
    _step(layer, tlayer, shape)
    nn.utils.remove_spectral_norm(layer)
    torch.nn.utils.remove_spectral_norm(tlayer)
    assert list(layer.state_dict()) == list(tlayer.state_dict())
    np.testing.assert_allclose(layer.weight.data, tlayer.weight.detach().numpy(), rtol=1e-10)


def test_spectral_norm_bounds_the_largest_singular_value():
    rg.manual_seed(0)
    layer = nn.utils.spectral_norm(nn.Linear(8, 6), n_power_iterations=30)
    layer(rg.zeros(1, 8))
    assert abs(np.linalg.svd(layer.weight.data, compute_uv=False)[0] - 1) < 1e-3


def test_errors():
    layer = nn.utils.weight_norm(nn.Linear(2, 2))
    with pytest.raises(RuntimeError, match="two weight_norm"):
        nn.utils.weight_norm(layer)
    with pytest.raises(ValueError, match="not found"):
        nn.utils.remove_spectral_norm(layer)
    with pytest.raises(ValueError, match="n_power_iterations"):
        nn.utils.spectral_norm(nn.Linear(2, 2), n_power_iterations=0)
