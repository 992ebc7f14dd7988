import itertools

import numpy as np
import pytest

import retrograd as rg

from .parity import assert_matches_torch

torch = pytest.importorskip("torch")

ADAMW_OPTIONS = [
    {"lr": 0.05, "weight_decay": weight_decay, "amsgrad": amsgrad, "maximize": maximize}
    for weight_decay, amsgrad, maximize in itertools.product(
        [0, 1e-2, 0.3], [False, True], [False, True]
    )
]


@pytest.mark.parametrize("kwargs", ADAMW_OPTIONS, ids=str)
def test_adamw_matches_torch(kwargs):
    assert_matches_torch(rg.optim.AdamW, torch.optim.AdamW, kwargs)


def test_adamw_default_weight_decay_matches_torch():
    assert_matches_torch(rg.optim.AdamW, torch.optim.AdamW, {})
    p = rg.tensor([1.0], requires_grad=True)
    assert rg.optim.AdamW([p]).defaults["weight_decay"] == 1e-2


def test_adamw_decay_is_decoupled_from_the_gradient():
    # With a zero gradient Adam's step is 0/(0 + eps) = 0, so only the decay moves θ:
    # θ ← θ (1 - lr λ). Adam's L2 decay would instead take a full adaptive step.
    p = rg.tensor(np.array([2.0]), requires_grad=True)
    opt = rg.optim.AdamW([p], lr=0.1, weight_decay=0.5)
    p.grad = rg.tensor(np.array([0.0]))
    opt.step()
    assert p.item() == pytest.approx(2.0 * (1 - 0.1 * 0.5), rel=1e-12)


def test_adam_checkpoint_loaded_into_adamw_decays_decoupled():
    p = rg.tensor([1.0], requires_grad=True)
    adam = rg.optim.Adam([p], weight_decay=0.1)
    adamw = rg.optim.AdamW([p])
    adamw.load_state_dict(adam.state_dict())
    assert adamw.param_groups[0]["decoupled_weight_decay"] is True
    assert adamw.param_groups[0]["weight_decay"] == 0.1
