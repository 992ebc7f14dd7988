"""An LSTM training step: input 32, hidden 128, 50 steps, batch 32, MSE on every output, SGD.

Rows:
- rg.nn.LSTM (the sequence primitive of ops/recurrent.py) against torch.nn.LSTM, and against
  the same kernels called by hand in NumPy (the limit: what the work costs with no framework);
- the same LSTM as a Python loop over rg.lstm_cell (the fused one-step primitive: three graph
  nodes per step), against torch.nn.LSTM;
- the same LSTM composed of retrograd ops, step by step (what a user writing the cell by hand
  gets, about a dozen nodes per step), against torch.nn.LSTM.

All start from the same float32 weights; the first step's losses must agree.

    python benchmarks/bench_lstm.py [--quick] [--threads N]   # this benchmark alone
    python benchmarks/run.py                                  # with the others
"""

if __name__ == "__main__":  # the runner sets BLAS threads, which NumPy reads when first imported
    import sys

    import run

    sys.exit(run.main(["--only", "lstm", *sys.argv[1:]]))

import numpy as np  # noqa: E402
from _timing import Row, median_seconds  # noqa: E402

import retrograd as rg  # noqa: E402
from retrograd.ops import _recurrent_lstm as kernels  # noqa: E402

INPUT, HIDDEN, STEPS, BATCH = 32, 128, 50, 32
LR = 0.01
NAMES = ("weight_ih_l0", "weight_hh_l0", "bias_ih_l0", "bias_hh_l0")


def problem(seed=0):
    """Inputs (L, N, I), targets (L, N, H) and PyTorch-initialised float32 weights."""
    rng = np.random.default_rng(seed)
    x = rng.standard_normal((STEPS, BATCH, INPUT)).astype(np.float32)
    y = rng.standard_normal((STEPS, BATCH, HIDDEN)).astype(np.float32)
    bound = 1 / np.sqrt(HIDDEN)
    shapes = [(4 * HIDDEN, INPUT), (4 * HIDDEN, HIDDEN), (4 * HIDDEN,), (4 * HIDDEN,)]
    weights = {n: rng.uniform(-bound, bound, s).astype(np.float32) for n, s in zip(NAMES, shapes)}
    return x, y, weights


def _step(lib, model, params, x, y):
    for p in params:
        p.grad = None
    out = model(x)
    loss = ((out - y) ** 2).mean()
    loss.backward()
    with lib.no_grad():
        for p in params:
            p -= LR * p.grad
    return loss.item()


def make_layer(lib, x, y, weights):
    """lib.nn.LSTM (retrograd or torch) with the given weights."""
    model = lib.nn.LSTM(INPUT, HIDDEN)
    model.load_state_dict({k: lib.tensor(v) for k, v in weights.items()})
    params = list(model.parameters())
    x, y = lib.tensor(x), lib.tensor(y)
    return lambda: _step(lib, lambda inp: model(inp)[0], params, x, y)


def make_composed(x, y, weights):
    """The LSTM written with retrograd ops, one cell at a time."""
    w_ih, w_hh, b_ih, b_hh = (rg.tensor(weights[n], requires_grad=True) for n in NAMES)

    def model(inp):
        xproj = rg.matmul(inp, w_ih.T) + (b_ih + b_hh)
        h = c = rg.zeros(BATCH, HIDDEN)
        hs = []
        for t in range(STEPS):
            i, f, g, o = (xproj[t] + h @ w_hh.T).chunk(4, 1)
            c = f.sigmoid() * c + i.sigmoid() * g.tanh()
            h = o.sigmoid() * c.tanh()
            hs.append(h)
        return rg.stack(hs)

    x, y = rg.tensor(x), rg.tensor(y)
    return lambda: _step(rg, model, [w_ih, w_hh, b_ih, b_hh], x, y)


def make_cell_loop(x, y, weights):
    """The LSTM as a loop over the fused one-step cell primitive."""
    w_ih, w_hh, b_ih, b_hh = (rg.tensor(weights[n], requires_grad=True) for n in NAMES)

    def model(inp):
        h = c = rg.zeros(BATCH, HIDDEN)
        hs = []
        for t in range(STEPS):
            h, c = rg.lstm_cell(inp[t], (h, c), w_ih, w_hh, b_ih, b_hh)
            hs.append(h)
        return rg.stack(hs)

    x, y = rg.tensor(x), rg.tensor(y)
    return lambda: _step(rg, model, [w_ih, w_hh, b_ih, b_hh], x, y)


def make_numpy(x, y, weights):
    """The same kernels, called by hand: the input projection, the recurrence and their
    gradients, with no graph."""
    w_ih, w_hh, b_ih, b_hh = (weights[n].copy() for n in NAMES)
    h0 = np.zeros((BATCH, HIDDEN), np.float32)
    x2 = x.reshape(-1, INPUT)

    def step():
        xproj = (x2 @ w_ih.T + (b_ih + b_hh)).reshape(STEPS, BATCH, -1)
        (hs, _, _), cache = kernels.forward(xproj, h0, h0, w_hh, reverse=False)
        diff = hs - y
        loss = float(np.mean(diff * diff))
        g_hs = diff * (2.0 / diff.size)
        g_xproj, _, _, g_w_hh = kernels.backward(
            cache, (g_hs, None, None), (xproj, h0, h0, w_hh), (True,) * 4, reverse=False
        )
        g_xproj = g_xproj.reshape(-1, 4 * HIDDEN)
        g_w_ih = g_xproj.T @ x2
        g_b = g_xproj.sum(0)
        for p, g in ((w_ih, g_w_ih), (w_hh, g_w_hh), (b_ih, g_b), (b_hh, g_b)):
            p -= LR * g
        return loss

    return step


def run(torch, quick=False):
    repeats, warmup = (3, 1) if quick else (20, 3)
    x, y, weights = problem()
    fused = {"retrograd": make_layer(rg, x, y, weights), "numpy": make_numpy(x, y, weights),
             "cells": make_cell_loop(x, y, weights), "composed": make_composed(x, y, weights)}
    if torch is not None:
        fused["torch"] = make_layer(torch, x, y, weights)
    first = {name: step() for name, step in fused.items()}  # from the same weights everywhere
    note = ""
    if max(first.values()) - min(first.values()) > 1e-4 * max(1.0, abs(first["numpy"])):
        note = "losses differ: " + ", ".join(f"{k} {v:.6f}" for k, v in first.items())
    ms = {name: 1e3 * s for name, s in median_seconds(fused, repeats, warmup).items()}
    size = f"LSTM {INPUT}-{HIDDEN}, seq {STEPS}, batch {BATCH}"
    return [
        Row(f"{size}, MSE + SGD step", "ms", ms["retrograd"], ms.get("torch"), ms["numpy"],
            note=note),
        Row(f"{size}, loop over rg.lstm_cell", "ms", ms["cells"], ms.get("torch"), ms["numpy"],
            note=note),
        Row(f"{size}, composed of ops (no fused primitive)", "ms", ms["composed"],
            ms.get("torch"), ms["numpy"], note=note),
    ]
