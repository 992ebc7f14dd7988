"""Dropout layers: eval identity, mask statistics, scaling, seeding, channel masks, gradients."""

import numpy as np
import pytest

import retrograd as rg
from retrograd import nn
from retrograd.nn import functional as F


def test_eval_mode_and_p_zero_are_identity():
    x = rg.randn(10, 10)
    layer = nn.Dropout(0.5).eval()
    assert layer(x) is x
    assert F.dropout(x, 0.0) is x
    assert F.dropout(x, 0.5, training=False) is x


def test_train_mode_mask_statistics_and_scale():
    rg.manual_seed(0)
    p = 0.3
    x = rg.ones(200, 500)
    out = nn.Dropout(p)(x).data
    kept = out != 0
    assert abs(1 - kept.mean() - p) < 0.005  # 100,000 draws: std of the rate is 0.0014
    np.testing.assert_allclose(out[kept], 1 / (1 - p), rtol=1e-6)
    assert abs(out.mean() - 1) < 0.01  # inverted dropout keeps the expectation


def test_gradient_uses_the_same_mask():
    x = rg.randn(50, 40, dtype=rg.float64, requires_grad=True)
    out = F.dropout(x, 0.5)
    out.sum().backward()
    np.testing.assert_array_equal(x.grad.data, (out.data != 0) * 2.0)


def test_manual_seed_reproduces_masks_and_generator_is_used():
    x = rg.ones(100)
    rg.manual_seed(5)
    a = F.dropout(x, 0.5).data
    rg.manual_seed(5)
    b = F.dropout(x, 0.5).data
    np.testing.assert_array_equal(a, b)
    g1, g2 = rg.Generator().manual_seed(1), rg.Generator().manual_seed(1)
    np.testing.assert_array_equal(F.dropout(x, 0.5, generator=g1).data,
                                  F.dropout(x, 0.5, generator=g2).data)


def test_p_one_and_bad_p():
    assert (F.dropout(rg.ones(5), 1.0).data == 0).all()
    with pytest.raises(ValueError, match="between 0 and 1"):
        nn.Dropout(1.5)
    with pytest.raises(ValueError, match="between 0 and 1"):
        F.dropout(rg.ones(2), -0.1)


@pytest.mark.parametrize("cls, shape", [(nn.Dropout1d, (8, 16, 5)), (nn.Dropout2d, (8, 16, 3, 4)),
                                        (nn.Dropout3d, (8, 16, 2, 2, 2)),
                                        (nn.Dropout2d, (16, 3, 4))])
def test_channel_dropout_zeroes_whole_channels(cls, shape):
    rg.manual_seed(1)
    out = cls(0.5)(rg.ones(*shape)).data
    batched = len(shape) == {nn.Dropout1d: 3, nn.Dropout2d: 4, nn.Dropout3d: 5}[cls]
    channel_dims = 2 if batched else 1
    per_channel = out.reshape(shape[:channel_dims] + (-1,))
    assert ((per_channel == 0).all(-1) | (per_channel == 2).all(-1)).all()
    assert 0.3 < (per_channel[..., 0] == 0).mean() < 0.7


def test_channel_dropout_shape_errors():
    with pytest.raises(ValueError, match=r"dropout2d: expected a 3-D \(unbatched\) or 4-D"):
        F.dropout2d(rg.ones(2, 3), 0.5)


def test_alpha_dropout_keeps_mean_and_variance():
    rg.manual_seed(0)
    x = rg.randn(400, 500)
    out = nn.AlphaDropout(0.2).train()(x).data
    assert abs(out.mean()) < 0.02 and abs(out.std() - 1) < 0.02
    assert nn.AlphaDropout(0.2).eval()(x) is x


def test_repr_matches_torch(torch):
    assert repr(nn.Dropout(0.25)) == repr(torch.nn.Dropout(0.25))
    assert repr(nn.Dropout2d()) == repr(torch.nn.Dropout2d())
