"""Custom differentiable functions: rg.autograd.Function, PyTorch's API."""

import numpy as np
import pytest

import retrograd as rg
from retrograd.autograd import Function, GradcheckError, gradcheck, gradgradcheck
from retrograd.autograd.forward_ad import dual_level, make_dual
from retrograd.autograd.graph import REGISTRY


def f64(values, requires_grad=True):
    return rg.tensor(np.asarray(values, dtype=np.float64), requires_grad=requires_grad)


class Cube(Function):
    @staticmethod
    def forward(ctx, x):
        ctx.save_for_backward(x)
        return x**3

    @staticmethod
    def backward(ctx, grad):
        (x,) = ctx.saved_tensors
        return grad * 3 * x**2


class Exp(Function):
    """Saves its output, as PyTorch's exp does."""

    @staticmethod
    def forward(ctx, x):
        out = x.exp()
        ctx.save_for_backward(out)
        return out

    @staticmethod
    def backward(ctx, grad):
        (out,) = ctx.saved_tensors
        return grad * out

    @staticmethod
    def jvp(ctx, tangent):
        (out,) = ctx.saved_tensors
        return tangent * out


class ScaledShift(Function):
    """Non-tensor arguments, keyword arguments and arbitrary ctx attributes."""

    @staticmethod
    def forward(ctx, x, scale, y, mode="add"):
        ctx.scale, ctx.mode = scale, mode
        return x * scale + y if mode == "add" else x * scale - y

    @staticmethod
    def backward(ctx, grad):
        sign = 1.0 if ctx.mode == "add" else -1.0
        return grad * ctx.scale, None, grad * sign


class SumAndProduct(Function):
    """Two outputs."""

    @staticmethod
    def forward(ctx, x, y):
        ctx.save_for_backward(x, y)
        return x + y, x * y

    @staticmethod
    def backward(ctx, g_sum, g_prod):
        x, y = ctx.saved_tensors
        return g_sum + g_prod * y, g_sum + g_prod * x

    @staticmethod
    def jvp(ctx, tx, ty):
        x, y = ctx.saved_tensors
        return tx + ty, tx * y + x * ty


def test_forward_backward_and_grad_fn():
    x = f64([1.0, -2.0, 0.5])
    y = Cube.apply(x)
    np.testing.assert_allclose(y.data, x.data**3)
    assert y.requires_grad and y.grad_fn.name() == "Cube"
    assert y.grad_fn.next_functions[0][0] is x
    y.sum().backward()
    np.testing.assert_allclose(x.grad.data, 3 * x.data**2)


def test_custom_functions_are_not_registered_primitives():
    Cube.apply(f64([1.0]))
    assert "Cube" not in REGISTRY and all(op.name != "Cube" for op in REGISTRY.values())


def test_forward_runs_without_recording():
    seen = []

    class Spy(Function):
        @staticmethod
        def forward(ctx, x):
            inner = x * 2.0
            seen.append((inner.requires_grad, rg.is_grad_enabled()))
            return inner

        @staticmethod
        def backward(ctx, grad):
            return grad * 2.0

    y = Spy.apply(f64([1.0]))
    assert seen == [(False, False)]
    assert y.grad_fn.name() == "Spy"
    assert rg.is_grad_enabled()


def test_double_backward_through_a_function_written_with_differentiable_ops():
    x = f64([1.5, -0.5, 2.0])
    (g,) = rg.autograd.grad(Cube.apply(x).sum(), x, create_graph=True)
    (gg,) = rg.autograd.grad(g.sum(), x)
    np.testing.assert_allclose(gg.data, 6 * x.data)
    gradcheck(Cube.apply, (f64([0.3, -1.2]),))
    gradgradcheck(Cube.apply, (f64([0.3, -1.2]),))


def test_a_saved_output_stays_connected_for_double_backward():
    x = f64([0.2, -0.7])
    (g,) = rg.autograd.grad(Exp.apply(x).sum(), x, create_graph=True)
    (gg,) = rg.autograd.grad(g.sum(), x)
    np.testing.assert_allclose(gg.data, np.exp(x.data), rtol=1e-12)
    gradgradcheck(Exp.apply, (f64([0.2, -0.7]),))


def test_non_tensor_and_keyword_arguments():
    x, y = f64([1.0, 2.0]), f64([3.0, 4.0])
    out = ScaledShift.apply(x, 2.5, y, mode="sub")
    np.testing.assert_allclose(out.data, x.data * 2.5 - y.data)
    out.sum().backward()
    np.testing.assert_allclose(x.grad.data, [2.5, 2.5])
    np.testing.assert_allclose(y.grad.data, [-1.0, -1.0])
    gradcheck(lambda a, b: ScaledShift.apply(a, -0.5, b), (f64([1.0, 2.0]), f64([3.0, 4.0])))


def test_needs_input_grad():
    captured = []

    class Probe(Function):
        @staticmethod
        def forward(ctx, x, k, y):
            captured.append(ctx.needs_input_grad)
            return x * y

        @staticmethod
        def backward(ctx, grad):
            return None, None, None

    Probe.apply(f64([1.0]), 3, f64([2.0], requires_grad=False))
    with rg.no_grad():
        Probe.apply(f64([1.0]), 3, f64([2.0]))
    assert captured == [(True, False, False), (False, False, False)]


def test_outputs_do_not_require_grad_when_no_input_does():
    y = Cube.apply(f64([1.0], requires_grad=False))
    assert not y.requires_grad and y.grad_fn is None
    with rg.no_grad():
        assert not Cube.apply(f64([1.0])).requires_grad


def test_backward_gradient_may_be_in_broadcast_shape():
    class AddRow(Function):
        @staticmethod
        def forward(ctx, x, row):
            return x + row

        @staticmethod
        def backward(ctx, grad):
            return grad, grad  # the engine sums the row's gradient down to its shape

    x, row = f64(np.ones((3, 2))), f64([1.0, 2.0])
    AddRow.apply(x, row).sum().backward()
    np.testing.assert_allclose(row.grad.data, [3.0, 3.0])


# ----------------------------------------------------------------- several outputs


def test_multiple_outputs_values_and_gradients():
    x, y = f64([1.0, 2.0]), f64([3.0, -1.0])
    s, p = SumAndProduct.apply(x, y)
    np.testing.assert_allclose(s.data, [4.0, 1.0])
    np.testing.assert_allclose(p.data, [3.0, -2.0])
    (s * 2.0 + p * p).sum().backward()
    np.testing.assert_allclose(x.grad.data, 2.0 + 2 * p.data * y.data)
    np.testing.assert_allclose(y.grad.data, 2.0 + 2 * p.data * x.data)
    gradcheck(SumAndProduct.apply, (f64([1.0, 2.0]), f64([3.0, -1.0])))
    gradgradcheck(SumAndProduct.apply, (f64([1.0, 2.0]), f64([3.0, -1.0])))


def test_an_unused_output_gets_zeros_or_none_without_materialize_grads():
    received = []

    class Pair(Function):
        materialize = True

        @staticmethod
        def forward(ctx, x):
            ctx.set_materialize_grads(Pair.materialize)
            return x * 2.0, x * 3.0

        @staticmethod
        def backward(ctx, ga, gb):
            received.append(gb)
            return ga * 2.0 if gb is None else ga * 2.0 + gb * 3.0

    x = f64([1.0, 1.0])
    a, _ = Pair.apply(x)
    a.sum().backward()
    assert received[0].tolist() == [0.0, 0.0]
    Pair.materialize = False
    a, _ = Pair.apply(x)
    a.sum().backward()
    assert received[1] is None
    assert x.grad.tolist() == [4.0, 4.0]


def test_mark_non_differentiable():
    class MaxWithIndex(Function):
        @staticmethod
        def forward(ctx, x):
            i = int(np.argmax(x.data))
            ctx.index, ctx.shape = i, x.shape
            mask = rg.tensor((np.arange(x.numel()) == i).astype(np.float64))
            ctx.mark_non_differentiable(mask)
            return rg.tensor(x.data[i]), rg.tensor(i), mask

        @staticmethod
        def backward(ctx, grad, grad_index, grad_mask):
            # as in PyTorch, outputs that get no gradient are handed zeros
            assert not grad_mask.data.any() and grad_index.item() == 0
            onehot = np.zeros(ctx.shape)
            onehot[ctx.index] = 1.0
            return grad * rg.tensor(onehot)

    x = f64([1.0, 5.0, 2.0])
    value, index, mask = MaxWithIndex.apply(x)
    assert value.requires_grad
    assert not index.requires_grad and not mask.requires_grad  # int, and marked
    assert index.item() == 1
    value.backward()
    assert x.grad.tolist() == [0.0, 1.0, 0.0]


def test_hooks_and_retain_grad_on_function_outputs():
    x, y = f64([1.0, 2.0]), f64([3.0, 4.0])
    s, p = SumAndProduct.apply(x, y)
    p.retain_grad()
    s.register_hook(lambda g: g * 10.0)
    (s + p).sum().backward()
    assert p.grad.tolist() == [1.0, 1.0]
    np.testing.assert_allclose(x.grad.data, 10.0 + y.data)


# ----------------------------------------------------------------- saved tensors and errors


def test_changing_a_saved_input_in_place_is_caught():
    x = f64([1.0, 2.0])
    h = x * 1.0
    y = Cube.apply(h)
    h.add_(1.0)
    with pytest.raises(RuntimeError, match=r"backward through 'Cube'.*in-place op 'add_'"):
        y.sum().backward()


def test_changing_a_saved_output_in_place_is_caught():
    y = Exp.apply(f64([1.0, 2.0]))
    y.mul_(2.0)
    with pytest.raises(RuntimeError, match=r"backward through 'Exp'.*in-place op 'mul_'"):
        y.sum().backward()


def test_a_second_backward_needs_retain_graph():
    x = f64([1.0, 2.0])
    y = Cube.apply(x).sum()
    y.backward(retain_graph=True)
    y.backward()
    np.testing.assert_allclose(x.grad.data, 6 * x.data**2)
    with pytest.raises(RuntimeError, match=r"'Cube' a second time.*retain_graph=True"):
        y.backward()


def test_saved_tensors_only_inside_backward():
    class Leaky(Function):
        @staticmethod
        def forward(ctx, x):
            ctx.save_for_backward(x)
            Leaky.ctx = ctx
            return x * 1.0

        @staticmethod
        def backward(ctx, grad):
            return grad

    Leaky.apply(f64([1.0]))
    with pytest.raises(RuntimeError, match="only available inside backward"):
        _ = Leaky.ctx.saved_tensors
    with pytest.raises(TypeError, match="save_for_backward"):
        Leaky.ctx.save_for_backward([1.0])


def test_backward_must_return_one_gradient_per_argument():
    class TooFew(Function):
        @staticmethod
        def forward(ctx, x, y):
            return x * y

        @staticmethod
        def backward(ctx, grad):
            return grad

    with pytest.raises(RuntimeError, match=r"TooFew.backward returned 1 gradients.*took 2"):
        TooFew.apply(f64([1.0]), f64([2.0])).sum().backward()


def test_backward_must_return_tensors():
    class Numbers(Function):
        @staticmethod
        def forward(ctx, x):
            return x * 2.0

        @staticmethod
        def backward(ctx, grad):
            return 2.0

    with pytest.raises(TypeError, match="must return Tensors or None"):
        Numbers.apply(f64([1.0])).sum().backward()


def test_a_gradient_for_a_non_tensor_argument_is_an_error():
    class Bad(Function):
        @staticmethod
        def forward(ctx, x, k):
            return x * k

        @staticmethod
        def backward(ctx, grad):
            return grad, grad

    with pytest.raises(RuntimeError, match="argument 1, which is not a Tensor"):
        Bad.apply(f64([1.0]), 2.0).sum().backward()


def test_forward_must_return_tensors():
    class Wrong(Function):
        @staticmethod
        def forward(ctx, x):
            return 3.0

    with pytest.raises(TypeError, match="must return a Tensor or a tuple"):
        Wrong.apply(f64([1.0]))


def test_an_exception_in_backward_names_the_function():
    class Broken(Function):
        @staticmethod
        def forward(ctx, x):
            return x * 1.0

        @staticmethod
        def backward(ctx, grad):
            raise ValueError("broken rule")

    with pytest.raises(ValueError, match="broken rule") as info:
        Broken.apply(f64([1.0])).sum().backward()
    assert any("'Broken'" in note for note in info.value.__notes__)


# ----------------------------------------------------------------- forward mode


def test_forward_mode_uses_jvp():
    x = f64([0.5, -1.0], requires_grad=False)
    with dual_level():
        y = Exp.apply(make_dual(x, rg.tensor([1.0, 2.0], dtype=rg.float64)))
    np.testing.assert_allclose(y._tangent, np.exp(x.data) * [1.0, 2.0])
    gradcheck(Exp.apply, (f64([0.5, -1.0]),), check_forward_ad=True)


def test_forward_mode_with_several_outputs():
    x, y = f64([1.0, 2.0], False), f64([3.0, 4.0], False)
    with dual_level():
        s, p = SumAndProduct.apply(make_dual(x, rg.ones_like(x)), y)
    np.testing.assert_allclose(s._tangent, [1.0, 1.0])
    np.testing.assert_allclose(p._tangent, y.data)


def test_forward_mode_without_jvp_is_an_error():
    with dual_level():
        with pytest.raises(NotImplementedError, match="'Cube' has no jvp"):
            Cube.apply(make_dual(f64([1.0], False), f64([1.0], False)))


def test_gradcheck_finds_a_wrong_custom_backward():
    class WrongSquare(Function):
        @staticmethod
        def forward(ctx, x):
            ctx.save_for_backward(x)
            return x * x

        @staticmethod
        def backward(ctx, grad):
            (x,) = ctx.saved_tensors
            return grad * x  # should be 2x

    with pytest.raises(GradcheckError, match="input 0"):
        gradcheck(WrongSquare.apply, (f64([1.0, 2.0]),))
