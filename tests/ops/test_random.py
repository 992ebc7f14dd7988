"""Random numbers (src/retrograd/ops/random.py): seeding, generators, state, dtypes, ranges."""

import json

import numpy as np
import pytest

import retrograd as rg

DRAWS = {
    "rand": lambda g: rg.rand(3, 4, generator=g),
    "randn": lambda g: rg.randn((5,), generator=g),
    "randint": lambda g: rg.randint(0, 100, (6,), generator=g),
    "randperm": lambda g: rg.randperm(10, generator=g),
    "normal": lambda g: rg.normal(1.0, 2.0, (4,), generator=g),
    "bernoulli": lambda g: rg.bernoulli(rg.full((20,), 0.5), generator=g),
    "multinomial": lambda g: rg.multinomial(rg.ones(2, 5), 3, generator=g),
    "rand_like": lambda g: rg.rand_like(rg.zeros(2, 2), generator=g),
    "randn_like": lambda g: rg.randn_like(rg.zeros(3), generator=g),
    "randint_like": lambda g: rg.randint_like(rg.zeros(3), 50, generator=g),
}


@pytest.fixture(autouse=True)
def _restore_default_generator():
    state = rg.get_rng_state()
    yield
    rg.set_rng_state(state)


@pytest.mark.parametrize("name", DRAWS)
def test_manual_seed_makes_draws_reproducible(name):
    draw = DRAWS[name]
    rg.manual_seed(1234)
    first = draw(None).data.copy()
    again = draw(None).data.copy()
    rg.manual_seed(1234)
    np.testing.assert_array_equal(draw(None).data, first)
    np.testing.assert_array_equal(draw(None).data, again)


@pytest.mark.parametrize("name", DRAWS)
def test_an_explicit_generator_owns_its_stream(name):
    draw = DRAWS[name]
    rg.manual_seed(0)
    expected_default = rg.rand(8).data
    g = rg.Generator().manual_seed(7)
    first = draw(g).data.copy()
    rg.manual_seed(0)
    draw(rg.Generator().manual_seed(99))  # drawing from another generator...
    np.testing.assert_array_equal(rg.rand(8).data, expected_default)  # ...leaves the default be
    np.testing.assert_array_equal(draw(rg.Generator().manual_seed(7)).data, first)


def test_different_seeds_give_different_numbers():
    a = rg.randn(100, generator=rg.Generator().manual_seed(1))
    b = rg.randn(100, generator=rg.Generator().manual_seed(2))
    assert not np.array_equal(a.data, b.data)


def test_generator_state_round_trips_through_json():
    g = rg.Generator().manual_seed(5)
    rg.rand(3, generator=g)
    state = json.loads(json.dumps(g.get_state()))
    expected = rg.randn(4, generator=g).data
    assert not np.array_equal(rg.randn(4, generator=g).data, expected)
    g.set_state(state)
    np.testing.assert_array_equal(rg.randn(4, generator=g).data, expected)
    assert g.initial_seed() == 5


def test_default_generator_state_can_be_saved_and_restored():
    rg.manual_seed(3)
    rg.rand(2)
    state = rg.get_rng_state()
    expected = rg.randint(0, 1000, (5,)).data
    rg.set_rng_state(state)
    np.testing.assert_array_equal(rg.randint(0, 1000, (5,)).data, expected)
    assert rg.initial_seed() == 3


def test_manual_seed_returns_the_default_generator():
    g = rg.manual_seed(11)
    assert isinstance(g, rg.Generator) and g is rg.default_generator
    assert rg.Generator().manual_seed(1).initial_seed() == 1


def test_seed_picks_a_new_recorded_seed():
    s = rg.seed()
    assert rg.initial_seed() == s
    expected = rg.rand(3).data
    rg.manual_seed(s)
    np.testing.assert_array_equal(rg.rand(3).data, expected)


def test_generator_must_be_a_retrograd_generator():
    with pytest.raises(TypeError, match="Generator"):
        rg.rand(2, generator=np.random.default_rng(0))


def test_float_draws_default_to_float32_and_accept_other_float_dtypes():
    assert rg.rand(2).dtype == rg.float32
    assert rg.randn(2).dtype == rg.float32
    assert rg.rand(2, dtype=rg.float64).dtype == rg.float64
    assert rg.randn(2, dtype=rg.float16).dtype == rg.float16
    assert rg.rand_like(rg.zeros(2, dtype=rg.float64)).dtype == rg.float64
    assert rg.normal(0.0, 1.0, (2,)).dtype == rg.float32
    with pytest.raises(TypeError, match="rand: expected a floating dtype"):
        rg.rand(2, dtype=rg.int64)


def test_integer_draws_default_to_int64():
    assert rg.randint(0, 3, (2,)).dtype == rg.int64
    assert rg.randint(0, 3, (2,), dtype=rg.int32).dtype == rg.int32
    assert rg.randperm(4).dtype == rg.int64
    assert rg.multinomial(rg.ones(3), 1).dtype == rg.int64
    assert rg.randint_like(rg.zeros(2), 4).dtype == rg.float32  # like PyTorch: input's dtype


def test_random_tensors_can_require_grad():
    x = rg.randn(3, requires_grad=True)
    assert x.requires_grad and x.is_leaf
    assert rg.rand(2, 2, requires_grad=True).requires_grad


def test_uniform_and_normal_samples_have_the_right_statistics():
    g = rg.Generator().manual_seed(0)
    u = rg.rand(20_000, generator=g).data
    assert u.min() >= 0.0 and u.max() < 1.0
    assert abs(u.mean() - 0.5) < 0.01
    z = rg.randn(20_000, generator=g, dtype=rg.float64).data
    assert abs(z.mean()) < 0.03 and abs(z.std() - 1.0) < 0.03
    n = rg.normal(3.0, 0.5, (20_000,), generator=g).data
    assert abs(n.mean() - 3.0) < 0.02 and abs(n.std() - 0.5) < 0.02


def test_randint_stays_in_range_and_reaches_both_ends():
    values = rg.randint(-2, 3, (2000,), generator=rg.Generator().manual_seed(0)).data
    assert set(values.tolist()) == {-2, -1, 0, 1, 2}
    high_only = rg.randint(4, (500,)).data  # randint(high, size), as in PyTorch
    assert high_only.min() >= 0 and high_only.max() == 3
    assert rg.randint(0, 5, (2, 3)).shape == (2, 3)
    with pytest.raises(ValueError, match="randint: need low < high"):
        rg.randint(3, 3, (2,))
    with pytest.raises(TypeError, match="size"):
        rg.randint(0, 3)


def test_randperm_is_a_permutation():
    p = rg.randperm(50).data
    assert sorted(p.tolist()) == list(range(50))
    assert rg.randperm(0).shape == (0,)


def test_normal_broadcasts_tensor_arguments():
    mean = rg.tensor([[0.0], [100.0]])
    std = rg.tensor([0.0, 1.0, 2.0])
    out = rg.normal(mean, std)
    assert out.shape == (2, 3)
    assert out.data[0, 0] == 0.0 and out.data[1, 0] == 100.0  # std 0 gives the mean
    with pytest.raises(ValueError, match="normal: std"):
        rg.normal(0.0, -1.0, (2,))


def test_bernoulli_uses_the_given_probabilities():
    probs = rg.tensor([0.0, 1.0, 0.0, 1.0])
    out = rg.bernoulli(probs)
    assert out.tolist() == [0.0, 1.0, 0.0, 1.0] and out.dtype == rg.float32
    frac = rg.bernoulli(rg.zeros(10_000), p=0.3).data.mean()
    assert abs(frac - 0.3) < 0.02
    with pytest.raises(ValueError, match="bernoulli"):
        rg.bernoulli(rg.tensor([1.5]))


def test_multinomial_respects_weights_and_replacement():
    never_zero = rg.multinomial(rg.tensor([0.0, 1.0, 3.0]), 200, replacement=True).data
    assert 0 not in never_zero.tolist()
    rows = rg.multinomial(rg.ones(4, 6), 6).data
    assert rows.shape == (4, 6)
    assert all(sorted(r) == list(range(6)) for r in rows.tolist())
    with pytest.raises(ValueError, match="without replacement"):
        rg.multinomial(rg.ones(3), 4)
    with pytest.raises(ValueError, match="non-negative"):
        rg.multinomial(rg.tensor([1.0, -1.0]), 1)
