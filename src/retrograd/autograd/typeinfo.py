"""Small value types that PyTorch code uses around tensors: `device`, `Size`, `finfo`, `iinfo`.

retrograd runs on the CPU only; `device` exists so that code written for PyTorch
(`x.to(torch.device('cpu'))`, `x.device == torch.device('cpu')`, `device.type`) runs unchanged.
"""

import builtins

import numpy as np

from . import dtypes

_DEVICE_TYPES = ("cpu", "cuda", "mps", "xpu", "meta", "hip", "xla")


class device:  # noqa: N801 - PyTorch's name
    """A device: `device('cpu')`, `device('cuda:1')`, `device('cpu', 0)`, `device(type='cpu')`.

    Only 'cpu' can hold tensors; other types can be named (so that configuration code runs) but
    moving a tensor there raises an error.
    """

    __slots__ = ("type", "index")

    def __init__(self, type, index=None):  # noqa: A002 - PyTorch's keyword
        if isinstance(type, device):
            type, index = type.type, type.index if index is None else index
        if isinstance(type, (builtins.int, np.integer)) and not isinstance(type, builtins.bool):
            raise RuntimeError(
                f"device: device ordinal {type} needs an accelerator; retrograd runs on cpu"
            )
        if not isinstance(type, str):
            raise TypeError(f"device: expected a string such as 'cpu', got {type!r}")
        name, _, ordinal = type.partition(":")
        if name not in _DEVICE_TYPES:
            raise RuntimeError(
                f"device: expected one of {', '.join(_DEVICE_TYPES)} at the start of the device "
                f"string, got {type!r}"
            )
        if ordinal:
            if index is not None:
                raise RuntimeError(f"device: type {type!r} already has an index")
            if not ordinal.isdigit():
                raise RuntimeError(f"device: invalid device string {type!r}")
            index = builtins.int(ordinal)
        if index is not None and index < 0:
            raise RuntimeError(f"device: the index must be non-negative, got {index}")
        object.__setattr__(self, "type", name)
        object.__setattr__(self, "index", index)

    def __setattr__(self, name, value):
        raise AttributeError("device objects are immutable")

    def __eq__(self, other):
        if not isinstance(other, device):
            return NotImplemented
        return self.type == other.type and self.index == other.index

    def __hash__(self):
        return hash((self.type, self.index))

    def __str__(self):
        return self.type if self.index is None else f"{self.type}:{self.index}"

    def __repr__(self):
        if self.index is None:
            return f"device(type='{self.type}')"
        return f"device(type='{self.type}', index={self.index})"

    def __reduce__(self):
        return (device, (self.type, self.index))


CPU = device("cpu")


def is_cpu(value):
    """Whether `value` (a device, a string such as 'cpu' or 'cpu:0', or None) names the CPU."""
    if value is None:
        return True
    if isinstance(value, device):
        return value.type == "cpu"
    return str(value).partition(":")[0] == "cpu"


class Size(tuple):
    """A tensor's shape: a tuple of ints (PyTorch's torch.Size) with `numel()`.

    NOTE: it prints as a plain tuple, `(2, 3)`, not `torch.Size([2, 3])`: error messages across
    retrograd show shapes that way.
    """

    __slots__ = ()

    def numel(self):
        n = 1
        for size in self:
            n *= size
        return n

    def __getitem__(self, index):
        out = tuple.__getitem__(self, index)
        return Size(out) if isinstance(index, slice) else out

    def __add__(self, other):
        return Size(tuple.__add__(self, other))


def _float_info(dtype):
    if dtypes.bfloat16 is not None and dtype == dtypes.bfloat16:
        import ml_dtypes  # noqa: PLC0415 - present whenever bfloat16 is

        return ml_dtypes.finfo(dtype)
    return np.finfo(dtype)


class finfo:  # noqa: N801 - PyTorch's name
    """Limits of a floating dtype (the default dtype when none is given): bits, eps, max, min,
    tiny (= smallest_normal), resolution, dtype (its name)."""

    def __init__(self, type=None):  # noqa: A002
        dtype = dtypes.as_dtype(type) if type is not None else dtypes.get_default_dtype()
        if not dtypes.is_floating(dtype):
            raise TypeError(f"finfo: expected a floating dtype, got {dtype}")
        info = _float_info(dtype)
        self.bits = builtins.int(info.bits)
        self.eps = builtins.float(info.eps)
        self.max = builtins.float(info.max)
        self.min = builtins.float(info.min)
        self.tiny = self.smallest_normal = builtins.float(info.smallest_normal)
        # 10^-precision with precision the decimal digits eps resolves, as PyTorch (ml_dtypes'
        # bfloat16 resolution differs)
        self.resolution = 10.0 ** -builtins.int(-np.log10(self.eps))
        self.dtype = str(dtype)

    def __repr__(self):
        return (
            f"finfo(resolution={self.resolution:g}, min={self.min:g}, max={self.max:g}, "
            f"eps={self.eps:g}, smallest_normal={self.smallest_normal:g}, tiny={self.tiny:g}, "
            f"dtype={self.dtype})"
        )


class iinfo:  # noqa: N801 - PyTorch's name
    """Limits of an integer dtype: bits, max, min, dtype (its name)."""

    def __init__(self, type):  # noqa: A002
        dtype = dtypes.as_dtype(type)
        if dtype.kind not in "iu":
            raise TypeError(f"iinfo: expected an integer dtype, got {dtype}")
        info = np.iinfo(dtype)
        self.bits = builtins.int(info.bits)
        self.max = builtins.int(info.max)
        self.min = builtins.int(info.min)
        self.dtype = str(dtype)

    def __repr__(self):
        return f"iinfo(min={self.min:g}, max={self.max:g}, dtype={self.dtype})"
