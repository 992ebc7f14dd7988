"""dtype casts (differentiable between floating dtypes), clone and contiguous."""

import numpy as np

from ..autograd import dtypes, typeinfo
from ..autograd.graph import Op
from ._util import Tensor, apply, new_tensor

__all__ = ["to", "clone", "contiguous", "type_as"]


class Cast(Op):
    name = "cast"

    @staticmethod
    def forward(x, dtype):
        return x.astype(dtype)

    @staticmethod
    def vjp(ns, g, saved, params, needs):
        return g  # the engine casts the gradient back to the input's dtype

    @staticmethod
    def jvp(ns, ts, xs, out, params):
        return ts[0]


class Clone(Op):
    name = "clone"

    @staticmethod
    def forward(x):
        return x.copy()

    @staticmethod
    def vjp(ns, g, saved, params, needs):
        return g

    @staticmethod
    def jvp(ns, ts, xs, out, params):
        return ts[0]


def to(input, *args, dtype=None, copy=False, **kwargs):
    """`t.to(dtype)`, `t.to(other)`, `t.to(device)`, `t.to(device, dtype)`: devices ('cpu',
    rg.device('cpu')) are accepted and change nothing (there is one device)."""
    for arg in args:
        if isinstance(arg, Tensor):
            dtype = arg.dtype
        elif isinstance(arg, typeinfo.device) or (
            isinstance(arg, str) and arg.split(":")[0] in ("cpu", "cuda", "mps")
        ):
            if not typeinfo.is_cpu(arg):
                raise RuntimeError(f"to(): device '{arg}' is not available; retrograd runs on cpu")
        elif arg is not None and not isinstance(arg, bool):
            dtype = arg
    device = kwargs.pop("device", None)
    if not typeinfo.is_cpu(device):
        raise RuntimeError(f"to(): device '{device}' is not available; retrograd runs on cpu")
    kwargs.pop("non_blocking", None)
    if kwargs:
        raise TypeError(f"to(): unexpected keyword arguments {sorted(kwargs)}")
    dtype = dtypes.as_dtype(dtype)
    if dtype is None or dtype == input.data.dtype:
        return clone(input) if copy else input
    if input._requires_grad and not dtypes.is_floating(dtype):
        # PyTorch allows it and cuts the graph; so do we.
        return new_tensor(input.data.astype(dtype))
    return apply(Cast, input, dtype=dtype)


def clone(input, memory_format=None):
    return apply(Clone, input)


def contiguous(input, memory_format=None):
    if input.data.flags.c_contiguous:
        return input
    return apply(Clone, input)


def type_as(input, other):
    return to(input, other.dtype)


def _cast_method(dtype):
    def cast(self, memory_format=None):
        return to(self, dtype)

    cast.__name__ = str(dtype)
    return cast


def _type(self, dtype=None, non_blocking=False):
    """The type name ('retrograd.FloatTensor') or a cast: to a dtype, a legacy type
    (rg.LongTensor) or its name ('torch.LongTensor')."""
    if dtype is None:
        return f"retrograd.{_TYPE_NAMES.get(self.dtype, str(self.dtype))}"
    if isinstance(dtype, str) and dtype.rpartition(".")[2] in _TYPE_NAMES.values():
        name = dtype.rpartition(".")[2]
        dtype = next(d for d, n in _TYPE_NAMES.items() if n == name)
    legacy = getattr(dtype, "dtype", None)  # rg.LongTensor carries its dtype
    return to(self, legacy if isinstance(legacy, (np.dtype, dtypes.dtype)) else dtype)


_TYPE_NAMES = {
    np.dtype(np.float32): "FloatTensor",
    np.dtype(np.float64): "DoubleTensor",
    np.dtype(np.float16): "HalfTensor",
    np.dtype(np.int64): "LongTensor",
    np.dtype(np.int32): "IntTensor",
    np.dtype(np.bool_): "BoolTensor",
}

TENSOR_METHODS = {
    "to": to,
    "clone": clone,
    "contiguous": contiguous,
    "type_as": type_as,
    "type": _type,
    "float": _cast_method(dtypes.float32),
    "double": _cast_method(dtypes.float64),
    "half": _cast_method(dtypes.float16),
    "long": _cast_method(dtypes.int64),
    "int": _cast_method(dtypes.int32),
    "bool": _cast_method(dtypes.bool),
    "cpu": lambda self: self,
}
if dtypes.bfloat16 is not None:
    TENSOR_METHODS["bfloat16"] = _cast_method(dtypes.bfloat16)
