"""dtypes: retrograd uses NumPy dtype objects directly, under PyTorch's names.

`rg.float32 == np.float32` holds, so arrays and tensors interoperate without a mapping
table; `bfloat16` comes from the optional `ml_dtypes` package when it is installed.
"""

import builtins

import numpy as np

float16 = half = np.dtype(np.float16)
float32 = float = np.dtype(np.float32)
float64 = double = np.dtype(np.float64)
int8 = np.dtype(np.int8)
uint8 = np.dtype(np.uint8)
int16 = short = np.dtype(np.int16)
int32 = int = np.dtype(np.int32)
int64 = long = np.dtype(np.int64)
bool = np.dtype(np.bool_)

try:  # NOTE: optional; bfloat16 is only needed for mixed precision.
    import ml_dtypes as _ml_dtypes

    bfloat16 = np.dtype(_ml_dtypes.bfloat16)
except ImportError:  # pragma: no cover - depends on the environment
    bfloat16 = None

_DEFAULT_FLOAT = float32


def get_default_dtype():
    return _DEFAULT_FLOAT


def set_default_dtype(dtype):
    global _DEFAULT_FLOAT
    dtype = as_dtype(dtype)
    if not is_floating(dtype):
        raise TypeError(f"set_default_dtype: expected a floating dtype, got {dtype}")
    _DEFAULT_FLOAT = dtype


def is_floating(dtype):
    """True for float16/32/64 and bfloat16 (whose NumPy kind is 'V')."""
    return dtype.kind == "f" or (bfloat16 is not None and dtype == bfloat16)


def as_dtype(dtype):
    """Normalise anything dtype-like (rg.float32, np.float32, 'float32', float) to np.dtype."""
    if dtype is None:
        return None
    if isinstance(dtype, np.dtype):
        return dtype
    if dtype is builtins.float:  # PyTorch reads Python's float as the default float dtype
        return _DEFAULT_FLOAT
    try:
        return np.dtype(dtype)
    except TypeError as err:
        raise TypeError(f"expected a dtype such as rg.float32, got {dtype!r}") from err
