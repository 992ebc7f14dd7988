import itertools

import numpy as np
import pytest

import retrograd as rg

from .parity import assert_matches_torch

torch = pytest.importorskip("torch")

OPTIONS = {
    "Adamax": [{"lr": 0.05, "weight_decay": wd, "maximize": m, "betas": b}
               for wd, m, b in itertools.product([0, 0.1], [False, True],
                                                 [(0.9, 0.999), (0.5, 0.8)])],
    "NAdam": [{"lr": 0.05, "weight_decay": wd, "decoupled_weight_decay": d, "maximize": m,
               "momentum_decay": md}
              for wd, d, m, md in itertools.product([0, 0.1], [False, True], [False, True],
                                                    [4e-3, 0.1])],
    "RAdam": [{"lr": 0.05, "weight_decay": wd, "decoupled_weight_decay": d, "maximize": m,
               "betas": b}
              for wd, d, m, b in itertools.product([0, 0.1], [False, True], [False, True],
                                                   [(0.9, 0.999), (0.9, 0.6)])],
}
CASES = [(name, kwargs) for name, options in OPTIONS.items() for kwargs in options]


@pytest.mark.parametrize("name,kwargs", CASES, ids=[f"{n}-{k}" for n, k in CASES])
def test_matches_torch(name, kwargs):
    # RAdam's rectification switches on at step 6 with betas (0.9, 0.999): 12 steps see both
    assert_matches_torch(getattr(rg.optim, name), getattr(torch.optim, name), kwargs, steps=12)


@pytest.mark.parametrize("name", list(OPTIONS))
def test_float32_and_param_groups_match_torch(name):
    assert_matches_torch(getattr(rg.optim, name), getattr(torch.optim, name), {"lr": 0.01},
                         rtol=1e-5, dtype=np.float32)
    groups = [{"lr": 0.1, "weight_decay": 0.1}, {"lr": 0.02}]
    assert_matches_torch(getattr(rg.optim, name), getattr(torch.optim, name), {},
                         group_options=groups)


def test_minimises_a_quadratic():
    for cls in (rg.optim.Adamax, rg.optim.NAdam, rg.optim.RAdam):
        x = rg.tensor([3.0, -2.0], requires_grad=True)
        opt = cls([x], lr=0.1)
        for _ in range(300):
            opt.zero_grad()
            (x * x).sum().backward()
            opt.step()
        assert np.abs(x.data).max() < 0.1, cls.__name__


def test_errors():
    p = [rg.zeros(2, requires_grad=True)]
    with pytest.raises(ValueError, match="beta"):
        rg.optim.Adamax(p, betas=(1.0, 0.9))
    with pytest.raises(ValueError, match="momentum_decay"):
        rg.optim.NAdam(p, momentum_decay=-1)
    with pytest.raises(ValueError, match="learning rate"):
        rg.optim.RAdam(p, lr=-1)
