"""Truncated backpropagation through time, and what the truncation length costs.

An LSTM reads one long stream of random numbers and must output, at every step, the number it
read `delay` steps earlier. It is trained with rg.nn.utils.tbptt on chunks of k steps: the state
(its memory) is carried across chunks, but gradients are cut at chunk boundaries. With k shorter
than the delay, no gradient ever connects an output to the input it should recall, so the LSTM
cannot learn the task; with k a few times the delay it learns it. The script trains one model
per k and prints the loss (the target's variance is about 1: 1.0 means nothing was learned).

    python examples/lstm_tbptt.py [--delay 6] [--ks 3 24] [--passes 12] [--seed 0]

About half a minute on two cores.
"""

import argparse
import time

import retrograd as rg
import retrograd.nn.functional as F
from retrograd import nn


def make_stream(length, batch, delay, seed):
    gen = rg.Generator().manual_seed(seed)
    x = rg.randn(length, batch, 1, generator=gen)
    y = rg.cat([rg.zeros(delay, batch, 1), x[:-delay]])  # the input `delay` steps earlier
    return x, y


def train(k, x, y, passes, hidden, seed):
    rg.manual_seed(seed)
    lstm = nn.LSTM(1, hidden)
    head = nn.Linear(hidden, 1)
    opt = rg.optim.Adam([*lstm.parameters(), *head.parameters()], lr=0.01)

    def step(chunk, target, state):
        out, state = lstm(chunk, state)
        return F.mse_loss(head(out), target), state

    for _ in range(passes):
        result = rg.nn.utils.tbptt(step, x, k, targets=y, optimizer=opt)
    return lstm, head, sum(result.losses[-20:]) / len(result.losses[-20:])


def evaluate(lstm, head, x, y):
    with rg.no_grad():
        out, _ = lstm(x)
        return F.mse_loss(head(out), y).item()


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--delay", type=int, default=6)
    parser.add_argument("--ks", type=int, nargs="+", default=[3, 24],
                        help="truncation lengths to compare")
    parser.add_argument("--passes", type=int, default=12, help="passes over the stream")
    parser.add_argument("--length", type=int, default=1200, help="steps in the stream")
    parser.add_argument("--hidden", type=int, default=32)
    parser.add_argument("--seed", type=int, default=0)
    args = parser.parse_args(argv)

    x, y = make_stream(args.length, 16, args.delay, args.seed)
    x_test, y_test = make_stream(400, 16, args.delay, args.seed + 1)
    results = {}
    for k in args.ks:
        start = time.perf_counter()
        lstm, head, train_loss = train(k, x, y, args.passes, args.hidden, args.seed)
        test_loss = evaluate(lstm, head, x_test, y_test)
        results[k] = test_loss
        print(f"k = {k:3d}: train loss {train_loss:.3f}, test loss {test_loss:.3f} "
              f"({time.perf_counter() - start:.1f} s)")
    print(f"delay {args.delay}: " + ", ".join(
        f"k={k} {'learned' if loss < 0.3 else 'did not learn'} the echo"
        for k, loss in results.items()))
    return results


if __name__ == "__main__":
    main()
