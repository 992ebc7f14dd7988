"""Reductions: specs (forward vs NumPy, VJP, JVP, second order) over dims, negative dims,
keepdim, tuple dims, 0-d and empty inputs; exact gradients with zeros (prod, cumprod); ties;
errors. Parity with PyTorch is in test_reduction_torch.py."""

import math

import numpy as np
import pytest

import retrograd as rg
from retrograd.autograd.gradcheck import gradcheck, gradgradcheck

from .harness import OpSpec, away_from_zero, distinct, nonzero, parametrize

# (shape, dim, keepdim): every kind of dim argument a reduction accepts.
DIMS = [
    ((3, 4), None, False),
    ((3, 4), 1, False),
    ((3, 4), -2, True),
    ((2, 3, 4), (0, 2), False),
    ((2, 3, 4), (-1, 0), True),
    ((2, 3), (), False),  # () reduces every dimension, as in PyTorch
    ((), None, False),
    ((), 0, True),
]
EMPTY = [((0, 3), 1, False), ((0, 3), 0, True)]  # the second reduces over the size-0 dim
ONE_DIM = [((3, 4), 1, False), ((3, 4), -2, True), ((2, 3, 4), 0, False), ((), 0, False)]


def _axis(dim, ndim):
    if dim is None or dim == () or ndim == 0:
        return None
    return dim


def _id(shape, dim, keepdim):
    return f"{'x'.join(map(str, shape)) or '0d'}|{dim}|{int(keepdim)}".replace(" ", "")


def reduction_specs(op, fn, ref, cases, name=None, **kw):
    """One OpSpec per (shape, dim, keepdim): fn(x, dim, keepdim), ref(a, axis, keepdims)."""
    return [
        OpSpec(
            op,
            lambda x, d=dim, k=keepdim: fn(x, d, k),
            lambda a, d=dim, k=keepdim: np.asarray(ref(a, axis=_axis(d, a.ndim), keepdims=k)),
            [(shape,)],
            name=f"{name or op}[{_id(shape, dim, keepdim)}]",
            **kw,
        )
        for shape, dim, keepdim in cases
    ]


def _lower_median(a, axis, keepdims):
    if axis is None:
        return np.sort(a, axis=None)[(a.size - 1) // 2]
    out = np.take(np.sort(a, axis=axis), [(a.shape[axis] - 1) // 2], axis=axis)
    return out if keepdims else np.squeeze(out, axis)


def _np_norm(p):
    def ref(a, axis, keepdims):
        kw = {"axis": axis, "keepdims": keepdims}
        if p == 0:
            return np.sum(a != 0, **kw).astype(a.dtype)
        if math.isinf(p):
            return (np.amax if p > 0 else np.amin)(np.abs(a), **kw)
        return np.sum(np.abs(a) ** p, **kw) ** (1 / p)

    return ref


def _np_logsumexp(a, axis, keepdims):
    with np.errstate(divide="ignore"):  # the empty sum: log(0) = -inf
        return np.log(np.sum(np.exp(a), axis=axis, keepdims=keepdims))


def _var(c):
    return lambda a, axis, keepdims: np.var(a, axis=axis, keepdims=keepdims, ddof=c)


def _std(c):
    return lambda a, axis, keepdims: np.std(a, axis=axis, keepdims=keepdims, ddof=c)


def _along(ref):
    """A reference along one dim (softmax, cumsum) that treats a 0-d array as one element."""
    return lambda a, axis, keepdims: ref(a.reshape(1), 0).reshape(()) if a.ndim == 0 else ref(
        a, axis
    )


def _np_softmax(a, axis):
    e = np.exp(a - a.max(axis=axis, keepdims=True))
    return e / e.sum(axis=axis, keepdims=True)


def _np_log_softmax(a, axis):
    return np.log(_np_softmax(a, axis))


SPECS = [
    *reduction_specs("sum", rg.sum, np.sum, DIMS + EMPTY),
    *reduction_specs("mean", rg.mean, np.mean, DIMS + EMPTY[:1]),
    *reduction_specs("prod", rg.prod, np.prod, DIMS + EMPTY, domain=nonzero),
    *reduction_specs("amax", rg.amax, np.amax, DIMS + EMPTY[:1], domain=distinct),
    *reduction_specs("amin", rg.amin, np.amin, DIMS, domain=distinct),
    OpSpec("amax", lambda x: x.max(), np.max, [((3, 4),), ((),)], distinct, name="max_all"),
    OpSpec("amin", lambda x: rg.min(x), np.min, [((3, 4),)], distinct, name="min_all"),
    *reduction_specs("max", lambda x, d, k: x.max(d, k).values, np.max, ONE_DIM,
                     domain=distinct),
    *reduction_specs("min", lambda x, d, k: rg.min(x, dim=d, keepdim=k)[0], np.min, ONE_DIM,
                     domain=distinct),
    *reduction_specs("median", lambda x, d, k: x.median(d, k).values, _lower_median,
                     ONE_DIM + [((3, 5), 1, False)], domain=distinct),
    OpSpec("median_all", lambda x: x.median(), lambda a: _lower_median(a, None, False),
           [((3, 4),), ((5,),), ((),)], distinct),
    *reduction_specs("mean", lambda x, d, k: rg.var(x, d, keepdim=k), _var(1), DIMS[:6],
                     name="var"),
    *reduction_specs("mean", lambda x, d, k: rg.var(x, d, keepdim=k, correction=0), _var(0),
                     DIMS[1:3], name="var_correction0"),
    *reduction_specs("mean", lambda x, d, k: x.var(d, False, k), _var(0), DIMS[3:4],
                     name="var_unbiased_false"),
    *reduction_specs("mean", lambda x, d, k: rg.var(x, d, keepdim=k, correction=2), _var(2),
                     DIMS[1:2], name="var_correction2"),
    *reduction_specs("mean", lambda x, d, k: x.std(d, keepdim=k), _std(1), DIMS[:5], name="std"),
    *reduction_specs(
        "mean",
        lambda x, d, k: sum(rg.var_mean(x, d, keepdim=k)) + sum(rg.std_mean(x, d, keepdim=k)),
        lambda a, axis, keepdims: (_var(1)(a, axis, keepdims) + _std(1)(a, axis, keepdims)
                                   + 2 * np.mean(a, axis=axis, keepdims=keepdims)),
        DIMS[:5], name="var_mean_std_mean"),
    *reduction_specs("norm", lambda x, d, k: x.norm(dim=d, keepdim=k), _np_norm(2), DIMS + EMPTY),
    *[
        spec
        for p in (1, 3, 1.5, 0.5, -1)
        for spec in reduction_specs("norm", lambda x, d, k, p=p: x.norm(p, d, k), _np_norm(p),
                                    DIMS[:5], name=f"norm_p{p}", domain=away_from_zero)
    ],
    *reduction_specs("norm", lambda x, d, k: rg.norm(x, math.inf, d, k), _np_norm(math.inf),
                     DIMS[:5], name="norm_inf", domain=distinct),
    *reduction_specs("norm", lambda x, d, k: rg.norm(x, -math.inf, d, k), _np_norm(-math.inf),
                     DIMS[:5], name="norm_-inf", domain=distinct),
    *reduction_specs("norm", lambda x, d, k: rg.norm(x, 0, d, k), _np_norm(0), DIMS[:3],
                     name="norm_p0", second_order=False),
    *reduction_specs("logsumexp", rg.logsumexp, _np_logsumexp, DIMS[1:] + EMPTY),
    *reduction_specs("softmax", lambda x, d, k: rg.softmax(x, d), _along(_np_softmax), ONE_DIM),
    *reduction_specs("log_softmax", lambda x, d, k: x.log_softmax(d),
                     _along(_np_log_softmax), ONE_DIM),
    *reduction_specs("cumsum", lambda x, d, k: x.cumsum(d),
                     _along(lambda a, axis: np.cumsum(a, axis)), ONE_DIM + [((0, 3), 0, False)]),
    *reduction_specs("cumprod", lambda x, d, k: rg.cumprod(x, d),
                     _along(lambda a, axis: np.cumprod(a, axis)), ONE_DIM, domain=nonzero),
]

PARAMS, IDS = parametrize(SPECS)


@pytest.mark.parametrize("spec,shapes,check", PARAMS, ids=IDS)
def test_spec(spec, shapes, check):
    check(spec, shapes)


# ----------------------------------------------------------------- zeros: prod and cumprod

ZERO_CASES = {
    "one_zero": [[1.5, 0.0, -2.0, 0.7], [0.3, 1.2, -0.8, 2.0], [0.9, -1.1, 0.0, 0.0]],
    "all_zero": [[0.0, 0.0, 0.0, 0.0], [1.0, 2.0, 3.0, 0.5], [0.0, 2.0, 0.0, 1.5]],
}


def _double(values):
    return rg.tensor(np.array(values, dtype=np.float64), requires_grad=True)


@pytest.mark.parametrize("case", ZERO_CASES)
@pytest.mark.parametrize("dim", [None, 0, 1, (0, 1)])
def test_prod_gradient_is_exact_with_zeros_to_second_order(case, dim):
    x = _double(ZERO_CASES[case])
    gradcheck(lambda t: rg.prod(t, dim), [x])
    gradgradcheck(lambda t: rg.prod(t, dim), [x])


def test_prod_gradient_with_zeros_has_the_expected_values():
    x = _double([2.0, 0.0, 3.0, 4.0])
    x.prod().backward()
    np.testing.assert_array_equal(x.grad.data, [0.0, 24.0, 0.0, 0.0])
    y = _double([2.0, 0.0, 3.0, 0.0])
    y.prod().backward()
    np.testing.assert_array_equal(y.grad.data, [0.0, 0.0, 0.0, 0.0])
    (g,) = rg.autograd.grad(y.prod(), y, create_graph=True)
    (h,) = rg.autograd.grad((g * rg.tensor([0.0, 1.0, 0.0, 0.0])).sum(), y)
    np.testing.assert_array_equal(h.data, [0.0, 0.0, 0.0, 6.0])  # d2/dx1 dx3 = 2 * 3


@pytest.mark.parametrize("case", ZERO_CASES)
@pytest.mark.parametrize("dim", [0, 1, -1])
def test_cumprod_gradient_is_exact_with_zeros_to_second_order(case, dim):
    x = _double(ZERO_CASES[case])
    gradcheck(lambda t: rg.cumprod(t, dim), [x], check_forward_ad=True)
    gradgradcheck(lambda t: rg.cumprod(t, dim), [x])


# ----------------------------------------------------------------- ties

def test_amax_and_full_max_split_the_gradient_among_ties():
    x = _double([[1.0, 3.0, 3.0], [2.0, 2.0, 0.0]])
    x.amax(1).sum().backward()
    np.testing.assert_array_equal(x.grad.data, [[0, 0.5, 0.5], [0.5, 0.5, 0]])
    y = _double([3.0, 1.0, 3.0, 3.0])
    y.max().backward()
    np.testing.assert_allclose(y.grad.data, [1 / 3, 0, 1 / 3, 1 / 3])


def test_max_dim_sends_the_gradient_to_the_first_index_of_a_tie():
    x = _double([[1.0, 3.0, 3.0], [2.0, 2.0, 0.0]])
    values, indices = x.max(1)
    assert indices.tolist() == [1, 0] and indices.dtype == rg.int64
    values.sum().backward()
    np.testing.assert_array_equal(x.grad.data, [[0, 1, 0], [1, 0, 0]])


def test_ties_agree_between_forward_and_reverse_mode():
    x = _double([[1.0, 3.0, 3.0], [2.0, 2.0, 0.0]])
    for fn in (lambda t: t.amax(1), lambda t: t.max(1).values, lambda t: t.amin(),
               lambda t: t.norm(math.inf, 1), lambda t: t.median()):
        _, tangent = _jvp(fn, x, np.ones(x.shape))
        (grad,) = rg.autograd.grad(fn(x).sum(), x)
        assert np.isclose(tangent.sum(), grad.data.sum())


def _jvp(fn, x, t):
    from retrograd.autograd.forward_ad import dual_level, make_dual, unpack_dual

    with dual_level():
        out, tangent = unpack_dual(fn(make_dual(x, rg.tensor(t))))
    return out, tangent.data


# ----------------------------------------------------------------- results and dtypes

def test_max_returns_a_named_tuple_that_unpacks():
    x = rg.tensor([[1.0, 5.0], [7.0, 2.0]])
    result = x.max(dim=-1, keepdim=True)
    values, indices = result
    assert result.values is values and result.indices is indices
    assert values.shape == (2, 1) and indices.tolist() == [[1], [0]]
    assert x.min(0).indices.tolist() == [0, 1]
    assert rg.max(rg.tensor(2.5), 0).values.item() == 2.5


def test_argmax_argmin():
    a = np.array([[1.0, 5.0, 5.0], [7.0, 2.0, 7.0]])
    x = rg.tensor(a)
    assert x.argmax().item() == 3 and x.argmin().item() == 0
    assert x.argmax(keepdim=True).shape == (1, 1)
    assert x.argmax(1).tolist() == [1, 0] and x.argmin(dim=-2, keepdim=True).tolist() == [[0, 1, 0]]
    assert rg.tensor(3.0).argmax(0).item() == 0
    assert x.argmax(1).dtype == rg.int64


def test_all_any_count_nonzero():
    a = np.array([[1.0, 0.0, 2.0], [3.0, 4.0, 5.0]])
    x = rg.tensor(a)
    assert x.all().item() is False and x.any().item() is True
    assert x.all(1).tolist() == [False, True] and x.all(1).dtype == rg.bool
    assert x.any(dim=(0, 1), keepdim=True).shape == (1, 1)
    assert rg.all(x, ()).shape == (2, 3)  # PyTorch: () reduces nothing for all/any
    assert x.count_nonzero().item() == 5 and x.count_nonzero(0).tolist() == [2, 1, 2]
    assert x.count_nonzero((0, 1)).dtype == rg.int64


def test_integer_and_bool_inputs_follow_pytorch_dtypes():
    i = rg.tensor([1, 2, 3], dtype=rg.int32)
    assert i.sum().dtype == rg.int64 and i.prod().dtype == rg.int64
    assert i.cumsum(0).dtype == rg.int64 and rg.tensor([True, False]).cumsum(0).tolist() == [1, 1]
    assert i.amax().dtype == rg.int32 and i.max(0).values.dtype == rg.int32
    assert rg.tensor([1, 2]).logsumexp(0).dtype == rg.float32
    x = rg.ones(2, 3)
    assert x.softmax(1, dtype=rg.float64).dtype == rg.float64 and x.norm().dtype == rg.float32
    assert x.var().dtype == rg.float32 and x.sum(dtype=rg.float64).dtype == rg.float64


def test_zero_d_inputs():
    x = rg.tensor(2.0, dtype=rg.float64, requires_grad=True)
    assert x.softmax(0).item() == 1.0 and x.log_softmax(-1).item() == 0.0
    assert x.cumsum(0).item() == 2.0 and x.cumprod(0).shape == ()
    assert x.max(0).indices.item() == 0 and x.median(0).values.item() == 2.0
    assert x.sum(0, keepdim=True).shape == () and x.var(correction=0).item() == 0.0


def test_var_with_too_few_elements_warns_and_gives_nan():
    with pytest.warns(UserWarning, match="var: degrees of freedom"):
        assert math.isnan(rg.tensor([1.0]).var().item())


def test_logsumexp_and_softmax_are_stable():
    x = rg.tensor([1000.0, 1000.0, -1000.0], dtype=rg.float64)
    assert np.isclose(x.logsumexp(0).item(), 1000.0 + math.log(2.0))
    np.testing.assert_allclose(x.softmax(0).data, [0.5, 0.5, 0.0])
    log2 = math.log(2.0)
    np.testing.assert_allclose(x.log_softmax(0).data, [-log2, -log2, -2000.0 - log2])
    assert rg.tensor([-math.inf, -math.inf]).logsumexp(0).item() == -math.inf


def test_norm_gradient_at_zero_is_zero():
    x = rg.zeros(3, dtype=rg.float64, requires_grad=True)
    x.norm().backward()
    np.testing.assert_array_equal(x.grad.data, [0.0, 0.0, 0.0])
    y = rg.tensor([[0.0, 0.0], [3.0, 4.0]], dtype=rg.float64, requires_grad=True)
    y.norm(dim=1).sum().backward()
    np.testing.assert_allclose(y.grad.data, [[0.0, 0.0], [0.6, 0.8]])


def test_softmax_hessian_is_symmetric_and_matches_finite_differences():
    x = _double([[0.3, -1.2, 2.0], [0.5, 0.1, -0.4]])
    w = rg.tensor(np.array([[1.0, 0.0, 2.0], [-1.0, 3.0, 0.5]]))
    for fn in (lambda t: (t.softmax(1) * w).sum(), lambda t: (t.log_softmax(-1) * w).sum()):
        (g,) = rg.autograd.grad(fn(x), x, create_graph=True)
        rows = [rg.autograd.grad((g * rg.tensor(e.reshape(2, 3))).sum(), x, retain_graph=True)[0]
                .data.reshape(-1) for e in np.eye(6)]
        h = np.stack(rows)
        np.testing.assert_allclose(h, h.T, atol=1e-12)
        gradgradcheck(fn, [x])


def test_binary_max_and_min_delegate_to_maximum_and_minimum():
    if not hasattr(rg, "maximum"):
        pytest.skip("rg.maximum (ops/comparison.py) is not there yet")
    x, y = rg.tensor([1.0, 5.0]), rg.tensor([3.0, 2.0])
    assert rg.max(x, y).tolist() == [3.0, 5.0] and x.min(y).tolist() == [1.0, 2.0]
    assert rg.max(x, other=y).tolist() == [3.0, 5.0]


# ----------------------------------------------------------------- errors

@pytest.mark.parametrize("name,call", [
    ("sum", lambda x: x.sum(2)), ("mean", lambda x: x.mean((0, -3))),
    ("prod", lambda x: x.prod(5)), ("amax", lambda x: x.amax(2)), ("max", lambda x: x.max(-3)),
    ("argmax", lambda x: x.argmax(2)), ("median", lambda x: x.median(2)),
    ("var", lambda x: x.var(2)), ("norm", lambda x: x.norm(dim=2)),
    ("logsumexp", lambda x: x.logsumexp(2)), ("softmax", lambda x: x.softmax(2)),
    ("cumsum", lambda x: x.cumsum(-3)), ("all", lambda x: x.all(2)),
    ("count_nonzero", lambda x: x.count_nonzero(2)),
])
def test_a_bad_dim_names_the_op_and_the_valid_range(name, call):
    with pytest.raises(IndexError, match=rf"^{name}: dimension -?\d+ .*\[-2, 1\]"):
        call(rg.ones(2, 3))


def test_other_errors():
    x = rg.ones(2, 3)
    with pytest.raises(ValueError, match="sum: dim .* repeats"):
        x.sum((1, -1))
    with pytest.raises(IndexError, match=r"amax: cannot reduce over dimension 0 of size 0"):
        rg.ones(0, 3).amax(0)
    with pytest.raises(IndexError, match=r"max: .*size 0"):
        rg.ones(0, 3).max(0)
    with pytest.raises(RuntimeError, match="max: cannot reduce an empty tensor"):
        rg.ones(0).max()
    with pytest.raises(TypeError, match="var: expected a floating-point input"):
        rg.tensor([1, 2]).var()
    with pytest.raises(TypeError, match="var: pass either unbiased= or correction="):
        x.var(0, unbiased=True, correction=1)
    with pytest.raises(ValueError, match="norm: p='nuc'"):
        x.norm("nuc")
    with pytest.raises(TypeError, match="softmax: expected a floating-point input"):
        rg.tensor([1, 2]).softmax(0)
    with pytest.raises(TypeError):
        x.softmax()  # dim is required, as in PyTorch
