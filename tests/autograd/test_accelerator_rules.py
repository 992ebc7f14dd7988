"""The compiled backward loop against the Python one, continued: the op-rule cache, rules that
return odd things or raise, memory released, and walks after hooks were used."""

import pytest

import retrograd as rg
from retrograd.autograd.graph import REGISTRY, Op, apply

from .accelerator_support import ACCEL, NO_ACCEL, close, leaf


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


# ---------------------------------------------------------------------------- compiled ops
def test_compiled_ops_behave_like_their_python_functions(loops):
    import copy
    import pickle

    for fn in (rg.mul, rg.tanh, rg.relu, rg.exp, rg.Tensor.__add__):
        assert copy.deepcopy(fn) is fn
    for fn in (rg.mul, rg.tanh, rg.relu, rg.sigmoid):
        assert pickle.loads(pickle.dumps(fn)) is fn

    def fn():
        x = leaf([0.5, -1.5, 2.0])
        ints = rg.tensor([1, -2, 3])
        out = [
            rg.mul(input=x, other=x),  # keywords: the Python function
            x * 2.0,  # a Python number
            rg.tanh(ints),  # an integer tensor becomes float32 first
            rg.relu(ints),  # ... or stays integer
            x.float() * x,  # float32 times float64 is promoted
            rg.neg(x).exp().sqrt().log().sigmoid().sin().cos(),
        ]
        assert out[2].dtype == rg.float32 and out[3].dtype == rg.int64
        assert out[4].dtype == rg.float64
        sum(o.sum() for o in (out[0], out[1], out[4], out[5])).backward()
        return [x]

    loops.both(fn)


@pytest.mark.parametrize("fn", [rg.tanh, rg.relu, rg.exp, rg.neg, rg.sigmoid, rg.sqrt])
@pytest.mark.parametrize("bad", [None, "x", [1.0, 2.0]])
def test_a_non_tensor_input_is_a_type_error_naming_the_op(loops, fn, bad):
    def call():
        fn(bad)
        return []

    python, _ = loops.both_raise(call)
    assert isinstance(python, TypeError)
    assert str(python).startswith(f"{fn.__name__}(): argument 'input' (position 1) must be Tensor")
