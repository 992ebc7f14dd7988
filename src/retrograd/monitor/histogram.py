"""Histograms as compact, JSON-ready records, and bounded samples of large tensors.

A histogram record is a plain dict:

    {"edges": [e0, ..., eB], "counts": [c1, ..., cB],   # B equal-width bins over [min, max]
     "n": finite values counted, "nonfinite": NaN/inf values left out of the bins,
     "min", "max", "mean", "std": of the finite values (None when there are none),
     "zeros": fraction of the values that are exactly 0}

Each histogram has its own range (the values' min and max, as TensorBoard does), so a record
stands on its own; a viewer that lines up several steps maps each one's edges onto a common
axis. Values equal to the maximum fall into the last bin. A constant tensor gets one bin of
width 1 centred on its value; a tensor with no finite value gets no bins.
"""

import math

import numpy as np

__all__ = ["histogram", "bounded_sample", "merge_range"]

DEFAULT_BINS = 30


def histogram(values, bins=DEFAULT_BINS):
    """The histogram record (see the module docstring) of an array-like's values."""
    if not isinstance(bins, int) or isinstance(bins, bool) or bins < 1:
        raise ValueError(f"histogram: bins must be a positive int, got {bins!r}")
    flat = np.asarray(values).ravel()
    if flat.dtype.kind == "c":
        raise TypeError(f"histogram: complex values ({flat.dtype}) have no order to bin by")
    if flat.dtype.kind != "f":  # ints, bools, bfloat16 (an ml_dtypes 'V' kind)
        flat = flat.astype(np.float64)
    total = int(flat.size)
    finite_mask = np.isfinite(flat)
    finite = flat[finite_mask].astype(np.float64, copy=False)
    record = {"edges": [], "counts": [], "n": int(finite.size),
              "nonfinite": total - int(finite.size), "min": None, "max": None,
              "mean": None, "std": None,
              "zeros": float(np.count_nonzero(flat == 0)) / total if total else 0.0}
    if not finite.size:
        return record
    lo, hi = float(finite.min()), float(finite.max())
    record.update(min=lo, max=hi, mean=float(finite.mean()), std=float(finite.std()))
    if lo == hi:
        record.update(edges=[lo - 0.5, lo + 0.5], counts=[int(finite.size)])
        return record
    edges = np.linspace(lo, hi, bins + 1)
    # NOTE: np.histogram with an explicit range computes the bin of each value the same way
    # (the maximum lands in the last bin), and is several times faster than digitize here.
    counts, _ = np.histogram(finite, bins=bins, range=(lo, hi))
    record.update(edges=[float(e) for e in edges], counts=[int(c) for c in counts])
    return record


def bounded_sample(values, max_samples):
    """At most `max_samples` of the values, evenly strided through the flattened array.

    Deterministic and independent of any random generator, so that monitoring a run never
    changes the random numbers it draws.
    """
    flat = np.asarray(values).ravel()
    if max_samples is None or flat.size <= max_samples:
        return flat
    stride = math.ceil(flat.size / max_samples)
    return flat[::stride]


def merge_range(records):
    """(lowest edge, highest edge) over histogram records with bins; None if none has any."""
    edges = [(r["edges"][0], r["edges"][-1]) for r in records if r.get("edges")]
    if not edges:
        return None
    return min(e[0] for e in edges), max(e[1] for e in edges)
