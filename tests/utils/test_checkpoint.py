"""rg.utils.checkpoint: the same parameters, gradients and buffers as without checkpointing
(float64, with BatchNorm and Dropout inside the segments), less memory kept, nesting,
double backward, argument and output structures, and the reentrant scheme."""

import gc
import weakref

import numpy as np
import pytest

import retrograd as rg
from retrograd import nn
from retrograd.nn import functional as F
from retrograd.utils.checkpoint import checkpoint, checkpoint_sequential

MODES = [False, True]  # use_reentrant


def block(width=6, p=0.3):
    return nn.Sequential(nn.Linear(width, width), nn.BatchNorm1d(width), nn.Tanh(), nn.Dropout(p))


def model(n_blocks=4, width=6, seed=0):
    rg.manual_seed(seed)
    return nn.Sequential(*[block(width) for _ in range(n_blocks)], nn.Linear(width, 2)).double()


def state(m, x):
    """Everything a training step may change: gradients, parameters, buffers."""
    out = {name: p.grad.numpy().copy() for name, p in m.named_parameters()}
    out.update({"buffer " + name: b.numpy().copy() for name, b in m.named_buffers()})
    out["x.grad"] = x.grad.numpy().copy()
    return out


def train_step(m, forward, seed=1, steps=2):
    """`steps` SGD steps on a fixed batch; the state after them, and the last loss."""
    opt = rg.optim.SGD(m.parameters(), lr=0.1)
    x = rg.tensor(np.random.default_rng(3).normal(size=(8, 6)), requires_grad=True)
    rg.manual_seed(seed)
    for _ in range(steps):
        opt.zero_grad()
        x.grad = None
        loss = (forward(m, x) ** 2).mean()
        loss.backward()
        opt.step()
    result = state(m, x)
    result.update({"param " + n: p.detach().numpy().copy() for n, p in m.named_parameters()})
    return result, loss.item()


def assert_same(a, b):
    assert a.keys() == b.keys()
    for key in a:
        np.testing.assert_array_equal(a[key], b[key], err_msg=key)


def plain(m, x):
    return m(x)


@pytest.mark.parametrize("reentrant", MODES)
def test_checkpoint_whole_model_matches_plain(reentrant):
    expected, loss = train_step(model(), plain)
    got, loss_ckpt = train_step(model(), lambda m, x: checkpoint(m, x, use_reentrant=reentrant))
    assert loss == loss_ckpt
    assert_same(expected, got)


@pytest.mark.parametrize("reentrant", MODES)
@pytest.mark.parametrize("segments", [1, 2, 3, 5])
def test_checkpoint_sequential_matches_plain(reentrant, segments):
    expected, _ = train_step(model(), plain)
    got, _ = train_step(
        model(), lambda m, x: checkpoint_sequential(m, segments, x, use_reentrant=reentrant))
    assert_same(expected, got)


def test_batchnorm_statistics_updated_once():
    m = model()
    x = rg.tensor(np.random.default_rng(0).normal(size=(8, 6)), requires_grad=True)
    checkpoint(m, x).sum().backward()
    assert all(b.num_batches_tracked.item() == 1 for b in m.modules()
               if isinstance(b, nn.BatchNorm1d))


def test_dropout_masks_replayed_without_preserving_rng_would_differ():
    # The test above would pass trivially if the masks did not depend on the generator state.
    expected, _ = train_step(model(), plain)
    got, _ = train_step(model(), lambda m, x: checkpoint(m, x, preserve_rng_state=False))
    assert any(not np.array_equal(expected[k], got[k]) for k in expected)


class OwnStream(nn.Module):
    """Dropout drawing from a generator the layer owns."""

    def __init__(self):
        super().__init__()
        self.linear = nn.Linear(6, 6)
        self.generator = rg.Generator(seed=5)

    def forward(self, x):
        return F.dropout(self.linear(x), 0.5, self.training, generator=self.generator).tanh()


def test_a_generator_held_by_a_layer_is_replayed():
    def run(use):
        rg.manual_seed(0)
        m = OwnStream().double()
        x = rg.tensor(np.ones((4, 6)), requires_grad=True)
        out = checkpoint(m, x) if use else m(x)
        out.sum().backward()
        return state(m, x), m.generator.get_state()

    (expected, gen_a), (got, gen_b) = run(False), run(True)
    assert_same(expected, got)
    assert gen_a == gen_b  # the layer's stream advanced once, as without checkpointing


@pytest.mark.parametrize("reentrant", MODES)
def test_nested_checkpoints(reentrant):
    def forward(m, x):
        def outer(h):
            h = checkpoint(m[0], h, use_reentrant=reentrant)
            h = m[1](h)
            return checkpoint(lambda t: m[3](m[2](t)), h, use_reentrant=reentrant)

        return m[4](checkpoint(outer, x, use_reentrant=reentrant))

    expected, _ = train_step(model(), plain)
    got, _ = train_step(model(), forward)
    assert_same(expected, got)


def test_double_backward_through_a_checkpoint():
    """A gradient penalty: d/dparams of |d loss / d x|^2, with create_graph through the
    segment."""
    def run(use):
        m = model()
        x = rg.tensor(np.random.default_rng(4).normal(size=(8, 6)), requires_grad=True)
        rg.manual_seed(2)
        out = checkpoint(m, x) if use else m(x)
        (gx,) = rg.autograd.grad((out ** 2).sum(), x, create_graph=True)
        (gx ** 2).sum().backward()
        return {name: p.grad.numpy().copy() for name, p in m.named_parameters()}

    expected, got = run(False), run(True)
    assert_same(expected, got)
    assert any(np.abs(g).max() > 0 for g in got.values())


def test_grad_of_a_checkpointed_function():
    w = rg.tensor(np.arange(1.0, 7.0).reshape(2, 3), requires_grad=True)
    x = rg.tensor(np.ones((4, 2)), requires_grad=True)

    def f(x):
        return (x @ w).sin() * 2

    expected = rg.autograd.grad(f(x).sum(), (x, w))
    got = rg.autograd.grad(checkpoint(f, x).sum(), (x, w))
    for a, b in zip(expected, got):
        np.testing.assert_array_equal(a.numpy(), b.numpy())


def test_kwargs_non_tensor_arguments_and_structured_outputs():
    w = rg.tensor(np.linspace(-1, 1, 6).reshape(3, 2), requires_grad=True)
    calls = []

    def f(x, scale, *, bias=None, mode="tanh"):
        calls.append(mode)
        h = (x @ w) * scale + bias
        return {"out": getattr(h, mode)(), "parts": (h.sum(), "label", 7)}

    def loss_of(result):
        return result["out"].sum() + 3 * result["parts"][0]

    x = rg.tensor(np.ones((2, 3)), requires_grad=True)
    b = rg.tensor(np.array([0.5, -0.5]), requires_grad=True)
    expected = rg.autograd.grad(loss_of(f(x, 2.0, bias=b, mode="sin")), (x, w, b))
    result = checkpoint(f, x, 2.0, bias=b, mode="sin")
    assert result["parts"][1:] == ("label", 7)
    got = rg.autograd.grad(loss_of(result), (x, w, b))
    for a, c in zip(expected, got):
        np.testing.assert_array_equal(a.numpy(), c.numpy())
    assert calls == ["sin", "sin", "sin"]  # plain, checkpointed forward, recomputation


@pytest.mark.parametrize("reentrant", MODES)
def test_tuple_outputs_one_unused(reentrant):
    def run(use):
        w = rg.tensor(np.linspace(0.1, 1, 4).reshape(2, 2), requires_grad=True)
        x = rg.tensor(np.ones((3, 2)), requires_grad=True)

        def f(x):
            h = x @ w
            return h.exp(), h.cos(), x.sum()

        a, _, c = checkpoint(f, x, use_reentrant=reentrant) if use else f(x)
        ((a * 2).sum() + c).backward()
        return x.grad.numpy(), w.grad.numpy()

    for expected, got in zip(run(False), run(True)):
        np.testing.assert_array_equal(expected, got)


def test_segment_activations_are_freed_and_recomputed_once():
    rg.manual_seed(0)
    lin = nn.Linear(16, 16).double()
    calls = []
    kept = []

    def f(x):
        calls.append(1)
        h = lin(x).tanh()
        kept.append(weakref.ref(h.data))
        return lin(h).tanh()

    x = rg.tensor(np.ones((4, 16)), requires_grad=True)
    out = checkpoint(f, x)
    gc.collect()
    assert kept[0]() is None  # the segment's activation is gone after forward
    plain = rg.diagnostics.memory_ledger(f(x)).total_bytes
    ledger = rg.diagnostics.memory_ledger(out)
    assert ledger.total_bytes < plain
    out.sum().backward(retain_graph=True)
    first = x.grad.numpy().copy()
    out.sum().backward()  # the refilled graph is kept: no second recomputation
    np.testing.assert_array_equal(x.grad.numpy(), 2 * first)
    assert len(calls) == 3


def test_recomputation_that_differs_is_an_error():
    flip = []

    def f(x):
        flip.append(1)
        return x.exp() if len(flip) == 1 else x.exp().sin()

    x = rg.tensor(np.ones(3), requires_grad=True)
    out = checkpoint(f, x)
    with pytest.raises(RuntimeError, match="checkpoint: the recomputation"):
        out.sum().backward()


def test_in_place_change_of_a_saved_output_is_caught():
    x = rg.tensor(np.ones(3), requires_grad=True)
    out = checkpoint(lambda t: (t * 2).exp(), x)
    with rg.no_grad():
        out.add_(1)
    with pytest.raises(RuntimeError, match="modified"):
        out.sum().backward()


def test_under_no_grad_it_just_calls_the_function():
    x = rg.tensor(np.ones(3), requires_grad=True)
    with rg.no_grad():
        out = checkpoint(lambda t: t * 2, x)
    assert out.grad_fn is None


def test_reentrant_limits():
    x = rg.tensor(np.ones(3), requires_grad=True)
    with pytest.raises(ValueError, match="keyword arguments"):
        checkpoint(lambda t, k=1: t * k, x, use_reentrant=True, k=2)
    out = checkpoint(lambda t: t.exp(), x, use_reentrant=True)
    with pytest.raises(RuntimeError, match="create_graph"):
        rg.autograd.grad(out.sum(), x, create_graph=True)
    lin = nn.Linear(3, 3)
    with pytest.warns(UserWarning, match="none of the inputs requires grad"):
        checkpoint(lin, rg.ones(2, 3), use_reentrant=True)


def test_argument_errors():
    with pytest.raises(TypeError, match="callable"):
        checkpoint(3, rg.ones(2))
    with pytest.raises(ValueError, match="segments"):
        checkpoint_sequential(nn.Sequential(nn.Tanh()), 2, rg.ones(2))


def test_recomputed_activations_are_freed_by_backward_without_the_cycle_collector():
    lin = nn.Linear(8, 8).double()
    arrays = []

    def f(x):
        h = lin(x).tanh()
        arrays.append(weakref.ref(h.data))
        return lin(h).tanh()

    x = rg.tensor(np.ones((4, 8)), requires_grad=True)
    gc.disable()
    try:
        out = checkpoint(f, x)
        y = out.tanh().sum()
        y.backward()
        assert len(arrays) == 2 and arrays[1]() is None  # the recomputed activation is gone
        assert arrays[0]() is None
    finally:
        gc.enable()


def test_parameters_get_gradients_when_no_input_requires_grad():
    def run(use):
        m = model()
        x = rg.tensor(np.random.default_rng(5).normal(size=(8, 6)))  # plain data
        rg.manual_seed(1)
        out = checkpoint_sequential(m, 2, x) if use else m(x)
        (out ** 2).sum().backward()
        return {n: p.grad.numpy().copy() for n, p in m.named_parameters()}

    assert_same(run(False), run(True))
