"""Train a small network on two interleaved spirals with nothing but the raw engine.

Tensors, `@`, tanh and relu for the model; a loss written from primitives; `backward()` for
the gradients; and a hand-written SGD step. No nn.Module and no optimizer: this is what
those are built on. Runs in a few seconds:

    python examples/train_mlp.py [--steps 1500] [--lr 0.5] [--hidden 64] [--seed 0]
"""

import argparse
import math
import time

import numpy as np

import retrograd as rg


def two_spirals(n_per_class, noise, rng):
    """Points on two interleaved spiral arms (1.5 turns each), labels 0 and 1."""
    t = np.sqrt(rng.uniform(0.0, 1.0, n_per_class)) * 3 * np.pi
    arm = np.stack([t * np.cos(t), t * np.sin(t)], axis=1) / (3 * np.pi)
    x = np.concatenate([arm, -arm]) + rng.normal(0.0, noise, (2 * n_per_class, 2))
    y = np.concatenate([np.zeros(n_per_class), np.ones(n_per_class)])
    order = rng.permutation(2 * n_per_class)
    return rg.tensor(x[order], dtype=rg.float32), rg.tensor(y[order, None], dtype=rg.float32)


def init_params(sizes, generator):
    """Weights scaled by 1/sqrt(fan_in) (keeps tanh out of saturation), zero biases."""
    params = []
    for fan_in, fan_out in zip(sizes[:-1], sizes[1:]):
        w = rg.randn(fan_in, fan_out, generator=generator) * (1.0 / math.sqrt(fan_in))
        params += [w.requires_grad_(), rg.zeros(fan_out, requires_grad=True)]
    return params


def forward(params, x):
    w1, b1, w2, b2, w3, b3 = params
    h = (x @ w1 + b1).tanh()
    h = (h @ w2 + b2).relu()
    return h @ w3 + b3  # one logit per point


def bce_with_logits(z, y):
    """mean(log(1 + exp(z)) - y z), arranged so exp never overflows:
    log(1 + exp(z)) = relu(z) + log(1 + exp(-|z|))."""
    return (z.relu() - z * y + (1 + (-z.abs()).exp()).log()).mean()


def accuracy(z, y):
    return ((z.data > 0) == (y.data > 0.5)).mean()


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--steps", type=int, default=1500)
    parser.add_argument("--lr", type=float, default=0.5)
    parser.add_argument("--hidden", type=int, default=64)
    parser.add_argument("--seed", type=int, default=0)
    args = parser.parse_args(argv)

    rng = np.random.default_rng(args.seed)
    x_train, y_train = two_spirals(200, 0.02, rng)
    x_test, y_test = two_spirals(200, 0.02, rng)
    params = init_params([2, args.hidden, args.hidden, 1], rg.Generator().manual_seed(args.seed))
    print(f"two spirals: {len(x_train)} training points, {len(x_test)} held out; "
          f"MLP 2-{args.hidden}-{args.hidden}-1, {sum(p.numel() for p in params)} parameters")

    start = time.perf_counter()
    for step in range(args.steps + 1):
        z = forward(params, x_train)
        loss = bce_with_logits(z, y_train)
        for p in params:
            p.grad = None
        loss.backward()
        with rg.no_grad():
            for p in params:
                p -= args.lr * p.grad  # plain SGD, in place
        if step % (args.steps // 10 or 1) == 0:
            train_accuracy = accuracy(z, y_train)
            print(f"step {step:5d}  loss {loss.item():.4f}  train accuracy {train_accuracy:.3f}")

    with rg.no_grad():
        z_test = forward(params, x_test)
        test_loss = bce_with_logits(z_test, y_test).item()
    elapsed = time.perf_counter() - start
    print(f"held out: loss {test_loss:.4f}  accuracy {accuracy(z_test, y_test):.3f}  "
          f"({args.steps} steps in {elapsed:.1f} s)")
    return test_loss


if __name__ == "__main__":
    main()
