"""Truncated BPTT (tbptt, tbptt_chunks, detach_state).

The truncation is checked where it matters: no gradient crosses a chunk boundary (exactly zero
for earlier inputs), the truncated gradient equals a by-hand reference and differs from the full
one, and with k equal to the sequence length it is the full gradient."""

import numpy as np
import pytest

import retrograd as rg
from retrograd import nn
from retrograd.nn import functional as F
from retrograd.nn.utils import detach_state, tbptt, tbptt_chunks

L, N, IN, H = 10, 2, 3, 4


def _setup(seed=0, cls=nn.LSTM, **kw):
    rg.manual_seed(seed)
    model = cls(IN, H, dtype=rg.float64, **kw)
    head = nn.Linear(H, 1, dtype=rg.float64)
    rng = np.random.default_rng(seed)
    x = rg.tensor(rng.standard_normal((L, N, IN)), requires_grad=True)
    y = rg.tensor(rng.standard_normal((L, N, 1)))
    return model, head, x, y


def _step(model, head):
    def step(chunk, target, state):
        out, state = model(chunk, state)
        return F.mse_loss(head(out), target, reduction="sum"), state

    return step


def _grads(modules, x):
    params = [p for m in modules for p in m.parameters()]
    return [x.grad.data.copy()] + [p.grad.data.copy() for p in params]


@pytest.mark.parametrize("cls", [nn.LSTM, nn.GRU, nn.RNN])
def test_no_gradient_crosses_a_chunk_boundary(cls):
    model, head, x, y = _setup(cls=cls)
    losses, _ = tbptt(_step(model, head), x, 4, targets=y, backward=False)
    assert len(losses) == 3  # chunks of 4, 4 and 2 steps
    (g_last,) = rg.autograd.grad(losses[2], [x])
    assert np.all(g_last.data[:8] == 0.0)  # exactly zero: the graph is cut, not small
    assert np.all(np.abs(g_last.data[8:]).sum(axis=(1, 2)) > 0)
    (g_mid,) = rg.autograd.grad(losses[1], [x])
    assert np.all(g_mid.data[:4] == 0.0) and np.all(g_mid.data[8:] == 0.0)
    assert np.all(np.abs(g_mid.data[4:8]).sum(axis=(1, 2)) > 0)


def test_the_parameters_see_only_the_chunk_that_made_a_loss():
    """The last chunk's loss gives the weights the gradient of a run that starts from the
    carried state as a constant."""
    model, head, x, y = _setup(seed=1)
    losses, _ = tbptt(_step(model, head), x, 4, targets=y, backward=False)
    w = model.weight_hh_l0
    (g,) = rg.autograd.grad(losses[2], [w])
    with rg.no_grad():
        _, state = model(x[:8])
    out, _ = model(x[8:].detach(), state)
    (expected,) = rg.autograd.grad(F.mse_loss(head(out), y[8:], reduction="sum"), [w])
    np.testing.assert_allclose(g.data, expected.data, rtol=1e-12, atol=1e-14)


@pytest.mark.parametrize("batch_first", [False, True])
def test_k_equal_to_the_length_is_full_bptt(batch_first):
    model, head, x, y = _setup(seed=2, batch_first=batch_first)
    if batch_first:
        x = rg.tensor(x.data.transpose(1, 0, 2).copy(), requires_grad=True)
        y = y.transpose(0, 1)
    dim = 1 if batch_first else 0
    result = tbptt(_step(model, head), x, L, targets=y, dim=dim)
    truncated = _grads([model, head], x)
    for p in [*model.parameters(), *head.parameters()]:
        p.grad = None
    x.grad = None
    loss, _ = _step(model, head)(x, y, None)
    loss.backward()
    full = _grads([model, head], x)
    assert result.losses == [pytest.approx(loss.item(), rel=1e-14)]
    for a, b in zip(truncated, full):
        np.testing.assert_allclose(a, b, rtol=1e-13, atol=1e-15)


def test_truncated_gradient_matches_a_hand_written_loop_and_differs_from_full():
    model, head, x, y = _setup(seed=3)
    result = tbptt(_step(model, head), x, 3, targets=y)
    truncated = _grads([model, head], x)

    # by hand: every chunk starts from the carried state as a constant
    for p in [*model.parameters(), *head.parameters()]:
        p.grad = None
    x.grad = None
    state, losses = None, []
    for start in range(0, L, 3):
        out, state = model(x[start:start + 3], state)
        loss = F.mse_loss(head(out), y[start:start + 3], reduction="sum")
        loss.backward()
        losses.append(loss.item())
        state = tuple(s.detach() for s in state)
    by_hand = _grads([model, head], x)
    assert result.losses == pytest.approx(losses, rel=1e-14)
    for a, b in zip(truncated, by_hand):
        np.testing.assert_allclose(a, b, rtol=1e-13, atol=1e-15)

    for p in [*model.parameters(), *head.parameters()]:
        p.grad = None
    x.grad = None
    loss, _ = _step(model, head)(x, y, None)
    loss.backward()
    full = _grads([model, head], x)
    assert sum(losses) == pytest.approx(loss.item(), rel=1e-12)  # same forward values
    assert not np.allclose(truncated[2], full[2])  # weight_hh: gradient lost at the cuts


def test_final_state_is_the_full_run_state_and_detached():
    model, head, x, y = _setup(seed=4)
    result = tbptt(_step(model, head), x, 4, targets=y, backward=False)
    _, (h, c) = model(x)
    h_t, c_t = result.state
    assert not h_t.requires_grad and not c_t.requires_grad
    np.testing.assert_allclose(h_t.data, h.data, rtol=1e-13)
    np.testing.assert_allclose(c_t.data, c.data, rtol=1e-13)


def test_optimizer_steps_once_per_chunk_and_the_state_carries_on():
    model, head, x, y = _setup(seed=5, cls=nn.GRU)
    steps = []

    class Recorder:
        def step(self):
            steps.append([p.grad.data.copy() for p in model.parameters()])

        def zero_grad(self):
            for p in [*model.parameters(), *head.parameters()]:
                p.grad = None

    h0 = rg.zeros(1, N, H, dtype=rg.float64)
    result = tbptt(_step(model, head), x, 4, h0, targets=y, optimizer=Recorder())
    assert len(steps) == 3 and len(result.losses) == 3
    assert all(isinstance(v, float) for v in result.losses)
    assert all(p.grad is None for p in model.parameters())  # zeroed after the last step


def test_inputs_without_targets():
    model, _, x, _ = _setup(seed=6, cls=nn.RNN)
    seen = []

    def step(chunk, state):
        seen.append(chunk.shape[0])
        out, state = model(chunk, state)
        return out.pow(2).sum(), state

    tbptt(step, x, 4)
    assert seen == [4, 4, 2]
    assert x.grad is not None and model.weight_ih_l0.grad is not None


def test_tbptt_chunks_splits_several_sequences_alike():
    a, b = rg.arange(10).reshape(5, 2), rg.arange(5)
    chunks = list(tbptt_chunks((a, b), 2))
    assert [tuple(c[0].shape) for c in chunks] == [(2, 2), (2, 2), (1, 2)]
    assert [c[1].tolist() for c in chunks] == [[0, 1], [2, 3], [4]]
    assert [c.tolist() for c in tbptt_chunks(b, 3)] == [[0, 1, 2], [3, 4]]
    assert [tuple(c.shape) for c in tbptt_chunks(a, 1, dim=1)] == [(5, 1), (5, 1)]


def test_detach_state_keeps_structure_and_values():
    h = rg.randn(2, 3, requires_grad=True) * 2
    state = (h, [h + 1, None])
    out = detach_state(state)
    assert isinstance(out, tuple) and isinstance(out[1], list) and out[1][1] is None
    assert not out[0].requires_grad and not out[1][0].requires_grad
    np.testing.assert_array_equal(out[1][0].data, (h + 1).data)
    assert detach_state(None) is None


@pytest.mark.parametrize(
    ("call", "error", "message"),
    [
        (lambda: list(tbptt_chunks(rg.zeros(4), 0)), ValueError, "k .* positive integer"),
        (lambda: list(tbptt_chunks((rg.zeros(4), rg.zeros(5)), 2)), ValueError,
         "differ in length along dim 0"),
        (lambda: tbptt(lambda c, s: c.sum(), rg.zeros(4, requires_grad=True), 2), TypeError,
         r"step must return \(loss, state\)"),
        (lambda: detach_state(3), TypeError, "expected a Tensor, None or a tuple/list"),
    ],
)
def test_errors(call, error, message):
    with pytest.raises(error, match=message):
        call()


def test_the_example_script_runs():
    """examples/lstm_tbptt.py, with tiny settings (the full run is documented in the script)."""
    import importlib.util
    from pathlib import Path

    path = Path(__file__).resolve().parents[3] / "examples" / "lstm_tbptt.py"
    spec = importlib.util.spec_from_file_location("lstm_tbptt_example", path)
    example = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(example)
    results = example.main(["--ks", "2", "8", "--passes", "1", "--length", "48",
                            "--hidden", "4"])
    assert set(results) == {2, 8} and all(loss > 0 for loss in results.values())
