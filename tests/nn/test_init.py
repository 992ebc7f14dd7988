"""nn.init: distributions (mean/std/bounds), fans, gains against torch, orthogonality."""

import math

import numpy as np
import pytest

import retrograd as rg
from retrograd import nn
from retrograd.nn import init


def _param(*shape):
    return nn.Parameter(rg.zeros(*shape))


@pytest.mark.parametrize("shape", [(3, 4), (8, 3, 5, 5), (6, 2, 7)])
def test_fans_match_torch(torch, shape):
    assert init._calculate_fan_in_and_fan_out(rg.zeros(*shape)) == \
        torch.nn.init._calculate_fan_in_and_fan_out(torch.zeros(*shape))


def test_fans_need_two_dims():
    with pytest.raises(ValueError, match="fewer than 2 dimensions"):
        init.xavier_uniform_(_param(5))


@pytest.mark.parametrize("nonlinearity, param", [
    ("linear", None), ("conv2d", None), ("sigmoid", None), ("tanh", None), ("relu", None),
    ("leaky_relu", None), ("leaky_relu", 0.2), ("selu", None),
])
def test_gains_match_torch(torch, nonlinearity, param):
    assert init.calculate_gain(nonlinearity, param) == pytest.approx(
        torch.nn.init.calculate_gain(nonlinearity, param), rel=1e-12
    )


def test_unknown_nonlinearity():
    with pytest.raises(ValueError, match="unsupported nonlinearity"):
        init.calculate_gain("swish")


def test_uniform_normal_constant():
    rg.manual_seed(0)
    w = _param(300, 400)
    assert init.uniform_(w, -2, 3) is w
    assert w.data.min() >= -2 and w.data.max() < 3
    assert abs(w.data.mean() - 0.5) < 0.02
    init.normal_(w, 1.5, 0.5)
    assert abs(w.data.mean() - 1.5) < 0.005 and abs(w.data.std() - 0.5) < 0.005
    init.constant_(w, 0.3)
    assert (w.data == np.float32(0.3)).all()
    init.ones_(w)
    assert (w.data == 1).all()
    init.zeros_(w)
    assert not w.data.any()
    assert w.requires_grad and w.grad_fn is None  # still a leaf, filled under no_grad


def test_xavier_and_kaiming_statistics():
    rg.manual_seed(1)
    w = _param(256, 512)
    fan_in, fan_out = 512, 256
    init.xavier_uniform_(w, gain=2.0)
    bound = 2.0 * math.sqrt(6 / (fan_in + fan_out))
    assert np.abs(w.data).max() <= bound and abs(w.data.std() - bound / math.sqrt(3)) < 0.01 * bound
    init.xavier_normal_(w)
    assert abs(w.data.std() - math.sqrt(2 / (fan_in + fan_out))) < 0.005
    init.kaiming_uniform_(w, mode="fan_in", nonlinearity="relu")
    bound = math.sqrt(2) * math.sqrt(3 / fan_in)
    assert np.abs(w.data).max() <= bound and np.abs(w.data).max() > 0.99 * bound
    init.kaiming_normal_(w, mode="fan_out", nonlinearity="relu")
    assert abs(w.data.std() - math.sqrt(2 / fan_out)) < 0.01 * math.sqrt(2 / fan_out)
    init.kaiming_normal_(w, a=0.2)
    std = math.sqrt(2 / (1 + 0.2**2)) / math.sqrt(fan_in)
    assert abs(w.data.std() - std) < 0.01 * std
    with pytest.raises(ValueError, match="Mode fan_avg not supported"):
        init.kaiming_uniform_(w, mode="fan_avg")


def test_conv_weight_uses_receptive_field():
    rg.manual_seed(2)
    w = _param(64, 16, 3, 3)
    init.kaiming_normal_(w, nonlinearity="relu")
    std = math.sqrt(2 / (16 * 9))
    assert abs(w.data.std() - std) < 0.02 * std


def test_trunc_normal():
    rg.manual_seed(3)
    w = _param(200, 500)
    init.trunc_normal_(w, mean=0.5, std=1.0, a=-1.0, b=1.5)
    assert w.data.min() >= -1.0 and w.data.max() <= 1.5
    # mean of N(0.5, 1) truncated to [-1.5, 1] (standardised): 0.5 + (phi(a) - phi(b)) / Z
    phi = lambda z: math.exp(-z * z / 2) / math.sqrt(2 * math.pi)  # noqa: E731
    cdf = lambda z: (1 + math.erf(z / math.sqrt(2))) / 2  # noqa: E731
    expected = 0.5 + (phi(-1.5) - phi(1.0)) / (cdf(1.0) - cdf(-1.5))
    assert abs(w.data.mean() - expected) < 0.005


@pytest.mark.parametrize("shape", [(5, 5), (3, 7), (7, 3), (4, 2, 3, 3)])
def test_orthogonal(shape):
    rg.manual_seed(4)
    w = _param(*shape)
    init.orthogonal_(w, gain=2.0)
    flat = w.data.reshape(shape[0], -1).astype(np.float64) / 2
    rows, cols = flat.shape
    gram = flat @ flat.T if rows <= cols else flat.T @ flat
    np.testing.assert_allclose(gram, np.eye(min(rows, cols)), atol=1e-5)


def test_orthogonal_is_haar_distributed():
    # With the sign correction, each entry of a random orthogonal 2x2 matrix is symmetric
    # around 0 (without it, the diagonal of Q from numpy's QR would lean one way).
    g = rg.Generator().manual_seed(0)
    diag = [init.orthogonal_(_param(2, 2), generator=g).data[0, 0] for _ in range(2000)]
    assert abs(np.mean(diag)) < 0.05


def test_eye_dirac_sparse(torch):
    w = _param(3, 5)
    init.eye_(w)
    np.testing.assert_array_equal(w.data, np.eye(3, 5))
    conv = _param(6, 4, 3, 3)
    tconv = torch.zeros(6, 4, 3, 3)
    init.dirac_(conv, groups=2)
    torch.nn.init.dirac_(tconv, groups=2)
    np.testing.assert_array_equal(conv.data, tconv.numpy())
    s = _param(10, 6)
    init.sparse_(s, 0.3)
    assert ((s.data == 0).sum(0) >= 3).all()


def test_generator_makes_init_reproducible():
    a, b = _param(4, 4), _param(4, 4)
    init.kaiming_uniform_(a, generator=rg.Generator().manual_seed(7))
    init.kaiming_uniform_(b, generator=rg.Generator().manual_seed(7))
    np.testing.assert_array_equal(a.data, b.data)


def test_init_keeps_dtype_and_bumps_version():
    w = nn.Parameter(rg.zeros(3, 3, dtype=rg.float64))
    init.normal_(w)
    assert w.dtype == rg.float64 and w.version == 1
