import math

import numpy as np
import pytest

import retrograd as rg

from .harness import OpSpec, away_from_zero, nonzero, parametrize, positive, real


def _prob(rng, shape):
    return rng.uniform(0.05, 0.95, shape)


def _with_zeros(rng, shape):
    x = rng.uniform(0.5, 2.0, shape)
    x.reshape(-1)[::3] = 0.0
    return x


def _xlogy(x, y):
    with np.errstate(divide="ignore", invalid="ignore"):
        return np.where(x == 0, 0.0, x * np.log(y))


SPECS = [
    OpSpec("xlogy", rg.xlogy, _xlogy, [((3, 4), (3, 4)), ((2, 1, 3), (4, 1)), ((), (3,))],
           domain=(real, positive)),
    OpSpec("xlogy", rg.xlogy, _xlogy, [((3, 4), (3, 4))], domain=(_with_zeros, positive),
           name="xlogy_zeros"),
    OpSpec("xlogy", lambda y: rg.xlogy(2.0, y), lambda y: 2 * np.log(y), [((3,),)],
           domain=positive, name="xlogy_scalar_x"),
    OpSpec("logaddexp", rg.logaddexp, np.logaddexp, [((3, 4), (3, 4)), ((2, 3), (3,)),
                                                      ((), ())]),
    OpSpec("logaddexp", lambda x, y: rg.logaddexp(x * 100, y * 100),
           lambda x, y: np.logaddexp(x * 100, y * 100), [((5,), (5,))], name="logaddexp_large"),
    OpSpec("logaddexp2", rg.logaddexp2, np.logaddexp2, [((3, 4), (3, 4)), ((2, 3), (1,))]),
    OpSpec("sinc", rg.sinc, np.sinc, [((3, 4),), ((),), ((0,),)]),
    OpSpec("sinc", lambda x: rg.sinc(x * 0.0), lambda x: np.ones_like(x), [((3,),)],
           name="sinc_at_zero", second_order=False),
    OpSpec("copysign", rg.copysign, np.copysign, [((3, 4), (3, 4)), ((2, 3), (3,))],
           domain=(away_from_zero, nonzero)),
    OpSpec("where", lambda x: rg.nan_to_num(rg.log(x)),
           lambda x: np.where(x > 0, np.log(np.abs(x)), 0.0), [((3, 4),)],
           domain=away_from_zero, name="nan_to_num"),
    OpSpec("sub", lambda p: rg.logit(p), lambda p: np.log(p / (1 - p)), [((3, 4),)],
           domain=_prob, name="logit"),
    OpSpec("add", lambda x, a, b: rg.addcmul(x, a, b, value=0.5),
           lambda x, a, b: x + 0.5 * a * b, [((3, 4), (3, 4), (4,))], name="addcmul"),
    OpSpec("add", lambda x, a, b: rg.addcdiv(x, a, b, value=-2),
           lambda x, a, b: x - 2 * a / b, [((3, 4), (3, 1), (4,))], domain=(real, real, nonzero),
           name="addcdiv"),
]

PARAMS, IDS = parametrize(SPECS)


@pytest.mark.parametrize("spec,shapes,check", PARAMS, ids=IDS)
def test_spec(spec, shapes, check):
    check(spec, shapes)


# ------------------------------------------------------------------ against torch

torch = pytest.importorskip("torch")

RNG = np.random.default_rng(3)
X = RNG.standard_normal((3, 4))
Y = RNG.standard_normal((3, 4))
P = RNG.uniform(0.02, 0.98, (3, 4))
ZP = np.array([[0.0, 0.5, 1.0, 0.2], [0.0, 0.0, 0.3, 1.5]])
SPECIAL = np.array([np.nan, np.inf, -np.inf, 1.5, -2.0, 0.0, -0.0])
INTS = np.array([[12, 18, -4], [7, 0, 9]])

CASES = {  # id: (function of (L, *tensors), inputs, differentiable)
    "nan_to_num": (lambda L, x: L.nan_to_num(x), [SPECIAL], True),
    "nan_to_num_values": (lambda L, x: L.nan_to_num(x, nan=1.0, posinf=9.0, neginf=-9.0),
                          [SPECIAL], True),
    "nan_to_num_method": (lambda L, x: (x * 2).nan_to_num(posinf=3.0), [SPECIAL], True),
    "nan_to_num_float32": (lambda L, x: L.nan_to_num(x.float()), [SPECIAL], True),
    "nan_to_num_int": (lambda L, x: L.nan_to_num(x), [INTS], False),
    "addcmul": (lambda L, x, y, z: L.addcmul(x, y, z, value=0.3), [X, Y, X[0]], True),
    "addcdiv": (lambda L, x, y, z: L.addcdiv(x, y, z.abs() + 1, value=-2), [X, Y, X], True),
    "addcmul_method": (lambda L, x, y: x.addcmul(y, y), [X, Y], True),
    "xlogy": (lambda L, x, y: L.xlogy(x, y), [ZP, np.abs(ZP[::-1]) + 0.1], True),
    "xlogy_zero_zero": (lambda L, x, y: L.xlogy(x, y), [ZP, ZP + 0.5 * (ZP == 0)], True),
    "xlogy_scalar": (lambda L, y: L.xlogy(3, y), [P], True),
    "xlogy_method": (lambda L, x, y: x.xlogy(y), [P, P[::-1].copy()], True),
    "xlogy_nan": (lambda L, x: L.xlogy(x * 0, x), [np.array([np.nan, 1.0])], False),
    "logaddexp": (lambda L, x, y: L.logaddexp(x, y), [X, Y], True),
    "logaddexp_large": (lambda L, x, y: L.logaddexp(x * 400, y * 400), [X, Y], True),
    "logaddexp_inf": (lambda L, x: L.logaddexp(x, x), [np.array([-np.inf, 1.0, np.inf])],
                      False),
    "logaddexp2": (lambda L, x, y: x.logaddexp2(y), [X, Y[0]], True),
    "logit": (lambda L, p: L.logit(p), [P], True),
    "logit_eps": (lambda L, p: p.logit(eps=0.1), [P], True),
    "logit_int": (lambda L, x: L.logit(x), [np.array([0, 1])], False),
    "sinc": (lambda L, x: L.sinc(x), [np.concatenate([X.ravel(), [0.0, 1.0, -2.0]])], True),
    "copysign": (lambda L, x, y: L.copysign(x, y), [X, Y], True),
    "copysign_zero": (lambda L, x, y: L.copysign(x, y), [np.array([0.0, 0.0, 2.0, -1.0]),
                                                        np.array([-1.0, 1.0, -0.0, 0.0])], True),
    "copysign_scalar": (lambda L, x: x.copysign(-1.0), [X], True),
    "copysign_int": (lambda L, x: L.copysign(x, -1), [INTS], False),
    "float_power": (lambda L, x, y: L.float_power(x.float().abs(), y), [X, Y], True),
    "float_power_scalar": (lambda L, x: x.float().abs().float_power(2.5), [X], True),
    "float_power_int": (lambda L, x: L.float_power(x, 2), [INTS], False),
    "heaviside": (lambda L, x, v: L.heaviside(x, v), [np.array([-1.5, 0.0, 2.0, 0.0]),
                                                      np.array([0.5])], False),
    "signbit": (lambda L, x: L.signbit(x), [SPECIAL], False),
    "signbit_int": (lambda L, x: x.signbit(), [INTS], False),
    "deg2rad_rad2deg": (lambda L, x: L.deg2rad(x) + x.rad2deg(), [X], True),
    "deg2rad_int": (lambda L, x: L.deg2rad(x), [INTS], False),
    "ldexp": (lambda L, x, e: L.ldexp(x, e), [X, np.array([1, 2, 3, 0])], True),
    "frexp": (lambda L, x: L.frexp(x), [np.concatenate([X.ravel(), SPECIAL[3:]])], False),
    "gcd_lcm": (lambda L, a, b: L.stack([L.gcd(a, b), a.lcm(b)]), [INTS, INTS[::-1].copy()],
                False),
    "positive": (lambda L, x: x.positive() * 2, [X], True),
}


@pytest.mark.filterwarnings("ignore::RuntimeWarning")
@pytest.mark.parametrize("case", list(CASES), ids=list(CASES))
def test_matches_torch(case):
    from .torch_parity import check_against_torch

    fn, inputs, differentiable = CASES[case]
    check_against_torch(torch, fn, *inputs, grad=differentiable, name=case)


def test_inplace_forms_match_torch():
    from .torch_parity import assert_same

    for fn in (lambda L, x: x.clone().nan_to_num_(posinf=1.0),
               lambda L, x: x.clone().abs().xlogy_(2.0),
               lambda L, x: x.clone().sigmoid().logit_()):
        assert_same(fn(rg, rg.tensor(SPECIAL)), fn(torch, torch.tensor(SPECIAL)), torch)


def test_nan_to_num_gradient_is_zero_where_not_finite():
    x = rg.tensor([1.0, math.inf, math.nan, -2.0], requires_grad=True)
    rg.nan_to_num(x).sum().backward()
    assert x.grad.tolist() == [1.0, 0.0, 0.0, 1.0]


def test_ldexp_gradient_with_a_negative_exponent():
    # torch 2.x gives 0 here (it raises 2 to the integer power in integers); the gradient is
    # 2 ** other.
    x = rg.tensor([1.0, 3.0], requires_grad=True)
    rg.ldexp(x, rg.tensor([-2, 1])).sum().backward()
    assert x.grad.tolist() == [0.25, 2.0]


def test_errors_name_the_op():
    with pytest.raises(RuntimeError, match="addcdiv"):
        rg.addcdiv(rg.ones(2), rg.tensor([1, 2]), rg.tensor([3, 4]))
    with pytest.raises(RuntimeError, match="heaviside"):
        rg.heaviside(rg.ones(2), rg.tensor([1]))
    with pytest.raises(RuntimeError, match="gcd"):
        rg.gcd(rg.ones(2), rg.tensor([1, 2]))
