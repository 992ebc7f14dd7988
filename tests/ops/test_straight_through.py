import numpy as np
import pytest

import retrograd as rg

from .harness import OpSpec, parametrize


def away_from_jumps(rng, shape):
    """Values in [-2, 2] away from 0, +-1 and the half-integers where round jumps."""
    x = rng.uniform(-2, 2, shape)
    for k in (-1.5, -1.0, -0.5, 0.0, 0.5, 1.0, 1.5):
        x = np.where(np.abs(x - k) < 0.05, x + 0.1 * np.sign(x - k + 1e-12), x)
    return x


# A straight-through estimator's gradient is, by design, not the derivative of its forward
# value, so finite differences cannot check it directly. Adding the detached difference
# between a smooth surrogate and the discrete value gives a function whose value *is* the
# surrogate: its finite differences must then equal the estimator's gradient.
def _ste_round_as_identity(x):
    return rg.ste_round(x) + (x - rg.round(x)).detach()


def _ste_sign_as_identity(x):
    return rg.ste_sign(x) + (x - rg.sign(x)).detach()


def _ste_sign_as_hardtanh(x):
    return rg.ste_sign(x, clip=True) + (rg.clamp(x, -1.0, 1.0) - rg.sign(x)).detach()


SPECS = [
    OpSpec("ste_round", _ste_round_as_identity, lambda x: x, [((3, 4),), ((),), ((0, 2),)],
           domain=away_from_jumps),
    OpSpec("ste_sign", _ste_sign_as_identity, lambda x: x, [((3, 4),), ((),)],
           domain=away_from_jumps),
    OpSpec("ste_sign", _ste_sign_as_hardtanh, lambda x: np.clip(x, -1, 1), [((4, 5),)],
           domain=away_from_jumps, name="ste_sign_clip"),
]

PARAMS, IDS = parametrize(SPECS)


@pytest.mark.parametrize("spec,shapes,check", PARAMS, ids=IDS)
def test_spec(spec, shapes, check):
    check(spec, shapes)


def test_forward_values_are_discrete():
    x = rg.tensor([-1.7, -0.5, 0.0, 0.4, 2.5])
    assert rg.ste_round(x).tolist() == [-2.0, -0.0, 0.0, 0.0, 2.0]  # half to even, as round
    assert rg.ste_sign(x).tolist() == [-1.0, -1.0, 0.0, 1.0, 1.0]
    assert rg.ste_sign(x, clip=True).tolist() == rg.sign(x).tolist()


def test_gradients_pass_straight_through():
    x = rg.tensor([-1.7, -1.0, 0.0, 0.4, 2.5], requires_grad=True)
    g = rg.tensor([1.0, 2.0, 3.0, 4.0, 5.0])
    rg.ste_round(x).backward(g)
    assert x.grad.tolist() == g.tolist()
    x.grad = None
    rg.ste_sign(x).backward(g)
    assert x.grad.tolist() == g.tolist()
    x.grad = None
    rg.ste_sign(x, clip=True).backward(g)
    assert x.grad.tolist() == [0.0, 2.0, 3.0, 4.0, 0.0]  # zero where |x| > 1


def test_integers_are_promoted():
    assert rg.ste_round(rg.tensor([1, 2])).dtype == rg.float32
    assert rg.ste_sign(rg.tensor([-3, 0])).tolist() == [-1.0, 0.0]


def test_a_binarised_weight_still_learns():
    w = rg.tensor([0.3, -0.2, 0.8], requires_grad=True)
    target = rg.tensor([-1.0, 1.0, 1.0])
    for _ in range(20):
        loss = ((rg.ste_sign(w, clip=True) - target) ** 2).sum()
        w.grad = None
        loss.backward()
        w.data -= 0.1 * w.grad.data
    assert rg.ste_sign(w).tolist() == target.tolist()
