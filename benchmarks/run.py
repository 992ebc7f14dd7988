"""Time retrograd against PyTorch (when installed) and hand-written NumPy, in one process.

    python benchmarks/run.py            # full run: medians over many repeats
    python benchmarks/run.py --quick    # smoke run: a few repeats, seconds
    python benchmarks/run.py --threads 2 --json results.json

NumPy's BLAS and PyTorch use the same number of threads (--threads, default 1: on a small or
busy machine, BLAS threads that wait on each other make timings swing by 10x or more).
Ratios are retrograd's time over the other's: 1.00x is a tie, above 1 retrograd is slower.
"""

import argparse
import json
import os
import platform
import sys


def parse_args(argv=None):
    parser = argparse.ArgumentParser(description="retrograd benchmarks")
    parser.add_argument("--quick", action="store_true", help="a few repeats only (smoke test)")
    parser.add_argument("--threads", type=int, default=1,
                        help="BLAS and torch threads (default: 1, the steadiest figures)")
    parser.add_argument("--only", choices=["chain", "mlp", "cnn", "lstm", "transformer"],
                        action="append",
                        help="run only these benchmarks (repeatable)")
    parser.add_argument("--no-torch", action="store_true", help="skip PyTorch even if installed")
    parser.add_argument("--json", metavar="PATH", help="also write the results as JSON")
    return parser.parse_args(argv)


def _limit_threads(n):
    # NOTE: BLAS libraries read these once, when NumPy is first imported.
    for var in ("OMP_NUM_THREADS", "OPENBLAS_NUM_THREADS", "MKL_NUM_THREADS"):
        os.environ[var] = str(n)


def _fmt(value):
    if value is None:
        return "-"
    return f"{value:.3g}" if value < 100 else f"{value:.0f}"


def _ratio(a, b):
    return "-" if a is None or b is None or b == 0 else f"{a / b:.2f}x"


def print_table(rows):
    header = ("benchmark", "unit", "retrograd", "torch", "numpy", "rg/torch", "rg/numpy")
    lines = [
        (r.name, r.unit, _fmt(r.retrograd), _fmt(r.torch), _fmt(r.numpy),
         _ratio(r.retrograd, r.torch), _ratio(r.retrograd, r.numpy))
        for r in rows
    ]
    widths = [max(len(str(c)) for c in column) for column in zip(header, *lines)]
    for k, line in enumerate([header, *lines]):
        cells = [c.ljust(w) if i < 2 else c.rjust(w) for i, (c, w) in enumerate(zip(line, widths))]
        print("  ".join(cells))
        if k == 0:
            print("  ".join("-" * w for w in widths))
    for r in rows:
        if r.note:
            print(f"WARNING {r.name}: {r.note}")


def main(argv=None):
    args = parse_args(argv)
    _limit_threads(args.threads)
    sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))

    import bench_chain
    import bench_lstm
    import bench_mlp
    import bench_transformer
    import cnn
    import numpy as np
    from _timing import load_torch

    import retrograd as rg

    torch = None if args.no_torch else load_torch(args.threads)
    print(f"retrograd {rg.__version__} | numpy {np.__version__} | "
          f"torch {torch.__version__ if torch else 'not installed'} | "
          f"python {platform.python_version()} | {args.threads} thread(s)"
          f"{' | quick run: timings are rough' if args.quick else ''}")
    benchmarks = {"chain": bench_chain, "mlp": bench_mlp, "cnn": cnn, "lstm": bench_lstm,
                  "transformer": bench_transformer}
    rows = []
    for name, module in benchmarks.items():
        if args.only is None or name in args.only:
            rows += module.run(torch, quick=args.quick)
    print_table(rows)
    if args.json:
        with open(args.json, "w") as f:
            json.dump({"threads": args.threads, "quick": args.quick,
                       "rows": [r.as_dict() for r in rows]}, f, indent=2)
    return 1 if any(r.note for r in rows) else 0


if __name__ == "__main__":
    sys.exit(main())
