"""Activation memory and step time: gradient checkpointing and mixed precision.

    python benchmarks/bench_memory.py             # 32 layers of width 1024, batch 256 (~2 min)
    python benchmarks/bench_memory.py --quick     # 8 layers of width 128, batch 32 (seconds)
    python benchmarks/bench_memory.py --json results.json

One training step (zero_grad, forward, mean-square loss, backward, SGD step) of an MLP of
`--layers` blocks Linear(width, width) + ReLU, in three ways:

- plain: no checkpointing;
- sqrt: `checkpoint_sequential`'s segments for round(sqrt(layers)) chunks of blocks (the last
  one is not checkpointed, as in PyTorch);
- plan: the segments `plan_checkpoints` chooses for a budget of a quarter of plain's peak, over
  the chain of Linear and ReLU modules (so it may cut between a Linear and its ReLU).

Memory, each configuration in a fresh process so that peaks do not mix (parameter gradients are
allocated and touched before the step, so they are not counted):

- graph at forward end / graph peak: what the graph keeps for backward (the activation-memory
  ledger) when backward starts, and its largest value while backward runs
  (`rg.diagnostics.watch_backward`), which includes a checkpointed segment's recomputation;
- traced peak: tracemalloc's peak over the step above its start (NumPy reports its arrays to
  tracemalloc): activations plus the transient gradient arrays of backward;
- RSS peak: the process's peak resident memory (VmHWM, reset before the step) above its
  resident memory before the step, with glibc's mmap threshold fixed at 64 KiB so that freed
  arrays leave the resident set at once. The same measure for PyTorch (torch.utils.checkpoint, same
  segments): its CPU allocator is invisible to tracemalloc, so RSS is the one measure both
  share.

Step time: the median of `--repeats` steps, frameworks and configurations taking turns, in this
process. Then mixed precision: the ledger of the same MLP's forward under autocast, and a
GradScaler fed an injected inf gradient.
"""

import argparse
import json
import math
import os
import subprocess
import sys
import tracemalloc

HERE = os.path.dirname(os.path.abspath(__file__))


def parse_args(argv=None):
    parser = argparse.ArgumentParser(description="activation memory: checkpointing and amp")
    parser.add_argument("--quick", action="store_true", help="small sizes, few repeats")
    parser.add_argument("--layers", type=int, default=None, help="blocks (default 32)")
    parser.add_argument("--width", type=int, default=None, help="width (default 1024)")
    parser.add_argument("--batch", type=int, default=None, help="batch size (default 256)")
    parser.add_argument("--repeats", type=int, default=None, help="timed steps (default 5)")
    parser.add_argument("--threads", type=int, default=1, help="BLAS and torch threads")
    parser.add_argument("--no-torch", action="store_true", help="skip PyTorch")
    parser.add_argument("--json", metavar="PATH", help="also write the results as JSON")
    parser.add_argument("--measure", nargs=2, metavar=("FRAMEWORK", "SEGMENTS"),
                        help=argparse.SUPPRESS)  # internal: one measurement in a fresh process
    args = parser.parse_args(argv)
    defaults = (8, 128, 32, 2) if args.quick else (32, 1024, 256, 5)
    for name, value in zip(("layers", "width", "batch", "repeats"), defaults):
        if getattr(args, name) is None:
            setattr(args, name, value)
    return args


def _limit_threads(n):
    for var in ("OMP_NUM_THREADS", "OPENBLAS_NUM_THREADS", "MKL_NUM_THREADS"):
        os.environ[var] = str(n)


# ----------------------------------------------------------------- the models and the step


def rg_model(args):
    import retrograd as rg

    rg.manual_seed(0)
    nn = rg.nn
    blocks = [nn.Sequential(nn.Linear(args.width, args.width), nn.ReLU())
              for _ in range(args.layers)]
    x = rg.randn(args.batch, args.width)
    return nn.Sequential(*blocks), x


def torch_model(args, torch):
    torch.manual_seed(0)
    nn = torch.nn
    blocks = [nn.Sequential(nn.Linear(args.width, args.width), nn.ReLU())
              for _ in range(args.layers)]
    return nn.Sequential(*blocks), torch.randn(args.batch, args.width)


def layers_of(model):
    """The chain of Linear and ReLU modules of the MLP, in order."""
    return [m for block in model.children() for m in block.children()]


def run_segments(blocks, segments, x, checkpoint):
    """Modules in `segments` [(start, end, checkpointed)]; `checkpoint(fn, x)` for the
    checkpointed ones."""
    for start, end, checkpointed in segments:
        def run(h, part=blocks[start:end + 1]):
            for block in part:
                h = block(h)
            return h

        x = checkpoint(run, x) if checkpointed else run(x)
    return x


def sqrt_segments(n):
    """checkpoint_sequential's segments for round(sqrt(n)) chunks of n blocks, as segments of
    the chain of 2n Linear and ReLU modules."""
    chunks = max(1, round(math.sqrt(n)))
    size = n // chunks
    segments = [(start, start + size - 1, True) for start in range(0, size * (chunks - 1), size)]
    last = segments[-1][1] + 1 if segments else 0
    return [(2 * a, 2 * b + 1, c) for a, b, c in [*segments, (last, n - 1, False)]]


def rg_step(model, x, opt, segments):
    from retrograd.utils.checkpoint import checkpoint

    opt.zero_grad(set_to_none=False)
    out = run_segments(layers_of(model), segments, x, checkpoint)
    loss = (out ** 2).mean()
    return loss


def torch_step(model, x, opt, segments, torch):
    from torch.utils.checkpoint import checkpoint

    def ckpt(fn, h):
        return checkpoint(fn, h, use_reentrant=False)

    opt.zero_grad(set_to_none=False)
    out = run_segments(layers_of(model), segments, x, ckpt)
    return (out ** 2).mean()


# ----------------------------------------------------------------- one measurement per process


def reset_peak_rss():
    """Reset the kernel's peak-RSS mark (VmHWM) to the current RSS (Linux >= 4.0). ru_maxrss
    can't be used: it keeps the parent's size across fork and exec."""
    with open("/proc/self/clear_refs", "w") as f:
        f.write("5")


def rss(field):
    with open("/proc/self/status") as f:
        for line in f:
            if line.startswith(field + ":"):
                return int(line.split()[1]) * 1024
    raise RuntimeError(f"no {field} in /proc/self/status")


def warm_up(args, framework, segments):
    """The same step on a tiny model of the same depth: lazy imports and the BLAS library's
    own buffers are allocated before the measured step, not during it."""
    tiny = argparse.Namespace(**{**vars(args), "width": 4, "batch": 2})
    if framework == "torch":
        import torch

        model, x = torch_model(tiny, torch)
        opt = torch.optim.SGD(model.parameters(), lr=1e-3)
        torch_step(model, x, opt, segments, torch).backward()
    else:
        import retrograd as rg

        model, x = rg_model(tiny)
        opt = rg.optim.SGD(model.parameters(), lr=1e-3)
        rg_step(model, x, opt, segments).backward()
    opt.step()


def measure(args):
    framework, segments = args.measure[0], [tuple(s) for s in json.loads(args.measure[1])]
    warm_up(args, framework, segments)
    if framework == "torch":
        import torch

        torch.set_num_threads(args.threads)
        model, x = torch_model(args, torch)
        opt = torch.optim.SGD(model.parameters(), lr=1e-3)
        for p in model.parameters():
            p.grad = torch.ones_like(p).zero_()  # allocated and touched before the step
        reset_peak_rss()
        before = rss("VmRSS")
        loss = torch_step(model, x, opt, segments, torch)
        loss.backward()
        opt.step()
        return {"rss_peak": rss("VmHWM") - before}

    import numpy as np

    import retrograd as rg

    model, x = rg_model(args)
    opt = rg.optim.SGD(model.parameters(), lr=1e-3)
    for p in model.parameters():
        p.grad = rg.tensor(np.ones_like(p.detach().numpy()) * 0)
    reset_peak_rss()
    before = rss("VmRSS")
    loss = rg_step(model, x, opt, segments)
    loss.backward()
    opt.step()
    result = {"rss_peak": rss("VmHWM") - before}
    # A second, instrumented step: tracemalloc and the ledger.
    tracemalloc.start()
    start = tracemalloc.get_traced_memory()[0]
    tracemalloc.reset_peak()
    loss = rg_step(model, x, opt, segments)
    watched = rg.diagnostics.watch_backward(loss)
    loss.backward()
    opt.step()
    result["traced_peak"] = tracemalloc.get_traced_memory()[1] - start
    tracemalloc.stop()
    result["graph_forward_end"] = watched.start_bytes
    result["graph_peak"] = watched.peak_bytes
    return result


def in_fresh_process(args, framework, segments):
    command = [sys.executable, os.path.abspath(__file__), "--measure", framework,
               json.dumps(segments), "--layers", str(args.layers), "--width", str(args.width),
               "--batch", str(args.batch), "--threads", str(args.threads)]
    # NOTE: a fixed mmap threshold makes glibc give every freed large array back to the system
    # at once (its default threshold adapts upwards as arrays are freed, after which freed
    # memory stays resident and RSS no longer follows what is live).
    env = {**os.environ, "MALLOC_MMAP_THRESHOLD_": str(64 * 1024)}
    done = subprocess.run(command, capture_output=True, text=True, check=False, timeout=1200,
                          env=env)
    if done.returncode != 0:
        raise RuntimeError(f"measurement failed:\n{done.stderr}")
    return json.loads(done.stdout.strip().splitlines()[-1])


# ----------------------------------------------------------------- the report


def mib(n):
    return "-" if n is None else f"{n / 2**20:.1f}"


def checkpointing(args, torch):
    import numpy as np

    import retrograd as rg
    from retrograd.utils.checkpoint import measure_modules, plan_checkpoints

    sys.path.insert(0, HERE)
    from _timing import median_seconds

    from retrograd.utils.checkpoint._planner import _smallest_peak, evaluate

    model, x = rg_model(args)
    layers = layers_of(model)
    costs = measure_modules(layers, x, cost="time")
    plain_peak = evaluate([(0, len(layers) - 1, False)], costs)[0]
    plan = plan_checkpoints(layers, x, max(plain_peak // 4, _smallest_peak(costs)), costs=costs)
    print(plan)
    configs = {"plain": [(0, len(layers) - 1, False)], "sqrt": sqrt_segments(args.layers),
               "plan": [list(s) for s in plan.segments]}
    frameworks = ["retrograd"] + (["torch"] if torch is not None else [])
    memory = {}
    for name, segments in configs.items():
        for fw in frameworks:
            memory[fw, name] = in_fresh_process(args, "torch" if fw == "torch" else "rg",
                                                segments)

    steps = {}
    opt = rg.optim.SGD(model.parameters(), lr=1e-3)
    for p in model.parameters():
        p.grad = rg.tensor(np.zeros_like(p.detach().numpy()))
    if torch is not None:
        tmodel, tx = torch_model(args, torch)
        topt = torch.optim.SGD(tmodel.parameters(), lr=1e-3)
    for name, segments in configs.items():
        def rg_fn(segments=segments):
            loss = rg_step(model, x, opt, segments)
            loss.backward()
            opt.step()

        steps["retrograd", name] = rg_fn
        if torch is not None:
            def torch_fn(segments=segments):
                loss = torch_step(tmodel, tx, topt, segments, torch)
                loss.backward()
                topt.step()

            steps["torch", name] = torch_fn
    seconds = median_seconds(steps, args.repeats)

    header = ("framework", "config", "segments", "graph fwd end MiB", "graph peak MiB",
              "traced peak MiB", "RSS peak MiB", "step s", "time vs plain")
    rows, results = [], []
    for fw in frameworks:
        for name, segments in configs.items():
            m, t = memory[fw, name], seconds[fw, name]
            n_ckpt = sum(1 for s in segments if s[2])
            rows.append((fw, name, f"{n_ckpt}+{len(segments) - n_ckpt}",
                         mib(m.get("graph_forward_end")), mib(m.get("graph_peak")),
                         mib(m.get("traced_peak")), mib(m["rss_peak"]), f"{t:.3f}",
                         f"{t / seconds[fw, 'plain']:.2f}x"))
            results.append({"framework": fw, "config": name, "segments": segments,
                            **m, "step_seconds": t})
    print_table(header, rows)
    rg_mem = {name: memory["retrograd", name] for name in configs}
    for name in ("sqrt", "plan"):
        print(f"retrograd {name}: activation memory (graph peak) "
              f"{rg_mem['plain']['graph_peak'] / rg_mem[name]['graph_peak']:.2f}x smaller, "
              f"traced peak {rg_mem['plain']['traced_peak'] / rg_mem[name]['traced_peak']:.2f}x, "
              f"RSS peak {rg_mem['plain']['rss_peak'] / rg_mem[name]['rss_peak']:.2f}x; step "
              f"time {seconds['retrograd', name] / seconds['retrograd', 'plain']:.2f}x")
    print(f"plan: predicted peak {mib(plan.predicted_peak_bytes)} MiB, measured graph peak "
          f"{mib(rg_mem['plan']['graph_peak'])} MiB")
    return results


def mixed_precision(args):
    import retrograd as rg

    model, x = rg_model(args)
    out = {}
    for name, dtype in (("float32", None), ("float16", rg.float16), ("bfloat16", rg.bfloat16)):
        if name == "bfloat16" and dtype is None:
            print("bfloat16: skipped (needs ml_dtypes)")
            continue
        if dtype is None:
            ledger = rg.diagnostics.memory_ledger((model(x) ** 2).mean())
        else:
            with rg.amp.autocast(dtype=dtype):
                ledger = rg.diagnostics.memory_ledger((model(x) ** 2).mean())
        out[name] = {"activation_bytes": ledger.activation_bytes,
                     "parameter_copy_bytes": ledger.parameter_copy_bytes}
    base = out["float32"]["activation_bytes"]
    for name, m in out.items():
        print(f"autocast {name:8}: activations {mib(m['activation_bytes'])} MiB "
              f"({base / m['activation_bytes']:.2f}x smaller than float32), parameter copies "
              f"{mib(m['parameter_copy_bytes'])} MiB")
    return out


def scaler_demo():
    import logging

    import retrograd as rg

    logging.getLogger("retrograd.amp").setLevel(logging.ERROR)  # the table says it
    p = rg.nn.Parameter(rg.ones(4))
    opt = rg.optim.SGD([p], lr=0.1)
    scaler = rg.amp.GradScaler(init_scale=2.0**16, growth_interval=2)
    rows = []
    for step in range(1, 7):
        opt.zero_grad()
        scaler.scale((p * p).sum()).backward()
        if step == 3:  # an injected overflow
            p.grad.data[0] = float("inf")
        before = p.detach().numpy().copy()
        scaler.step(opt)
        scaler.update()
        moved = bool((p.detach().numpy() != before).any())
        rows.append({"step": step, "inf": step == 3, "stepped": moved,
                     "scale": scaler.get_scale()})
    print("GradScaler with an inf gradient injected at step 3 (growth_interval=2):")
    for r in rows:
        print(f"  step {r['step']}: {'inf ' if r['inf'] else 'ok  '} "
              f"{'stepped' if r['stepped'] else 'SKIPPED'}  scale {r['scale']:g}")
    print(f"  skipped steps: {scaler.skipped_steps}")
    return rows


def print_table(header, rows):
    widths = [max(len(str(c)) for c in col) for col in zip(header, *rows)]
    for k, row in enumerate([header, *rows]):
        print("  ".join(str(c).rjust(w) if i > 1 else str(c).ljust(w)
                        for i, (c, w) in enumerate(zip(row, widths))))
        if k == 0:
            print("  ".join("-" * w for w in widths))


def main(argv=None):
    args = parse_args(argv)
    _limit_threads(args.threads)
    if args.measure:
        print(json.dumps(measure(args)))
        return 0
    torch = None
    if not args.no_torch:
        sys.path.insert(0, HERE)
        from _timing import load_torch

        torch = load_torch(args.threads)
    print(f"MLP: {args.layers} blocks of Linear({args.width}, {args.width}) + ReLU, batch "
          f"{args.batch}; {args.threads} thread(s); medians of {args.repeats} steps")
    results = {"checkpointing": checkpointing(args, torch), "amp": mixed_precision(args),
               "grad_scaler": scaler_demo(),
               "sizes": {k: getattr(args, k) for k in ("layers", "width", "batch")}}
    if args.json:
        with open(args.json, "w", encoding="utf-8") as f:
            json.dump(results, f, indent=2)
    return 0


if __name__ == "__main__":
    sys.exit(main())
