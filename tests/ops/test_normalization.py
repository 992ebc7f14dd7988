"""The fused normalization primitive (`standardize`), through every function that uses it:
forward against NumPy, VJP against finite differences, JVP against VJP, second order; affine
on and off, weight only and bias only, every layout (batch, layer, group, instance, RMS).
Parity with PyTorch is in tests/nn/test_normalization.py."""

import numpy as np
import pytest

import retrograd as rg
import retrograd.nn.functional as F
from retrograd.autograd.gradcheck import gradgradcheck

from .harness import OpSpec, parametrize, positive, real


def _np_norm(a, axes, eps=1e-5, center=True):
    if center:
        a = a - a.mean(axis=axes, keepdims=True)
    return a / np.sqrt(np.mean(a * a, axis=axes, keepdims=True) + eps)


def _channel(p, ndim):
    return p.reshape((-1,) + (1,) * (ndim - 2))


def _np_batch_norm(a, w=None, b=None):
    out = _np_norm(a, (0,) + tuple(range(2, a.ndim)))
    if w is not None:
        out = out * _channel(w, a.ndim)
    if b is not None:
        out = out + _channel(b, a.ndim)
    return out


def _np_layer_norm(k):
    def ref(a, w=None, b=None):
        out = _np_norm(a, tuple(range(a.ndim - k, a.ndim)))
        out = out if w is None else out * w
        return out if b is None else out + b

    return ref


def _np_group_norm(groups):
    def ref(a, w, b):
        n, c = a.shape[:2]
        out = _np_norm(a.reshape(n, groups, -1), (2,)).reshape(a.shape)
        return out * _channel(w, a.ndim) + _channel(b, a.ndim)

    return ref


def _np_instance_norm(a, w, b):
    out = _np_norm(a, tuple(range(2, a.ndim)))
    return out * _channel(w, a.ndim) + _channel(b, a.ndim)


_EPS64 = float(np.finfo(np.float64).eps)


def _np_rms_norm(k, eps=_EPS64):
    def ref(a, w=None):
        out = _np_norm(a, tuple(range(a.ndim - k, a.ndim)), eps, center=False)
        return out if w is None else out * w

    return ref


def _bn(x, w=None, b=None):
    return F.batch_norm(x, None, None, w, b, training=True)


SPECS = [
    OpSpec("standardize_affine", _bn, _np_batch_norm,
           [((5, 3), (3,), (3,)), ((2, 3, 4), (3,), (3,)), ((2, 2, 3, 2), (2,), (2,))],
           name="batch_norm"),
    OpSpec("standardize", _bn, _np_batch_norm, [((4, 3),), ((2, 3, 2),)],
           name="batch_norm_no_affine"),
    OpSpec("standardize_affine", lambda x, w: _bn(x, w), lambda a, w: _np_batch_norm(a, w),
           [((3, 2, 2), (2,))], name="batch_norm_weight_only"),
    OpSpec("standardize_affine", lambda x, w, b: F.layer_norm(x, (4,), w, b), _np_layer_norm(1),
           [((3, 4), (4,), (4,)), ((2, 3, 4), (4,), (4,)), ((4,), (4,), (4,))],
           name="layer_norm"),
    OpSpec("standardize_affine", lambda x, w, b: F.layer_norm(x, (3, 2), w, b), _np_layer_norm(2),
           [((2, 3, 2), (3, 2), (3, 2))], name="layer_norm_2d"),
    OpSpec("standardize", lambda x: F.layer_norm(x, 4), _np_layer_norm(1), [((3, 4),)],
           name="layer_norm_no_affine"),
    OpSpec("standardize_affine", lambda x, w: F.layer_norm(x, 4, weight=w),
           lambda a, w: _np_layer_norm(1)(a, w), [((3, 4), (4,))], name="layer_norm_weight_only"),
    OpSpec("standardize", lambda x, b: F.layer_norm(x, 4, bias=b),
           lambda a, b: _np_layer_norm(1)(a, None, b), [((3, 4), (4,))],
           name="layer_norm_bias_only"),
    OpSpec("standardize_affine", lambda x, w, b: F.group_norm(x, 2, w, b), _np_group_norm(2),
           [((2, 4, 3), (4,), (4,)), ((2, 6, 2, 2), (6,), (6,)), ((3, 4), (4,), (4,))],
           name="group_norm"),
    OpSpec("standardize_affine", lambda x, w, b: F.instance_norm(x, weight=w, bias=b),
           _np_instance_norm, [((2, 3, 4), (3,), (3,)), ((2, 2, 2, 3), (2,), (2,))],
           name="instance_norm"),
    OpSpec("standardize_affine", lambda x, w: F.rms_norm(x, (4,), w), _np_rms_norm(1),
           [((3, 4), (4,)), ((2, 3, 4), (4,))], name="rms_norm"),
    OpSpec("standardize", lambda x: F.rms_norm(x, (2, 3), eps=1e-3),
           _np_rms_norm(2, 1e-3), [((2, 2, 3),)], name="rms_norm_no_weight"),
    OpSpec("standardize_affine", lambda x, w: F.rms_norm(x, (3,), w), _np_rms_norm(1),
           [((4, 3), (3,))], domain=(positive, real), name="rms_norm_positive"),
]


PARAMS, IDS = parametrize(SPECS)


@pytest.mark.parametrize("spec,shapes,check", PARAMS, ids=IDS)
def test_spec(spec, shapes, check):
    check(spec, shapes)


def test_local_response_norm_second_order():
    """local_response_norm is a composite; its gradients still check to second order."""
    x = rg.tensor(np.random.default_rng(0).standard_normal((2, 5, 3)), requires_grad=True)
    gradgradcheck(lambda x: F.local_response_norm(x, 3, alpha=0.3, beta=0.75, k=1.5), [x])


def test_eval_mode_batch_norm_second_order():
    rng = np.random.default_rng(1)
    x, w, b = (rg.tensor(rng.standard_normal(s), requires_grad=True) for s in [(3, 2, 2), (2,),
                                                                              (2,)])
    rm, rv = rg.tensor(rng.standard_normal(2)), rg.tensor(rng.uniform(0.5, 2.0, 2))
    gradgradcheck(lambda x, w, b: F.batch_norm(x, rm, rv, w, b, training=False), [x, w, b])


def test_first_order_path_reuses_the_forward_moments():
    """The NumPy fast path and the create_graph path give the same first-order gradients."""
    rng = np.random.default_rng(2)
    x = rg.tensor(rng.standard_normal((4, 3, 5)), requires_grad=True)
    w = rg.tensor(rng.standard_normal(3), requires_grad=True)
    g = rg.tensor(rng.standard_normal((4, 3, 5)))
    fast = rg.autograd.grad(_bn(x, w), [x, w], g)
    recorded = rg.autograd.grad(_bn(x, w), [x, w], g, create_graph=True)
    for a, b in zip(fast, recorded):
        np.testing.assert_allclose(a.data, b.data, rtol=1e-12, atol=1e-12)


def test_float32_stays_float32():
    x = rg.randn(4, 3, 2)
    w, b = rg.ones(3, requires_grad=True), rg.zeros(3, requires_grad=True)
    x.requires_grad_(True)
    y = F.batch_norm(x, None, None, w, b, training=True)
    y.sum().backward()
    assert y.dtype == rg.float32 and x.grad.dtype == rg.float32 and w.grad.dtype == rg.float32
