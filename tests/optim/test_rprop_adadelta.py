import itertools

import numpy as np
import pytest

import retrograd as rg

from .parity import assert_matches_torch

torch = pytest.importorskip("torch")

ADADELTA = [{"lr": lr, "rho": rho, "weight_decay": wd, "maximize": m}
            for lr, rho, wd, m in itertools.product([1.0, 0.3], [0.9, 0.5], [0, 0.1],
                                                    [False, True])]
RPROP = [{"lr": lr, "etas": etas, "step_sizes": sizes, "maximize": m}
         for lr, etas, sizes, m in itertools.product([0.01, 0.2], [(0.5, 1.2), (0.3, 1.5)],
                                                     [(1e-6, 50), (0.05, 0.3)], [False, True])]


@pytest.mark.parametrize("kwargs", ADADELTA, ids=str)
def test_adadelta_matches_torch(kwargs):
    assert_matches_torch(rg.optim.Adadelta, torch.optim.Adadelta, kwargs)


@pytest.mark.parametrize("kwargs", RPROP, ids=str)
def test_rprop_matches_torch(kwargs):
    assert_matches_torch(rg.optim.Rprop, torch.optim.Rprop, kwargs)


def test_float32_and_groups_match_torch():
    for rg_cls, torch_cls in ((rg.optim.Adadelta, torch.optim.Adadelta),
                              (rg.optim.Rprop, torch.optim.Rprop)):
        assert_matches_torch(rg_cls, torch_cls, {}, rtol=1e-5, dtype=np.float32)
        assert_matches_torch(rg_cls, torch_cls, {}, group_options=[{"lr": 0.5}, {}])


def test_errors():
    p = [rg.zeros(2, requires_grad=True)]
    with pytest.raises(ValueError, match="rho"):
        rg.optim.Adadelta(p, rho=1.5)
    with pytest.raises(ValueError, match="eta"):
        rg.optim.Rprop(p, etas=(1.2, 0.5))
