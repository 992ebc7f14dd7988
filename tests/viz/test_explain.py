"""rg.viz.explain_backward against hand-computed chain rules: values, incoming gradients, local
derivatives, contributions and sums at fan-in; the real graph is left as it was."""

import math

import numpy as np
import pytest

import retrograd as rg
from retrograd.viz import explain_backward


def scalar(value):
    return rg.tensor(value, dtype=rg.float64, requires_grad=True)


def test_tanh_of_xy_plus_x_by_hand():
    x, y = scalar(0.5), scalar(2.0)
    f = (x * y + x).tanh()
    steps = explain_backward(f, names={"x": x, "y": y, "f": f})
    t = math.tanh(0.5 * 2.0 + 0.5)
    dt = 1 - t * t  # tanh' at 1.5

    assert [s.op for s in steps] == ["tanh", "add", "mul"]  # the engine's order
    tanh, add, mul = steps
    assert tanh.label == "f (tanh#3)" and tanh.value == pytest.approx(t)
    assert tanh.grad_output == 1.0
    [c] = tanh.contributions
    assert (c.target, c.count, c.of) == ("add#2", 1, 1)
    assert c.local == pytest.approx(dt) and c.gradient == pytest.approx(dt)

    assert add.value == pytest.approx(1.5) and add.grad_output == pytest.approx(dt)
    to_mul, to_x = add.contributions
    assert (to_mul.target, to_x.target) == ("mul#1", "x")
    assert to_mul.local == 1.0 and to_x.local == 1.0
    assert to_x.gradient == pytest.approx(dt) and (to_x.count, to_x.of) == (1, 2)
    assert not to_x.complete

    assert mul.value == pytest.approx(1.0)
    x_again, to_y = mul.contributions
    assert x_again.local == pytest.approx(2.0)  # d(xy)/dx = y
    assert x_again.gradient == pytest.approx(dt * 2.0)
    assert x_again.total == pytest.approx(dt + dt * 2.0)  # fan-in: the two paths add up
    assert (x_again.count, x_again.of) == (2, 2) and x_again.complete
    assert to_y.local == pytest.approx(0.5) and to_y.total == pytest.approx(dt * 0.5)

    assert steps.grads == {"x": pytest.approx((2.0 + 1.0) * dt), "y": pytest.approx(0.5 * dt)}
    text = str(steps)
    assert "fan-in adds" in text and "result: x.grad = " in text and "step 3: mul#1" in text

    # the real graph is untouched: nothing accumulated, nothing freed
    assert x.grad is None and y.grad is None
    f.backward()
    assert x.grad.item() == pytest.approx(steps.grads["x"])
    assert y.grad.item() == pytest.approx(steps.grads["y"])


def test_one_tensor_used_twice_by_one_op():
    x = scalar(3.0)
    steps = explain_backward(x * x, names={"x": x})
    [step] = steps
    first, second = step.contributions
    assert (first.count, second.count, second.of) == (1, 2, 2)
    assert first.gradient == pytest.approx(3.0) and second.total == pytest.approx(6.0)


def test_broadcasting_and_reductions():
    x = rg.tensor([1.0, 2.0, 3.0], dtype=rg.float64, requires_grad=True)
    b = scalar(0.5)
    loss = (x * b).exp().sum()
    steps = explain_backward(loss, names={"x": x, "b": b})
    assert [s.op for s in steps] == ["sum", "exp", "mul"]
    assert steps[0].contributions[0].local is None  # a reduction: no elementwise derivative
    e = np.exp(np.array([1.0, 2.0, 3.0]) * 0.5)
    np.testing.assert_allclose(steps[1].contributions[0].local, e)
    to_x, to_b = steps[2].contributions
    np.testing.assert_allclose(to_x.gradient, e * 0.5)
    assert to_b.local is None  # b was broadcast: its gradient is a sum
    assert to_b.gradient.shape == () and to_b.gradient == pytest.approx((e * [1, 2, 3]).sum())
    loss.backward()
    np.testing.assert_allclose(x.grad.numpy(), steps.grads["x"])
    assert b.grad.item() == pytest.approx(steps.grads["b"])


def test_values_are_recomputed_when_not_saved():
    x = scalar(2.0)
    c = rg.tensor(5.0, dtype=rg.float64)  # a constant: no edge, but add saves nothing
    out = (x * 3.0 + c) * x
    steps = explain_backward(out, names={"x": x})
    by_op = {s.op: s for s in steps}
    assert by_op["mul"].value is not None
    add = next(s for s in steps if s.op == "add")
    assert add.value is None  # the constant is not in the graph
    assert "value ?" in str(add)


def test_needs_the_saved_values_and_a_seed():
    x = rg.tensor([1.0, 2.0], dtype=rg.float64, requires_grad=True)
    y = x.exp()
    with pytest.raises(ValueError, match="gradient="):
        explain_backward(y)
    steps = explain_backward(y, gradient=rg.tensor([1.0, 10.0], dtype=rg.float64))
    np.testing.assert_allclose(steps.grads["leaf0"], np.exp([1.0, 2.0]) * [1, 10])
    loss = y.sum()
    loss.backward(retain_graph=True)
    assert explain_backward(loss).grads["leaf0"] == pytest.approx(np.exp([1.0, 2.0]))
    loss2 = x.exp().sum()
    loss2.backward()
    with pytest.raises(RuntimeError, match="retain_graph"):
        explain_backward(loss2)
    with pytest.raises(ValueError, match="max_nodes"):
        explain_backward(loss, max_nodes=1)
    with pytest.raises(ValueError, match="require grad"):
        explain_backward(rg.tensor(1.0))
