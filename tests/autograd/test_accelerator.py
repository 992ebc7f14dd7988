"""The compiled backward loop (csrc/accel/) against the pure-Python one (`engine._step` per node).

Every parity test runs one function under both loops and requires the same leaf gradients bit
for bit (or the same exception: type, message and notes). Each also records which nodes the
walk handed to `engine._step`: the Python loop hands it every node, the compiled loop only the
nodes it must not run itself, so a test can tell that the compiled path really ran. Where the
accelerator is not built (or RETROGRAD_PURE_PYTHON is set) the Python side still runs and is
checked against closed forms where the test gives one; then the test skips.
"""

import importlib
import pathlib
import shlex
import shutil
import sysconfig

import numpy as np
import pytest

import retrograd as rg
from retrograd.autograd import engine, leaf_grads

from .accelerator_support import BUILT, PURE_PYTHON, assert_identical, close, leaf


def _c_compiler():
    cc = sysconfig.get_config_var("CC")
    if cc:
        found = shutil.which(shlex.split(cc)[0])
        if found:
            return found
    return shutil.which("cc")


def test_accelerator_is_built_where_a_c_compiler_exists():
    if PURE_PYTHON:
        pytest.skip("RETROGRAD_PURE_PYTHON is set: the compiled walk is off by request")
    if not engine.accelerated():
        compiler = _c_compiler()
        assert compiler is None, (
            f"backward runs the pure-Python loop although a C compiler exists ({compiler}): "
            "rebuild the extension with `pip install -e . --no-deps` and read its errors"
        )
        pytest.skip("no C compiler found, so retrograd.autograd._accel could not be built")
    assert BUILT and engine._compiled.__name__ == "retrograd.autograd._accel"


# ---------------------------------------------------------------------------- plain graphs
def test_long_chain_with_shared_leaves_collects_then_collapses_leaf_gradients(loops, monkeypatch):
    n, cap = 300, leaf_grads.DEFER_MAX_COUNT
    assert n > cap
    lengths = []
    leaf_total = leaf_grads.leaf_total

    def recording_total(value):
        if type(value) is list:
            lengths.append(len(value))
        return leaf_total(value)

    monkeypatch.setattr(leaf_grads, "leaf_total", recording_total)

    def fn():
        lengths.clear()
        rng = np.random.default_rng(0)
        x, w, b = (leaf(rng.standard_normal(3) * 0.5) for _ in range(3))
        h = x
        for _ in range(n):
            h = (h * w + b).tanh()
        h.sum().backward()
        return [x, w, b, np.array(lengths)]

    def expect(run):  # w and b: a full list summed mid-walk, then the rest at the end
        assert sorted(run.values[3]) == [n - cap + 1] * 2 + [cap] * 2
        assert len(run.routed) == 3 * n + 1

    python, accel = loops.both(fn, expect)
    assert accel.routed == []


def test_diamond_and_one_tensor_used_twice(loops):
    def fn():
        x = leaf([1.0, -2.0, 0.5])
        a = x * 3.0
        ((a.exp() + a * a) + x * x).sum().backward()
        return [x]

    def expect(run):
        xs = np.array([1.0, -2.0, 0.5])
        close(run.values[0], 3 * np.exp(3 * xs) + 18 * xs + 2 * xs)

    python, accel = loops.both(fn, expect)
    assert accel.routed == []


def test_broadcast_bias_gradient_is_summed(loops):
    rng = np.random.default_rng(1)
    a_data, bias_data = rng.standard_normal((4, 3)), rng.standard_normal(3)
    c = rng.standard_normal((4, 3))

    def fn():
        a, bias, scale = leaf(a_data), leaf(bias_data), leaf(2.0)
        ((a + bias) * rg.tensor(c) * scale).sum().backward()
        return [a, bias, scale]

    def expect(run):
        close(run.values[1], 2.0 * c.sum(axis=0))
        assert run.values[1].shape == (3,) and run.values[2].shape == ()

    python, accel = loops.both(fn, expect)
    assert accel.routed == []


def test_zero_dimensional_losses_from_sum_and_mean(loops):
    def fn():
        x = leaf(np.arange(6.0).reshape(2, 3))
        loss = (x * x).sum() + (x * 3.0).mean() + x.sum(dim=1).mean()
        assert loss.shape == ()
        loss.backward()
        return [x]

    def expect(run):
        close(run.values[0], 2 * np.arange(6.0).reshape(2, 3) + 0.5 + 0.5)

    python, accel = loops.both(fn, expect)
    assert accel.routed == []


def test_mixed_float32_float64_gradients_are_cast_to_each_input(loops):
    def fn():
        rng = np.random.default_rng(2)
        x = leaf(rng.standard_normal(4), np.float32)
        w = leaf(rng.standard_normal(4))
        h = x
        for _ in range(5):
            h = (h * w + x).tanh()  # float64 from here on; x's gradients are cast back
        h.sum().backward()
        return [x, w]

    def expect(run):
        assert run.values[0].dtype == np.float32 and run.values[1].dtype == np.float64

    python, accel = loops.both(fn, expect)
    assert accel.routed == []


def test_custom_function_with_two_outputs(loops):
    class SumAndProduct(rg.autograd.Function):
        @staticmethod
        def forward(ctx, x, y):
            ctx.save_for_backward(x, y)
            return x + y, x * y

        @staticmethod
        def backward(ctx, g_sum, g_prod):
            x, y = ctx.saved_tensors
            return g_sum + g_prod * y, g_sum + g_prod * x

    def fn():
        x, y = leaf([1.0, 2.0]), leaf([3.0, -1.0])
        s, p = SumAndProduct.apply(x, y)
        (s * 2.0 + p * p).sum().backward()
        return [x, y]

    def expect(run):
        close(run.values[0], 2.0 + 2 * np.array([3.0, -2.0]) * np.array([3.0, -1.0]))

    python, accel = loops.both(fn, expect)
    assert accel.routed == []


# ---------------------------------------------------------------------------- nodes for _step
def test_has_aux_ops_go_to_step(loops):
    def fn():
        rng = np.random.default_rng(3)
        x = leaf(rng.standard_normal((2, 3, 6, 6)))
        pooled = rg.nn.functional.max_pool2d(x * 1.5, 2)
        logits = pooled.sum(dim=(2, 3))
        loss = rg.nn.functional.cross_entropy(logits, rg.tensor(np.array([0, 2])))
        loss.backward()
        return [x]

    python, accel = loops.both(fn)
    assert sorted(accel.routed) == ["cross_entropy", "max_pool2d"]


def test_tensor_hook_and_retain_grad_on_intermediates(loops):
    def fn():
        x = leaf([0.3, -0.7, 1.1])
        h = x * 2.0
        h.register_hook(lambda g: g * 3.0)
        k = h.tanh()
        k.retain_grad()
        (k * k).sum().backward()
        return [x, k]

    def expect(run):
        xs = np.array([0.3, -0.7, 1.1])
        t = np.tanh(2 * xs)
        close(run.values[1], 2 * t)
        close(run.values[0], 2 * t * (1 - t * t) * 3.0 * 2.0)

    python, accel = loops.both(fn, expect)
    assert accel.routed == ["tanh", "mul"]  # the two nodes with hooks, nothing else


def test_post_accumulate_hook_makes_the_walk_not_plain(loops):
    def fn():
        x, w = leaf([0.5, -1.0]), leaf([2.0, 3.0])
        seen = []
        w.register_post_accumulate_grad_hook(lambda t: seen.append(t.grad.data.copy()))
        (x * w).tanh().sum().backward()
        return [x, w, np.array(seen)]

    def expect(run):
        assert_identical([run.values[2]], [run.values[1][None]])

    python, accel = loops.both(fn, expect)
    assert accel.routed == python.routed


def test_retain_graph_then_a_second_backward_accumulates(loops):
    def fn():
        x = leaf([0.2, 0.4])
        loss = (x * x).tanh().sum()
        loss.backward(retain_graph=True)
        first = x.grad.data.copy()
        loss.backward()
        return [x, first]

    def expect(run):
        assert_identical([run.values[0]], [2 * run.values[1]])

    python, accel = loops.both(fn, expect)
    assert accel.routed == []


def test_backward_twice_without_retain_graph(loops):
    def fn():
        loss = (leaf([0.2, 0.4]) * 2.0).tanh().sum()
        loss.backward()
        loss.backward()
        return []

    python, _ = loops.both_raise(fn)
    assert isinstance(python, RuntimeError) and "a second time" in str(python)


def test_in_place_change_of_a_saved_tensor(loops):
    def fn():
        a = leaf([1.0, 2.0]) * 2.0
        loss = (a * a).sum()
        a.add_(1.0)
        loss.backward()
        return []

    python, _ = loops.both_raise(fn)
    assert isinstance(python, RuntimeError) and "was modified" in str(python)


def test_custom_function_whose_backward_raises(loops):
    class Boom(rg.autograd.Function):
        @staticmethod
        def forward(ctx, x):
            return x * 2.0

        @staticmethod
        def backward(ctx, g):
            raise ValueError("Boom: no gradient today")

    def fn():
        Boom.apply(leaf([1.0, 2.0]) * 3.0).sum().backward()
        return []

    python, _ = loops.both_raise(fn)
    assert isinstance(python, ValueError) and str(python) == "Boom: no gradient today"
    assert any("'Boom'" in note for note in python.__notes__)


def test_grad_with_an_intermediate_among_the_inputs(loops):
    def fn():
        x, w = leaf([0.5, -0.5, 2.0]), leaf([1.5, 0.5, -1.0])
        h = x * w
        return [g.data for g in rg.autograd.grad((h.tanh() * w).sum(), [h, x, w])]

    def expect(run):
        t = np.tanh(np.array([0.5, -0.5, 2.0]) * np.array([1.5, 0.5, -1.0]))
        close(run.values[0], (1 - t * t) * np.array([1.5, 0.5, -1.0]))

    python, accel = loops.both(fn, expect)
    assert accel.routed == python.routed


def test_second_derivative_with_create_graph(loops):
    def fn():
        x = leaf([0.5, -1.0, 2.0])
        (gx,) = rg.autograd.grad((x**3).sum(), x, create_graph=True)
        (gx * x).sum().backward()  # a plain walk over the graph the rules recorded
        return [x, gx.data]

    def expect(run):
        xs = np.array([0.5, -1.0, 2.0])
        close(run.values[1], 3 * xs**2)
        close(run.values[0], 9 * xs**2)

    python, accel = loops.both(fn, expect)
    assert accel.routed and len(accel.routed) < len(python.routed)


# ---------------------------------------------------------------------------- networks
def test_mlp_cross_entropy_loss(loops):
    def fn():
        rg.manual_seed(0)
        model = rg.nn.Sequential(rg.nn.Linear(4, 8), rg.nn.ReLU(), rg.nn.Linear(8, 3))
        x = rg.tensor(np.random.default_rng(4).standard_normal((5, 4)).astype(np.float32))
        rg.nn.CrossEntropyLoss()(model(x), rg.tensor(np.array([0, 2, 1, 1, 0]))).backward()
        return list(model.parameters())

    python, accel = loops.both(fn)
    # linear saves parameters that init changed in place: their counters match what linear saw,
    # so the compiled loop runs those nodes itself
    assert "relu" in python.routed and "linear" in python.routed
    assert set(accel.routed) <= {"cross_entropy"}


def test_lstm_loss(loops):
    def fn():
        rg.manual_seed(0)
        lstm = rg.nn.LSTM(3, 5, batch_first=True)
        x = rg.tensor(np.random.default_rng(5).standard_normal((2, 4, 3)).astype(np.float32))
        out, (h, c) = lstm(x)
        ((out * out).mean() + h.sum() + c.tanh().sum()).backward()
        return list(lstm.parameters())

    python, accel = loops.both(fn)
    assert "lstm_sequence" in accel.routed and len(accel.routed) < len(python.routed)


def _op_specs():
    specs = []
    for path in sorted((pathlib.Path(__file__).parents[1] / "ops").glob("test_*.py")):
        module = importlib.import_module(f"tests.ops.{path.stem}")
        specs.extend(getattr(module, "SPECS", []))
    return specs


def test_every_op_spec_gives_identical_gradients(loops):
    from tests.ops.harness import make_inputs  # noqa: PLC0415 - only this test needs it

    cases = [(spec, shapes) for spec in _op_specs() for shapes in spec.shapes]
    assert len(cases) > 100

    def fn():
        values = []
        for spec, shapes in cases:
            _, tensors = make_inputs(spec, shapes)
            with np.errstate(all="ignore"):
                out = spec.fn(*tensors)
                if out.requires_grad:
                    g = np.random.default_rng(6).standard_normal(out.shape)
                    out.backward(g.astype(out.data.dtype))
            values.extend(tensors)
        return values

    python, accel = loops.both(fn)
    assert len(accel.routed) < len(python.routed) / 2
