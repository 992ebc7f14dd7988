"""Shared timing helpers: medians over repeats, and the optional PyTorch reference."""

import gc
import statistics
import time


def median_seconds(fn, repeats, warmup=1):
    """Median wall time of `fn()` over `repeats` calls, after `warmup` untimed calls."""
    for _ in range(warmup):
        fn()
    gc.collect()
    times = []
    for _ in range(repeats):
        start = time.perf_counter()
        fn()
        times.append(time.perf_counter() - start)
    return statistics.median(times)


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
