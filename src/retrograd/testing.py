"""rg.testing.assert_close: PyTorch's torch.testing.assert_close for tests of model code.

Tensors (or nested lists, tuples and dicts of them, or numbers) are compared elementwise with
|actual - expected| <= atol + rtol |expected|, the tolerances defaulting by dtype as PyTorch's
do; shapes and (unless check_dtype=False) dtypes must match.
"""

import numpy as np

from .autograd.tensor import Tensor

__all__ = ["assert_close"]

_TOLERANCES = {"float16": (1e-3, 1e-5), "bfloat16": (1.6e-2, 1e-5), "float32": (1.3e-6, 1e-5),
               "float64": (1e-7, 1e-7)}


def _array(value):
    if isinstance(value, Tensor):
        return value.data
    return np.asarray(value)


def assert_close(actual, expected, *, allow_subclasses=True, rtol=None, atol=None,
                 equal_nan=False, check_device=True, check_dtype=True, check_layout=True,
                 check_stride=False, msg=None):
    """Raise AssertionError unless `actual` and `expected` are close (see the module doc)."""
    if (rtol is None) != (atol is None):
        raise ValueError("assert_close: give both rtol and atol, or neither")
    pairs = [("", actual, expected)]
    while pairs:
        where, a, b = pairs.pop()
        if isinstance(b, dict):
            if not isinstance(a, dict) or set(a) != set(b):
                raise AssertionError(f"assert_close: the keys differ{where}")
            pairs.extend((f"{where}[{k!r}]", a[k], b[k]) for k in b)
            continue
        if isinstance(b, (list, tuple)):
            if not isinstance(a, (list, tuple)) or len(a) != len(b):
                raise AssertionError(f"assert_close: the sequence lengths differ{where}")
            pairs.extend((f"{where}[{i}]", x, y) for i, (x, y) in enumerate(zip(a, b)))
            continue
        _compare(where, _array(a), _array(b), rtol, atol, equal_nan, check_dtype, msg)


def _compare(where, a, b, rtol, atol, equal_nan, check_dtype, msg):
    at = f" at {where}" if where else ""
    if a.shape != b.shape:
        raise AssertionError(msg or f"assert_close: the shapes differ{at}: {a.shape} and "
                                    f"{b.shape}")
    if check_dtype and a.dtype != b.dtype:
        raise AssertionError(msg or f"assert_close: the dtypes differ{at}: {a.dtype} and "
                                    f"{b.dtype}")
    if rtol is None:
        rtol, atol = _TOLERANCES.get(np.promote_types(a.dtype, b.dtype).name, (0.0, 0.0))
    x, y = a.astype(np.float64), b.astype(np.float64)
    with np.errstate(invalid="ignore"):
        close = np.isclose(x, y, rtol=rtol, atol=atol, equal_nan=equal_nan)
    if not close.all():
        bad = int((~close).sum())
        diff = np.nanmax(np.abs(x - y)[~close]) if bad else 0.0
        raise AssertionError(msg or (
            f"assert_close: {bad} of {close.size} elements are not close{at} (largest absolute "
            f"difference {diff:.3g}; rtol={rtol}, atol={atol})"))
