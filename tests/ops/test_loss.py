"""The fused loss primitives (cross_entropy and nll_loss with class indices,
binary_cross_entropy), through nn.functional: forward against NumPy, VJP against finite
differences, JVP against VJP and second order, over reductions, class weights, ignore_index,
label smoothing, K-dimensional and unbatched inputs. Parity with PyTorch is in
tests/nn/test_loss.py."""

import numpy as np
import pytest

import retrograd as rg
import retrograd.nn.functional as F

from .harness import OpSpec, parametrize

RNG = np.random.default_rng(7)
C = 4
WEIGHT = np.array([0.5, 2.0, 1.0, 1.5])


def _targets(shape, ignore=None):
    t = RNG.integers(0, C, shape)
    if ignore is not None and t.size > 1:
        t.flat[1] = ignore
    return t


def _np_log_softmax(x):
    s = x - x.max(axis=1, keepdims=True)
    return s - np.log(np.exp(s).sum(axis=1, keepdims=True))


def _np_class_loss(logp, t, weight=None, ignore_index=-100, smoothing=0.0, reduction="mean"):
    """-sum_c q_c log p_c with q the weighted, smoothed target distribution (dense)."""
    w = np.ones(C) if weight is None else weight
    valid = t != ignore_index
    safe = np.where(valid, t, 0)
    onehot = np.moveaxis(np.eye(C)[safe], -1, 1)
    bshape = (1, C) + (1,) * (logp.ndim - 2)
    q = (1 - smoothing) * onehot * w.reshape(bshape) + smoothing / C * w.reshape(bshape)
    q = q * np.expand_dims(valid, 1)
    loss = -(q * logp).sum(axis=1)
    if reduction == "none":
        return loss
    if reduction == "sum":
        return loss.sum()
    return loss.sum() / (w[safe] * valid).sum()


def _ce_spec(shape, reduction="mean", weight=None, ignore=None, smoothing=0.0, name=""):
    t = _targets((shape[0],) + shape[2:], ignore)
    ii = -100 if ignore is None else ignore
    w = None if weight is None else rg.tensor(weight)
    return OpSpec(
        "cross_entropy",
        lambda x: F.cross_entropy(x, rg.tensor(t), w, ignore_index=ii, reduction=reduction,
                                  label_smoothing=smoothing),
        lambda a: _np_class_loss(_np_log_softmax(a), t, weight, ii, smoothing, reduction),
        [(shape,)],
        name=f"cross_entropy[{name}]",
    )


def _nll_spec(shape, reduction="mean", weight=None, ignore=None, name=""):
    t = _targets((shape[0],) + shape[2:], ignore)
    ii = -100 if ignore is None else ignore
    w = None if weight is None else rg.tensor(weight)
    return OpSpec(
        "nll_loss",
        lambda x: F.nll_loss(x, rg.tensor(t), w, ignore_index=ii, reduction=reduction),
        lambda a: _np_class_loss(a, t, weight, ii, 0.0, reduction),
        [(shape,)],
        name=f"nll_loss[{name}]",
    )


def _unbatched(op, fn, ref):
    t = int(RNG.integers(0, C))
    return OpSpec(op, lambda x: fn(x, rg.tensor(t)),
                  lambda a: ref(a[None], np.array([t]))[0], [((C,),)], name=f"{op}[unbatched]")


def probabilities(rng, shape):
    return rng.uniform(0.05, 0.95, shape)


def _np_bce(x, t):
    return -(t * np.log(x) + (1 - t) * np.log(1 - x))


SPECS = [
    _ce_spec((5, C), name="mean"),
    _ce_spec((5, C), "sum", name="sum"),
    _ce_spec((5, C), "none", name="none"),
    _ce_spec((5, C), weight=WEIGHT, ignore=-100, name="weight-ignore"),
    _ce_spec((5, C), "none", weight=WEIGHT, ignore=2, name="weight-ignore-none"),
    _ce_spec((5, C), smoothing=0.2, name="smoothing"),
    _ce_spec((5, C), weight=WEIGHT, ignore=-1, smoothing=0.3, name="all-options"),
    _ce_spec((5, C), "sum", weight=WEIGHT, smoothing=0.1, name="weight-smoothing-sum"),
    _ce_spec((2, C, 3), name="kdim"),
    _ce_spec((2, C, 2, 3), "none", weight=WEIGHT, ignore=-100, smoothing=0.1, name="kdim-none"),
    _ce_spec((2, C, 2, 2), weight=WEIGHT, ignore=-100, name="kdim-weight"),
    _ce_spec((0, C), "sum", name="empty"),
    _unbatched("cross_entropy",
               lambda x, t: F.cross_entropy(x, t, reduction="none"),
               lambda a, t: _np_class_loss(_np_log_softmax(a), t, reduction="none")),
    _nll_spec((5, C), name="mean"),
    _nll_spec((5, C), "sum", name="sum"),
    _nll_spec((5, C), "none", weight=WEIGHT, ignore=1, name="weight-ignore-none"),
    _nll_spec((5, C), weight=WEIGHT, ignore=-100, name="weight-ignore"),
    _nll_spec((2, C, 2, 3), weight=WEIGHT, ignore=-100, name="kdim"),
    _unbatched("nll_loss", lambda x, t: F.nll_loss(x, t),
               lambda a, t: _np_class_loss(a, t, reduction="none")),
    OpSpec("binary_cross_entropy", lambda x, t: F.binary_cross_entropy(x, t, reduction="none"),
           _np_bce, [((3, 4), (3, 4)), ((), ())], domain=probabilities, name="bce"),
    OpSpec("binary_cross_entropy", F.binary_cross_entropy, lambda x, t: _np_bce(x, t).mean(),
           [((5,), (5,))], domain=probabilities, name="bce-mean"),
    OpSpec("binary_cross_entropy",
           lambda x, t, w: F.binary_cross_entropy(x, t, w, reduction="sum"),
           lambda x, t, w: (_np_bce(x, t) * w).sum(), [((3, 4), (3, 4), (4,))],
           domain=probabilities, nondiff=(2,), name="bce-weight"),
]

PARAMS, IDS = parametrize(SPECS)


@pytest.mark.parametrize("spec,shapes,check", PARAMS, ids=IDS)
def test_spec(spec, shapes, check):
    check(spec, shapes)


def test_cross_entropy_gradient_is_softmax_minus_onehot():
    x = rg.tensor(RNG.standard_normal((6, C)), requires_grad=True)
    t = RNG.integers(0, C, 6)
    F.cross_entropy(x, rg.tensor(t), reduction="sum").backward()
    p = np.exp(_np_log_softmax(x.data))
    np.testing.assert_allclose(x.grad.data, p - np.eye(C)[t], rtol=1e-12, atol=1e-14)


def test_every_target_ignored_gives_nan_loss_and_zero_gradient():
    """As PyTorch: 'mean' over no targets is 0 / 0, and no target sends a gradient."""
    for fn in (F.cross_entropy, F.nll_loss):
        x = rg.tensor(RNG.standard_normal((3, C)), requires_grad=True)
        loss = fn(x, rg.tensor([-100, -100, -100]))
        loss.backward()
        assert np.isnan(loss.item())
        assert np.array_equal(x.grad.data, np.zeros((3, C)))


def test_float32_stays_float32():
    x = rg.randn(4, C, requires_grad=True)
    loss = F.cross_entropy(x, rg.tensor([0, 1, 2, 3]), weight=rg.ones(C), label_smoothing=0.1)
    loss.backward()
    assert loss.dtype == rg.float32 and x.grad.dtype == rg.float32


def test_binary_cross_entropy_is_finite_at_zero_and_one():
    x = rg.tensor([0.0, 1.0, 0.0, 1.0], dtype=rg.float64, requires_grad=True)
    t = rg.tensor([0.0, 1.0, 1.0, 0.0], dtype=rg.float64)
    loss = F.binary_cross_entropy(x, t, reduction="none")
    loss.sum().backward()
    assert loss.tolist() == [0.0, 0.0, 100.0, 100.0]  # logs clamped at -100
    assert np.all(np.isfinite(x.grad.data))
