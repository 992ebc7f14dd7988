"""Identity, Linear, Bilinear and their functional forms: torch parity, init, errors."""

import math

import numpy as np
import pytest

import retrograd as rg
from retrograd import nn
from retrograd.nn import functional as F
from tests.nn.helpers import check_parity

RNG = np.random.default_rng(0)


@pytest.mark.parametrize("shape", [(5, 3), (3,), (2, 4, 3)])
@pytest.mark.parametrize("bias", [True, False])
def test_linear_matches_torch(torch, shape, bias):
    check_parity(torch, nn.Linear(3, 4, bias=bias, dtype=rg.float64),
                 torch.nn.Linear(3, 4, bias=bias).double(), RNG.standard_normal(shape))


def test_bilinear_matches_torch(torch):
    check_parity(torch, nn.Bilinear(3, 2, 4, dtype=rg.float64),
                 torch.nn.Bilinear(3, 2, 4).double(),
                 RNG.standard_normal((5, 3)), RNG.standard_normal((5, 2)))
    check_parity(torch, nn.Bilinear(3, 2, 4, bias=False, dtype=rg.float64),
                 torch.nn.Bilinear(3, 2, 4, bias=False).double(),
                 RNG.standard_normal((2, 6, 3)), RNG.standard_normal((2, 6, 2)))


def test_functional_linear_matches_torch(torch):
    x, w, b = RNG.standard_normal((4, 3)), RNG.standard_normal((2, 3)), RNG.standard_normal(2)
    out = F.linear(rg.tensor(x), rg.tensor(w), rg.tensor(b))
    expected = torch.nn.functional.linear(torch.tensor(x), torch.tensor(w), torch.tensor(b))
    np.testing.assert_allclose(out.data, expected.numpy(), rtol=1e-12)


def test_linear_init_bounds_and_defaults():
    rg.manual_seed(0)
    layer = nn.Linear(400, 300)
    bound = 1 / math.sqrt(400)  # kaiming_uniform(a=sqrt(5)) gives exactly 1/sqrt(fan_in)
    w = layer.weight.data
    assert w.dtype == np.float32 and w.shape == (300, 400)
    assert np.abs(w).max() <= bound and np.abs(w).max() > 0.99 * bound
    assert abs(w.std() - bound / math.sqrt(3)) < 0.01 * bound
    assert np.abs(layer.bias.data).max() <= bound
    rg.manual_seed(0)
    np.testing.assert_array_equal(nn.Linear(400, 300).weight.data, w)  # seeded


def test_linear_errors_and_repr():
    layer = nn.Linear(3, 2)
    with pytest.raises(ValueError, match=r"^Linear: expected input with last dimension 3 "
                                         r"\(in_features\), got shape \(4, 5\)$"):
        layer(rg.zeros(4, 5))
    assert repr(layer) == "Linear(in_features=3, out_features=2, bias=True)"
    with pytest.raises(RuntimeError, match="cuda"):
        nn.Linear(2, 2, device="cuda")
    bilinear = nn.Bilinear(3, 2, 1)
    with pytest.raises(ValueError, match=r"last dimension 2 \(in2_features\)"):
        bilinear(rg.zeros(4, 3), rg.zeros(4, 3))


def test_identity():
    x = rg.randn(2, 3)
    assert nn.Identity(54, unused="x")(x) is x
    assert repr(nn.Identity()) == "Identity()"
