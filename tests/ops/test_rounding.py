import numpy as np
import pytest

import retrograd as rg

from .harness import OpSpec, nonzero, parametrize, real


def wide(rng, shape):
    """Values spread over several integers (none within 1e-3 of a jump, for this seed)."""
    return rng.uniform(-5, 5, shape)


SPECS = [
    OpSpec("floor", rg.floor, np.floor, [((3, 4),), ((),), ((0, 2),)], domain=wide),
    OpSpec("ceil", rg.ceil, np.ceil, [((3, 4),)], domain=wide),
    OpSpec("round", rg.round, np.round, [((3, 4),), ((),)], domain=wide),
    OpSpec("round", lambda x: rg.round(x, decimals=1), lambda x: np.round(x, 1), [((3, 4),)],
           domain=wide, name="round_decimals"),
    OpSpec("trunc", rg.trunc, np.trunc, [((3, 4),)], domain=wide),
    OpSpec("trunc", rg.frac, lambda x: x - np.trunc(x), [((3, 4),)], domain=wide, name="frac"),
    OpSpec("remainder", rg.remainder, np.remainder, [((3, 4), (3, 4)), ((2, 3), (3,))],
           domain=(wide, nonzero)),
    OpSpec("remainder", lambda x: x % 1.5, lambda x: np.remainder(x, 1.5), [((3, 4),)],
           domain=wide, name="mod_operator"),
    OpSpec("remainder", lambda x: 2.5 % x, lambda x: np.remainder(2.5, x), [((3, 4),)],
           domain=nonzero, name="rmod_operator"),
    OpSpec("fmod", rg.fmod, np.fmod, [((3, 4), (3, 4)), ((3,), ())], domain=(wide, nonzero)),
    OpSpec("floor_divide", rg.floor_divide, np.floor_divide, [((3, 4), (3, 4)), ((3,), ())],
           domain=(wide, nonzero)),
    OpSpec("floor_divide", lambda x: x // 0.7, lambda x: np.floor_divide(x, 0.7), [((3, 4),)],
           domain=wide, name="floordiv_operator"),
    OpSpec("trunc_divide", rg.trunc_divide, lambda x, y: np.trunc(x / y),
           [((3, 4), (3, 4)), ((2, 3), (3,))], domain=(wide, nonzero)),
    OpSpec("trunc_divide", lambda x, y: rg.div(x, y, rounding_mode="trunc"),
           lambda x, y: np.trunc(x / y), [((3, 4), (3, 4))], domain=(wide, nonzero),
           name="div_trunc"),
    OpSpec("floor_divide", lambda x, y: x.div(y, rounding_mode="floor"),
           lambda x, y: np.floor(x / y), [((3, 4), (3, 4))], domain=(wide, nonzero),
           name="div_floor"),
]

PARAMS, IDS = parametrize(SPECS)


@pytest.mark.parametrize("spec,shapes,check", PARAMS, ids=IDS)
def test_spec(spec, shapes, check):
    check(spec, shapes)


def test_rounding_has_a_zero_gradient():
    x = rg.tensor([-1.5, 0.3, 2.5], requires_grad=True)
    (rg.floor(x) + rg.ceil(x) + rg.round(x) + rg.trunc(x)).sum().backward()
    assert x.grad.tolist() == [0.0, 0.0, 0.0]


def test_round_is_half_to_even_with_decimals():
    x = rg.tensor([0.5, 1.5, 2.5, -0.5, -1.5], dtype=rg.float64)
    assert rg.round(x).tolist() == [0.0, 2.0, 2.0, -0.0, -2.0]
    assert rg.round(rg.tensor([1.2345, 15.0], dtype=rg.float64), decimals=2).tolist() == [
        1.23, 15.0]
    assert rg.round(rg.tensor([1234.0, 15.0], dtype=rg.float64), decimals=-1).tolist() == [
        1230.0, 20.0]


def test_integer_tensors_round_to_themselves():
    i = rg.tensor([-3, 4])
    for f in (rg.floor, rg.ceil, rg.round, rg.trunc, rg.fix):
        out = f(i)
        assert out.dtype == rg.int64 and out.tolist() == [-3, 4]
    with pytest.raises(TypeError, match="round: decimals"):
        rg.round(i, decimals=1)


def test_integer_division_and_modulus_follow_python():
    a, b = rg.tensor([7, -7, 7, -7]), rg.tensor([2, 2, -2, -2])
    assert (a // b).tolist() == [3, -4, -4, 3]
    assert (a % b).tolist() == [1, 1, -1, -1]
    assert rg.fmod(a, b).tolist() == [1, -1, 1, -1]
    assert rg.trunc_divide(a, b).tolist() == [3, -3, -3, 3]
    assert rg.div(a, b, rounding_mode="trunc").dtype == rg.int64
    assert (7 // rg.tensor([2])).tolist() == [3] and (7 % rg.tensor([4])).tolist() == [3]
    with pytest.raises(ZeroDivisionError, match="floor_divide"):
        a // 0
    with pytest.raises(ZeroDivisionError, match="remainder"):
        a % rg.tensor([1, 0, 1, 1])


def test_float_division_by_zero_gives_inf_and_nan_quietly():
    x = rg.tensor([1.0, -1.0, 0.0])
    with np.errstate(all="raise"):
        assert (x // 0.0).tolist()[:2] == [np.inf, -np.inf]
        assert np.isnan(rg.remainder(x, 0.0).data).all()


@pytest.mark.parametrize("name", ["remainder", "fmod", "floor_divide", "frac", "round"])
def test_matches_torch(name):
    torch = pytest.importorskip("torch")
    rng = np.random.default_rng(2)
    a = np.concatenate([rng.uniform(-6, 6, 10), [-3.0, 3.0, 2.5, -2.5, 0.0]])
    b = np.concatenate([nonzero(rng, (10,)) * 2, [2.0, -2.0, 1.5, 1.5, 1.0]])
    g = real(rng, a.shape)
    x, y = rg.tensor(a, requires_grad=True), rg.tensor(b, requires_grad=True)
    tx, ty = torch.tensor(a, requires_grad=True), torch.tensor(b, requires_grad=True)
    if name in ("frac", "round"):
        out, t_out = getattr(rg, name)(x) + y, getattr(torch, name)(tx) + ty
    elif name == "floor_divide":
        out, t_out = rg.div(x, y, rounding_mode="floor"), torch.div(tx, ty, rounding_mode="floor")
    else:
        out, t_out = getattr(rg, name)(x, y), getattr(torch, name)(tx, ty)
    out.backward(rg.tensor(g))
    t_out.backward(torch.tensor(g))
    np.testing.assert_allclose(out.data, t_out.detach().numpy(), rtol=1e-12, atol=1e-12)
    np.testing.assert_allclose(x.grad.data, tx.grad.numpy(), rtol=1e-12, atol=1e-12)
    np.testing.assert_allclose(y.grad.data, ty.grad.numpy(), rtol=1e-12, atol=1e-12)
