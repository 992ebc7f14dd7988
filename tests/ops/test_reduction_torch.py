"""Reductions against PyTorch in float64: values, indices, gradients and Hessian-vector
products on the same inputs, including ties and zeros. Each case is one function that runs
unchanged on a retrograd and on a torch tensor (the APIs match)."""

import math

import numpy as np
import pytest

import retrograd as rg

torch = pytest.importorskip("torch")

RNG = np.random.default_rng(7)
A = RNG.standard_normal((3, 4))
B = RNG.standard_normal((2, 3, 4))
TIES = np.array([[1.0, 3.0, 3.0, -3.0], [2.0, 2.0, 0.0, 2.0], [-1.0, -1.0, -1.0, -1.0]])
ZEROS = np.array([[1.5, 0.0, -2.0, 0.7], [0.3, 1.2, -0.8, 2.0], [0.0, -1.1, 0.0, 0.0]])
POSITIVE = np.abs(A) + 0.5

CASES = {  # id: (function of a tensor, input)
    "sum": (lambda x: x.sum((0, 2), keepdim=True), B),
    "sum_all": (lambda x: x.sum(), A),
    "mean": (lambda x: x.mean(-1), B),
    "mean_empty_tuple": (lambda x: x.mean(()), A),
    "prod": (lambda x: x.prod(1), A),
    "prod_all": (lambda x: x.prod(), POSITIVE),
    "prod_zeros_dim": (lambda x: x.prod(1, keepdim=True), ZEROS),
    "prod_zeros_dim0": (lambda x: x.prod(0), ZEROS),
    "prod_one_zero_all": (lambda x: x.prod(), np.array([2.0, 0.0, 3.0, 4.0])),
    "prod_zeros_all": (lambda x: x.prod(), ZEROS),
    "amax": (lambda x: x.amax((0, 2)), B),
    "amax_ties": (lambda x: x.amax(1), TIES),
    "amin_ties": (lambda x: x.amin(0, keepdim=True), TIES),
    "amax_ties_all": (lambda x: x.amax(), TIES),
    "max_all_ties": (lambda x: x.max(), TIES),
    "min_all_ties": (lambda x: x.min(), TIES),
    "max_dim": (lambda x: x.max(1).values, A),
    "max_dim_ties": (lambda x: x.max(1, keepdim=True).values, TIES),
    "min_dim_ties": (lambda x: x.min(dim=0).values, TIES),
    "median_all": (lambda x: x.median(), A),
    "median_all_ties": (lambda x: x.median(), TIES),
    "median_dim": (lambda x: x.median(-1).values, B),
    "var": (lambda x: x.var(), A),
    "var_dims": (lambda x: x.var((0, 2), keepdim=True), B),
    "var_correction0": (lambda x: x.var(1, correction=0), A),
    "var_unbiased_false": (lambda x: x.var(0, unbiased=False), A),
    "var_legacy_bool": (lambda x: x.var(False), A),
    "std": (lambda x: x.std(-1), B),
    "std_correction2": (lambda x: x.std(dim=1, correction=2, keepdim=True), A),
    "norm": (lambda x: x.norm(), A),
    "norm_dim": (lambda x: x.norm(dim=(0, 2), keepdim=True), B),
    "norm_zero_rows": (lambda x: x.norm(dim=1), np.array([[0.0, 0.0], [3.0, 4.0]])),
    "norm_1": (lambda x: x.norm(1, dim=1), A),
    "norm_3": (lambda x: x.norm(3, 0), A),
    "norm_1.5": (lambda x: x.norm(p=1.5, dim=1), A),
    "norm_0.5": (lambda x: x.norm(p=0.5), A),
    "norm_-1": (lambda x: x.norm(p=-1, dim=1), A),
    "norm_inf_ties": (lambda x: x.norm(math.inf, dim=1), TIES),
    "norm_-inf_ties": (lambda x: x.norm(-math.inf, dim=0), TIES),
    "norm_fro": (lambda x: x.norm("fro", dim=(0, 1)), A),
    "logsumexp": (lambda x: x.logsumexp(1), A),
    "logsumexp_dims": (lambda x: x.logsumexp((0, 2), keepdim=True), B * 300),
    "softmax": (lambda x: x.softmax(1), A),
    "softmax_large": (lambda x: x.softmax(0), B * 300),
    "log_softmax": (lambda x: x.log_softmax(-1), B),
    "log_softmax_large": (lambda x: x.log_softmax(0), A * 500),
    "cumsum": (lambda x: x.cumsum(1), A),
    "cumsum_neg": (lambda x: x.cumsum(-3), B),
    "cumprod": (lambda x: x.cumprod(1), A),
    "cumprod_zeros": (lambda x: x.cumprod(1), ZEROS),
    "cumprod_zeros_dim0": (lambda x: x.cumprod(0), ZEROS),
}


def _pair(a):
    return (rg.tensor(a.copy(), requires_grad=True),
            torch.tensor(a.copy(), dtype=torch.float64, requires_grad=True))


@pytest.mark.parametrize("case", CASES)
def test_value_and_gradient_match_torch(case):
    fn, a = CASES[case]
    x, tx = _pair(a)
    out, t_out = fn(x), fn(tx)
    assert out.shape == tuple(t_out.shape) and out.dtype == np.float64
    np.testing.assert_allclose(out.data, t_out.detach().numpy(), rtol=1e-12, atol=1e-12)
    v = np.random.default_rng(1).standard_normal(out.shape)
    (g,) = rg.autograd.grad(out, x, grad_outputs=rg.tensor(v))
    (tg,) = torch.autograd.grad(t_out, tx, grad_outputs=torch.tensor(v))
    np.testing.assert_allclose(g.data, tg.numpy(), rtol=1e-10, atol=1e-12)


SECOND_ORDER = ["prod", "prod_zeros_dim", "prod_zeros_dim0", "prod_one_zero_all", "var",
                "std", "norm", "norm_3", "norm_1.5", "logsumexp", "logsumexp_dims", "softmax",
                "log_softmax", "cumprod", "cumprod_zeros", "cumprod_zeros_dim0"]


@pytest.mark.parametrize("case", SECOND_ORDER)
def test_hessian_vector_products_match_torch(case):
    fn, a = CASES[case]
    rng = np.random.default_rng(2)
    x, tx = _pair(a)
    v = rng.standard_normal(fn(x).shape)
    u = rng.standard_normal(a.shape)
    (g,) = rg.autograd.grad(fn(x), x, grad_outputs=rg.tensor(v), create_graph=True)
    (h,) = rg.autograd.grad((g * rg.tensor(u)).sum(), x)
    (tg,) = torch.autograd.grad(fn(tx), tx, grad_outputs=torch.tensor(v), create_graph=True)
    (th,) = torch.autograd.grad((tg * torch.tensor(u)).sum(), tx)
    np.testing.assert_allclose(h.data, th.numpy(), rtol=1e-9, atol=1e-10)


INDEX_CASES = {
    "max": (lambda x: x.max(1), TIES),
    "max_keepdim": (lambda x: x.max(0, keepdim=True), TIES),
    "min": (lambda x: x.min(-1), TIES),
    "median": (lambda x: x.median(1), A),
    "argmax": (lambda x: x.argmax(), TIES),
    "argmax_dim": (lambda x: x.argmax(1, keepdim=True), TIES),
    "argmin_dim": (lambda x: x.argmin(0), TIES),
    "all": (lambda x: x.all(1), ZEROS),
    "any": (lambda x: x.any((0, 1), keepdim=True), ZEROS),
    "count_nonzero": (lambda x: x.count_nonzero(0), ZEROS),
}


@pytest.mark.parametrize("case", INDEX_CASES)
def test_indices_and_non_differentiable_results_match_torch(case):
    fn, a = INDEX_CASES[case]
    out, t_out = fn(rg.tensor(a)), fn(torch.tensor(a))
    if isinstance(t_out, tuple):
        assert out.values.tolist() == t_out.values.tolist()
        out, t_out = out.indices, t_out.indices
    assert out.tolist() == t_out.tolist()
    assert str(out.dtype) == str(t_out.dtype).removeprefix("torch.")
