"""Upsample layers against torch."""

import numpy as np
import pytest

from retrograd import nn
from tests.nn.helpers import check_parity

RNG = np.random.default_rng(1)

CASES = [  # (layer name, keyword arguments, input shape)
    ("Upsample", {"scale_factor": 2}, (2, 3, 4, 5)),
    ("Upsample", {"size": (5, 7), "mode": "bilinear"}, (2, 3, 4, 5)),
    ("Upsample", {"scale_factor": 1.5, "mode": "bilinear", "align_corners": True},
     (1, 2, 4, 4)),
    ("Upsample", {"scale_factor": 2, "mode": "linear"}, (2, 3, 5)),
    ("Upsample", {"size": 6, "mode": "bicubic"}, (1, 2, 4, 4)),
    ("Upsample", {"scale_factor": (2, 1, 2), "mode": "trilinear"}, (1, 1, 2, 3, 4)),
    ("UpsamplingNearest2d", {"scale_factor": 3}, (2, 3, 2, 3)),
    ("UpsamplingNearest2d", {"size": (5, 4)}, (2, 3, 2, 3)),
    ("UpsamplingBilinear2d", {"scale_factor": 2}, (2, 3, 4, 5)),
    ("UpsamplingBilinear2d", {"size": 7}, (1, 1, 3, 3)),
]


@pytest.mark.filterwarnings("ignore::UserWarning")  # torch's deprecation of the 2d layers
@pytest.mark.parametrize("name,kwargs,shape", CASES, ids=[f"{c[0]}-{i}" for i, c in
                                                          enumerate(CASES)])
def test_matches_torch(torch, name, kwargs, shape):
    layer, tlayer = getattr(nn, name)(**kwargs), getattr(torch.nn, name)(**kwargs)
    check_parity(torch, layer, tlayer, RNG.standard_normal(shape), rtol=1e-9, atol=1e-11)
    assert repr(layer) == repr(tlayer)
