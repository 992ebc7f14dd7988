"""rg.distributions against torch.distributions (float64): log_prob, entropy, cdf/icdf, moments
and KL divergences with their gradients; sample shapes and statistics; validation."""

import numpy as np
import pytest

import retrograd as rg

torch = pytest.importorskip("torch")

RNG = np.random.default_rng(0)
LOC = RNG.standard_normal((2, 3))
SCALE = RNG.uniform(0.5, 2.0, (2, 3))
VALUE = RNG.standard_normal((4, 2, 3))
LOGITS = RNG.standard_normal((2, 5))
PROBS = RNG.uniform(0.05, 1.0, (2, 5))
LABELS = np.array([[0, 4], [3, 3], [1, 2]])
P01 = RNG.uniform(0.05, 0.95, (2, 3))
BITS = (RNG.random((4, 2, 3)) < 0.5).astype(np.float64)


def _compare(fn, *arrays, rtol=1e-10, atol=1e-12):
    """fn(D, *tensors) on both libraries; values and input gradients (floating inputs)."""
    outs, grads = [], []
    for lib in (rg, torch):
        tensors = [lib.tensor(a, requires_grad=a.dtype.kind == "f") for a in arrays]
        out = fn(lib.distributions, lib, *tensors)
        outs.append(out)
        if out.requires_grad:
            w = np.random.default_rng(1).standard_normal(tuple(out.shape))
            (out * lib.tensor(w)).sum().backward()
        grads.append([t.grad for t in tensors])
    a, b = outs
    np.testing.assert_allclose(a.data, b.detach().numpy(), rtol=rtol, atol=atol)
    assert str(a.dtype) == str(b.dtype).removeprefix("torch.")
    for ga, gb in zip(*grads):
        if gb is None:
            assert ga is None or not ga.data.any()
        else:
            np.testing.assert_allclose(ga.data, gb.numpy(), rtol=rtol, atol=atol)


def _uniform(D, low, inside):
    u = D.Uniform(low, low + 2)
    return u.log_prob(inside) + u.entropy() + u.cdf(inside) + u.mean + u.variance


CASES = {  # id: (function of (D, L, *tensors), inputs)
    "normal_log_prob": (lambda D, L, m, s, v: D.Normal(m, s).log_prob(v), [LOC, SCALE, VALUE]),
    "normal_entropy": (lambda D, L, m, s: D.Normal(m, s).entropy(), [LOC, SCALE]),
    "normal_cdf": (lambda D, L, m, s, v: D.Normal(m, s).cdf(v), [LOC, SCALE, VALUE]),
    "normal_icdf": (lambda D, L, m, s, p: D.Normal(m, s).icdf(p), [LOC, SCALE, P01]),
    "normal_moments": (lambda D, L, m, s: L.stack([D.Normal(m, s).mean, D.Normal(m, s).stddev,
                                                   D.Normal(m, s).variance]), [LOC, SCALE]),
    "normal_scalar_scale": (lambda D, L, m, v: D.Normal(m, 0.7).log_prob(v), [LOC, VALUE]),
    "normal_kl": (lambda D, L, m, s: D.kl_divergence(D.Normal(m, s), D.Normal(m * 0.5, s.exp())),
                  [LOC, SCALE]),
    "diag_gaussian": (lambda D, L, m, s, v: D.Independent(D.Normal(m, s), 1).log_prob(v),
                      [LOC, SCALE, VALUE]),
    "diag_gaussian_entropy_kl": (lambda D, L, m, s: D.Independent(D.Normal(m, s), 1).entropy()
                                 + D.kl_divergence(D.Independent(D.Normal(m, s), 1),
                                                   D.Independent(D.Normal(s, m.exp()), 1)),
                                 [LOC, SCALE]),
    "uniform": (lambda D, L, lo, v: _uniform(D, lo, v.clamp(-1, 1) * 0.5 + lo + 1), [LOC, VALUE]),
    "categorical_logits": (lambda D, L, z, y: D.Categorical(logits=z).log_prob(y), [LOGITS,
                                                                                   LABELS]),
    "categorical_probs": (lambda D, L, p, y: D.Categorical(probs=p).log_prob(y), [PROBS, LABELS]),
    "categorical_entropy": (lambda D, L, z: D.Categorical(logits=z).entropy(), [LOGITS]),
    "categorical_probs_entropy": (lambda D, L, p: D.Categorical(probs=p).entropy(), [PROBS]),
    "categorical_attrs": (lambda D, L, z: D.Categorical(logits=z).probs
                          + D.Categorical(logits=z).logits, [LOGITS]),
    "categorical_kl": (lambda D, L, z, p: D.kl_divergence(D.Categorical(logits=z),
                                                          D.Categorical(probs=p)), [LOGITS,
                                                                                    PROBS]),
    "one_hot_categorical": (lambda D, L, z: D.OneHotCategorical(logits=z).log_prob(
        L.eye(5, dtype=z.dtype)[[1, 4]]) + D.OneHotCategorical(logits=z).entropy(), [LOGITS]),
    "bernoulli_probs": (lambda D, L, p, x: D.Bernoulli(probs=p).log_prob(x), [P01, BITS]),
    "bernoulli_logits": (lambda D, L, z, x: D.Bernoulli(logits=z).log_prob(x), [LOC, BITS]),
    "bernoulli_entropy": (lambda D, L, p: D.Bernoulli(p).entropy(), [P01]),
    "bernoulli_moments": (lambda D, L, z: D.Bernoulli(logits=z).mean
                          + D.Bernoulli(logits=z).variance, [LOC]),
    "bernoulli_kl": (lambda D, L, p, z: D.kl_divergence(D.Bernoulli(p), D.Bernoulli(logits=z)),
                     [P01, LOC]),
}


@pytest.mark.parametrize("case", list(CASES), ids=list(CASES))
def test_matches_torch(case):
    fn, inputs = CASES[case]
    _compare(fn, *inputs)


def test_sample_shapes_and_dtypes():
    D = rg.distributions
    normal = D.Normal(rg.zeros(2, 3), rg.ones(2, 3))
    assert normal.sample().shape == (2, 3) and normal.sample((5,)).shape == (5, 2, 3)
    assert normal.batch_shape == (2, 3) and normal.event_shape == ()
    cat = D.Categorical(logits=rg.zeros(4, 6))
    assert cat.sample((3,)).shape == (3, 4) and cat.sample().dtype == rg.int64
    assert D.Bernoulli(rg.full((2,), 0.5)).sample((7,)).shape == (7, 2)
    diag = D.Independent(normal, 1)
    assert diag.batch_shape == (2,) and diag.event_shape == (3,)
    assert diag.sample((4,)).shape == (4, 2, 3)
    assert D.OneHotCategorical(logits=rg.zeros(3)).sample((2,)).shape == (2, 3)


def test_sample_statistics():
    rg.manual_seed(0)
    D = rg.distributions
    draws = D.Normal(rg.tensor([1.0, -2.0]), rg.tensor([0.5, 3.0])).sample((50_000,))
    np.testing.assert_allclose(draws.mean(0).data, [1.0, -2.0], atol=0.05)
    np.testing.assert_allclose(draws.std(0).data, [0.5, 3.0], rtol=0.02)
    probs = np.array([0.1, 0.6, 0.3])
    counts = np.bincount(D.Categorical(rg.tensor(probs)).sample((50_000,)).data, minlength=3)
    np.testing.assert_allclose(counts / 50_000, probs, atol=0.01)
    heads = D.Bernoulli(rg.tensor([0.2, 0.9])).sample((50_000,)).data.mean(0)
    np.testing.assert_allclose(heads, [0.2, 0.9], atol=0.01)
    uniform = D.Uniform(-1.0, 3.0).sample((50_000,)).data
    assert uniform.min() >= -1 and uniform.max() < 3 and abs(uniform.mean() - 1) < 0.03
    rg.manual_seed(5)
    a = D.Normal(0.0, 1.0).sample((3,))
    rg.manual_seed(5)
    np.testing.assert_array_equal(D.Normal(0.0, 1.0).sample((3,)).data, a.data)


def test_rsample_is_reparameterised_and_sample_is_not():
    loc = rg.tensor([0.5, -1.0], requires_grad=True)
    scale = rg.tensor([2.0, 0.5], requires_grad=True)
    rg.manual_seed(3)
    z = rg.distributions.Normal(loc, scale).rsample((1000,))
    z.sum().backward()
    np.testing.assert_allclose(loc.grad.data, [1000.0, 1000.0])
    eps = (z.data - loc.data) / scale.data
    np.testing.assert_allclose(scale.grad.data, eps.sum(0), rtol=1e-5)
    assert not rg.distributions.Normal(loc, scale).sample().requires_grad


def test_score_function_gradient():
    """REINFORCE: E[f(a) grad log p(a)] estimates grad E[f(a)] (here f(a) = a, E = sum p_k k)."""
    rg.manual_seed(1)
    logits = rg.tensor([0.2, -0.4, 1.0], requires_grad=True)
    dist = rg.distributions.Categorical(logits=logits)
    actions = dist.sample((40_000,))
    (dist.log_prob(actions) * actions.float()).mean().backward()
    p = np.exp(logits.data) / np.exp(logits.data).sum()
    k = np.arange(3)
    exact = p * (k - (p * k).sum())
    np.testing.assert_allclose(logits.grad.data, exact, atol=0.02)


def test_validation():
    D = rg.distributions
    with pytest.raises(ValueError, match="scale"):
        D.Normal(0.0, -1.0)
    with pytest.raises(ValueError, match="probs or logits"):
        D.Categorical()
    with pytest.raises(ValueError, match="values"):
        D.Categorical(logits=rg.zeros(3)).log_prob(rg.tensor(3))
    with pytest.raises(ValueError, match="Bernoulli"):
        D.Bernoulli(rg.tensor([1.5]))
    with pytest.raises(NotImplementedError, match="rsample"):
        D.Categorical(logits=rg.zeros(3)).rsample()
    with pytest.raises(NotImplementedError, match="kl_divergence"):
        D.kl_divergence(D.Normal(0.0, 1.0), D.Bernoulli(0.5))
    D.Normal(0.0, -1.0, validate_args=False)  # allowed when asked


def test_enumerate_support_matches_torch():
    ours = rg.distributions.Categorical(logits=rg.zeros(2, 3)).enumerate_support()
    theirs = torch.distributions.Categorical(logits=torch.zeros(2, 3)).enumerate_support()
    np.testing.assert_array_equal(ours.data, theirs.numpy())
    ours = rg.distributions.Bernoulli(rg.full((2,), 0.3)).enumerate_support(expand=False)
    theirs = torch.distributions.Bernoulli(torch.full((2,), 0.3)).enumerate_support(expand=False)
    np.testing.assert_array_equal(ours.data, theirs.numpy())
