"""In-place ops: values, aliasing, version counters, the recorded path's gradients, and errors.

The in-place ops add no primitive of their own (the recorded path runs the out-of-place op), so
there is no SPECS table here: gradients are checked against gradcheck and against the
out-of-place ops instead.
"""

import numpy as np
import pytest

import retrograd as rg
from retrograd.autograd.gradcheck import gradcheck, gradgradcheck


def f64(values, requires_grad=False):
    return rg.tensor(np.asarray(values, dtype=np.float64), requires_grad=requires_grad)


# ----------------------------------------------------------------- values and aliasing

ARITHMETIC = [
    ("add_", lambda t, o: t.add_(o), np.add),
    ("sub_", lambda t, o: t.sub_(o), np.subtract),
    ("mul_", lambda t, o: t.mul_(o), np.multiply),
    ("div_", lambda t, o: t.div_(o), np.divide),
    ("pow_", lambda t, o: t.pow_(o), np.power),
]


@pytest.mark.parametrize("name,method,ref", ARITHMETIC, ids=[a[0] for a in ARITHMETIC])
@pytest.mark.parametrize("other", ["tensor", "row", "scalar"])
def test_arithmetic_changes_the_same_array_and_bumps_the_version(name, method, ref, other):
    rng = np.random.default_rng(0)
    start = rng.uniform(0.5, 2.0, (2, 3))
    o = {"tensor": rng.uniform(0.5, 2.0, (2, 3)), "row": rng.uniform(0.5, 2.0, (3,)),
         "scalar": 1.5}[other]
    t = f64(start)
    array, view = t.data, t.reshape(3, 2)
    out = method(t, f64(o) if other != "scalar" else o)
    assert out is t and t.data is array
    np.testing.assert_allclose(t.data, ref(start, o))
    np.testing.assert_allclose(view.data, ref(start, o).reshape(3, 2))  # the view sees it
    assert t.version == 1 and view.version == 1


def test_addcmul_addcdiv_lerp_and_one_sided_clamps():
    rng = np.random.default_rng(5)
    a, b, c = (rng.uniform(0.5, 2.0, (2, 3)) for _ in range(3))
    t = f64(a)
    t.addcmul_(f64(b), f64(c), value=0.5)
    np.testing.assert_allclose(t.data, a + 0.5 * b * c)
    t.addcdiv_(f64(b), f64(c))
    np.testing.assert_allclose(t.data, a + 0.5 * b * c + b / c)
    before = t.data.copy()
    t.lerp_(f64(c), 0.25)
    np.testing.assert_allclose(t.data, before + 0.25 * (c - before))
    t.clamp_min_(1.5).clamp_max_(2.5)
    assert t.data.min() >= 1.5 and t.data.max() <= 2.5
    assert t.version == 5


def test_add_and_sub_take_alpha():
    t = f64([1.0, 2.0])
    t.add_(f64([1.0, 1.0]), alpha=3)
    t.sub_(f64([0.5, 0.5]), alpha=2)
    np.testing.assert_allclose(t.data, [3.0, 4.0])


def test_augmented_operators_are_in_place():
    t = f64([1.0, 2.0, 4.0])
    array, identity = t.data, id(t)
    t += 1
    t -= f64([0.5, 0.5, 0.5])
    t *= 2
    t /= 3
    t **= 2
    assert id(t) == identity and t.data is array
    np.testing.assert_allclose(t.data, (((np.array([1.0, 2.0, 4.0]) + 0.5) * 2) / 3) ** 2)
    assert t.version == 5


def test_python_scalars_keep_the_tensor_dtype():
    t = rg.ones(3)
    t.mul_(2.5)
    t += 1
    assert t.dtype == rg.float32
    np.testing.assert_allclose(t.data, [3.5] * 3)


def test_a_wider_float_operand_is_cast_into_the_tensor():
    t = rg.ones(2)
    t.add_(f64([0.25, 0.5]))
    assert t.dtype == rg.float32
    np.testing.assert_allclose(t.data, [1.25, 1.5])


def test_results_that_cannot_be_cast_into_the_tensor_are_errors():
    t = rg.tensor([1, 2, 3])
    with pytest.raises(RuntimeError, match=r"add_: result type float.* int64"):
        t.add_(1.5)
    with pytest.raises(RuntimeError, match=r"div_: result type"):
        t /= 2
    t.add_(2)  # int into int is fine
    assert t.tolist() == [3, 4, 5]


def test_broadcasting_that_would_grow_the_tensor_is_an_error():
    with pytest.raises(RuntimeError, match=r"add_: output with shape \(3,\)"):
        rg.ones(3).add_(rg.ones(2, 3))
    x = f64([1.0, 2.0, 3.0], requires_grad=True)
    with pytest.raises(RuntimeError, match=r"mul_: output with shape \(3,\)"):
        (x * 1.0).mul_(rg.ones(2, 3, dtype=rg.float64))


UNARY = [
    ("neg_", np.negative, "real"),
    ("exp_", np.exp, "real"),
    ("log_", np.log, "positive"),
    ("sqrt_", np.sqrt, "positive"),
    ("tanh_", np.tanh, "real"),
    ("abs_", np.abs, "real"),
    ("sigmoid_", lambda a: 1 / (1 + np.exp(-a)), "real"),
    ("relu_", lambda a: np.maximum(a, 0), "real"),
]


def _sample(domain, shape=(2, 3), seed=0):
    rng = np.random.default_rng(seed)
    a = rng.uniform(0.5, 2.0, shape) if domain == "positive" else rng.standard_normal(shape)
    return np.where(np.abs(a) < 0.1, 0.5, a)  # away from the kinks of abs and relu


@pytest.mark.parametrize("name,ref,domain", UNARY, ids=[u[0] for u in UNARY])
def test_unary_in_place_values_and_gradients(name, ref, domain):
    start = _sample(domain)
    t = f64(start)
    array = t.data
    assert getattr(t, name)() is t and t.data is array and t.version == 1
    np.testing.assert_allclose(t.data, ref(start), rtol=1e-12)
    x = f64(start, requires_grad=True)
    gradcheck(lambda x: getattr(x * 1.0, name)(), (x,))


# ----------------------------------------------------------------- the recorded path


def test_in_place_on_a_non_leaf_records_the_new_value():
    x = f64([1.0, 2.0, 3.0], requires_grad=True)
    y = x * 1.0
    y.add_(1).mul_(3).pow_(2)
    assert y.grad_fn.name() == "pow_scalar"
    y.sum().backward()
    np.testing.assert_allclose(x.grad.data, 18 * (x.data + 1))


def test_mul_in_place_by_itself_uses_the_old_value():
    x = f64([1.0, -2.0, 3.0], requires_grad=True)
    y = x * 1.0
    y.mul_(y)
    y.sum().backward()
    np.testing.assert_allclose(x.grad.data, 2 * x.data)


def test_in_place_with_an_operand_that_requires_grad_makes_the_tensor_require_grad():
    w = f64([1.0, 2.0], requires_grad=True)
    acc = rg.zeros(2, dtype=rg.float64)
    acc += w * w
    acc += w
    assert acc.requires_grad and not acc.is_leaf
    acc.sum().backward()
    np.testing.assert_allclose(w.grad.data, 2 * w.data + 1)


RECORDED = [
    ("add_", lambda x, y: (x * 1.0).add_(y, alpha=2.0)),
    ("sub_", lambda x, y: (x * 1.0).sub_(y)),
    ("mul_", lambda x, y: (x * 1.0).mul_(y)),
    ("div_", lambda x, y: (x * 1.0).div_(y)),
    ("pow_", lambda x, y: (x * 1.0).pow_(y)),
    ("clamp_tensor", lambda x, y: (x * 1.0).clamp_(min=y)),
    ("masked_fill_", lambda x, y: (x * 1.0).masked_fill_(x.data > 1.2, y.sum())),
    ("copy_", lambda x, y: (x * 1.0).copy_(y * 2.0)),
    ("fill_", lambda x, y: (x * 1.0).fill_(y.sum())),
    ("setitem", lambda x, y: _setitem(x * 1.0, slice(1, None), y * 3.0)),
    ("addcmul_", lambda x, y: (x * 1.0).addcmul_(y, x, value=0.5)),
    ("addcmul_self", lambda x, y: _with(x * 1.0, lambda h: h.addcmul_(h, y))),
    ("addcdiv_", lambda x, y: (x * 1.0).addcdiv_(x, y, value=-2.0)),
    ("lerp_", lambda x, y: (x * 1.0).lerp_(y, 0.3)),
    ("lerp_tensor_weight", lambda x, y: (x * 1.0).lerp_(y, y * 0.2)),
    ("chain", lambda x, y: (x * 1.0).mul_(y).exp_().add_(y).clamp_(max=4.0)),
]


def _with(t, change):
    change(t)
    return t


def _setitem(t, index, value):
    t[index] = value
    return t


@pytest.mark.parametrize("name,fn", RECORDED, ids=[r[0] for r in RECORDED])
def test_recorded_in_place_gradients_first_and_second_order(name, fn):
    rng = np.random.default_rng(1)
    x = f64(rng.uniform(0.5, 2.0, (3, 2)), requires_grad=True)
    y = f64(rng.uniform(0.5, 2.0, (2,)), requires_grad=True)
    gradcheck(fn, (x, y))
    gradgradcheck(fn, (x, y))


def test_forward_mode_through_in_place_ops():
    from retrograd.autograd.forward_ad import dual_level, make_dual

    x = f64([0.5, 1.0])
    with dual_level():
        d = make_dual(x, f64([1.0, 1.0]))
        y = d * 1.0
        y.mul_(d).add_(1.0)
    np.testing.assert_allclose(y._tangent, 2 * x.data)


def test_torch_parity_of_a_program_with_in_place_ops():
    torch = pytest.importorskip("torch")
    rng = np.random.default_rng(2)
    a, b = rng.standard_normal((3, 4)), rng.standard_normal((4,))
    mask = rng.standard_normal((3, 4)) > 0

    def program(lib, x, w, m):
        h = x * 2.0
        h.mul_(w).add_(1.0)
        h.clamp_(-1.5, 2.0)
        h[1] = w * 3.0
        h.masked_fill_(m, 0.25)
        h[:, 0] += w[0]
        return (h * h).sum()

    x, w = f64(a, True), f64(b, True)
    program(rg, x, w, rg.tensor(mask)).backward()
    tx = torch.tensor(a, requires_grad=True)
    tw = torch.tensor(b, requires_grad=True)
    program(torch, tx, tw, torch.tensor(mask)).backward()
    np.testing.assert_allclose(x.grad.data, tx.grad.numpy(), rtol=1e-12)
    np.testing.assert_allclose(w.grad.data, tw.grad.numpy(), rtol=1e-12)


# ----------------------------------------------------------------- safety rules


def test_in_place_on_a_leaf_that_requires_grad_is_an_error_outside_no_grad():
    w = f64([1.0, 2.0], requires_grad=True)
    with pytest.raises(RuntimeError, match=r"add_: a leaf tensor that requires grad .* 'add_'"):
        w.add_(1.0)
    with pytest.raises(RuntimeError, match="a leaf tensor that requires grad"):
        w += 1.0
    with pytest.raises(RuntimeError, match="a leaf tensor that requires grad"):
        w[0] = 3.0
    assert w.version == 0 and w.tolist() == [1.0, 2.0]  # nothing was written


def test_in_place_on_a_leaf_under_no_grad_changes_data_and_version_only():
    w = f64([1.0, 2.0], requires_grad=True)
    with rg.no_grad():
        w.mul_(2.0).sub_(1.0)
        w[1] = 0.0
    assert w.is_leaf and w.requires_grad and w.grad_fn is None
    assert w.tolist() == [1.0, 0.0] and w.version == 3


def test_changing_a_saved_input_in_place_fails_at_backward_naming_the_op():
    x = f64([1.0, 2.0], requires_grad=True)
    y = x * 1.0
    z = y * y  # mul saves y
    y.add_(1.0)
    message = r"'mul'.*modified by in-place op 'add_'.*version 0, now 1"
    with pytest.raises(RuntimeError, match=message):
        z.sum().backward()


def test_changing_a_saved_output_in_place_fails_at_backward():
    x = f64([1.0, 2.0], requires_grad=True)
    y = x.exp()  # exp saves its output
    y.add_(1.0)
    with pytest.raises(RuntimeError, match=r"backward through 'exp'.*in-place op 'add_'"):
        y.sum().backward()


def test_changing_a_leaf_that_a_node_saved_fails_at_backward():
    w = f64([1.0, 2.0], requires_grad=True)
    loss = (w * w).sum()
    with rg.no_grad():
        w.sub_(0.1)  # an optimizer step before backward
    with pytest.raises(RuntimeError, match=r"'mul'.*in-place op 'sub_'"):
        loss.backward()


def test_changing_a_tensor_that_no_node_saved_is_fine():
    x = f64([1.0, 2.0], requires_grad=True)
    y = x + 1.0  # add saves nothing
    z = y * 2.0  # mul saves y... and the constant
    del z
    y.mul_(3.0)
    y.sum().backward()
    np.testing.assert_allclose(x.grad.data, [3.0, 3.0])


def test_changing_an_alias_through_detach_is_caught():
    x = f64([1.0, 2.0], requires_grad=True)
    y = x.exp()
    y.detach().zero_()  # the detached alias shares y's data and version counter
    assert y.tolist() == [0.0, 0.0]
    with pytest.raises(RuntimeError, match="in-place op 'fill_'"):
        y.sum().backward()


def test_recorded_in_place_on_a_view_rewrites_its_base():
    rng = np.random.default_rng(3)
    a, b = rng.standard_normal((3, 4)), rng.standard_normal(4)
    x, w = f64(a, True), f64(b, True)
    y = x * 2.0
    row = y[1]
    row.mul_(w)
    assert y.grad_fn.name() == "index_put"  # the base follows its view
    assert row.grad_fn.name() == "index"  # and the view is a view of the new base again
    row.add_(1.0)  # so that a second in-place change of the view is recorded too
    y.reshape(4, 3).exp_()
    assert y.grad_fn.name() == "reshape"
    (y * y).sum().backward()
    h = 2.0 * a
    h[1] = h[1] * b + 1.0
    e = np.exp(h)
    np.testing.assert_allclose(y.data, e)
    gh = 2 * e * e
    expected_w = gh[1] * 2.0 * a[1]
    gh[1] *= b
    np.testing.assert_allclose(x.grad.data, gh * 2.0, rtol=1e-12)
    np.testing.assert_allclose(w.grad.data, expected_w, rtol=1e-12)


def test_torch_parity_of_in_place_changes_through_views_of_views():
    torch = pytest.importorskip("torch")
    rng = np.random.default_rng(4)
    a, b = rng.standard_normal((3, 4)), rng.standard_normal(4)

    def program(x, w):
        h = x * 2.0
        h[1].mul_(w)
        h.reshape(12)[:4].add_(1.0)  # a view of a view
        h.view(4, 3).mul_(3.0)
        h.t()[0].sub_(w[0])  # transpose, then index
        h[2:] *= w
        return (h * h).sum()

    x, w = f64(a, True), f64(b, True)
    program(x, w).backward()
    tx, tw = torch.tensor(a, requires_grad=True), torch.tensor(b, requires_grad=True)
    program(tx, tw).backward()
    np.testing.assert_allclose(x.grad.data, tx.grad.numpy(), rtol=1e-12)
    np.testing.assert_allclose(w.grad.data, tw.grad.numpy(), rtol=1e-12)


def test_in_place_views_that_cannot_be_recorded_are_errors_suggesting_clone():
    x = f64([[1.0, 2.0], [3.0, 4.0]], requires_grad=True)
    with pytest.raises(RuntimeError, match=r"mul_: a view of a leaf tensor that requires grad"):
        x[0].mul_(2.0)
    w = f64([1.0, 2.0], requires_grad=True)
    plain = rg.zeros(2, 2, dtype=rg.float64)
    with pytest.raises(RuntimeError, match=r"add_: .*view.*\.clone\(\)"):
        plain[0].add_(w)  # the view of a plain tensor recorded nothing to rewrite with
    h = x * 1.0
    with pytest.raises(RuntimeError, match=r"add_: .*view.*\.clone\(\)"):
        h.detach().add_(w)


def test_in_place_on_a_view_without_grad_writes_through_to_the_base():
    base = rg.zeros(2, 3)
    view = base.reshape(6)
    view.add_(1.0)
    view[0] = 5.0
    row = base[1]
    row.fill_(7.0)
    assert base.tolist() == [[5.0, 1.0, 1.0], [7.0, 7.0, 7.0]]
    assert base.version == view.version == 3


def test_in_place_on_an_expanded_tensor_is_an_error():
    e = rg.ones(3).expand(2, 3)
    with pytest.raises(RuntimeError, match=r"read-only.*\.clone\(\)"):
        e.add_(1.0)


def test_retain_grad_follows_the_tensor_to_its_new_value():
    x = f64([1.0, 2.0], requires_grad=True)
    h = x * 2.0
    h.retain_grad()
    h.add_(1.0)
    (h * h).sum().backward()
    np.testing.assert_allclose(h.grad.data, 2 * h.data)  # d/dh of the new h, stored once


def test_a_hook_registered_before_an_in_place_change_sees_the_old_version_gradient():
    x = f64([1.0, 2.0], requires_grad=True)
    h = x * 2.0
    seen = []
    h.register_hook(lambda g: seen.append(g.data.copy()))
    h.mul_(3.0)
    h.sum().backward()
    np.testing.assert_allclose(seen[0], [3.0, 3.0])


# ----------------------------------------------------------------- clamp, fills, copies


def test_clamp_in_place():
    t = f64([-2.0, 0.0, 3.0])
    t.clamp_(-1.0, 1.0)
    assert t.tolist() == [-1.0, 0.0, 1.0]
    t.clip_(min=0.5)
    assert t.tolist() == [0.5, 0.5, 1.0]
    t.clamp_(max=f64([0.0, 1.0, 2.0]))
    assert t.tolist() == [0.0, 0.5, 1.0]
    with pytest.raises(ValueError, match="clamp_: at least one"):
        t.clamp_()


def test_clamp_in_place_gradient_passes_only_inside_the_bounds():
    x = f64([-2.0, 0.5, 3.0], requires_grad=True)
    y = x * 1.0
    y.clamp_(-1.0, 1.0)
    y.sum().backward()
    assert x.grad.tolist() == [0.0, 1.0, 0.0]


def test_fill_zero_and_copy():
    t = rg.ones(2, 3)
    array = t.data
    t.fill_(4.0)
    assert t.data is array and t.tolist() == [[4.0] * 3] * 2
    t.zero_()
    assert not t.data.any()
    t.copy_(rg.tensor([1.0, 2.0, 3.0]))  # broadcast
    assert t.tolist() == [[1.0, 2.0, 3.0]] * 2
    t.copy_(rg.tensor([[1], [2]]))  # int into float, broadcast the other way
    assert t.tolist() == [[1.0] * 3, [2.0] * 3] and t.dtype == rg.float32
    t.fill_(rg.tensor(2.5))
    assert t.tolist() == [[2.5] * 3] * 2
    assert t.version == 5
    with pytest.raises(RuntimeError, match=r"copy_: the source of shape \(4,\)"):
        t.copy_(rg.ones(4))
    with pytest.raises(RuntimeError, match="fill_: only a 0-dimensional"):
        t.fill_(rg.ones(3))


def test_copy_gradient_goes_to_the_source_summed_over_broadcasting():
    src = f64([1.0, 2.0], requires_grad=True)
    x = f64(np.ones((3, 2)), requires_grad=True)
    y = x * 5.0
    y.copy_(src)
    (y * y).sum().backward()
    np.testing.assert_allclose(src.grad.data, 3 * 2 * src.data)
    np.testing.assert_allclose(x.grad.data, np.zeros((3, 2)))


def test_masked_fill_in_place():
    t = f64([[1.0, 2.0], [3.0, 4.0]])
    t.masked_fill_(rg.tensor([True, False]), -1.0)  # the mask broadcasts over rows
    assert t.tolist() == [[-1.0, 2.0], [-1.0, 4.0]]
    with pytest.raises(TypeError, match="bool"):
        t.masked_fill_(rg.tensor([1, 0]), 0.0)
    with pytest.raises(RuntimeError, match="0-dimensional"):
        t.masked_fill_(rg.tensor([True, False]), rg.ones(2))


def test_masked_fill_in_place_gradients():
    x = f64([1.0, 2.0, 3.0], requires_grad=True)
    v = f64(10.0, requires_grad=True)
    y = x * 1.0
    y.masked_fill_(rg.tensor([False, True, True]), v)
    (y * y).sum().backward()
    assert x.grad.tolist() == [2.0, 0.0, 0.0]
    assert v.grad.item() == 2 * 10.0 * 2


# ----------------------------------------------------------------- t[index] = value


def test_setitem_with_numbers_tensors_slices_masks_and_index_arrays():
    t = rg.zeros(3, 4)
    array = t.data
    t[0] = 1.0
    t[1, 2] = 5.0
    t[:, 3] = rg.tensor([7.0, 8.0, 9.0])
    t[2, [0, 1]] = rg.tensor([3.0, 4.0])
    t[t == 8.0] = -8.0
    t[rg.tensor([0, 2]), 1] = 6.0
    t[...] += 1.0
    assert t.data is array and t.version == 8  # t[...] += 1 is an add_ and a setitem
    expected = np.array(
        [[1, 6, 1, 7], [0, 0, 5, -8], [3, 6, 0, 9]], dtype=np.float32
    ) + 1
    np.testing.assert_array_equal(t.data, expected)


def test_setitem_matches_numpy_for_a_broadcast_row():
    t = rg.zeros(2, 3)
    t[:, 1:] = rg.tensor([1.0, 2.0])
    assert t.tolist() == [[0.0, 1.0, 2.0], [0.0, 1.0, 2.0]]


def test_setitem_gradients_go_to_kept_elements_and_to_the_value():
    x = f64(np.arange(6.0).reshape(2, 3), requires_grad=True)
    v = f64([10.0, 20.0], requires_grad=True)
    y = x * 1.0
    y[:, 1] = v
    (y * y).sum().backward()
    np.testing.assert_allclose(x.grad.data, 2 * x.data * np.array([1, 0, 1]))
    np.testing.assert_allclose(v.grad.data, 2 * v.data)


def test_setitem_of_a_tensor_that_requires_grad_into_a_plain_tensor():
    v = f64(3.0, requires_grad=True)
    t = rg.zeros(4, dtype=rg.float64)
    t[1:3] = v
    assert t.requires_grad and t.grad_fn is not None
    (t * f64([1.0, 2.0, 4.0, 8.0])).sum().backward()
    assert v.grad.item() == 6.0


def test_setitem_errors_name_the_shapes():
    t = rg.zeros(2, 3)
    with pytest.raises(ValueError, match=r"setitem: .*\(2, 3\)"):
        t[0] = rg.ones(4)
    with pytest.raises(IndexError):
        t[5] = 1.0


# ----------------------------------------------------------------- random fills


def test_uniform_and_normal_fill_in_place_reproducibly():
    t = rg.empty(2000, dtype=rg.float64)
    array = t.data
    t.uniform_(-2.0, 3.0, generator=rg.Generator(seed=5))
    assert t.data is array and t.version == 1
    assert -2.0 <= t.data.min() and t.data.max() < 3.0
    assert abs(t.data.mean() - 0.5) < 0.15
    again = rg.empty(2000, dtype=rg.float64).uniform_(-2.0, 3.0, generator=rg.Generator(seed=5))
    np.testing.assert_array_equal(t.data, again.data)

    n = rg.empty(20000).normal_(1.0, 0.5, generator=rg.Generator(seed=1))
    assert n.dtype == rg.float32
    assert abs(n.data.mean() - 1.0) < 0.02 and abs(n.data.std() - 0.5) < 0.02


def test_random_fills_use_the_default_generator_when_none_is_given():
    rg.manual_seed(11)
    a = rg.empty(5).normal_()
    rg.manual_seed(11)
    b = rg.empty(5).normal_()
    np.testing.assert_array_equal(a.data, b.data)


def test_random_fill_of_a_parameter_needs_no_grad():
    w = rg.zeros(3, requires_grad=True)
    with pytest.raises(RuntimeError, match="leaf tensor that requires grad"):
        w.uniform_()
    with rg.no_grad():
        w.normal_(0.0, 1.0)
    assert w.is_leaf and w.requires_grad and w.data.any()
    with pytest.raises(ValueError, match="std must be non-negative"):
        rg.zeros(2).normal_(0.0, -1.0)
    with pytest.raises(TypeError, match="floating-point"):
        rg.zeros(2, dtype=rg.int64).uniform_()


def test_anomaly_mode_checks_in_place_results():
    x = f64([-1.0, 2.0], requires_grad=True)
    y = x * 1.0
    with rg.autograd.detect_anomaly(), np.errstate(invalid="ignore"):
        with pytest.raises(rg.autograd.AnomalyError, match="'log'"):
            y.log_()
    assert y.version == 0  # the failing op wrote nothing
