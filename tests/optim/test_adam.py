import itertools

import numpy as np
import pytest

import retrograd as rg

from .parity import assert_matches_torch

torch = pytest.importorskip("torch")

ADAM_OPTIONS = [
    {
        "lr": 0.05,
        "betas": betas,
        "weight_decay": weight_decay,
        "amsgrad": amsgrad,
        "maximize": maximize,
    }
    for betas, weight_decay, amsgrad, maximize in itertools.product(
        [(0.9, 0.999), (0.7, 0.9)], [0, 0.1], [False, True], [False, True]
    )
]


@pytest.mark.parametrize("kwargs", ADAM_OPTIONS, ids=str)
def test_adam_matches_torch(kwargs):
    assert_matches_torch(rg.optim.Adam, torch.optim.Adam, kwargs)


@pytest.mark.parametrize("amsgrad", [False, True])
def test_adam_decoupled_weight_decay_matches_torch(amsgrad):
    kwargs = {"lr": 0.05, "weight_decay": 0.1, "amsgrad": amsgrad, "decoupled_weight_decay": True}
    assert_matches_torch(rg.optim.Adam, torch.optim.Adam, kwargs)


def test_adam_large_eps_and_param_groups_match_torch():
    groups = [{"betas": (0.5, 0.6), "eps": 0.1}, {"lr": 0.2, "amsgrad": True}]
    assert_matches_torch(rg.optim.Adam, torch.optim.Adam, {"lr": 0.01}, group_options=groups)


def test_adam_float32_matches_torch():
    kwargs = {"lr": 0.05, "weight_decay": 0.01, "amsgrad": True}
    assert_matches_torch(rg.optim.Adam, torch.optim.Adam, kwargs, rtol=1e-5, dtype=np.float32)


def test_adam_state_keeps_the_parameter_dtype():
    p = rg.tensor(np.ones(3, dtype=np.float32), requires_grad=True)
    opt = rg.optim.Adam([p], amsgrad=True)
    p.grad = rg.tensor(np.ones(3, dtype=np.float32))
    opt.step()
    assert p.dtype == np.float32
    assert {opt.state[p][k].dtype for k in ("exp_avg", "exp_avg_sq", "max_exp_avg_sq")} == {
        np.dtype(np.float32)
    }


@pytest.mark.parametrize(
    ("kwargs", "message"),
    [
        ({"lr": -1e-3}, "Invalid learning rate: -0.001"),
        ({"eps": -1e-8}, "Invalid epsilon value"),
        ({"betas": (1.0, 0.999)}, "Invalid beta parameter at index 0: 1.0"),
        ({"betas": (0.9, -0.1)}, "Invalid beta parameter at index 1: -0.1"),
        ({"weight_decay": -0.1}, "Invalid weight_decay value: -0.1"),
    ],
)
def test_adam_rejects_invalid_hyperparameters(kwargs, message):
    p = rg.tensor(np.ones(2), requires_grad=True)
    with pytest.raises(ValueError, match=message):
        rg.optim.Adam([p], **kwargs)
