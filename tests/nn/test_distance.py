"""CosineSimilarity and PairwiseDistance layers against torch."""

import numpy as np
import pytest

from retrograd import nn
from tests.nn.helpers import check_parity

RNG = np.random.default_rng(3)
A, B = RNG.standard_normal((4, 5)), RNG.standard_normal((4, 5))


@pytest.mark.parametrize("kwargs", [{}, {"dim": 0}, {"dim": -1, "eps": 1e-3}])
def test_cosine_similarity(torch, kwargs):
    layer, tlayer = nn.CosineSimilarity(**kwargs), torch.nn.CosineSimilarity(**kwargs)
    check_parity(torch, layer, tlayer, A, B)
    assert repr(layer) == repr(tlayer)


@pytest.mark.parametrize("kwargs", [{}, {"p": 1.0}, {"p": 3, "keepdim": True},
                                    {"eps": 0.0, "p": float("inf")}])
def test_pairwise_distance(torch, kwargs):
    layer, tlayer = nn.PairwiseDistance(**kwargs), torch.nn.PairwiseDistance(**kwargs)
    check_parity(torch, layer, tlayer, A, B)
    assert repr(layer) == repr(tlayer)
