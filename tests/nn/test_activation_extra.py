"""Softmax2d and RReLU against torch; RReLU's training-mode slopes."""

import numpy as np
import pytest

import retrograd as rg
from retrograd import nn
from tests.nn.helpers import check_parity

RNG = np.random.default_rng(5)


@pytest.mark.parametrize("shape", [(2, 3, 4, 5), (3, 4, 5)])
def test_softmax2d(torch, shape):
    check_parity(torch, nn.Softmax2d(), torch.nn.Softmax2d(), RNG.standard_normal(shape))
    assert repr(nn.Softmax2d()) == repr(torch.nn.Softmax2d())


def test_softmax2d_wants_3d_or_4d():
    with pytest.raises(ValueError, match="Softmax2d"):
        nn.Softmax2d()(rg.ones(2, 3))


@pytest.mark.parametrize("args", [(), (0.1, 0.3)])
def test_rrelu_eval_is_leaky_relu_with_the_mean_slope(torch, args):
    layer, tlayer = nn.RReLU(*args).eval(), torch.nn.RReLU(*args).eval()
    check_parity(torch, layer, tlayer, RNG.standard_normal((4, 6)))
    assert repr(layer) == repr(tlayer)
    assert repr(nn.RReLU(0.1, 0.3, inplace=True)) == repr(torch.nn.RReLU(0.1, 0.3, inplace=True))


def test_rrelu_training_draws_slopes_in_range_and_backpropagates_them():
    rg.manual_seed(0)
    x = rg.tensor(-np.ones(10_000), requires_grad=True)
    y = nn.RReLU(0.1, 0.3)(x)
    slopes = -y.data
    assert 0.1 <= slopes.min() and slopes.max() <= 0.3 and abs(slopes.mean() - 0.2) < 0.005
    y.sum().backward()
    np.testing.assert_allclose(x.grad.data, slopes)
    positive = rg.tensor([0.5, 2.0])
    np.testing.assert_array_equal(nn.RReLU()(positive).data, positive.data)
    rg.manual_seed(0)
    np.testing.assert_array_equal(nn.RReLU(0.1, 0.3)(x).data, y.data)  # reproducible


def test_rrelu_rejects_bad_bounds():
    with pytest.raises(ValueError, match="RReLU"):
        nn.RReLU(0.5, 0.1)
