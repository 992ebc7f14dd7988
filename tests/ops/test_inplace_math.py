import numpy as np
import pytest

import retrograd as rg
from retrograd.ops import inplace_math

torch = pytest.importorskip("torch")

RNG = np.random.default_rng(5)
X = RNG.uniform(0.1, 0.9, (3, 4))
Y = RNG.uniform(0.1, 0.9, (3, 4))

UNARY = [name[:-1] for name in inplace_math.TENSOR_METHODS if name[:-1] in inplace_math._UNARY]
BINARY = [name[:-1] for name in inplace_math.TENSOR_METHODS
          if name[:-1] in inplace_math._BINARY + inplace_math._CASTING]
INTEGER_ONLY = {"gcd", "lcm", "bitwise_and", "bitwise_or", "bitwise_xor", "bitwise_not"}


def _inputs(name, lib):
    x, y = lib.tensor(X.copy()), lib.tensor(Y.copy())
    if name in INTEGER_ONLY:
        return (x * 10).long(), (y * 10).long() + 1
    return x, y


@pytest.mark.parametrize("name", UNARY + BINARY)
def test_matches_the_out_of_place_op_and_torch(name):
    from .torch_parity import assert_same

    results = []
    for lib in (rg, torch):
        x, y = _inputs(name, lib)
        args = (y,) if name in BINARY else ()
        if name in ("cumsum", "cumprod"):
            args = (1,)
        expected = getattr(x, name)(*args).to(x.dtype)  # comparisons write 1/0 in x's dtype
        out = getattr(x, name + "_")(*args)
        assert out is x
        results.append(x)
        if lib is rg:
            assert_same(x, expected, torch, name)
    assert_same(*results, torch, name)


@pytest.mark.parametrize("name", ["cos", "floor", "sinc", "logit", "atan2", "xlogy", "tril",
                                  "nan_to_num", "copysign"])
def test_gradient_through_the_inplace_form_matches_torch(name):
    from .torch_parity import check_against_torch

    def fn(L, x, y):
        h = x * 1.5  # a non-leaf, so the change is recorded
        args = (y,) if name in BINARY else ()
        getattr(h, name + "_")(*args)
        return h * x

    check_against_torch(torch, fn, X, Y, name=name)


def test_comparison_results_take_the_tensors_dtype():
    x = rg.tensor([1.0, 2.0, 3.0])
    x.gt_(rg.tensor([0.0, 5.0, 1.0]))
    assert x.dtype == rg.float32 and x.tolist() == [1.0, 0.0, 1.0]


def test_a_float_result_is_refused_for_an_integer_tensor():
    with pytest.raises(RuntimeError, match="cos_"):
        rg.tensor([1, 2]).cos_()
    with pytest.raises(RuntimeError, match="float_power_"):
        rg.tensor([1.0, 2.0]).float_power_(2)
    assert rg.tensor([1.0, 2.0], dtype=rg.float64).float_power_(2).tolist() == [1.0, 4.0]


def test_a_version_bump_invalidates_a_saved_tensor():
    x = rg.tensor([0.5, 1.0], requires_grad=True)
    h = x * 1.0
    y = h.exp()  # saves its output
    y.cos_()
    with pytest.raises(RuntimeError):
        y.sum().backward()
