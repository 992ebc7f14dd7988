"""rg.autograd.functional against torch.autograd.functional: results and their structure."""

import numpy as np
import pytest

import retrograd as rg

torch = pytest.importorskip("torch")

RNG = np.random.default_rng(0)
A, B = RNG.standard_normal(3), RNG.standard_normal((2, 3))
V3, V23 = RNG.standard_normal(3), RNG.standard_normal((2, 3))


def _f(L, x):
    return (x.sin() * x).sum() + x.pow(3).prod()


def _g(L, x, y):
    return L.tanh(y @ x) * 2, (y * x).sum()


def _h(L, x, y):
    return (L.exp(y @ x) + (x * x).sum()).sum()


def _same(ours, theirs):
    if isinstance(theirs, (tuple, list)):
        assert isinstance(ours, tuple) and len(ours) == len(theirs)
        for a, b in zip(ours, theirs):
            _same(a, b)
        return
    assert isinstance(ours, rg.Tensor) and tuple(ours.shape) == tuple(theirs.shape)
    np.testing.assert_allclose(ours.data, theirs.detach().numpy(), rtol=1e-10, atol=1e-12)


def _run(name, fn, inputs, *extra):
    results = []
    for lib in (rg, torch):
        args = tuple(lib.tensor(a) for a in inputs)
        single = args[0] if len(args) == 1 else args
        extras = tuple(lib.tensor(e) if not isinstance(e, tuple) else tuple(map(lib.tensor, e))
                       for e in extra)
        results.append(getattr(lib.autograd.functional, name)(
            lambda *xs, lib=lib: fn(lib, *xs), single, *extras))
    _same(*results)


def test_jacobian():
    _run("jacobian", lambda L, x: L.tanh(x) * x, (A,))
    _run("jacobian", _g, (A, B))
    _run("jacobian", lambda L, x: L.exp(x).sum(), (A,))


def test_hessian():
    _run("hessian", _f, (A,))
    _run("hessian", _h, (A, B))


def test_vjp_jvp_hvp_vhp():
    _run("vjp", lambda L, x: L.tanh(x) * 2, (A,), V3)
    _run("vjp", _f, (A,))
    _run("jvp", lambda L, x: L.tanh(x) * 2, (A,), V3)
    _run("hvp", _f, (A,), V3)
    _run("vhp", _h, (A, B), (V3, V23))


def test_results_carry_a_graph_only_with_create_graph():
    x = rg.tensor(A, requires_grad=True)
    assert not rg.autograd.functional.jacobian(lambda t: t * t, x).requires_grad
    jac = rg.autograd.functional.jacobian(lambda t: t * t, x, create_graph=True)
    assert jac.requires_grad
    jac.sum().backward()
    np.testing.assert_allclose(x.grad.data, 2.0)
