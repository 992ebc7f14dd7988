"""Per-op overhead: long chains of tiny elementwise ops, forward + backward.

The chain cycles through `y * w`, `y + b` and `tanh(y)` on (16,) tensors, where `w` and `b` are
leaves that require grad, so backward also accumulates each leaf's gradient hundreds of times.
At this size the arithmetic is nothing and the cost is the framework's own bookkeeping.
"""

import numpy as np
from _timing import Row, median_seconds

import retrograd as rg

SIZE = 16


def chain(x, w, b, n_ops):
    y = x
    for i in range(n_ops):
        k = i % 3
        if k == 0:
            y = y * w
        elif k == 1:
            y = y + b
        else:
            y = y.tanh()
    return y.sum()


def _leaves(make):
    rng = np.random.default_rng(0)
    x, w, b = (rng.uniform(0.5, 1.0, SIZE).astype(np.float32) for _ in range(3))
    return make(x), make(w), make(b)


def run_retrograd(n_ops, repeats):
    x, w, b = _leaves(lambda a: rg.tensor(a, requires_grad=True))

    def step():
        x.grad = w.grad = b.grad = None
        chain(x, w, b, n_ops).backward()

    return median_seconds(step, repeats), x.grad.data.copy()


def run_torch(torch, n_ops, repeats):
    x, w, b = _leaves(lambda a: torch.tensor(a, requires_grad=True))

    def step():
        x.grad = w.grad = b.grad = None
        chain(x, w, b, n_ops).backward()

    return median_seconds(step, repeats), x.grad.numpy().copy()


def run(torch, quick=False):
    rows = []
    cases = [(1_000, 3 if quick else 50, 1e6, "us/op"), (20_000, 1 if quick else 7, 1e3, "ms")]
    for n_ops, repeats, scale, unit in cases:
        rg_s, rg_grad = run_retrograd(n_ops, repeats)
        per_op = unit == "us/op"
        rg_value = rg_s * scale / (n_ops if per_op else 1)
        torch_value, note = None, ""
        if torch is not None:
            t_s, t_grad = run_torch(torch, n_ops, repeats)
            torch_value = t_s * scale / (n_ops if per_op else 1)
            if not np.allclose(rg_grad, t_grad, rtol=1e-4, atol=1e-6):
                note = "gradients differ from torch!"
        what = "per op" if per_op else "total"
        rows.append(Row(f"chain of {n_ops:,} ops on ({SIZE},), fwd+bwd, {what}", unit,
                        rg_value, torch_value, note=note))
    return rows
