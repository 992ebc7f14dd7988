"""In-place array primitives that the update functions are written in.

They follow PyTorch's `lerp_`, `addcmul_` and `addcdiv_` (including the order of the floating
point operations), so that the optimizers reproduce torch.optim to the last few bits.
"""

import numpy as np


def lerp_(x, end, weight):
    """x ← x + weight (end - x), evaluated from the nearer end as PyTorch does."""
    if abs(weight) < 0.5:
        diff = np.subtract(end, x)
        diff *= weight
        x += diff
    else:
        diff = np.subtract(end, x)
        diff *= 1 - weight
        np.subtract(end, diff, out=x)
    return x


def addcmul_(x, t1, t2, value=1.0):
    """x ← x + value t1 t2."""
    prod = np.multiply(t1, value) if value != 1 else np.array(t1, copy=True)
    prod *= t2
    x += prod
    return x


def addcdiv_(x, t1, t2, value=1.0):
    """x ← x + value t1 / t2."""
    quot = np.multiply(t1, value) if value != 1 else np.array(t1, copy=True)
    quot /= t2
    x += quot
    return x
