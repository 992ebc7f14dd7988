"""rg.diagnostics.memory_ledger: exact bytes on graphs of known sizes, each block counted once
(shared tensors, views), modules, source lines, parameters apart, deep graphs."""

import numpy as np

import retrograd as rg
from retrograd import nn
from retrograd.diagnostics import memory_ledger
from retrograd.diagnostics.memory import format_bytes


def test_known_sizes_and_sharing():
    x = rg.tensor(np.ones((4, 8), np.float32), requires_grad=True)
    w = rg.tensor(np.ones((8, 2), np.float64), requires_grad=True)
    h = x.exp()  # keeps its output (4*8*4 bytes)
    y = h * h  # keeps h twice: the same block
    z = (y.double() @ w).sum()  # keeps y.double() (4*8*8) and w (a parameter, not counted)
    ledger = memory_ledger(z)
    assert ledger.activation_bytes == 4 * 8 * 4 + 4 * 8 * 8
    assert ledger.total_bytes == ledger.activation_bytes
    assert ledger.parameter_bytes == 8 * 2 * 8
    rows = {r.op: r for r in ledger.rows if r.kind == "activation"}
    assert rows["exp"].holders == 3 and rows["exp"].holds == "output"  # exp, mul (twice)
    assert rows["matmul"].shape == (4, 8) and rows["matmul"].dtype == np.float64
    assert ledger.by_op() == {"matmul": 256, "exp": 128}
    assert sum(r.nbytes for r in ledger.rows if r.kind != "parameter") == ledger.total_bytes


def test_views_count_their_base_once():
    x = rg.tensor(np.ones((10, 10)), requires_grad=True).exp()
    a, b = x[2:5], x[:, 1]
    loss = (a.sin().sum() + b.sin().sum() + x.sin().sum())
    ledger = memory_ledger(loss)
    # exp's output, its two views saved by sin, and x saved by sin: one 800-byte block.
    blocks = [r for r in ledger.rows if r.nbytes == 800]
    assert len(blocks) == 1 and blocks[0].holders == 4
    assert ledger.total_bytes == 800


def test_modules_sources_and_the_table():
    rg.manual_seed(0)
    model = nn.Sequential(nn.Linear(3, 5), nn.Tanh(), nn.Linear(5, 2))
    x = rg.randn(7, 3)
    with nn.record_module_paths(model), rg.autograd.detect_anomaly():
        loss = model(x).pow(2).sum()
    ledger = memory_ledger(loss)
    by_module = ledger.by_module()
    assert by_module["0"] == 7 * 3 * 4  # the input, kept by the first matmul
    assert by_module["1"] == 7 * 5 * 4  # tanh keeps its output (also the next matmul's input)
    assert by_module["-"] == 7 * 2 * 4  # pow keeps its input, outside any module
    assert set(by_module) == {"0", "1", "-"}
    assert all(r.source and "test_memory.py" in r.source for r in ledger.rows)
    text = str(ledger)
    assert "activation-memory ledger" in text and "by module" in text
    assert format_bytes(ledger.total_bytes) in text
    loss.backward()
    assert memory_ledger(loss).total_bytes == 0  # backward released everything


def test_aux_arrays_are_counted():
    x = rg.tensor(np.random.default_rng(0).normal(size=(1, 1, 4, 4)), requires_grad=True)
    out = nn.functional.max_pool2d(x, 2)
    ledger = memory_ledger(out.sum())
    assert any(r.holds == "aux" and r.op == "max_pool2d" for r in ledger.rows)


def test_a_deep_chain_is_walked_without_recursion():
    x = rg.tensor(np.ones(2), requires_grad=True)
    y = x
    for _ in range(20_000):
        y = y.sin()
    ledger = memory_ledger(y)
    assert ledger.n_nodes == 20_000
    # sin keeps its input: every intermediate, plus x, a leaf that requires grad (not counted)
    assert ledger.total_bytes == (20_000 - 1) * 16
    assert ledger.parameter_bytes == 16


def test_watch_backward_sees_checkpoint_recomputation():
    from retrograd.utils.checkpoint import checkpoint

    rg.manual_seed(0)
    blocks = [nn.Sequential(nn.Linear(16, 16), nn.Tanh()) for _ in range(6)]
    x = rg.randn(8, 16)
    act = 8 * 16 * 4  # one activation

    h = x
    for block in blocks:
        h = block(h)
    loss = h.sum()
    plain = rg.diagnostics.watch_backward(loss)
    loss.backward()
    assert plain.start_bytes == plain.peak_bytes == 7 * act  # x and six tanh outputs
    last_linear = [n for op, n in plain.timeline if op == "linear"][-1]
    assert last_linear == act  # when the first linear runs, only x is left
    assert plain.timeline[-1] == ("linear", act)  # the first layer runs last, holding only x

    h = checkpoint(lambda t: blocks[2](blocks[1](blocks[0](t))), x)
    for block in blocks[3:]:
        h = block(h)
    loss = h.sum()
    watched = rg.diagnostics.watch_backward(loss)
    loss.backward()
    # x (kept by the checkpoint), the segment's output and the three later tanh outputs.
    assert watched.start_bytes == 5 * act
    ops = [op for op, _ in watched.timeline]
    after = [n for _, n in watched.timeline[ops.index("Checkpoint") + 1:]]
    # Recomputed: the segment's three tanh outputs, with x; the later blocks are released.
    assert max(after) == 4 * act
