"""dtypes: PyTorch's dtype objects (rg.float32, rg.int64, ...) over NumPy's dtypes.

Each `rg.dtype` wraps one NumPy dtype (`.dtype`), and NumPy accepts it wherever it takes a dtype
(it reads that attribute), so `np.zeros(3, dtype=rg.float32)` and `array.astype(x.dtype)` work.
It compares equal to (and hashes like) its NumPy dtype, so `x.dtype == np.float32` and dicts
keyed by NumPy dtypes work too; there is one object per dtype, so `x.dtype is rg.float32` holds.
It adds PyTorch's attributes: `is_floating_point`, `is_complex`, `is_signed`, `itemsize`.

Arrays keep NumPy dtypes: the engine and the ops work on `x.data.dtype`; `Tensor.dtype` and
these constants are the user-facing view. `bfloat16` comes from the optional `ml_dtypes`
package when it is installed.
"""

import builtins

import numpy as np


class dtype:  # noqa: N801 - PyTorch's name
    """A tensor element type: PyTorch's attributes over the NumPy dtype `.dtype`."""

    __slots__ = ("dtype", "kind", "name", "itemsize", "is_floating_point", "is_complex",
                 "is_signed")

    def __init__(self, np_dtype):
        np_dtype = np.dtype(np_dtype)
        self.dtype = np_dtype
        self.kind = np_dtype.kind
        self.name = np_dtype.name
        self.itemsize = np_dtype.itemsize
        self.is_floating_point = np_dtype.kind == "f" or np_dtype.name == "bfloat16"
        self.is_complex = np_dtype.kind == "c"
        self.is_signed = np_dtype.kind not in "bu"

    @property
    def __numpy_dtype__(self):
        # NOTE: NumPy asks for this first when given a dtype-like object; answering it here
        # (rather than through __getattr__) keeps `np.zeros(n, dtype=rg.float32)` within ~0.1 us
        # of passing the NumPy dtype itself (1.3 us otherwise).
        return self.dtype

    def __getattr__(self, name):  # the rest of NumPy's dtype API (char, type, str, ...)
        if name.startswith("__"):
            raise AttributeError(name)
        return getattr(object.__getattribute__(self, "dtype"), name)

    def __eq__(self, other):
        if type(other) is dtype:
            return self is other or self.dtype == other.dtype
        try:
            return self.dtype == other
        except TypeError:
            return NotImplemented

    def __ne__(self, other):
        equal = self.__eq__(other)
        return equal if equal is NotImplemented else not equal

    def __hash__(self):
        return hash(self.dtype)

    def __str__(self):
        return self.name

    def __repr__(self):
        return f"retrograd.{self.name}"

    def __format__(self, spec):
        return format(self.name, spec)

    def __reduce__(self):
        return (wrap, (self.dtype,))

    def to_real(self):
        return self

    @property
    def bits(self):
        return self.itemsize * 8


_WRAPPED = {}


def wrap(np_dtype):
    """The rg.dtype of a NumPy dtype (one object per dtype)."""
    try:
        return _WRAPPED[np_dtype]
    except KeyError:
        if type(np_dtype) is dtype:
            return np_dtype
        np_dtype = np.dtype(np_dtype)
        return _WRAPPED.setdefault(np_dtype, dtype(np_dtype))


float16 = half = wrap(np.float16)
float32 = float = wrap(np.float32)
float64 = double = wrap(np.float64)
int8 = wrap(np.int8)
uint8 = wrap(np.uint8)
int16 = short = wrap(np.int16)
int32 = int = wrap(np.int32)
int64 = long = wrap(np.int64)
bool = wrap(np.bool_)

try:  # NOTE: optional; bfloat16 is only needed for mixed precision.
    import ml_dtypes as _ml_dtypes

    bfloat16 = wrap(_ml_dtypes.bfloat16)
except ImportError:  # pragma: no cover - depends on the environment
    bfloat16 = None

_BFLOAT16 = None if bfloat16 is None else bfloat16.dtype  # the NumPy dtype, for fast checks
_DEFAULT_FLOAT = float32


def get_default_dtype():
    """The default floating dtype (rg.float32 unless set_default_dtype changed it)."""
    return _DEFAULT_FLOAT


def default_float():
    """The default floating dtype as a NumPy dtype, for the ops' hot paths."""
    return _DEFAULT_FLOAT.dtype


def set_default_dtype(dtype):
    global _DEFAULT_FLOAT
    if dtype is None:
        raise TypeError("set_default_dtype: expected a floating dtype such as rg.float32, got None")
    dtype = as_dtype(dtype)
    if not is_floating(dtype):
        raise TypeError(f"set_default_dtype: expected a floating dtype, got {dtype}")
    _DEFAULT_FLOAT = wrap(dtype)


def is_floating(dtype):
    """True for float16/32/64 and bfloat16 (whose NumPy kind is 'V')."""
    return dtype.kind == "f" or (_BFLOAT16 is not None and dtype == _BFLOAT16)


def as_dtype(dtype):
    """Normalise anything dtype-like (rg.float32, np.float32, 'float32', float) to np.dtype."""
    if dtype is None:
        return None
    if type(dtype) is globals()["dtype"]:
        return dtype.dtype
    if isinstance(dtype, np.dtype):
        return dtype
    if dtype is builtins.float:  # PyTorch reads Python's float as the default float dtype
        return _DEFAULT_FLOAT.dtype
    inner = getattr(dtype, "dtype", None)  # legacy types (rg.LongTensor) carry their dtype
    if type(inner) is globals()["dtype"]:
        return inner.dtype
    try:
        return np.dtype(dtype)
    except TypeError as err:
        raise TypeError(f"expected a dtype such as rg.float32, got {dtype!r}") from err
