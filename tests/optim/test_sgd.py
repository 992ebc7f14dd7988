import itertools

import numpy as np
import pytest

import retrograd as rg
from retrograd.optim.sgd import sgd_update

from .parity import assert_matches_torch

torch = pytest.importorskip("torch")

SGD_OPTIONS = [
    {
        "lr": 0.1,
        "momentum": momentum,
        "dampening": dampening,
        "weight_decay": weight_decay,
        "nesterov": nesterov,
        "maximize": maximize,
    }
    for momentum, dampening, weight_decay, nesterov, maximize in itertools.product(
        [0, 0.9], [0, 0.3], [0, 0.05], [False, True], [False, True]
    )
    if not nesterov or (momentum > 0 and dampening == 0)
]


@pytest.mark.parametrize("kwargs", SGD_OPTIONS, ids=str)
def test_sgd_matches_torch(kwargs):
    assert_matches_torch(rg.optim.SGD, torch.optim.SGD, kwargs)


def test_sgd_param_groups_match_torch():
    groups = [
        {"momentum": 0.9, "weight_decay": 0.01},
        {"lr": 0.01, "momentum": 0.5, "nesterov": True},
    ]
    assert_matches_torch(rg.optim.SGD, torch.optim.SGD, {"lr": 0.05}, group_options=groups)


def test_sgd_float32_matches_torch():
    kwargs = {"lr": 0.1, "momentum": 0.9, "nesterov": True, "weight_decay": 0.01}
    assert_matches_torch(rg.optim.SGD, torch.optim.SGD, kwargs, rtol=1e-5, dtype=np.float32)


def test_sgd_without_momentum_keeps_no_state():
    p = rg.tensor(np.ones(3), requires_grad=True)
    opt = rg.optim.SGD([p], lr=0.5)
    p.grad = rg.tensor(np.array([1.0, 2.0, 3.0]))
    opt.step()
    np.testing.assert_array_equal(p.data, [0.5, 0.0, -0.5])
    assert len(opt.state) == 0


def test_sgd_update_leaves_the_gradient_alone():
    param, grad = np.ones(4), np.arange(4.0)
    grad.flags.writeable = False  # any write would raise
    buf = sgd_update(
        param,
        grad,
        None,
        lr=0.1,
        momentum=0.9,
        dampening=0,
        weight_decay=0,
        nesterov=False,
        maximize=True,
    )
    assert buf is not grad
    np.testing.assert_allclose(param, 1 + 0.1 * np.arange(4.0))


@pytest.mark.parametrize(
    ("kwargs", "message"),
    [
        ({"lr": -0.1}, "Invalid learning rate: -0.1"),
        ({"momentum": -0.5}, "Invalid momentum value: -0.5"),
        ({"weight_decay": -1e-4}, "Invalid weight_decay value: -0.0001"),
        ({"nesterov": True}, "Nesterov momentum requires a momentum and zero dampening"),
        ({"nesterov": True, "momentum": 0.9, "dampening": 0.1}, "Nesterov momentum requires"),
    ],
)
def test_sgd_rejects_invalid_hyperparameters(kwargs, message):
    p = rg.tensor(np.ones(2), requires_grad=True)
    with pytest.raises(ValueError, match=message):
        rg.optim.SGD([p], **kwargs)
