"""What PyTorch code asks a tensor about its memory and type: is_contiguous, stride,
storage_offset, data_ptr, nbytes, itemsize, is_cuda/is_cpu, get_device, is_signed, is_complex,
is_nonzero, is_same_size; the dtype helpers result_type, promote_types, can_cast; memory format
constants; the extra casts byte/char/short; and CPU-only stand-ins (pin_memory,
share_memory_, cuda() raising).

Layout answers describe the NumPy array holding the values: strides are NumPy's byte strides
divided by the item size, so a transpose or an expand reads as it does in PyTorch, but an op
whose result PyTorch would lay out differently may report other strides.
"""

import numpy as np

from ..autograd import dtypes
from . import cast
from ._util import Tensor, new_tensor, operand, result_dtype

__all__ = [
    "is_nonzero", "is_same_size", "is_signed", "is_complex", "result_type", "promote_types",
    "can_cast", "contiguous_format", "channels_last", "channels_last_3d", "preserve_format",
    "memory_format",
]  # fmt: skip


class memory_format:  # noqa: N801 - PyTorch's name
    """A memory layout request (`x.contiguous(memory_format=...)`). Tensors here are NumPy
    arrays, so the layout is NumPy's; `is_contiguous(memory_format=channels_last)` checks the
    strides of an NHWC layout."""

    __slots__ = ("name",)

    def __init__(self, name):
        self.name = name

    def __repr__(self):
        return f"retrograd.{self.name}"


contiguous_format = memory_format("contiguous_format")
channels_last = memory_format("channels_last")
channels_last_3d = memory_format("channels_last_3d")
preserve_format = memory_format("preserve_format")


def _strides(x):
    itemsize = x.itemsize or 1
    return tuple(s // itemsize for s in x.strides)


def _is_contiguous(self, memory_format=contiguous_format):
    """Whether the elements lie in row-major order without gaps (sizes 1 don't count), or in
    the channels-last order of an NHWC (NDHWC) layout."""
    x = self.data
    if memory_format in (None, contiguous_format, preserve_format):
        return bool(x.flags.c_contiguous)
    if memory_format not in (channels_last, channels_last_3d):
        raise TypeError(f"is_contiguous: unknown memory format {memory_format!r}")
    rank = 4 if memory_format is channels_last else 5
    if x.ndim != rank:
        return False
    order = (0, *range(2, rank), 1)  # N, spatial..., C
    return bool(np.transpose(x, order).flags.c_contiguous)


def _stride(self, dim=None):
    """Steps, in elements, between neighbours along each dim (one dim's with `dim`)."""
    steps = _strides(self.data)
    if dim is None:
        return steps
    from ._util import check_dim  # noqa: PLC0415

    return steps[check_dim(dim, self.data.ndim, "stride")]


def _root(x):
    while isinstance(x.base, np.ndarray):
        x = x.base
    return x


def _storage_offset(self):
    """Elements between the start of the memory this tensor views and its first element."""
    x = self.data
    root = _root(x)
    offset = x.__array_interface__["data"][0] - root.__array_interface__["data"][0]
    return offset // (x.itemsize or 1)


def _data_ptr(self):
    """The address of the first element."""
    return self.data.__array_interface__["data"][0]


def _nbytes(self):
    return self.data.nbytes


def _itemsize(self):
    return self.data.itemsize


def _false(self):
    return False


def _true(self):
    return True


def _get_device(self):
    return -1  # PyTorch's answer for a CPU tensor


def _cuda(self, device=None, non_blocking=False, memory_format=None):
    raise RuntimeError("cuda(): retrograd runs on the CPU only; keep tensors on 'cpu'")


def _identity(self, *args, **kwargs):
    return self


def is_nonzero(input):
    """The truth value of a one-element tensor (an error for any other size)."""
    if input.data.size != 1:
        raise RuntimeError(
            f"is_nonzero: a tensor with {input.data.size} elements cannot be converted to a "
            "boolean"
        )
    return bool(input.data.reshape(()).item())


def is_same_size(input, other):
    return input.data.shape == other.data.shape


def is_signed(input):
    """Whether the dtype holds negative numbers (not bool or uint8)."""
    return input.data.dtype.kind not in "bu"


def is_complex(input):
    return input.data.dtype.kind == "c"


def result_type(tensor1, tensor2):
    """The dtype an arithmetic op on the two operands (tensors or numbers) gives."""
    if isinstance(tensor1, Tensor):
        return result_dtype(tensor1, operand(tensor2, tensor1, "result_type"))
    if isinstance(tensor2, Tensor):
        return result_dtype(operand(tensor1, tensor2, "result_type"), tensor2)
    a = operand(tensor1, new_tensor(np.zeros((), np.int64)), "result_type")
    b = operand(tensor2, a, "result_type")
    return result_dtype(a, b)


def promote_types(type1, type2):
    """The smallest dtype both dtypes convert to (PyTorch's rules for tensors of equal rank)."""
    a = new_tensor(np.zeros((1,), dtypes.as_dtype(type1)))
    b = new_tensor(np.zeros((1,), dtypes.as_dtype(type2)))
    return result_dtype(a, b)


def can_cast(from_, to):
    """Whether PyTorch's type promotion allows casting `from_` to `to` (no float to integer, no
    number to bool)."""
    rank = {"b": 0, "u": 1, "i": 1, "f": 2, "V": 2, "c": 3}
    return rank[dtypes.as_dtype(from_).kind] <= rank[dtypes.as_dtype(to).kind]


def _apply_(self, callable):
    """Replace every element x by callable(x), in place (slow: a Python call per element);
    not for tensors that require grad."""
    return _map_into(self, callable, (), "apply_")


def _map_(self, tensor, callable):
    """Replace every element x by callable(x, y), y the matching element of `tensor`
    (broadcast), in place; not for tensors that require grad."""
    other = np.broadcast_to(tensor.data if isinstance(tensor, Tensor) else tensor,
                            self.data.shape)
    return _map_into(self, callable, (other,), "map_")


def _map_into(self, callable, others, name):
    from ._inplace_core import bump_version, check_writable  # noqa: PLC0415

    if self.requires_grad:
        raise RuntimeError(f"{name}: can't call it on a tensor that requires grad")
    check_writable(self, name)
    values = np.vectorize(callable, otypes=[self.data.dtype])(self.data, *others)
    self.data[...] = values
    bump_version(self, name)
    return self


TENSOR_METHODS = {
    "apply_": _apply_,
    "map_": _map_,
    "is_contiguous": _is_contiguous,
    "stride": _stride,
    "storage_offset": _storage_offset,
    "data_ptr": _data_ptr,
    "nbytes": property(_nbytes),
    "itemsize": property(_itemsize),
    "is_cuda": property(_false),
    "is_cpu": property(_true),
    "is_sparse": property(_false),
    "is_quantized": property(_false),
    "is_meta": property(_false),
    "is_mps": property(_false),
    "is_nested": property(_false),
    "get_device": _get_device,
    "cuda": _cuda,
    "pin_memory": _identity,
    "is_pinned": _false,
    "share_memory_": _identity,
    "is_shared": _false,
    "is_inference": _false,
    "is_signed": is_signed,
    "is_complex": is_complex,
    "is_nonzero": is_nonzero,
    "is_same_size": is_same_size,
    "byte": cast._cast_method(dtypes.uint8),
    "char": cast._cast_method(dtypes.int8),
    "short": cast._cast_method(dtypes.int16),
}
