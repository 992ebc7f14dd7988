"""Collation: turning a list of samples into one batch, as PyTorch's `default_collate` does.

Tensors, arrays and NumPy scalars are stacked along a new first dimension; Python ints become
int64, Python floats float64 and bools bool (PyTorch's dtypes; note that a float64 target
makes the loss float64 too, so store float32 arrays in the dataset for float32 training).
Strings stay lists; dicts, tuples, lists and namedtuples are collated field by field.
"""

import collections.abc
import copy

import numpy as np

from ...autograd.tensor import Tensor, new_tensor

__all__ = ["default_collate", "default_convert"]

_UNSUPPORTED_KINDS = "OSUV"  # object, bytes, unicode and void arrays cannot become tensors


def default_collate(batch):
    """Stack a list of samples into a batch (recursively over dicts, tuples and lists).

    NOTE: recursion follows the nesting of one sample (a few levels), never the batch length.
    """
    if not isinstance(batch, collections.abc.Sequence) or isinstance(batch, (str, bytes)):
        raise TypeError(f"default_collate: expected a list of samples, got {type(batch).__name__}")
    if len(batch) == 0:
        raise ValueError("default_collate: cannot collate an empty batch")
    elem = batch[0]
    if isinstance(elem, Tensor):
        return new_tensor(_stack([t.data for t in batch], "tensor"))
    if isinstance(elem, np.ndarray):
        if elem.dtype.kind in _UNSUPPORTED_KINDS:
            raise TypeError(_unsupported(elem.dtype))
        return new_tensor(_stack(batch, "array"))
    if isinstance(elem, np.generic) and elem.dtype.kind not in _UNSUPPORTED_KINDS:
        return new_tensor(np.asarray(batch))
    if isinstance(elem, bool):
        return new_tensor(np.asarray(batch, dtype=np.bool_))
    if isinstance(elem, int):
        return new_tensor(np.asarray(batch, dtype=np.int64))
    if isinstance(elem, float):
        return new_tensor(np.asarray(batch, dtype=np.float64))
    if isinstance(elem, (str, bytes)):
        return batch
    if isinstance(elem, collections.abc.Mapping):
        fields = {key: default_collate([sample[key] for sample in batch]) for key in elem}
        return _rebuild_mapping(elem, fields)
    if isinstance(elem, tuple) and hasattr(elem, "_fields"):  # namedtuple
        return type(elem)(*(default_collate(list(field)) for field in zip(*batch)))
    if isinstance(elem, collections.abc.Sequence):
        size = len(elem)
        if any(len(sample) != size for sample in batch):
            raise RuntimeError(
                "default_collate: each element in list of batch should be of equal size"
            )
        fields = [default_collate(list(field)) for field in zip(*batch)]
        if isinstance(elem, tuple):
            return fields  # PyTorch returns a list for tuples too
        return _rebuild_sequence(elem, fields)
    raise TypeError(
        "default_collate: batch must contain tensors, numpy arrays, numbers, dicts or lists; "
        f"found {type(elem)}"
    )


def default_convert(data):
    """Turn NumPy arrays and scalars into Tensors (recursively), leaving everything else.

    The collate function when automatic batching is off (`DataLoader(batch_size=None)`).
    """
    if isinstance(data, Tensor):
        return data
    if isinstance(data, (np.ndarray, np.generic)):
        if data.dtype.kind in _UNSUPPORTED_KINDS:
            return data
        return new_tensor(np.asarray(data))
    if isinstance(data, (str, bytes)):
        return data
    if isinstance(data, collections.abc.Mapping):
        return _rebuild_mapping(data, {key: default_convert(data[key]) for key in data})
    if isinstance(data, tuple) and hasattr(data, "_fields"):
        return type(data)(*(default_convert(d) for d in data))
    if isinstance(data, tuple):
        return [default_convert(d) for d in data]
    if isinstance(data, collections.abc.Sequence):
        return _rebuild_sequence(data, [default_convert(d) for d in data])
    return data


def _stack(arrays, what):
    shape = np.shape(arrays[0])
    for i, a in enumerate(arrays):
        if np.shape(a) != shape:
            raise RuntimeError(
                f"default_collate: stack expects each {what} to be equal size, but got "
                f"{shape} at entry 0 and {np.shape(a)} at entry {i}"
            )
    return np.stack(arrays)


def _rebuild_mapping(elem, values):
    if isinstance(elem, collections.abc.MutableMapping):
        clone = copy.copy(elem)
        clone.update(values)
        return clone
    try:
        return type(elem)(values)
    except TypeError:  # a mapping type that cannot be built from a dict
        return values


def _rebuild_sequence(elem, values):
    if isinstance(elem, collections.abc.MutableSequence):
        clone = copy.copy(elem)
        clone[:] = values
        return clone
    try:
        return type(elem)(values)
    except TypeError:
        return values


def _unsupported(dtype):
    return (
        "default_collate: batch must contain tensors, numpy arrays, numbers, dicts or lists; "
        f"found arrays of dtype {dtype}"
    )
