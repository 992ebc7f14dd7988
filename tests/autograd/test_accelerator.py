"""The compiled backward loop (`_cwalk.c`) against the pure-Python one (`engine._step` per node).

Every parity test runs one function under both loops and requires the same leaf gradients bit
for bit (or the same exception: type, message and notes). Each also records which nodes the
walk handed to `engine._step`: the Python loop hands it every node, the compiled loop only the
nodes it must not run itself, so a test can tell that the compiled path really ran. Where the
accelerator is not built (or RETROGRAD_PURE_PYTHON is set) the Python side still runs and is
checked against closed forms where the test gives one; then the test skips.
"""

import dataclasses
import importlib
import importlib.util
import os
import pathlib
import shlex
import shutil
import sysconfig

import numpy as np
import pytest

import retrograd as rg
from retrograd.autograd import engine
from retrograd.autograd.graph import REGISTRY, Op, apply
from retrograd.autograd.tensor import Tensor

PURE_PYTHON = os.environ.get("RETROGRAD_PURE_PYTHON", "") not in ("", "0")
BUILT = importlib.util.find_spec("retrograd.autograd._cwalk") is not None
ACCEL = BUILT and not PURE_PYTHON
NO_ACCEL = (
    "RETROGRAD_PURE_PYTHON is set" if PURE_PYTHON else "the compiled walk (_cwalk) is not built"
) + ": ran the Python loop only"


def leaf(values, dtype=np.float64):
    return rg.tensor(np.asarray(values, dtype=dtype), requires_grad=True)


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
        pytest.skip("no C compiler found, so retrograd.autograd._cwalk could not be built")
    assert BUILT and engine._accel.__name__ == "retrograd.autograd._cwalk"


# ---------------------------------------------------------------------------- running both loops
@dataclasses.dataclass
class Run:
    values: list  # one array (or None) per item fn returned
    routed: list  # op names of the nodes handed to engine._step, in walk order


def _value(item):
    if isinstance(item, Tensor):
        return None if item.grad is None else item.grad.data
    return None if item is None else np.asarray(item)


def _assert_identical(python, accel):
    assert len(python) == len(accel)
    for i, (p, a) in enumerate(zip(python, accel)):
        assert (p is None) == (a is None), f"item {i}: {p!r} vs {a!r}"
        if p is not None:
            assert p.dtype == a.dtype and p.shape == a.shape, (
                f"item {i}: {p.dtype}{p.shape} vs {a.dtype}{a.shape}"
            )
            assert np.array_equal(p, a, equal_nan=True), f"item {i} differs:\n{p}\nvs\n{a}"


class Loops:
    def __init__(self, routed):
        self._routed = routed

    def run(self, fn, accelerated):
        self._routed.clear()
        previous = engine.use_accelerator(accelerated)
        try:
            return Run([_value(item) for item in fn()], list(self._routed))
        finally:
            engine.use_accelerator(previous)

    def both(self, fn, expect=None):
        """(python Run, compiled Run) of `fn()`, which builds a graph, runs backward and returns
        the tensors whose .grad to compare (or arrays); `expect(run)` checks the Python run."""
        python = self.run(fn, accelerated=False)
        assert python.routed, "the Python loop ran no node: the test builds no graph"
        if expect is not None:
            expect(python)
        if not ACCEL:
            pytest.skip(NO_ACCEL)
        accel = self.run(fn, accelerated=True)
        _assert_identical(python.values, accel.values)
        return python, accel

    def both_raise(self, fn):
        """The errors `fn()` raises under each loop, after checking they are the same."""
        errors = []
        for accelerated in (False, True):
            if accelerated and not ACCEL:
                pytest.skip(NO_ACCEL)
            with pytest.raises(Exception) as info:
                self.run(fn, accelerated)
            errors.append(info.value)
        python, accel = errors
        assert type(python) is type(accel)
        assert str(python) == str(accel)
        assert getattr(python, "__notes__", None) == getattr(accel, "__notes__", None)
        return python, accel


@pytest.fixture
def loops(monkeypatch):
    # NOTE: once any post-accumulate hook was registered in this process, every walk plans for
    # them (the plan is empty when no leaf of the graph has one); start from a clean process state.
    monkeypatch.setattr(Tensor, "_post_hooks_used", False)
    routed = []
    step = engine._step

    def recording_step(w, node, g):
        routed.append(node.op.name)
        return step(w, node, g)

    monkeypatch.setattr(engine, "_step", recording_step)
    return Loops(routed)


def close(actual, expected):
    np.testing.assert_allclose(actual, expected, rtol=1e-12, atol=1e-12)


# ---------------------------------------------------------------------------- plain graphs
def test_long_chain_with_shared_leaves_collects_then_collapses_leaf_gradients(loops, monkeypatch):
    n, cap = 300, engine._DEFER_MAX_COUNT
    assert n > cap
    lengths = []
    leaf_total = engine._leaf_total

    def recording_total(value):
        if type(value) is list:
            lengths.append(len(value))
        return leaf_total(value)

    monkeypatch.setattr(engine, "_leaf_total", recording_total)

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
        _assert_identical([run.values[2]], [run.values[1][None]])

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
        _assert_identical([run.values[0]], [2 * run.values[1]])

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


# ---------------------------------------------------------------------------- op-rule cache
@pytest.fixture(scope="module")
def scale_ops():
    class Base(Op):
        save = (0,)

        @staticmethod
        def forward(x):
            return x * 2.0

        @staticmethod
        def vjp(ns, g, saved, params, needs):
            return g * 2.0

    class Scale(Base):
        name = "_test_accel_scale"

    try:
        yield Base, Scale
    finally:
        REGISTRY.pop(Scale.name, None)


@pytest.mark.parametrize("replace_on", ["class", "base"])
def test_a_replaced_rule_is_used(loops, scale_ops, replace_on):
    base, scale = scale_ops
    owner = scale if replace_on == "class" else base
    original = owner.__dict__.get("vjp")

    def fn():
        x = leaf([1.0, -3.0])
        apply(scale, x * 1.0).sum().backward()  # caches the rule in the compiled loop
        first = x.grad.data.copy()
        owner.vjp = staticmethod(lambda ns, g, saved, params, needs: g * saved[0])
        try:
            x.grad = None
            apply(scale, x * 1.0).sum().backward()
        finally:
            if original is None:
                del owner.vjp
            else:
                owner.vjp = original
        return [first, x]

    def expect(run):
        close(run.values[0], [2.0, 2.0])
        close(run.values[1], [1.0, -3.0])

    python, accel = loops.both(fn, expect)
    assert accel.routed == []


def test_an_unusual_rule_result_goes_to_step(loops):
    class Pair(Op):
        name = "_test_accel_pair"

        @staticmethod
        def forward(x, y):
            return x + y

        @staticmethod
        def vjp(ns, g, saved, params, needs):
            return [g, g * 2.0]  # a list, not a tuple

    def fn():
        x, y = leaf([1.0, 2.0]), leaf([3.0, 4.0])
        apply(Pair, x * 1.0, y).sum().backward()
        return [x, y]

    try:
        python, accel = loops.both(fn, lambda run: close(run.values[1], [2.0, 2.0]))
    finally:
        REGISTRY.pop(Pair.name, None)
    assert accel.routed == ["_test_accel_pair"]


def test_a_wrongly_shaped_rule_result_raises_the_same(loops):
    # the compiled loop runs the node and fails in engine._conform, as _step does
    class Wide(Op):
        name = "_test_accel_wide"

        @staticmethod
        def forward(x):
            return x.copy()

        @staticmethod
        def vjp(ns, g, saved, params, needs):
            return ns.cat([g, g])

    def bad():
        apply(Wide, leaf([1.0, 2.0]) * 1.0).sum().backward()
        return []

    try:
        python, _ = loops.both_raise(bad)
    finally:
        REGISTRY.pop(Wide.name, None)
    assert isinstance(python, RuntimeError) and "'_test_accel_wide'" in str(python)


# ---------------------------------------------------------------------------- memory
@pytest.mark.parametrize("accelerated", [False, True], ids=["python", "compiled"])
@pytest.mark.parametrize("retain_graph", [False, True])
def test_saved_values_are_released_unless_retained(loops, accelerated, retain_graph):
    if accelerated and not ACCEL:
        pytest.skip(NO_ACCEL)
    nodes = []

    def fn():
        x = leaf([0.5, 1.5])
        loss = ((x * x).exp() * x).tanh().sum()
        stack = [loss.grad_fn]
        while stack:
            node = stack.pop()
            nodes.append(node)
            stack.extend(e for e in node.edges if type(e) is type(node))
        loss.backward(retain_graph=retain_graph)
        return [x]

    run = loops.run(fn, accelerated)
    walk_order = sorted(set(nodes), key=lambda n: n.seq, reverse=True)
    assert run.routed == ([] if accelerated else [n.op.name for n in walk_order])
    kept = [n for n in nodes if n.op.save or n.op.save_out]
    assert len(kept) == 4
    for node in kept:
        assert (node.saved is not None) == retain_graph
        assert (node.out_data is not None) == (retain_graph and node.op.save_out)


# ---------------------------------------------------------------------------- odd rules, settings
def test_a_rule_returning_a_float_raises_the_same(loops):
    class Half(Op):
        name = "_test_accel_float"

        @staticmethod
        def forward(x):
            return x * 0.5

        @staticmethod
        def vjp(ns, g, saved, params, needs):
            return 0.5

    def fn():
        apply(Half, leaf([1.0, 2.0])).sum().backward()
        return []

    try:
        loops.both_raise(fn)
    finally:
        REGISTRY.pop(Half.name, None)


def test_walks_stay_plain_after_a_post_accumulate_hook_was_used(loops):
    if not ACCEL:
        pytest.skip(NO_ACCEL)
    leaf([1.0]).register_post_accumulate_grad_hook(lambda t: None).remove()

    def fn():
        x = leaf([0.5, 2.0])
        (x * 2.0).tanh().sum().backward()
        return [x]

    assert loops.run(fn, accelerated=True).routed == []


def test_a_raising_rule_runs_once_and_its_node_is_named(loops):
    calls = []

    class Flaky(rg.autograd.Function):
        @staticmethod
        def forward(ctx, x):
            return x * 3.0

        @staticmethod
        def backward(ctx, g):
            calls.append(1)
            raise ValueError("backward failed")

    def fn():
        Flaky.apply(leaf([1.0, 2.0])).sum().backward()
        return []

    python, accel = loops.both_raise(fn)
    assert "Flaky" in "".join(getattr(python, "__notes__", []))
    assert len(calls) == (2 if ACCEL else 1)  # once per loop: the compiled one does not retry


def test_a_saved_parameter_changed_by_the_optimizer_is_still_caught(loops):
    def fn():
        w = leaf([1.0, -2.0])
        with rg.no_grad():
            w.mul_(2.0)  # before use: w's counter is 1 when mul saves it
        loss = (w * w).sum()
        with rg.no_grad():
            w.add_(1.0)  # after: backward must refuse
        loss.backward()
        return [w]

    python, accel = loops.both_raise(fn)
    assert "modified" in str(python)
