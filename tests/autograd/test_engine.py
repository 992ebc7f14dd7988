"""The reverse-mode engine: graph shapes, deep graphs, memory, backward()/grad() options, hooks,
and higher-order gradients against closed forms and finite differences."""

import sys
import weakref

import numpy as np
import pytest

import retrograd as rg


def leaf(values):
    return rg.tensor(np.asarray(values, dtype=np.float64), requires_grad=True)


# ----------------------------------------------------------------- graph shapes


def test_diamond_sums_both_paths():
    x = leaf([1.0, -2.0, 3.0])
    a = x * 3.0
    b = a.exp()  # path 1
    c = a * a  # path 2
    (b + c).sum().backward()
    xs = x.data
    expected = 3 * np.exp(3 * xs) + 2 * (3 * xs) * 3
    np.testing.assert_allclose(x.grad.data, expected, rtol=1e-12)


def test_one_tensor_used_twice_by_one_op():
    x = leaf([0.5, -1.5, 2.0])
    (x * x).sum().backward()
    np.testing.assert_allclose(x.grad.data, 2 * x.data, rtol=1e-12)


def test_one_tensor_used_three_times_across_ops():
    x = leaf([0.5, 2.0])
    y = x * x * x + x
    y.sum().backward()
    np.testing.assert_allclose(x.grad.data, 3 * x.data**2 + 1, rtol=1e-12)


def test_shared_subgraph_feeds_several_outputs():
    x = leaf([0.3, 0.7])
    h = (x * 2.0).tanh()  # shared subgraph
    out1 = (h * 3.0).sum()
    out2 = (h * h).sum()
    rg.autograd.backward([out1, out2])
    dh = 3.0 + 2 * np.tanh(2 * x.data)
    np.testing.assert_allclose(
        x.grad.data, dh * (1 - np.tanh(2 * x.data) ** 2) * 2, rtol=1e-12
    )


def test_gradient_is_not_computed_for_inputs_that_do_not_require_it():
    x = leaf([1.0, 2.0])
    c = rg.tensor([3.0, 4.0], dtype=rg.float64)
    (x * c).sum().backward()
    assert c.grad is None
    np.testing.assert_allclose(x.grad.data, c.data)


def test_broadcast_gradients_are_summed_back_to_the_input_shape():
    x = leaf([[1.0], [2.0]])  # (2, 1)
    y = leaf([1.0, 2.0, 3.0])  # (3,)
    (x * y).sum().backward()
    np.testing.assert_allclose(x.grad.data, [[6.0], [6.0]])
    np.testing.assert_allclose(y.grad.data, [3.0, 3.0, 3.0])


def test_gradient_dtype_matches_the_input_dtype():
    x = rg.tensor([1.0, 2.0], dtype=rg.float32, requires_grad=True)
    (x.double() * 2.0).sum().backward()
    assert x.grad.dtype == rg.float32


def test_engine_visits_each_node_once_in_a_wide_dag():
    # 30 layers of pairwise mixing: a recursive or path-enumerating engine would take 2^30 steps.
    x = leaf([1.0, 1.0])
    a, b = x * 1.0, x * 1.0
    for _ in range(30):
        a, b = a + b, a - b * 0.5
    (a + b).sum().backward()
    # reference by forward-mode style propagation of d/dx (linear in x, elementwise)
    da, db = 1.0, 1.0
    for _ in range(30):
        da, db = da + db, da - db * 0.5
    np.testing.assert_allclose(x.grad.data, [da + db] * 2, rtol=1e-12)


# ----------------------------------------------------------------- deep graphs and memory


def test_a_100000_op_chain_backpropagates_without_recursion_and_is_freed():
    n = 100_000
    assert n > 10 * sys.getrecursionlimit()
    x = leaf([1.0, 2.0])
    y = x
    for i in range(n):
        y = y * 1.0000001
        if i == n // 2:
            probe = weakref.ref(y._node)
    loss = y.sum()
    loss.backward()
    np.testing.assert_allclose(x.grad.data, [1.0000001**n] * 2, rtol=1e-9)
    assert probe() is not None  # still reachable from y's grad_fn
    del y, loss
    assert probe() is None  # freed by reference counting alone: the graph has no cycles


def test_saved_tensors_are_released_after_backward_unless_retained():
    def build():
        x = leaf([1.0, 2.0, 3.0])
        h = x * 2.0
        probe = weakref.ref(h)
        out = (h * h).sum()  # mul saves h
        return x, h, probe, out

    x, h, probe, out = build()
    del h
    assert probe() is not None  # the mul node keeps h for backward
    out.backward()
    assert probe() is None  # released by backward, though `out` is alive

    x, h, probe, out = build()
    del h
    out.backward(retain_graph=True)
    assert probe() is not None  # retain_graph keeps it for a second backward
    out.backward()
    np.testing.assert_allclose(x.grad.data, 2 * 8 * x.data)


# ----------------------------------------------------------------- backward() options


def test_non_scalar_backward_needs_a_gradient():
    x = leaf([1.0, 2.0, 3.0])
    y = x * 2.0
    with pytest.raises(RuntimeError, match=r"shape \(3,\).*gradient="):
        y.backward()
    y.backward(gradient=rg.tensor([1.0, 10.0, 100.0], dtype=rg.float64))
    np.testing.assert_allclose(x.grad.data, [2.0, 20.0, 200.0])


def test_backward_gradient_of_the_wrong_shape_is_an_error():
    x = leaf([1.0, 2.0, 3.0])
    with pytest.raises(RuntimeError, match=r"\(2,\).*\(3,\)"):
        (x * 2.0).backward(gradient=rg.ones(2, dtype=rg.float64))


def test_backward_on_a_tensor_without_graph_is_an_error():
    with pytest.raises(RuntimeError, match="does not require grad"):
        rg.ones(3).sum().backward()


def test_second_backward_needs_retain_graph():
    x = leaf([1.0, 2.0])
    y = (x * x).sum()
    y.backward()
    with pytest.raises(RuntimeError, match=r"second time.*retain_graph=True"):
        y.backward()


def test_retain_graph_allows_a_second_backward_and_grads_accumulate():
    x = leaf([1.0, 2.0])
    y = (x * x).sum()
    y.backward(retain_graph=True)
    first = x.grad.data.copy()
    y.backward()
    np.testing.assert_allclose(first, 2 * x.data)
    np.testing.assert_allclose(x.grad.data, 4 * x.data)


def test_leaf_grad_accumulates_across_two_graphs_until_reset():
    x = leaf([1.0, 2.0])
    (x * 3.0).sum().backward()
    (x * x).sum().backward()
    np.testing.assert_allclose(x.grad.data, 3.0 + 2 * x.data)
    x.grad = None
    (x * 3.0).sum().backward()
    np.testing.assert_allclose(x.grad.data, [3.0, 3.0])


def test_backward_inputs_limits_which_leaves_get_grad():
    x, w = leaf([1.0, 2.0]), leaf([3.0, 4.0])
    (x * w).sum().backward(inputs=[w])
    assert x.grad is None
    np.testing.assert_allclose(w.grad.data, x.data)


def test_backward_inputs_may_name_a_non_leaf():
    x = leaf([1.0, 2.0])
    h = x * 3.0
    (h * h).sum().backward(inputs=[h])
    np.testing.assert_allclose(h.grad.data, 2 * h.data)
    assert x.grad is None


def test_non_leaf_grad_is_not_kept_without_retain_grad():
    x = leaf([1.0, 2.0])
    h = x * 3.0
    (h * h).sum().backward()
    assert h.grad is None
    assert x.grad is not None


def test_retain_grad_keeps_a_non_leaf_gradient():
    x = leaf([1.0, 2.0])
    h = x * 3.0
    h.retain_grad()
    assert h.retains_grad
    (h * h).sum().backward()
    np.testing.assert_allclose(h.grad.data, 2 * h.data)
    np.testing.assert_allclose(x.grad.data, 2 * h.data * 3.0)


# ----------------------------------------------------------------- rg.autograd.grad


def test_grad_returns_gradients_without_touching_dot_grad():
    x, w = leaf([1.0, 2.0]), leaf([3.0, 5.0])
    gx, gw = rg.autograd.grad((x * w).sum(), [x, w])
    np.testing.assert_allclose(gx.data, w.data)
    np.testing.assert_allclose(gw.data, x.data)
    assert x.grad is None and w.grad is None


def test_grad_of_a_non_leaf_input():
    x = leaf([1.0, 2.0])
    h = x.exp()
    (gh,) = rg.autograd.grad((h * h).sum(), h)
    np.testing.assert_allclose(gh.data, 2 * np.exp(x.data))


def test_grad_allow_unused():
    x, unused = leaf([1.0]), leaf([2.0])
    y = (x * 2.0).sum()
    with pytest.raises(RuntimeError, match=r"input 1 .*allow_unused=True"):
        rg.autograd.grad(y, [x, unused], retain_graph=True)
    gx, gu = rg.autograd.grad(y, [x, unused], allow_unused=True, retain_graph=True)
    assert gu is None
    np.testing.assert_allclose(gx.data, [2.0])
    _, gu = rg.autograd.grad(y, [x, unused], materialize_grads=True)
    np.testing.assert_allclose(gu.data, [0.0])


def test_grad_with_grad_outputs_is_a_vector_jacobian_product():
    x = leaf([1.0, 2.0, 3.0])
    v = rg.tensor([1.0, -1.0, 0.5], dtype=rg.float64)
    (g,) = rg.autograd.grad(x * x, x, grad_outputs=v)
    np.testing.assert_allclose(g.data, 2 * x.data * v.data)


def test_grad_input_that_does_not_require_grad_is_an_error():
    x = leaf([1.0])
    c = rg.tensor([1.0], dtype=rg.float64)
    with pytest.raises(RuntimeError, match="input 1 does not require grad"):
        rg.autograd.grad((x * c).sum(), [x, c])


# ----------------------------------------------------------------- hooks


def test_hooks_run_in_registration_order_and_may_replace_the_gradient():
    x = leaf([1.0, 2.0])
    calls = []

    def double(g):
        calls.append(("double", g.data.copy()))
        return g * 2

    def record(g):
        calls.append(("record", g.data.copy()))

    x.register_hook(double)
    x.register_hook(record)
    (x * 3.0).sum().backward()
    assert [name for name, _ in calls] == ["double", "record"]
    np.testing.assert_allclose(calls[0][1], [3.0, 3.0])
    np.testing.assert_allclose(calls[1][1], [6.0, 6.0])  # the second hook sees the replacement
    np.testing.assert_allclose(x.grad.data, [6.0, 6.0])


def test_a_hook_on_a_non_leaf_changes_what_flows_upstream():
    x = leaf([1.0, 2.0])
    h = x * 3.0
    seen = []
    h.register_hook(lambda g: seen.append(g.data.copy()))
    h.register_hook(lambda g: g * 0.0 + 1.0)  # replace with ones
    (h * h).sum().backward()
    np.testing.assert_allclose(seen[0], 2 * h.data)
    np.testing.assert_allclose(x.grad.data, [3.0, 3.0])


def test_removed_hooks_do_not_run():
    x = leaf([1.0])
    calls = []
    handle = x.register_hook(lambda g: calls.append(1))
    (x * 2.0).sum().backward()
    handle.remove()
    (x * 2.0).sum().backward()
    assert calls == [1]


def test_a_hook_must_return_a_tensor_of_the_same_shape():
    x = leaf([1.0, 2.0])
    x.register_hook(lambda g: rg.ones(3, dtype=rg.float64))
    with pytest.raises(RuntimeError, match="hook returned shape"):
        (x * 2.0).sum().backward()


def test_register_hook_on_a_tensor_that_does_not_require_grad_is_an_error():
    with pytest.raises(RuntimeError, match="does not require grad"):
        rg.ones(2).register_hook(lambda g: g)


# ----------------------------------------------------------------- leaves, detach, requires_grad


def test_detach_shares_data_but_cuts_the_graph():
    x = leaf([1.0, 2.0])
    h = x * 2.0
    d = h.detach()
    assert not d.requires_grad and d.is_leaf and d.grad_fn is None
    assert np.shares_memory(d.data, h.data)
    out = (h * d).sum()
    out.backward()
    np.testing.assert_allclose(x.grad.data, 2 * d.data)  # d is a constant


def test_requires_grad_only_for_floating_point_tensors():
    with pytest.raises(TypeError, match="floating-point"):
        rg.tensor([1, 2, 3]).requires_grad_()
    with pytest.raises(TypeError, match="floating-point"):
        rg.tensor([1, 2], requires_grad=True)
    t = rg.tensor([1.0]).requires_grad_()
    assert t.requires_grad and t.is_leaf


def test_requires_grad_false_on_a_non_leaf_is_an_error():
    h = leaf([1.0]) * 2.0
    with pytest.raises(RuntimeError, match="detach"):
        h.requires_grad_(False)


def test_ops_on_tensors_that_do_not_require_grad_record_nothing():
    y = rg.ones(3) * 2.0 + 1.0
    assert not y.requires_grad and y.grad_fn is None


def test_grad_fn_names_the_op_and_links_to_its_inputs():
    x = leaf([1.0])
    y = x.exp() * 2.0
    assert y.grad_fn.name() == "mul"
    (exp_node, _), (none, _) = y.grad_fn.next_functions
    assert exp_node.name() == "exp" and none is None
    assert exp_node.next_functions[0][0] is x


# ----------------------------------------------------------------- higher order


def _second_derivative(f, values):
    x = leaf(values)
    (g,) = rg.autograd.grad(f(x).sum(), x, create_graph=True)
    assert g.requires_grad
    (gg,) = rg.autograd.grad(g.sum(), x)
    return x.data, g.data, gg.data


def test_second_derivative_of_cube():
    x, g, gg = _second_derivative(lambda x: x**3, [-1.5, 0.5, 2.0])
    np.testing.assert_allclose(g, 3 * x**2, rtol=1e-12)
    np.testing.assert_allclose(gg, 6 * x, rtol=1e-12)


def test_second_derivative_of_sin():
    x, g, gg = _second_derivative(rg.sin, [-1.0, 0.3, 2.5])
    np.testing.assert_allclose(g, np.cos(x), rtol=1e-12)
    np.testing.assert_allclose(gg, -np.sin(x), rtol=1e-12)


def test_second_derivative_of_x_exp_x():
    x, g, gg = _second_derivative(lambda x: x * x.exp(), [-1.0, 0.0, 1.2])
    np.testing.assert_allclose(g, (1 + x) * np.exp(x), rtol=1e-12)
    np.testing.assert_allclose(gg, (2 + x) * np.exp(x), rtol=1e-12)


def test_third_derivative_of_tanh():
    x = leaf([-0.7, 0.2, 1.1])
    (g1,) = rg.autograd.grad(x.tanh().sum(), x, create_graph=True)
    (g2,) = rg.autograd.grad(g1.sum(), x, create_graph=True)
    (g3,) = rg.autograd.grad(g2.sum(), x)
    t = np.tanh(x.data)
    np.testing.assert_allclose(g1.data, 1 - t**2, rtol=1e-12)
    np.testing.assert_allclose(g2.data, -2 * t * (1 - t**2), rtol=1e-12)
    np.testing.assert_allclose(g3.data, (1 - t**2) * (6 * t**2 - 2), rtol=1e-10)


def test_backward_with_create_graph_records_dot_grad():
    x = leaf([1.5, -0.5])
    (x**3).sum().backward(create_graph=True)
    assert x.grad.requires_grad
    (gg,) = rg.autograd.grad(x.grad.sum(), x)
    np.testing.assert_allclose(gg.data, 6 * x.data)


def test_mixed_partial_derivatives():
    x, y = leaf([0.7]), leaf([-1.3])
    f = (x * x * y.exp()).sum()
    (gx,) = rg.autograd.grad(f, x, create_graph=True)
    (gxy,) = rg.autograd.grad(gx.sum(), y)
    np.testing.assert_allclose(gxy.data, 2 * x.data * np.exp(y.data), rtol=1e-12)


def _two_layer_loss(params, x, target):
    """A tiny tanh network built from broadcasting mul and sum: (4 inputs -> 3 hidden -> 2)."""
    w1, b1, w2, b2 = params
    h = ((x.unsqueeze(-1) * w1).sum(dim=1) + b1).tanh()  # (n, 4, 1) * (4, 3) -> (n, 3)
    out = (h.unsqueeze(-1) * w2).sum(dim=1) + b2  # (n, 3, 1) * (3, 2) -> (n, 2)
    return ((out - target) ** 2).mean()


def test_hessian_vector_product_of_a_two_layer_network_matches_finite_differences():
    rng = np.random.default_rng(0)
    shapes = [(4, 3), (3,), (3, 2), (2,)]
    values = [rng.standard_normal(s) * 0.7 for s in shapes]
    x = rg.tensor(rng.standard_normal((5, 4)))
    target = rg.tensor(rng.standard_normal((5, 2)))
    v = [rng.standard_normal(s) for s in shapes]

    params = [rg.tensor(a, requires_grad=True) for a in values]
    grads = rg.autograd.grad(_two_layer_loss(params, x, target), params, create_graph=True)
    dot = sum((g * rg.tensor(vi)).sum() for g, vi in zip(grads, v))
    hvp = rg.autograd.grad(dot, params)

    def gradient_at(arrays):
        ps = [rg.tensor(a, requires_grad=True) for a in arrays]
        return [g.data for g in rg.autograd.grad(_two_layer_loss(ps, x, target), ps)]

    eps = 1e-6
    plus = gradient_at([a + eps * vi for a, vi in zip(values, v)])
    minus = gradient_at([a - eps * vi for a, vi in zip(values, v)])
    for h, p, m in zip(hvp, plus, minus):
        np.testing.assert_allclose(h.data, (p - m) / (2 * eps), rtol=1e-6, atol=1e-8)
