import numpy as np
import pytest

import retrograd as rg

from .harness import OpSpec, parametrize


def _logcumsumexp(x, dim):
    return np.logaddexp.accumulate(x, axis=dim)


SPECS = [
    OpSpec("logcumsumexp", lambda x: rg.logcumsumexp(x, 1), lambda x: _logcumsumexp(x, 1),
           [((3, 4),), ((2, 3, 5),)]),
    OpSpec("logcumsumexp", lambda x: rg.logcumsumexp(x, 0), lambda x: _logcumsumexp(x, 0),
           [((4,),), ((0, 2),)], name="logcumsumexp_dim0"),
    OpSpec("logcumsumexp", lambda x: (x * 50).logcumsumexp(-1),
           lambda x: _logcumsumexp(x * 50, -1), [((2, 6),)], name="logcumsumexp_wide_range"),
]

PARAMS, IDS = parametrize(SPECS)


@pytest.mark.parametrize("spec,shapes,check", PARAMS, ids=IDS)
def test_spec(spec, shapes, check):
    check(spec, shapes)


# ------------------------------------------------------------------ against torch

torch = pytest.importorskip("torch")

RNG = np.random.default_rng(11)
A = RNG.standard_normal((3, 5))
B = RNG.standard_normal((2, 3, 4))
NANS = A.copy()
NANS[0, 1] = NANS[2, 3] = NANS[2, 0] = np.nan
ALL_NAN_ROW = A.copy()
ALL_NAN_ROW[1] = np.nan
TIES = np.array([[1.0, 3.0, 3.0, -3.0, 3.0], [2.0, 2.0, 0.0, 2.0, 5.0]])
WITH_NAN = np.array([[1.0, np.nan, 3.0, 0.5, 4.0], [2.0, 1.0, np.nan, np.nan, 0.0]])

CASES = {  # id: (function of (L, *tensors), inputs, differentiable)
    "nansum": (lambda L, x: L.nansum(x), [NANS], True),
    "nansum_dim": (lambda L, x: x.nansum(1, keepdim=True), [NANS], True),
    "nansum_int": (lambda L, x: L.nansum(x, 0), [np.array([[1, 2], [3, 4]])], False),
    "nansum_dtype": (lambda L, x: L.nansum(x, dtype=L.float32), [NANS], False),
    "nanmean": (lambda L, x: x.nanmean(), [NANS], True),
    "nanmean_dim": (lambda L, x: L.nanmean(x, dim=0), [NANS], True),
    "nanmean_all_nan": (lambda L, x: L.nanmean(x, dim=1), [ALL_NAN_ROW], False),
    "aminmax": (lambda L, x: L.aminmax(x), [A], True),
    "aminmax_dim": (lambda L, x: x.aminmax(dim=1, keepdim=True), [B], True),
    "aminmax_ties": (lambda L, x: L.aminmax(x, dim=-1), [TIES], True),
    "aminmax_keepdim_all": (lambda L, x: L.aminmax(x, keepdim=True), [A], True),
    "logcumsumexp": (lambda L, x: L.logcumsumexp(x, 1), [A], True),
    "logcumsumexp_large": (lambda L, x: (x * 300).logcumsumexp(0), [A], True),
    "cummax": (lambda L, x: L.cummax(x, 1), [A], True),
    "cummin": (lambda L, x: x.cummin(dim=0), [B], True),
    "cummax_ties": (lambda L, x: x.cummax(1), [TIES], True),
    "cummin_ties": (lambda L, x: x.cummin(1), [TIES], True),
    "cummax_nan": (lambda L, x: x.cummax(1), [WITH_NAN], False),
    "cummin_nan": (lambda L, x: x.cummin(1), [WITH_NAN], False),
    "cummax_int": (lambda L, x: x.cummax(0), [np.array([3, 1, 4, 4, 2, 5])], False),
    "quantile": (lambda L, x: L.quantile(x, 0.3), [A], True),
    "quantile_dim": (lambda L, x: x.quantile(0.75, dim=1, keepdim=True), [B], True),
    "quantile_tensor_q": (lambda L, x: L.quantile(x, L.tensor([0.0, 0.25, 0.5, 1.0],
                                                                dtype=x.dtype), dim=0), [A],
                          True),
    "quantile_keepdim_all": (lambda L, x: L.quantile(x, L.tensor([0.1, 0.9], dtype=x.dtype),
                                                     keepdim=True), [B], True),
    "quantile_lower": (lambda L, x: L.quantile(x, 0.4, 1, interpolation="lower"), [A], True),
    "quantile_higher": (lambda L, x: L.quantile(x, 0.4, 1, interpolation="higher"), [A], True),
    "quantile_midpoint": (lambda L, x: L.quantile(x, 0.4, 1, interpolation="midpoint"), [A],
                          True),
    "quantile_nearest": (lambda L, x: L.quantile(x, L.tensor([0.125, 0.375, 0.6],
                                                             dtype=x.dtype), 1,
                                                 interpolation="nearest"), [A], True),
    "quantile_nan": (lambda L, x: L.quantile(x, 0.5, dim=1), [NANS], False),
    "nanquantile": (lambda L, x: L.nanquantile(x, 0.5, dim=1), [NANS], True),
    "nanquantile_all": (lambda L, x: x.nanquantile(0.2), [NANS], True),
    "nanquantile_all_nan": (lambda L, x: L.nanquantile(x, 0.5, dim=1), [ALL_NAN_ROW], False),
    "axis_keepdims": (lambda L, x: x.sum(axis=1, keepdims=True) + L.mean(x, axis=(0, 2),
                                                                        keepdims=True), [B],
                      True),
    "axis_reductions": (lambda L, x: L.stack([x.amax(axis=0), x.amin(axis=0), x.prod(axis=0),
                                              x.max(axis=0).values, x.min(axis=0)[0],
                                              x.std(axis=0), x.var(axis=0, keepdims=False),
                                              x.logsumexp(axis=0), x.median(axis=0).values,
                                              x.nansum(axis=0), x.nanmean(axis=0)]), [A], True),
    "axis_scans": (lambda L, x: x.softmax(axis=1) + L.log_softmax(x, axis=1)
                   + x.cumsum(axis=1) + x.cumprod(axis=1) + x.logcumsumexp(axis=1)
                   + x.cummax(axis=1).values, [A], True),
    "axis_joining": (lambda L, x: L.cat([x, x], axis=1).sum() + L.stack([x, x], axis=2)
                     + x.unsqueeze(axis=0).squeeze(axis=0).unsqueeze(-1), [A], True),
    "axis_indices": (lambda L, x: L.stack([x.argmax(axis=1), x.argmin(axis=1, keepdims=False),
                                           x.sort(axis=1).indices[:, 0],
                                           x.argsort(axis=1)[:, 1],
                                           x.topk(2, axis=1).indices[:, 0],
                                           (x > 0).all(axis=1).long(), (x > 0).any(axis=1).long(),
                                           L.count_nonzero(x > 0, axis=1)]), [A], False),
    "axis_kthvalue_mode": (lambda L, x: x.kthvalue(2, axis=0, keepdims=True).values
                           + x.round().mode(axis=0, keepdims=True).values, [A], True),
}


@pytest.mark.filterwarnings("ignore::RuntimeWarning")
@pytest.mark.parametrize("case", list(CASES), ids=list(CASES))
def test_matches_torch(case):
    from .torch_parity import check_against_torch

    fn, inputs, differentiable = CASES[case]
    check_against_torch(torch, fn, *inputs, grad=differentiable, name=case)


def test_logcumsumexp_second_order_matches_torch():
    x_r = rg.tensor(A, requires_grad=True)
    x_t = torch.tensor(A, requires_grad=True)
    v = RNG.standard_normal(A.shape)
    grads = []
    for lib, x in ((rg, x_r), (torch, x_t)):
        y = (lib.logcumsumexp(x, 1) * lib.tensor(v)).sum()
        (g,) = lib.autograd.grad(y, [x], create_graph=True)
        (g * g).sum().backward()
        grads.append(x.grad)
    np.testing.assert_allclose(grads[0].data, grads[1].numpy(), rtol=1e-7, atol=1e-10)


def test_nansum_gradient_is_zero_at_nan():
    x = rg.tensor([1.0, float("nan"), 2.0], requires_grad=True)
    x.nansum().backward()
    assert x.grad.tolist() == [1.0, 0.0, 1.0]


def test_quantile_checks_its_arguments():
    with pytest.raises(ValueError, match="quantile"):
        rg.quantile(rg.ones(3), 1.5)
    with pytest.raises(ValueError, match="interpolation"):
        rg.quantile(rg.ones(3), 0.5, interpolation="cubic")
    with pytest.raises(RuntimeError, match="quantile"):
        rg.quantile(rg.tensor([1, 2]), 0.5)
