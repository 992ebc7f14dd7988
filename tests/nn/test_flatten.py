"""Flatten and Unflatten layers."""

import numpy as np

import retrograd as rg
from retrograd import nn
from tests.nn.helpers import check_parity


def test_flatten_unflatten_match_torch(torch):
    x = np.random.default_rng(0).standard_normal((2, 3, 4, 5))
    check_parity(torch, nn.Flatten(), torch.nn.Flatten(), x)
    check_parity(torch, nn.Flatten(0, 2), torch.nn.Flatten(0, 2), x)
    check_parity(torch, nn.Unflatten(1, (3, 1)), torch.nn.Unflatten(1, (3, 1)), x)
    check_parity(torch, nn.Unflatten(-1, (-1, 5)), torch.nn.Unflatten(-1, (-1, 5)), x)
    assert repr(nn.Flatten()) == repr(torch.nn.Flatten())
    assert repr(nn.Unflatten(1, (2, 2))) == repr(torch.nn.Unflatten(1, (2, 2)))


def test_flatten_in_a_model():
    model = nn.Sequential(nn.Flatten(), nn.Linear(12, 2))
    assert model(rg.zeros(5, 3, 4)).shape == (5, 2)
