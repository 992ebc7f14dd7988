"""PixelShuffle, PixelUnshuffle and ChannelShuffle against torch."""

import numpy as np
import pytest

import retrograd as rg
from retrograd import nn
from tests.nn.helpers import check_parity

RNG = np.random.default_rng(2)


@pytest.mark.parametrize("name,arg,shape", [
    ("PixelShuffle", 2, (2, 8, 3, 4)),
    ("PixelShuffle", 3, (9, 2, 2)),
    ("PixelUnshuffle", 2, (2, 3, 4, 6)),
    ("ChannelShuffle", 2, (2, 6, 3, 3)),
    ("ChannelShuffle", 3, (1, 6, 5)),
])
def test_matches_torch(torch, name, arg, shape):
    layer, tlayer = getattr(nn, name)(arg), getattr(torch.nn, name)(arg)
    check_parity(torch, layer, tlayer, RNG.standard_normal(shape))
    assert repr(layer) == repr(tlayer)


def test_shuffle_then_unshuffle_is_the_identity():
    x = rg.randn(2, 12, 3, 5)
    np.testing.assert_array_equal(nn.PixelUnshuffle(2)(nn.PixelShuffle(2)(x)).data, x.data)


def test_channel_shuffle_checks_groups():
    with pytest.raises(ValueError, match="divisible"):
        nn.ChannelShuffle(4)(rg.ones(1, 6, 2, 2))
