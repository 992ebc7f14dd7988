"""A LeNet training step: batch 64 of 1x28x28 images, cross-entropy, SGD with momentum.

The network is PyTorch's classic LeNet on MNIST-sized input: conv 1->6 5x5, ReLU, 2x2 max
pool, conv 6->16 5x5, ReLU, 2x2 max pool, then fully connected 256 -> 120 -> 84 -> 10, written
with each framework's own nn layers, functional cross-entropy and SGD optimizer, starting from
the same float32 weights. No hand-written NumPy column: the convolutions are what is measured.

    python benchmarks/cnn.py [--quick] [--threads N]   # this benchmark alone (via the runner)
    python benchmarks/run.py                           # with the others
"""

if __name__ == "__main__":  # the runner sets BLAS threads, which NumPy reads when first imported
    import sys

    import run

    sys.exit(run.main(["--only", "cnn", *sys.argv[1:]]))

import numpy as np  # noqa: E402
from _timing import Row, median_seconds  # noqa: E402

import retrograd as rg  # noqa: E402

BATCH = 64
LR = 0.01


def lenet(lib):
    nn = lib.nn
    return nn.Sequential(
        nn.Conv2d(1, 6, 5), nn.ReLU(), nn.MaxPool2d(2),
        nn.Conv2d(6, 16, 5), nn.ReLU(), nn.MaxPool2d(2),
        nn.Flatten(),
        nn.Linear(16 * 4 * 4, 120), nn.ReLU(),
        nn.Linear(120, 84), nn.ReLU(),
        nn.Linear(84, 10),
    )


def problem(seed=0):
    """Images, labels and one set of float32 weights (PyTorch's default init) for both."""
    rng = np.random.default_rng(seed)
    x = rng.standard_normal((BATCH, 1, 28, 28)).astype(np.float32)
    y = rng.integers(0, 10, BATCH)
    rg.manual_seed(seed)
    weights = {k: v.data.copy() for k, v in lenet(rg).state_dict().items()}
    return x, y, weights


def make_step(lib, x, y, weights):
    """One training step in `lib` (retrograd or torch): zero grads, forward, backward, update."""
    model = lenet(lib)
    model.load_state_dict({k: lib.tensor(v) for k, v in weights.items()})
    optimizer = lib.optim.SGD(model.parameters(), lr=LR, momentum=0.9)
    x, y = lib.tensor(x), lib.tensor(y)
    cross_entropy = lib.nn.functional.cross_entropy

    def step():
        optimizer.zero_grad()
        loss = cross_entropy(model(x), y)
        loss.backward()
        optimizer.step()
        return loss.item()

    return step


def run(torch, quick=False):
    repeats, warmup = (3, 1) if quick else (40, 5)
    x, y, weights = problem()
    steps = {"retrograd": make_step(rg, x, y, weights)}
    if torch is not None:
        steps["torch"] = make_step(torch, x, y, weights)
    # The first step starts from the same weights everywhere: the losses must agree.
    first = {name: step() for name, step in steps.items()}
    note = ""
    if max(first.values()) - min(first.values()) > 1e-4 * max(1.0, abs(first["retrograd"])):
        note = "losses differ: " + ", ".join(f"{k} {v:.6f}" for k, v in first.items())
    ms = {name: 1e3 * s for name, s in median_seconds(steps, repeats, warmup).items()}
    return [Row(f"LeNet 1x28x28, batch {BATCH}, CE + SGD step", "ms", ms["retrograd"],
                ms.get("torch"), note=note)]
