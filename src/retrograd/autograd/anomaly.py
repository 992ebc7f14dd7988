"""Anomaly detection: remember where each op was created and stop at the first NaN/Inf.

`detect_anomaly()` makes every op record the user's source line (the first stack frame outside
retrograd) on its graph node, checks every forward output and every backward gradient for NaN and
Inf, and raises at the first non-finite value with the op's name and that line.
"""

import os
import sys

import numpy as np

from . import graph
from .tensor import Tensor

_PACKAGE_DIR = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))


class AnomalyError(RuntimeError):
    """A NaN or Inf appeared; the message names the op and the line that created it."""

    def __init__(self, message, op_name=None, source=None, phase=None):
        super().__init__(message)
        self.op_name = op_name
        self.source = source
        self.phase = phase


class AnomalyMode:
    def __init__(self, check_nan=True):
        self.check_nan = check_nan

    @staticmethod
    def source_line():
        frame = sys._getframe(1)
        while frame is not None and frame.f_code.co_filename.startswith(_PACKAGE_DIR):
            frame = frame.f_back
        if frame is None:
            return None
        code = _read_line(frame.f_code.co_filename, frame.f_lineno)
        where = f"{frame.f_code.co_filename}:{frame.f_lineno} in {frame.f_code.co_name}"
        return f"{where}: {code}" if code else where

    def check_forward(self, op, xs, out):
        if not self.check_nan or _all_finite(out.data):
            return
        if any(not _all_finite(x.data) for x in xs):
            return  # the non-finite value came in; report only where it first appears
        source = self.source_line()
        raise AnomalyError(
            f"forward: op '{op.name}' produced NaN/Inf from finite inputs"
            f"{_input_stats(x.data for x in xs)}\n  created at {source}",
            op_name=op.name,
            source=source,
            phase="forward",
        )

    def check_backward(self, node, index, gx, g=None):  # g: the gradient flowing into node
        # a rule may return a NumPy scalar (0-d inputs), whose .data is a memoryview
        data = gx.data if isinstance(gx, Tensor) else np.asarray(gx)
        if not self.check_nan or _all_finite(data):
            return
        raise AnomalyError(
            f"backward: the gradient of op '{node.op.name}' for its input {index} contains "
            f"NaN/Inf\n  the op was created at {node.source}",
            op_name=node.op.name,
            source=node.source,
            phase="backward",
        )


class detect_anomaly:  # noqa: N801 - PyTorch's name
    """Context manager: record source lines and raise at the first NaN/Inf, forward or backward."""

    def __init__(self, check_nan=True):
        self.mode = AnomalyMode(check_nan)

    def __enter__(self):
        self._previous = graph.set_anomaly(self.mode)
        return self

    def __exit__(self, *exc_info):
        graph.set_anomaly(self._previous)
        return False


def is_anomaly_enabled():
    return graph.get_anomaly() is not None


def _all_finite(array):
    if array.dtype.kind not in "fc":
        return True
    return bool(np.isfinite(array).all())


def _input_stats(arrays):
    parts = []
    for i, a in enumerate(arrays):
        if a.size and a.dtype.kind in "fiu":
            parts.append(f"input {i}: shape {a.shape}, min {a.min():.4g}, max {a.max():.4g}")
    return ("\n  " + "\n  ".join(parts)) if parts else ""


def _read_line(filename, lineno):
    import linecache  # noqa: PLC0415 - only needed in anomaly mode

    return linecache.getline(filename, lineno).strip()
