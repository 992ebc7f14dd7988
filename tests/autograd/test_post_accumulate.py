"""Post-accumulate-grad hooks and end-of-backward callbacks (the engine's hook points for data
parallelism): when they fire, what they see, and that they change no gradient."""

import sys

import numpy as np
import pytest

import retrograd as rg
from retrograd.autograd import engine, hooks, leaf_grads


def _chain():
    """x -> a = x * w1 -> b = tanh(a) * w2 -> loss: w2's gradient is complete before w1's."""
    rng = np.random.default_rng(0)
    w1 = rg.tensor(rng.standard_normal((3, 3)), requires_grad=True)
    w2 = rg.tensor(rng.standard_normal((3, 3)), requires_grad=True)
    x = rg.tensor(rng.standard_normal((2, 3)))
    return w1, w2, x


def _loss(w1, w2, x):
    return (rg.tanh(x @ w1) @ w2).pow(2).sum()


def test_hooks_see_the_accumulated_gradient_in_walk_order():
    w1, w2, x = _chain()
    seen = []
    w1.register_post_accumulate_grad_hook(lambda t: seen.append(("w1", t.grad.data.copy())))
    w2.register_post_accumulate_grad_hook(lambda t: seen.append(("w2", t.grad.data.copy())))
    _loss(w1, w2, x).backward()
    assert [name for name, _ in seen] == ["w2", "w1"]  # the last layer's gradient first
    np.testing.assert_array_equal(seen[0][1], w2.grad.data)
    np.testing.assert_array_equal(seen[1][1], w1.grad.data)


def test_hooks_fire_while_the_walk_goes_on():
    """w2's hook runs before the node that computes w1's gradient (early finishing)."""
    w1, w2, x = _chain()
    events = []
    w2.register_post_accumulate_grad_hook(lambda t: events.append("w2 ready"))
    a = x @ w1
    a.register_hook(lambda g: events.append("through a"))
    (rg.tanh(a) @ w2).pow(2).sum().backward()
    assert events == ["w2 ready", "through a"]


def test_gradients_are_unchanged_and_accumulate_across_passes():
    w1, w2, x = _chain()
    _loss(w1, w2, x).backward()
    _loss(w1, w2, x).backward()
    expected = (w1.grad.data.copy(), w2.grad.data.copy())
    w1.grad = w2.grad = None
    calls = []
    for w in (w1, w2):
        w.register_post_accumulate_grad_hook(lambda t: calls.append(t.grad.data.copy()))
    _loss(w1, w2, x).backward()
    _loss(w1, w2, x).backward()
    np.testing.assert_array_equal(w1.grad.data, expected[0])
    np.testing.assert_array_equal(w2.grad.data, expected[1])
    assert len(calls) == 4
    np.testing.assert_allclose(calls[2] + calls[3], 2 * (calls[0] + calls[1]))


def test_shared_leaf_fires_once_after_all_its_uses():
    w = rg.tensor([1.0, 2.0], requires_grad=True)
    grads = []
    w.register_post_accumulate_grad_hook(lambda t: grads.append(t.grad.data.copy()))
    y = (w * w).sum() + (rg.exp(w) * 3).sum()
    y.backward()
    assert len(grads) == 1
    np.testing.assert_allclose(grads[0], 2 * w.data + 3 * np.exp(w.data))


def test_pre_hooks_run_before_and_removal_works():
    w1, w2, x = _chain()
    w2.register_hook(lambda g: g * 0)
    seen = []
    handle = w2.register_post_accumulate_grad_hook(lambda t: seen.append(t.grad.data.copy()))
    _loss(w1, w2, x).backward()
    np.testing.assert_array_equal(seen[0], np.zeros((3, 3)))
    handle.remove()
    _loss(w1, w2, x).backward()
    assert len(seen) == 1


def test_not_called_by_autograd_grad_and_only_for_targets():
    w1, w2, x = _chain()
    calls = []
    for name, w in (("w1", w1), ("w2", w2)):
        w.register_post_accumulate_grad_hook(lambda t, name=name: calls.append(name))
    rg.autograd.grad(_loss(w1, w2, x), [w1, w2])
    assert calls == []
    _loss(w1, w2, x).backward(inputs=[w1])
    assert calls == ["w1"] and w2.grad is None


def test_errors_for_non_leaves_and_tensors_without_grad():
    w1, w2, x = _chain()
    with pytest.raises(RuntimeError, match="non-leaf"):
        (w1 * 2).register_post_accumulate_grad_hook(lambda t: None)
    with pytest.raises(RuntimeError, match="does not require grad"):
        x.register_post_accumulate_grad_hook(lambda t: None)


def test_queue_callback_runs_after_the_last_leaf():
    w1, w2, x = _chain()
    events = []

    def queue(t):
        events.append("w2 ready")
        engine.queue_callback(lambda: events.append(("end", w1.grad is not None)))

    w2.register_post_accumulate_grad_hook(queue)
    w1.register_post_accumulate_grad_hook(lambda t: events.append("w1 ready"))
    _loss(w1, w2, x).backward()
    assert events == ["w2 ready", "w1 ready", ("end", True)]
    events.clear()
    _loss(w1, w2, x).backward()  # callbacks are per pass: queued again, run once
    assert events == ["w2 ready", "w1 ready", ("end", True)]


def test_queue_callback_outside_backward_is_an_error():
    with pytest.raises(RuntimeError, match="no backward pass is running"):
        engine.queue_callback(lambda: None)


def test_a_callback_may_queue_another_and_a_failed_pass_drops_them():
    w = rg.tensor([1.0], requires_grad=True)
    events = []

    def first(t):
        engine.queue_callback(lambda: (events.append(1), engine.queue_callback(
            lambda: events.append(2))))

    handle = w.register_post_accumulate_grad_hook(first)
    (w * 2).sum().backward()
    assert events == [1, 2]
    handle.remove()

    def failing(t):
        engine.queue_callback(lambda: events.append("never"))
        raise ValueError("hook failed")

    w.register_post_accumulate_grad_hook(failing)
    with pytest.raises(ValueError, match="hook failed"):
        (w * 2).sum().backward()
    assert "never" not in events
    assert not hooks.CALLBACKS


def test_early_finishing_adopts_gradients_without_copying(monkeypatch):
    """A leaf finished during the walk sees its gradient array held as often as one finished
    after it, so `.grad` adopts the array without a copy in both cases."""
    counts = []
    real = leaf_grads.exclusively_ours

    def spy(g):
        counts.append(sys.getrefcount(g))
        return real(g)

    monkeypatch.setattr(leaf_grads, "exclusively_ours", spy)
    w1, w2, x = _chain()
    _loss(w1, w2, x).backward()  # no post-accumulate hooks: leaves finish after the walk
    plain = list(counts)
    counts.clear()
    w1.grad = w2.grad = None
    for w in (w1, w2):
        w.register_post_accumulate_grad_hook(lambda t: None)
    _loss(w1, w2, x).backward()  # finished early, inside the walk
    assert len(plain) == len(counts) == 2 and sorted(plain) == sorted(counts)


def test_callbacks_queued_in_a_nested_pass_wait_for_the_outer_one():
    """Reentrant checkpointing runs a backward inside backward: gradients finished there are
    only part of the outer pass, so their callbacks run when the outer pass ends."""
    w_inner = rg.tensor([1.0, 2.0], requires_grad=True)
    w_outer = rg.tensor([3.0], requires_grad=True)
    events = []

    def inner_done(t):
        events.append("inner grad")
        engine.queue_callback(lambda: events.append(("end", w_outer.grad is not None)))

    w_inner.register_post_accumulate_grad_hook(inner_done)
    x = rg.ones(2, requires_grad=True)  # reentrant checkpoints need an input that does
    segment = rg.utils.checkpoint.checkpoint(lambda x: (x * w_inner).sum(), x,
                                             use_reentrant=True)
    (segment * w_outer).sum().backward()
    assert events == ["inner grad", ("end", True)]
