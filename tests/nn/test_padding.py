"""Padding layers against torch: values, input gradients, reprs, shape checks."""

import numpy as np
import pytest

import retrograd as rg
from retrograd import nn
from tests.nn.helpers import check_parity

RNG = np.random.default_rng(0)

CASES = [  # (layer name, constructor args, input shape)
    ("ZeroPad1d", ((1, 2),), (2, 3, 5)),
    ("ZeroPad2d", (2,), (2, 3, 4, 5)),
    ("ZeroPad2d", ((1, 0, 2, 3),), (3, 4, 5)),
    ("ZeroPad3d", (1,), (1, 2, 3, 4, 5)),
    ("ConstantPad1d", (2, 3.5), (2, 5)),
    ("ConstantPad2d", ((1, 2, 0, 1), -1.0), (2, 3, 4, 5)),
    ("ConstantPad3d", ((1, 0, 0, 1, 2, 0), 0.5), (2, 2, 3, 4, 5)),
    ("ReflectionPad1d", (2,), (2, 3, 5)),
    ("ReflectionPad2d", ((1, 1, 2, 0),), (2, 3, 4, 5)),
    ("ReflectionPad3d", (1,), (1, 2, 3, 4, 5)),
    ("ReplicationPad1d", ((3, 1),), (2, 3, 5)),
    ("ReplicationPad2d", (2,), (3, 4, 5)),
    ("ReplicationPad3d", ((1, 2, 0, 1, 1, 0),), (1, 2, 3, 4, 5)),
    ("CircularPad1d", (2,), (2, 3, 5)),
    ("CircularPad2d", ((1, 2, 2, 1),), (2, 3, 4, 5)),
    ("CircularPad3d", (1,), (1, 2, 3, 4, 5)),
]


@pytest.mark.parametrize("name,args,shape", CASES, ids=[f"{c[0]}-{c[2]}" for c in CASES])
def test_matches_torch(torch, name, args, shape):
    layer, tlayer = getattr(nn, name)(*args), getattr(torch.nn, name)(*args)
    check_parity(torch, layer, tlayer, RNG.standard_normal(shape))
    assert repr(layer) == repr(tlayer)
    assert layer.padding == tlayer.padding


def test_wrong_rank_is_refused():
    with pytest.raises(ValueError, match="ReflectionPad2d"):
        nn.ReflectionPad2d(1)(rg.ones(4, 4))
    with pytest.raises(ValueError, match="padding"):
        nn.ZeroPad2d((1, 2, 3))
