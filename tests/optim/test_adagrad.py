import itertools

import numpy as np
import pytest

import retrograd as rg

from .parity import assert_matches_torch

torch = pytest.importorskip("torch")

ADAGRAD_OPTIONS = [
    {
        "lr": 0.1,
        "lr_decay": lr_decay,
        "weight_decay": weight_decay,
        "initial_accumulator_value": initial,
        "maximize": maximize,
    }
    for lr_decay, weight_decay, initial, maximize in itertools.product(
        [0, 0.05], [0, 0.1], [0, 0.5], [False, True]
    )
]


@pytest.mark.parametrize("kwargs", ADAGRAD_OPTIONS, ids=str)
def test_adagrad_matches_torch(kwargs):
    assert_matches_torch(rg.optim.Adagrad, torch.optim.Adagrad, kwargs)


def test_adagrad_param_groups_and_eps_match_torch():
    groups = [{"eps": 0.3, "weight_decay": 0.1}, {"lr": 0.5, "lr_decay": 0.2}]
    kwargs = {"initial_accumulator_value": 0.1}
    assert_matches_torch(rg.optim.Adagrad, torch.optim.Adagrad, kwargs, group_options=groups)


def test_adagrad_float32_matches_torch():
    kwargs = {"lr_decay": 0.01, "initial_accumulator_value": 0.1}
    assert_matches_torch(rg.optim.Adagrad, torch.optim.Adagrad, kwargs, rtol=1e-5, dtype=np.float32)


def test_adagrad_state_starts_at_the_initial_accumulator():
    # NOTE: torch.optim.Adagrad fills every group's `sum` with the constructor's value and
    # gives a group added later no state at all (its step then fails); retrograd uses each
    # group's own initial_accumulator_value.
    p = rg.tensor(np.zeros((2, 2)), requires_grad=True)
    q = rg.tensor(np.zeros(3), requires_grad=True)
    opt = rg.optim.Adagrad([p], initial_accumulator_value=0.25)
    opt.add_param_group({"params": [q], "initial_accumulator_value": 2.0})
    assert opt.state[p]["step"] == 0
    np.testing.assert_array_equal(opt.state[p]["sum"].data, np.full((2, 2), 0.25))
    np.testing.assert_array_equal(opt.state[q]["sum"].data, np.full(3, 2.0))


@pytest.mark.parametrize(
    ("kwargs", "message"),
    [
        ({"lr": -0.1}, "Invalid learning rate: -0.1"),
        ({"lr_decay": -0.1}, "Invalid lr_decay value: -0.1"),
        ({"weight_decay": -0.1}, "Invalid weight_decay value: -0.1"),
        ({"initial_accumulator_value": -1.0}, "Invalid initial_accumulator_value value: -1.0"),
        ({"eps": -1e-10}, "Invalid epsilon value"),
    ],
)
def test_adagrad_rejects_invalid_hyperparameters(kwargs, message):
    p = rg.tensor(np.ones(2), requires_grad=True)
    with pytest.raises(ValueError, match=message):
        rg.optim.Adagrad([p], **kwargs)
