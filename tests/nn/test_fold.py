"""Fold and Unfold layers against torch."""

import numpy as np
import pytest

import retrograd as rg
from retrograd import nn
from tests.nn.helpers import check_parity

RNG = np.random.default_rng(4)


@pytest.mark.parametrize("kwargs", [{"kernel_size": 2}, {"kernel_size": (2, 3), "padding": 1},
                                    {"kernel_size": 3, "stride": 2, "dilation": 1},
                                    {"kernel_size": 2, "dilation": 2, "stride": (1, 2)}])
def test_unfold_and_fold_match_torch(torch, kwargs):
    image = RNG.standard_normal((2, 3, 6, 7))
    layer, tlayer = nn.Unfold(**kwargs), torch.nn.Unfold(**kwargs)
    columns = check_parity(torch, layer, tlayer, image)
    assert repr(layer) == repr(tlayer)
    fold, tfold = nn.Fold((6, 7), **kwargs), torch.nn.Fold((6, 7), **kwargs)
    check_parity(torch, fold, tfold, columns.data)
    assert repr(fold) == repr(tfold)


def test_fold_of_unfold_counts_the_overlaps():
    x = rg.ones(1, 1, 4, 4)
    counts = nn.Fold(4, 2)(nn.Unfold(2)(x))
    assert counts.data[0, 0].tolist() == [[1, 2, 2, 1], [2, 4, 4, 2], [2, 4, 4, 2],
                                          [1, 2, 2, 1]]
