"""rg.amp: mixed precision (torch.amp's API): `autocast` runs matrix products and convolutions
in float16/bfloat16 and keeps reductions, normalization and losses in float32; `GradScaler`
scales the loss so float16 gradients do not underflow, and skips steps whose gradients
overflowed."""

from ._autocast import autocast, get_autocast_dtype, is_autocast_enabled
from ._policy import FLOAT32, LOWER_PRECISION
from .grad_scaler import GradScaler

__all__ = [
    "FLOAT32",
    "GradScaler",
    "LOWER_PRECISION",
    "autocast",
    "get_autocast_dtype",
    "is_autocast_enabled",
]
