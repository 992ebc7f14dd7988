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


def make_step(lib, n_ops):
    """One forward+backward of the chain in `lib` (retrograd or torch), and its x leaf."""
    x, w, b = _leaves(lambda a: lib.tensor(a, requires_grad=True))

    def step():
        x.grad = w.grad = b.grad = None
        chain(x, w, b, n_ops).backward()

    return step, x


def _grad(x):
    return np.array(x.grad.detach().numpy())  # the same spelling in both frameworks


def run(torch, quick=False):
    rows = []
    cases = [(1_000, 3 if quick else 50, 1e6, "us/op"), (20_000, 1 if quick else 7, 1e3, "ms")]
    for n_ops, repeats, scale, unit in cases:
        steps, leaves = {}, {}
        steps["retrograd"], leaves["retrograd"] = make_step(rg, n_ops)
        if torch is not None:
            steps["torch"], leaves["torch"] = make_step(torch, n_ops)
        seconds = median_seconds(steps, repeats)
        divisor = n_ops if unit == "us/op" else 1
        value = {name: s * scale / divisor for name, s in seconds.items()}
        note = ""
        if torch is not None:
            if not np.allclose(_grad(leaves["retrograd"]), _grad(leaves["torch"]), rtol=1e-4,
                               atol=1e-6):
                note = "gradients differ from torch!"
        what = "per op" if unit == "us/op" else "total"
        rows.append(Row(f"chain of {n_ops:,} ops on ({SIZE},), fwd+bwd, {what}", unit,
                        value["retrograd"], value.get("torch"), note=note))
    return rows
