"""What the training monitor costs: the digits MLP and CNN of `retrograd train` (same widths,
batch 32, Adam) trained by `rg.train.Trainer` with and without `rg.monitor.Monitor` at its
default interval (every 100 steps, as `retrograd train` runs it), time per optimizer step and
the overhead in percent. Target: under 10%.

    python benchmarks/bench_monitor.py [--epochs 4] [--repeats 3] [--every 100]

Runs alternate (plain, monitored, plain, ...) and the fastest of `--repeats` is kept for each,
so a busy machine's slow moments do not land on one side only. Needs scikit-learn (digits).
"""

import argparse
import os
import sys
import tempfile
import time

os.environ.setdefault("OPENBLAS_NUM_THREADS", "1")  # as `retrograd train --threads 1`
os.environ.setdefault("OMP_NUM_THREADS", "1")

import retrograd as rg  # noqa: E402
from retrograd.cli import WIDTHS  # noqa: E402
from retrograd.monitor import Monitor  # noqa: E402
from retrograd.train.models import build_model  # noqa: E402
from retrograd.utils.data import DataLoader  # noqa: E402

BATCH = 32


def seconds_per_step(model_name, train_set, epochs, every, run_dir):
    """Train a fresh model for `epochs`; seconds per optimizer step (the fit loop's own
    time, without model construction)."""
    rg.manual_seed(0)
    model = build_model(model_name, (1, 8, 8), 10, **WIDTHS["digits"][model_name])
    optimizer = rg.optim.Adam(model.parameters(), lr=3e-3)
    loader = DataLoader(train_set, batch_size=BATCH, shuffle=True, generator=rg.Generator(seed=1))
    callbacks = [Monitor(run_dir, every=every)] if every else []
    trainer = rg.train.Trainer(model, rg.nn.functional.cross_entropy, optimizer,
                               callbacks=callbacks, progress=False, verbose=False)
    start = time.perf_counter()
    trainer.fit(loader, epochs=epochs)
    return (time.perf_counter() - start) / (epochs * len(loader))


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--epochs", type=int, default=4)
    parser.add_argument("--repeats", type=int, default=3)
    parser.add_argument("--every", type=int, default=100)
    parser.add_argument("--models", nargs="+", default=["mlp", "cnn"])
    args = parser.parse_args(argv)
    train_set = rg.datasets.digits().train
    steps = args.epochs * -(-len(train_set) // BATCH)
    print(f"digits, batch {BATCH}, {args.epochs} epochs = {steps} steps per run, monitor every "
          f"{args.every} steps; best of {args.repeats}")
    worst = 0.0
    for name in args.models:
        plain, monitored = [], []
        for repeat in range(args.repeats):
            with tempfile.TemporaryDirectory() as tmp:
                plain.append(seconds_per_step(name, train_set, args.epochs, 0, tmp))
                monitored.append(seconds_per_step(name, train_set, args.epochs, args.every,
                                                  os.path.join(tmp, str(repeat))))
        base, mon = min(plain), min(monitored)
        overhead = 100 * (mon - base) / base
        worst = max(worst, overhead)
        print(f"{name}: {1e3 * base:.2f} ms/step plain, {1e3 * mon:.2f} ms/step monitored: "
              f"overhead {overhead:+.1f}%", flush=True)
    print(f"worst overhead {worst:+.1f}% (target < 10%)")
    return 0 if worst < 10 else 1


if __name__ == "__main__":
    sys.exit(main())
