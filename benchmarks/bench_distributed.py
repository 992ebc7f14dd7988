"""Data parallelism over MPI: throughput, all-reduce bandwidth, communication time per step.

    python benchmarks/bench_distributed.py            # an MLP of ~8.4M parameters (~2 min)
    python benchmarks/bench_distributed.py --quick    # a small MLP, few steps (seconds)
    python benchmarks/bench_distributed.py --json results.json

A standalone script (not part of benchmarks/run.py): it starts its own MPI jobs with the
`mpiexec` next to this Python (pip install 'retrograd[distributed]'). Configurations that can
share a process take turns step by step (one BLAS thread and two in one process; DDP and plain
steps on each rank), so a machine that gets busier or quieter affects them alike:

1. Throughput of training a compute-bound MLP (Linear 1024-2048-2048-1024-10, ReLU, float32,
   cross-entropy, SGD) on a global batch of 1024 samples per step (`--batch`):
   - one process, one BLAS thread, batches of 1024;
   - one process, two BLAS threads, batches of 1024;
   - two ranks with one BLAS thread each (DistributedDataParallel), batches of 512 per rank.
   Samples per second over the timed steps (median step time, after warm-up steps). Smaller
   batches are less compute-bound: a step also has a cost that does not shrink with the batch
   (the optimizer and the gradient arrays of 8.4M parameters, ~65 ms here), which every rank
   pays in full.
2. All-reduce of a 10M-parameter model's gradients (10M float32, 40 MB) on two ranks: MPI's
   Allreduce on the buffer, `rg.distributed.all_reduce` on a tensor, and DistributedDataParallel
   averaging a 10M-parameter layer's gradients (25 MB buckets, started during backward).
   Bandwidth = bytes / time (with two ranks NCCL's "bus bandwidth" is the same number).
3. Communication per step in the two-rank run of 1: the time backward's end waits for the
   reductions (DistributedDataParallel's reducer.comm_seconds), and the whole step's extra
   time over the same ranks training without DDP (each on its own 512 samples, side by side).
"""

import argparse
import json
import os
import statistics
import subprocess
import sys
import time
from pathlib import Path

HERE = Path(__file__).resolve()


def mpiexec():
    beside = Path(sys.executable).with_name("mpiexec")
    if beside.exists():
        return str(beside)
    import shutil

    found = shutil.which("mpiexec")
    if found is None:
        sys.exit("bench_distributed: no mpiexec; pip install 'retrograd[distributed]'")
    return found


# ---------------------------------------------------------------------------- workers


def _setup(threads):
    from threadpoolctl import threadpool_limits

    threadpool_limits(limits=threads, user_api="blas")


def _mlp(widths):
    import retrograd as rg
    from retrograd import nn

    rg.manual_seed(0)
    layers = []
    for i in range(len(widths) - 1):
        layers.append(nn.Linear(widths[i], widths[i + 1]))
        if i < len(widths) - 2:
            layers.append(nn.ReLU())
    return nn.Sequential(*layers)


def _step_fn(model, batch, widths):
    """One training step (zero_grad, forward, cross-entropy, backward, SGD step) as a function."""
    import numpy as np

    import retrograd as rg
    from retrograd.nn import functional as F

    rng = np.random.default_rng(1)
    x = rg.tensor(rng.standard_normal((batch, widths[0]), dtype=np.float32))
    y = rg.tensor(rng.integers(0, widths[-1], size=batch))
    opt = rg.optim.SGD(model.parameters(), lr=0.01)

    def step():
        opt.zero_grad()
        F.cross_entropy(model(x), y).backward()
        opt.step()

    return step


def _take_turns(fns, steps, warmup):
    """{name: median seconds}: the functions take turns, one call each per round, so a machine
    that gets busier or quieter affects them alike."""
    times = {name: [] for name in fns}
    for i in range(warmup + steps):
        for name, fn in fns.items():
            started = time.perf_counter()
            fn()
            if i >= warmup:
                times[name].append(time.perf_counter() - started)
    return {name: statistics.median(t) for name, t in times.items()}


def worker_single(args):
    """One process: the same step with one and with two BLAS threads, taking turns."""
    from threadpoolctl import threadpool_limits

    widths = json.loads(args.widths)
    step = _step_fn(_mlp(widths), args.batch, widths)

    def with_threads(n):
        def run():
            with threadpool_limits(limits=n, user_api="blas"):
                step()
        return run

    times = _take_turns({"1": with_threads(1), "2": with_threads(2)}, args.steps, args.warmup)
    print(json.dumps({f"{n}_thread": {"step_s": t, "samples_per_s": args.batch / t}
                      for n, t in times.items()}))


def worker_ddp(args):
    """Each rank: a DDP step on its share of the batch, and the same step without DDP (no
    communication), taking turns."""
    _setup(1)
    import retrograd as rg
    from retrograd.nn.parallel import DistributedDataParallel

    rg.distributed.init_process_group("mpi")
    rank, world = rg.distributed.get_rank(), rg.distributed.get_world_size()
    widths = json.loads(args.widths)
    local = args.batch // world
    ddp = DistributedDataParallel(_mlp(widths))
    whole = DistributedDataParallel(_mlp(widths), bucket_cap_mb=1e6)  # one bucket: no overlap
    fns = {"ddp": _step_fn(ddp, local, widths), "plain": _step_fn(_mlp(widths), local, widths),
           "one_bucket": _step_fn(whole, local, widths)}
    times = _take_turns(fns, args.steps, args.warmup)
    waited = ddp.reducer.comm_seconds / ddp.reducer.passes
    numbers = rg.tensor([times["ddp"], times["plain"], times["one_bucket"], waited],
                        dtype=rg.float64)
    rg.distributed.all_reduce(numbers, op=rg.distributed.ReduceOp.MAX)  # the slowest rank's
    if rank == 0:
        step, plain, one_bucket, waited = numbers.tolist()
        print(json.dumps({"step_s": step, "samples_per_s": args.batch / step,
                          "local_step_s": plain, "one_bucket_step_s": one_bucket,
                          "wait_s": waited, "buckets": len(ddp.reducer.buckets)}))


def worker_allreduce(args):
    _setup(1)
    import numpy as np

    import retrograd as rg
    from retrograd import nn
    from retrograd.nn.parallel import DistributedDataParallel

    rg.distributed.init_process_group("mpi")
    from mpi4py import MPI

    comm = MPI.COMM_WORLD
    n = args.params
    buf = np.ones(n, dtype=np.float32)
    tensor = rg.ones(n)

    def timed(fn, repeats=args.steps):
        fn()
        times = []
        for _ in range(repeats):
            comm.Barrier()
            started = time.perf_counter()
            fn()
            times.append(time.perf_counter() - started)
        return statistics.median(times)

    raw = timed(lambda: comm.Allreduce(MPI.IN_PLACE, buf, op=MPI.SUM))
    ours = timed(lambda: rg.distributed.all_reduce(tensor))
    side = int(round(np.sqrt(n)))
    rg.manual_seed(0)
    layer = nn.Linear(side, side, bias=False)  # ~n parameters, almost no arithmetic
    ddp = DistributedDataParallel(layer)
    x = rg.ones(1, side)

    def ddp_backward():
        layer.weight.grad = None
        ddp(x).sum().backward()

    averaged = timed(ddp_backward)
    nbytes = n * 4
    if comm.Get_rank() == 0:
        print(json.dumps({"bytes": nbytes, "mpi_s": raw, "rg_s": ours, "ddp_backward_s": averaged,
                          "ddp_buckets": len(ddp.reducer.buckets), "ddp_params": side * side}))


WORKERS = {"single": worker_single, "ddp": worker_ddp, "allreduce": worker_allreduce}


# ---------------------------------------------------------------------------- driver


def _run(command, threads):
    env = {**os.environ, "OMP_NUM_THREADS": str(threads), "OPENBLAS_NUM_THREADS": str(threads),
           "MKL_NUM_THREADS": str(threads)}
    result = subprocess.run(command, capture_output=True, text=True, env=env, timeout=1800)
    if result.returncode != 0:
        sys.exit(f"bench_distributed: {' '.join(command)} failed:\n{result.stdout}\n"
                 f"{result.stderr}")
    return json.loads(result.stdout.strip().splitlines()[-1])


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--quick", action="store_true", help="a small model and few steps")
    parser.add_argument("--json", metavar="PATH", help="also write the numbers as JSON")
    parser.add_argument("--worker", choices=sorted(WORKERS), help=argparse.SUPPRESS)
    parser.add_argument("--widths", help=argparse.SUPPRESS)
    parser.add_argument("--batch", type=int, default=None, help="global batch (samples per "
                        "step over all ranks; default 1024, 256 with --quick)")
    parser.add_argument("--steps", type=int, default=10, help=argparse.SUPPRESS)
    parser.add_argument("--warmup", type=int, default=2, help=argparse.SUPPRESS)
    parser.add_argument("--params", type=int, default=10_000_000, help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.worker:
        WORKERS[args.worker](args)
        return

    widths = [64, 128, 128, 10] if args.quick else [1024, 2048, 2048, 1024, 10]
    steps, warmup = (3, 1) if args.quick else (10, 2)
    params = 100_000 if args.quick else 10_000_000
    batch = args.batch or (256 if args.quick else 1024)
    common = ["--widths", json.dumps(widths), "--batch", str(batch), "--steps", str(steps),
              "--warmup", str(warmup)]
    me = [sys.executable, str(HERE)]
    print(f"MLP {'-'.join(map(str, widths))}, global batch {batch}, {steps} timed steps "
          f"(median), float32", flush=True)
    single = _run([*me, "--worker", "single", *common], 2)
    one, two = single["1_thread"], single["2_thread"]
    ddp = _run([mpiexec(), "-n", "2", *me, "--worker", "ddp", *common], 1)
    reduce = _run([mpiexec(), "-n", "2", *me, "--worker", "allreduce", "--params", str(params),
                   "--steps", str(max(steps, 5))], 1)

    rows = [("1 process, 1 BLAS thread", one), ("1 process, 2 BLAS threads", two),
            ("2 ranks x 1 BLAS thread (DDP)", ddp)]
    print(f"\n{'configuration':34} {'step':>9} {'samples/s':>10} {'vs 1 thread':>12}")
    for name, r in rows:
        print(f"{name:34} {1000 * r['step_s']:7.1f}ms {r['samples_per_s']:10.0f} "
              f"{r['samples_per_s'] / one['samples_per_s']:11.2f}x")
    extra = ddp["step_s"] - ddp["local_step_s"]
    print(f"\ncommunication per step (2 ranks, {ddp['buckets']} buckets of <= 25 MB): backward's "
          f"end waits {1000 * ddp['wait_s']:.1f} ms for the reductions (transfer, and the other "
          f"rank catching up); a DDP step takes {1000 * extra:+.1f} ms "
          f"({100 * extra / ddp['local_step_s']:+.1f}%) over the same ranks training without DDP "
          f"({1000 * ddp['local_step_s']:.1f} ms); with all gradients in one bucket (reduced "
          f"after backward, no overlap) a step takes {1000 * ddp['one_bucket_step_s']:.1f} ms")
    mb = reduce["bytes"] / 1e6
    print(f"\nall-reduce of {reduce['bytes'] // 4:,} float32 ({mb:.0f} MB) on 2 ranks:")
    for name, key in (("MPI Allreduce (mpi4py, in place)", "mpi_s"),
                      ("rg.distributed.all_reduce", "rg_s")):
        print(f"  {name:34} {1000 * reduce[key]:8.2f} ms  {mb / 1e3 / reduce[key]:6.2f} GB/s")
    ddp_s = reduce["ddp_backward_s"]
    ddp_gbs = reduce["ddp_params"] * 4 / 1e9 / ddp_s
    name = f"DDP backward, {reduce['ddp_params']:,}-weight Linear"
    print(f"  {name:34} {1000 * ddp_s:8.2f} ms  {ddp_gbs:6.2f} GB/s  (the backward included; "
          f"{reduce['ddp_buckets']} buckets)")
    if args.json:
        Path(args.json).write_text(json.dumps({"widths": widths, "batch": batch, "one_thread": one,
                                               "two_threads": two, "ddp": ddp,
                                               "allreduce": reduce}, indent=2))


if __name__ == "__main__":
    main()
