import math

import numpy as np
import pytest

import retrograd as rg

from .harness import OpSpec, parametrize, positive


def _wide(rng, shape):
    """Positive and negative non-integers (away from the poles)."""
    x = rng.uniform(0.2, 6.0, shape) * rng.choice([-1.0, 1.0], shape)
    return np.where(np.abs(x - np.round(x)) < 0.1, x + 0.25, x)


_lgamma = np.vectorize(math.lgamma, otypes=[float])

SPECS = [
    OpSpec("lgamma", rg.lgamma, _lgamma, [((3, 4),), ((),), ((0,),)], domain=_wide),
    OpSpec("digamma", rg.digamma, None, [((3, 4),), ((),)], domain=_wide),
    OpSpec("polygamma", lambda x: rg.polygamma(1, x), None, [((3, 4),)], domain=positive),
    OpSpec("polygamma", lambda x: x.polygamma(3), None, [((5,),)], domain=_wide,
           name="polygamma_3"),
    OpSpec("lgamma", lambda x: rg.mvlgamma(x + 2, 3), None, [((4,),)], domain=positive,
           name="mvlgamma"),
]

PARAMS, IDS = parametrize(SPECS)


@pytest.mark.parametrize("spec,shapes,check", PARAMS, ids=IDS)
def test_spec(spec, shapes, check):
    check(spec, shapes)


torch = pytest.importorskip("torch")

X = np.concatenate([np.linspace(-5.7, 12.1, 40), [0.5, 1.0, 2.0, 1e-5, 30.0, 150.3, 1e6, -2.5]])
POS = X[X > 0]


@pytest.mark.parametrize("name,fn,x", [
    ("lgamma", lambda L, x: L.lgamma(x), X),
    ("digamma", lambda L, x: L.digamma(x), X),
    ("polygamma1", lambda L, x: L.polygamma(1, x), POS),
    ("polygamma2", lambda L, x: L.polygamma(2, x), POS),
    ("polygamma4", lambda L, x: x.polygamma(4), POS),
    ("mvlgamma", lambda L, x: L.mvlgamma(x, 4), POS + 2),
    ("special", lambda L, x: L.stack([L.special.gammaln(x), L.special.psi(x),
                                      L.special.multigammaln(x + 1, 2), L.special.entr(x),
                                      L.special.ndtr(x), L.special.log_ndtr(x),
                                      L.special.xlog1py(x, x), L.special.expit(x)]), POS[:30]),
    ("special_unit", lambda L, p: L.stack([L.special.ndtri(p), L.special.logit(p),
                                           L.special.xlogy(p, p), L.special.erfinv(p)]),
     np.linspace(0.05, 0.95, 9)),
])
def test_values_and_gradients_match_torch(name, fn, x):
    from .torch_parity import check_against_torch

    check_against_torch(torch, fn, x, name=name, rtol=1e-8, atol=1e-12)


def test_poles_match_torch():
    x = np.array([0.0, -1.0, -2.0, 3.0])
    for fn in (lambda L, t: L.lgamma(t), lambda L, t: L.digamma(t)):
        ours = fn(rg, rg.tensor(x)).data
        theirs = fn(torch, torch.tensor(x)).numpy()
        np.testing.assert_array_equal(np.isfinite(ours), np.isfinite(theirs))
        np.testing.assert_array_equal(ours[:3], theirs[:3])
        np.testing.assert_allclose(ours[3], theirs[3], rtol=1e-14)
    assert rg.polygamma(1, rg.tensor([0.0])).item() == math.inf


def test_float32_and_integer_inputs():
    assert rg.lgamma(rg.tensor([3, 4])).dtype == rg.float32
    np.testing.assert_allclose(rg.lgamma(rg.tensor([3, 4])).data, [math.log(2), math.log(6)],
                               rtol=1e-6)
    x = rg.tensor([0.3, 7.5])
    assert rg.digamma(x).dtype == rg.float32


def test_entr_and_xlog1py_edges_match_torch():
    x = np.array([0.0, 0.5, -1.0, 2.0])
    np.testing.assert_array_equal(rg.special.entr(rg.tensor(x)).data,
                                  torch.special.entr(torch.tensor(x)).numpy())
    a, b = np.array([0.0, 0.0, 2.0]), np.array([-1.0, -3.0, 0.5])
    np.testing.assert_allclose(rg.special.xlog1py(rg.tensor(a), rg.tensor(b)).data,
                               torch.special.xlog1py(torch.tensor(a), torch.tensor(b)).numpy())


def test_errors():
    with pytest.raises(ValueError, match="polygamma"):
        rg.polygamma(-1, rg.ones(2))
    with pytest.raises(RuntimeError, match="mvlgamma"):
        rg.mvlgamma(rg.ones(2), 3)
