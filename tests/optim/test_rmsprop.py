import itertools

import numpy as np
import pytest

import retrograd as rg

from .parity import assert_matches_torch

torch = pytest.importorskip("torch")

RMSPROP_OPTIONS = [
    {
        "lr": 0.01,
        "alpha": alpha,
        "weight_decay": weight_decay,
        "momentum": momentum,
        "centered": centered,
        "maximize": maximize,
    }
    for alpha, weight_decay, momentum, centered, maximize in itertools.product(
        [0.99, 0.3], [0, 0.1], [0, 0.9], [False, True], [False, True]
    )
]


@pytest.mark.parametrize("kwargs", RMSPROP_OPTIONS, ids=str)
def test_rmsprop_matches_torch(kwargs):
    assert_matches_torch(rg.optim.RMSprop, torch.optim.RMSprop, kwargs)


def test_rmsprop_param_groups_match_torch():
    groups = [{"centered": True, "eps": 1e-3}, {"momentum": 0.5, "lr": 0.1}]
    assert_matches_torch(rg.optim.RMSprop, torch.optim.RMSprop, {}, group_options=groups)


def test_rmsprop_float32_matches_torch():
    kwargs = {"momentum": 0.9, "centered": True}
    assert_matches_torch(rg.optim.RMSprop, torch.optim.RMSprop, kwargs, rtol=1e-5, dtype=np.float32)


@pytest.mark.parametrize(
    ("kwargs", "message"),
    [
        ({"lr": -0.01}, "Invalid learning rate: -0.01"),
        ({"eps": -1.0}, "Invalid epsilon value: -1.0"),
        ({"momentum": -0.9}, "Invalid momentum value: -0.9"),
        ({"weight_decay": -0.5}, "Invalid weight_decay value: -0.5"),
        ({"alpha": -0.99}, "Invalid alpha value: -0.99"),
    ],
)
def test_rmsprop_rejects_invalid_hyperparameters(kwargs, message):
    p = rg.tensor(np.ones(2), requires_grad=True)
    with pytest.raises(ValueError, match=message):
        rg.optim.RMSprop([p], **kwargs)
