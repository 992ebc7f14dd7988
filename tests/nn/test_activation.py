"""Activation modules and functions against torch.nn in float64: forward, input gradients and
(PReLU) parameter gradients; reprs."""

import numpy as np
import pytest

import retrograd as rg
from retrograd import nn
from retrograd.nn import functional as F
from tests.nn.helpers import check_parity

# (retrograd constructor, torch constructor name, args, kwargs)
MODULES = [
    ("ReLU", (), {}),
    ("ReLU6", (), {}),
    ("LeakyReLU", (0.2,), {}),
    ("ELU", (), {"alpha": 0.7}),
    ("SELU", (), {}),
    ("CELU", (), {"alpha": 1.5}),
    ("GELU", (), {}),
    ("GELU", (), {"approximate": "tanh"}),
    ("SiLU", (), {}),
    ("Mish", (), {}),
    ("Sigmoid", (), {}),
    ("Tanh", (), {}),
    ("Softmax", (), {"dim": 1}),
    ("LogSoftmax", (), {"dim": -1}),
    ("Softmin", (), {"dim": 0}),
    ("Hardtanh", (-0.5, 2.0), {}),
    ("Hardsigmoid", (), {}),
    ("Hardswish", (), {}),
    ("Softplus", (), {"beta": 2.0, "threshold": 1.0}),
    ("Softsign", (), {}),
    ("Softshrink", (0.3,), {}),
    ("Hardshrink", (0.3,), {}),
    ("Tanhshrink", (), {}),
    ("LogSigmoid", (), {}),
    ("Threshold", (0.1, -2.0), {}),
    ("GLU", (), {"dim": 1}),
    ("PReLU", (), {}),
    ("PReLU", (4,), {"init": 0.1}),
]


# NOTE: torch's hardsigmoid backward multiplies by 1.0f / 6.0f, a float32 constant, even in
# float64: its gradient is off by a relative 3e-8, which the tolerance here allows for.
RTOL = {"Hardsigmoid": 1e-7, "hardsigmoid": 1e-7}


def _input():
    x = np.random.default_rng(0).standard_normal((3, 4, 2)) * 3
    # keep off the kinks (0, +-0.3, +-0.5, 0.1, +-1, 2, 6, +-3) where one-sided slopes differ
    return np.where(np.abs(x - np.round(x * 2) / 2) < 0.05, x + 0.13, x)


@pytest.mark.parametrize("name, args, kwargs", MODULES,
                         ids=[f"{m[0]}{m[1]}{m[2]}" for m in MODULES])
def test_activation_module_matches_torch(torch, name, args, kwargs):
    layer = getattr(nn, name)(*args, **kwargs)
    tlayer = getattr(torch.nn, name)(*args, **kwargs).double()
    layer.double()
    check_parity(torch, layer, tlayer, _input(), rtol=RTOL.get(name, 1e-10))
    assert repr(layer) == repr(tlayer)


FUNCTIONS = [
    ("relu", {}), ("relu6", {}), ("leaky_relu", {"negative_slope": 0.1}), ("elu", {}),
    ("selu", {}), ("celu", {}), ("gelu", {}), ("silu", {}), ("mish", {}), ("sigmoid", {}),
    ("tanh", {}), ("softmax", {"dim": 2}), ("log_softmax", {"dim": 0}), ("softmin", {"dim": 1}),
    ("softplus", {}), ("softsign", {}), ("hardtanh", {}), ("hardsigmoid", {}),
    ("hardswish", {}), ("logsigmoid", {}), ("glu", {"dim": -1}), ("tanhshrink", {}),
    ("normalize", {}), ("normalize", {"p": 1.0, "dim": 0}), ("normalize", {"p": float("inf")}),
]


@pytest.mark.parametrize("name, kwargs", FUNCTIONS, ids=[f"{n}{k}" for n, k in FUNCTIONS])
def test_functional_matches_torch(torch, name, kwargs):
    x = _input()
    rx = rg.tensor(x, requires_grad=True)
    tx = torch.tensor(x, requires_grad=True)
    out = getattr(F, name)(rx, **kwargs)
    t_out = getattr(torch.nn.functional, name)(tx, **kwargs)
    np.testing.assert_allclose(out.data, t_out.detach().numpy(), rtol=1e-10, atol=1e-12)
    g = np.random.default_rng(1).standard_normal(t_out.shape)
    (out * rg.tensor(g)).sum().backward()
    (t_out * torch.tensor(g)).sum().backward()
    np.testing.assert_allclose(rx.grad.data, tx.grad.numpy(), rtol=RTOL.get(name, 1e-9),
                               atol=1e-12)


def test_functional_prelu_matches_torch(torch):
    x = _input()
    w = np.array([0.1, 0.2, 0.3, 0.4])
    rx, rw = rg.tensor(x, requires_grad=True), rg.tensor(w, requires_grad=True)
    tx, tw = torch.tensor(x, requires_grad=True), torch.tensor(w, requires_grad=True)
    out, t_out = F.prelu(rx, rw), torch.nn.functional.prelu(tx, tw)
    np.testing.assert_allclose(out.data, t_out.detach().numpy())
    out.sum().backward()
    t_out.sum().backward()
    np.testing.assert_allclose(rw.grad.data, tw.grad.numpy(), rtol=1e-12)
    with pytest.raises(ValueError, match="prelu: weight has 3 elements"):
        F.prelu(rx, rg.ones(3))


def test_softmax_implicit_dim_warns_like_torch():
    with pytest.warns(UserWarning, match="Implicit dimension choice for softmax"):
        out = F.softmax(rg.ones(2, 3))
    np.testing.assert_allclose(out.data.sum(1), 1.0, rtol=1e-6)


def test_glu_needs_an_even_dimension():
    with pytest.raises(ValueError, match="glu: halving dimension"):
        F.glu(rg.ones(2, 3))


def test_prelu_is_learnable():
    layer = nn.PReLU(3)
    assert [n for n, _ in layer.named_parameters()] == ["weight"]
    layer(rg.randn(2, 3, 5)).sum().backward()
    assert layer.weight.grad.shape == (3,)
