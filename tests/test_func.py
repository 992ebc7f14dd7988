"""rg.func: grad, value_and_grad, vjp, jvp, jacrev, jacfwd, hessian, hvp."""

import numpy as np
import pytest

import retrograd as rg
from retrograd import func


def _t(array, requires_grad=False):
    return rg.tensor(np.asarray(array, dtype=np.float64), requires_grad=requires_grad)


def _random(*shape, seed=0):
    return _t(np.random.default_rng(seed).standard_normal(shape))


def _close(a, b, **kw):
    np.testing.assert_allclose(np.asarray(a.data if isinstance(a, rg.Tensor) else a),
                               np.asarray(b.data if isinstance(b, rg.Tensor) else b),
                               rtol=kw.get("rtol", 1e-10), atol=kw.get("atol", 1e-12))


def cubic(x):
    return (x**3).sum()


def mlp_loss(w1, b1, w2, x, y):
    hidden = rg.tanh(x @ w1 + b1)
    return ((hidden @ w2 - y) ** 2).mean()


def _mlp_params(seed=0):
    rng = np.random.default_rng(seed)
    shapes = [(3, 4), (4,), (4, 2)]
    params = [_t(rng.standard_normal(s) * 0.5) for s in shapes]
    data = [_t(rng.standard_normal((5, 3))), _t(rng.standard_normal((5, 2)))]
    return params, data


# ----------------------------------------------------------------------------------- grad
def test_grad_of_a_closed_form():
    x = _random(4)
    _close(func.grad(cubic)(x), 3 * x.data**2)


def test_grad_argnums_int_and_tuple():
    x, y = _random(3, seed=1), _random(3, seed=2)

    def f(x, y):
        return (x * y * y).sum()

    _close(func.grad(f, argnums=1)(x, y), 2 * x.data * y.data)
    gx, gy = func.grad(f, argnums=(0, 1))(x, y)
    _close(gx, y.data**2)
    _close(gy, 2 * x.data * y.data)
    gy_only = func.grad(f, argnums=(-1,))(x, y)
    assert isinstance(gy_only, tuple) and len(gy_only) == 1


def test_grad_of_nested_pytrees():
    params = {"w": _random(2, 3), "pair": (_random(3, seed=1), [_random(2, seed=2)])}

    def f(p):
        w, (v, [u]) = p["w"], p["pair"]
        return (u @ (w @ v)).sum()

    g = func.grad(f)(params)
    assert set(g) == {"w", "pair"} and isinstance(g["pair"], tuple)
    assert isinstance(g["pair"][1], list)
    w, v, u = params["w"].data, params["pair"][0].data, params["pair"][1][0].data
    _close(g["w"], np.outer(u, v))
    _close(g["pair"][0], w.T @ u)
    _close(g["pair"][1][0], w @ v)


def test_grad_has_aux_and_value_variants():
    x = _random(3)

    def f(x):
        loss = (x**2).sum()
        return loss, {"loss": loss, "n": 3}

    g, aux = func.grad(f, has_aux=True)(x)
    _close(g, 2 * x.data)
    assert aux["n"] == 3 and not aux["loss"].requires_grad
    g, (value, aux) = func.grad_and_value(f, has_aux=True)(x)
    _close(value, (x.data**2).sum())
    (value, aux), g = func.value_and_grad(f, has_aux=True)(x)
    _close(g, 2 * x.data)
    value, g = func.value_and_grad(cubic)(x)
    _close(value, (x.data**3).sum())
    _close(g, 3 * x.data**2)


def test_grad_leaves_its_inputs_alone():
    x = _random(3)
    g = func.grad(cubic)(x)
    assert not x.requires_grad and x.grad is None
    assert not g.requires_grad and g.grad_fn is None


def test_grad_of_an_unused_or_constant_input_is_zero():
    x, y = _random(3), _random(2)
    gx, gy = func.grad(lambda x, y: (x**2).sum(), argnums=(0, 1))(x, y)
    _close(gy, np.zeros(2))
    _close(func.grad(lambda x: rg.tensor(1.0, dtype=rg.float64))(x), np.zeros(3))


def test_grad_needs_a_scalar_output_and_float_inputs():
    with pytest.raises(RuntimeError, match=r"scalar \(0-d\) Tensor, got a tensor of shape"):
        func.grad(lambda x: x * 2)(_random(3))
    with pytest.raises(TypeError, match=r"floating-point"):
        func.grad(lambda x: x.sum())(rg.tensor([1, 2]))
    with pytest.raises(ValueError, match=r"argnums 2 out of range"):
        func.grad(cubic, argnums=2)(_random(3))


def test_grad_of_grad_is_the_second_derivative():
    x = _t(1.5)
    d2 = func.grad(func.grad(lambda x: x**3))(x)
    _close(d2, 6 * 1.5)
    d3 = func.grad(func.grad(func.grad(lambda x: x**3)))(x)
    _close(d3, 6.0)


def test_grad_result_is_differentiable_when_its_input_requires_grad():
    x = _random(3, seed=3).requires_grad_()
    g = func.grad(cubic)(x)
    assert g.requires_grad
    g.sum().backward()
    _close(x.grad, 6 * x.data)


def test_grad_is_differentiable_with_respect_to_closed_over_tensors():
    """Meta-learning style: the gradient w.r.t. x depends on w, which requires grad."""
    w = _random(3, seed=4).requires_grad_()
    x = _random(3, seed=5)
    g = func.grad(lambda x: (x * w).sum() ** 2)(x)  # 2 (x.w) w
    _close(g, 2 * (x.data @ w.data) * w.data)
    assert g.requires_grad
    g.sum().backward()  # d/dw sum(2 (x.w) w) = 2 x sum(w) + 2 (x.w)
    _close(w.grad, 2 * x.data * w.data.sum() + 2 * (x.data @ w.data))
    with rg.no_grad():
        assert not func.grad(lambda x: (x * w).sum() ** 2)(x).requires_grad


# ----------------------------------------------------------------------------------- vjp, jvp
def _vector_fn(x, y):
    return rg.tanh(x @ y) * x.sum(), (y**2).sum(dim=0)


def test_vjp_is_u_transposed_times_the_jacobian():
    x, y = _random(3, 2, seed=1), _random(2, 4, seed=2)
    out, vjp_fn = func.vjp(_vector_fn, x, y)
    _close(out[0], _vector_fn(x, y)[0])
    u = (_random(3, 4, seed=3), _random(4, seed=4))
    gx, gy = vjp_fn(u)
    jac = func.jacrev(_vector_fn, argnums=(0, 1))(x, y)
    expected_gx = sum(np.tensordot(ui.data, jac[i][0].data, axes=ui.data.ndim)
                      for i, ui in enumerate(u))
    expected_gy = sum(np.tensordot(ui.data, jac[i][1].data, axes=ui.data.ndim)
                      for i, ui in enumerate(u))
    _close(gx, expected_gx)
    _close(gy, expected_gy)
    gx2, _ = vjp_fn(u)  # callable again: the graph is kept
    _close(gx2, gx)


def test_vjp_checks_cotangents_and_returns_aux():
    x = _random(3)
    out, vjp_fn, aux = func.vjp(lambda x: (x * 2, x.sum()), x, has_aux=True)
    assert aux.shape == ()
    (g,) = vjp_fn(rg.ones(3, dtype=rg.float64))
    _close(g, np.full(3, 2.0))
    with pytest.raises(ValueError, match=r"cotangent 0 has shape \(2,\)"):
        vjp_fn(rg.ones(2, dtype=rg.float64))


def test_jvp_equals_jacobian_columns():
    x, y = _random(3, 2, seed=1), _random(2, 4, seed=2)
    vx, vy = _random(3, 2, seed=5), _random(2, 4, seed=6)
    out, tangent = func.jvp(_vector_fn, (x, y), (vx, vy))
    jac = func.jacrev(_vector_fn, argnums=(0, 1))(x, y)
    for k in range(2):
        expected = (np.tensordot(jac[k][0].data, vx.data, axes=2)
                    + np.tensordot(jac[k][1].data, vy.data, axes=2))
        _close(tangent[k], expected)
        _close(out[k], _vector_fn(x, y)[k])
        assert out[k]._tangent is None and tangent[k]._tangent is None


def test_jvp_has_aux_and_checks_shapes():
    x = _random(3)
    out, tangent, aux = func.jvp(lambda x: (rg.exp(x), x.sum()), (x,), (rg.ones_like(x),),
                                 has_aux=True)
    _close(tangent, np.exp(x.data))
    _close(aux, x.data.sum())
    with pytest.raises(ValueError, match=r"tangent 0 has shape \(2,\)"):
        func.jvp(rg.exp, (x,), (_random(2),))
    with pytest.raises(TypeError, match=r"tuples"):
        func.jvp(rg.exp, x, rg.ones_like(x))


def test_jvp_keeps_the_reverse_graph_of_primals():
    x = _random(3).requires_grad_()
    out, _ = func.jvp(lambda x: (x**2).sum(), (x,), (rg.ones_like(x),))
    out.backward()
    _close(x.grad, 2 * x.data)


# ----------------------------------------------------------------------------------- jacobians
def test_jacrev_equals_jacfwd():
    x, y = _random(3, 2, seed=1), _random(2, 4, seed=2)
    rev = func.jacrev(_vector_fn, argnums=(0, 1))(x, y)
    fwd = func.jacfwd(_vector_fn, argnums=(0, 1))(x, y)
    for k in range(2):
        for i in range(2):
            _close(rev[k][i], fwd[k][i])
    assert rev[0][0].shape == (3, 4, 3, 2) and rev[1][1].shape == (4, 2, 4)
    jac = func.jacobian(lambda x: x * x, mode="fwd")(x)
    _close(jac, func.jacobian(lambda x: x * x)(x))
    with pytest.raises(ValueError, match=r"mode must be 'rev' or 'fwd'"):
        func.jacobian(cubic, mode="forward")


def test_jacobians_with_aux_and_kwargs():
    x = _random(3)

    def f(x, scale=1.0):
        return x * scale, {"sum": x.sum()}

    for transform in (func.jacrev, func.jacfwd):
        jac, aux = transform(f, has_aux=True)(x, scale=2.0)
        _close(jac, 2.0 * np.eye(3))
        _close(aux["sum"], x.data.sum())
        assert aux["sum"]._tangent is None and not aux["sum"].requires_grad


def test_jacobian_of_a_linear_map_is_its_matrix():
    a = _random(4, 3)
    x = _random(3, seed=1)
    _close(func.jacrev(lambda x: a @ x)(x), a.data)
    _close(func.jacfwd(lambda x: a @ x)(x), a.data)


def test_hessian_of_a_quadratic_form_is_a_plus_a_transposed():
    a = _random(4, 4)
    x = _random(4, seed=1)
    h = func.hessian(lambda x: x @ (a @ x))(x)
    _close(h, a.data + a.data.T)


def test_jacobian_of_a_jacobian_stacks_recorded_rows():
    x = _random(3)
    second = func.jacrev(func.jacrev(lambda x: x**3))(x)  # d2 x_i^3 / dx_j dx_k
    expected = np.zeros((3, 3, 3))
    for i in range(3):
        expected[i, i, i] = 6 * x.data[i]
    _close(second, expected)


def test_hessian_of_two_arguments_has_nested_blocks():
    x, y = _random(2), _random(3, seed=1)

    def f(x, y):
        return (x.sum() * y**2).sum()

    h = func.hessian(f, argnums=(0, 1))(x, y)
    _close(h[0][0], np.zeros((2, 2)))
    _close(h[0][1], np.tile(2 * y.data, (2, 1)))
    _close(h[1][0], np.tile(2 * y.data[:, None], (1, 2)))
    _close(h[1][1], 2 * x.data.sum() * np.eye(3))


def test_hvp_of_an_mlp_loss_matches_finite_differences_of_gradients():
    params, data = _mlp_params()
    tangents = tuple(_random(*p.shape, seed=10 + i) for i, p in enumerate(params))
    loss = lambda *p: mlp_loss(*p, *data)  # noqa: E731
    value, hv = func.hvp(loss, tuple(params), tangents)
    _close(value, loss(*params))
    eps = 1e-5
    grad_fn = func.grad(loss, argnums=(0, 1, 2))
    plus = grad_fn(*(_t(p.data + eps * v.data) for p, v in zip(params, tangents)))
    minus = grad_fn(*(_t(p.data - eps * v.data) for p, v in zip(params, tangents)))
    for h, gp, gm in zip(hv, plus, minus):
        _close(h, (gp.data - gm.data) / (2 * eps), rtol=1e-6, atol=1e-8)


def test_hvp_equals_the_hessian_times_the_vector():
    x, v = _random(4), _random(4, seed=1)
    value, hv = func.hvp(lambda x: rg.tanh(x).sum() * (x**2).sum(), x, v)
    h = func.hessian(lambda x: rg.tanh(x).sum() * (x**2).sum())(x)
    _close(hv, h.data @ v.data)


def test_forward_over_reverse_is_refused():
    with pytest.raises(NotImplementedError, match=r"reverse mode inside forward mode"):
        func.jacfwd(func.grad(cubic))(_random(3))
    with pytest.raises(NotImplementedError, match=r"forward mode inside a reverse transform"):
        func.jacrev(lambda x: func.jvp(rg.exp, (x,), (rg.ones_like(x),))[1])(_random(3))


# ----------------------------------------------------------------------------------- torch
torch = pytest.importorskip("torch")


def _both(fn_rg, fn_torch, *arrays):
    rg_out = fn_rg(*(_t(a) for a in arrays))
    torch_out = fn_torch(*(torch.tensor(a) for a in arrays))
    rg_leaves = torch.utils._pytree.tree_leaves(rg_out)  # rg Tensors are leaves to torch
    torch_leaves = torch.utils._pytree.tree_leaves(torch_out)
    assert len(rg_leaves) == len(torch_leaves)
    for r, t in zip(rg_leaves, torch_leaves):
        _close(r, t.detach().numpy(), rtol=1e-9, atol=1e-11)


def test_torch_parity_grad_jacrev_jacfwd_hessian():
    rng = np.random.default_rng(0)
    x, y = rng.standard_normal((3, 2)), rng.standard_normal((2, 4))

    def make(lib):
        def f(x, y):
            return lib.tanh(x @ y).sum() * (x**2).sum()

        def g(x, y):
            return lib.exp(x @ y) * x.sum()

        return f, g

    (f_rg, g_rg), (f_t, g_t) = make(rg), make(torch)
    for transform in ("grad", "hessian"):
        _both(getattr(func, transform)(f_rg, argnums=(0, 1)),
              getattr(torch.func, transform)(f_t, argnums=(0, 1)), x, y)
    for transform in ("jacrev", "jacfwd"):
        _both(getattr(func, transform)(g_rg, argnums=(0, 1)),
              getattr(torch.func, transform)(g_t, argnums=(0, 1)), x, y)


def test_torch_parity_jvp_vjp():
    rng = np.random.default_rng(1)
    x, v, u = rng.standard_normal(4), rng.standard_normal(4), rng.standard_normal(4)

    def f(lib):
        return lambda x: lib.tanh(x) * x.sum()

    _both(lambda x, v: func.jvp(f(rg), (x,), (v,)),
          lambda x, v: torch.func.jvp(f(torch), (x,), (v,)), x, v)
    _both(lambda x, u: func.vjp(f(rg), x)[1](u),
          lambda x, u: torch.func.vjp(f(torch), x)[1](u), x, u)
