"""Shared timing helpers: medians over repeats, and the optional PyTorch reference."""

import gc
import statistics
import time


def median_seconds(fns, repeats, warmup=1):
    """{name: median wall time of fns[name]()} over `repeats` calls each, after `warmup`
    untimed calls. The frameworks take turns, one call each per round, so a machine that gets
    busier or quieter during the run affects them alike."""
    for _ in range(warmup):
        for fn in fns.values():
            fn()
    gc.collect()
    times = {name: [] for name in fns}
    for _ in range(repeats):
        for name, fn in fns.items():
            start = time.perf_counter()
            fn()
            times[name].append(time.perf_counter() - start)
    return {name: statistics.median(t) for name, t in times.items()}


def load_torch(threads):
    """PyTorch with `threads` intra-op threads, or None when it is not installed."""
    try:
        import torch
    except ImportError:
        return None
    torch.set_num_threads(threads)
    return torch


class Row:
    """One line of the results table: the same work timed in each framework (None = not run)."""

    def __init__(self, name, unit, retrograd, torch=None, numpy=None, note=""):
        self.name = name
        self.unit = unit
        self.retrograd = retrograd
        self.torch = torch
        self.numpy = numpy
        self.note = note

    def as_dict(self):
        return dict(vars(self))
