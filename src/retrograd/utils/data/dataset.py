"""Datasets: map-style (`len` + `__getitem__`) and iterable, with subsets, concatenation and
random splits."""

import bisect
import itertools
import math
import warnings

import numpy as np

from ...autograd.tensor import Tensor, new_tensor
from ._rng import check_generator, stream

__all__ = [
    "Dataset",
    "IterableDataset",
    "TensorDataset",
    "Subset",
    "ConcatDataset",
    "ChainDataset",
    "random_split",
]


class Dataset:
    """A map-style dataset: subclasses define `__getitem__(index)` and usually `__len__`."""

    def __getitem__(self, index):
        raise NotImplementedError(f"{type(self).__name__} must implement __getitem__")

    def __add__(self, other):
        return ConcatDataset([self, other])


class IterableDataset(Dataset):
    """A dataset that is a stream: subclasses define `__iter__` (no indexing, no sampler)."""

    def __iter__(self):
        raise NotImplementedError(f"{type(self).__name__} must implement __iter__")

    def __add__(self, other):
        return ChainDataset([self, other])


class TensorDataset(Dataset):
    """Samples are the rows of the given tensors: `dataset[i] == (t[i] for t in tensors)`.

    NumPy arrays are accepted and wrapped without a copy. Samples are views of the data,
    cut from any autograd graph (a dataset holds data, not parameters).
    """

    def __init__(self, *tensors):
        tensors = tuple(_as_tensor(t) for t in tensors)
        for t in tensors:
            if t.ndim == 0:
                raise ValueError("TensorDataset: tensors need a first (sample) dimension, got 0-d")
        sizes = [t.shape[0] for t in tensors]
        if len(set(sizes)) > 1:
            raise ValueError(
                f"TensorDataset: size mismatch between tensors: first dimensions {tuple(sizes)}"
            )
        self.tensors = tensors

    def __getitem__(self, index):
        return tuple(new_tensor(np.asarray(t.data[index])) for t in self.tensors)

    def __len__(self):
        return self.tensors[0].shape[0] if self.tensors else 0

    def _batch_fetcher(self):
        """A function from an index array to the collated batch, or None when a subclass
        changed `__getitem__` (then each sample must go through it)."""
        if type(self).__getitem__ is not TensorDataset.__getitem__:
            return None
        arrays = [t.data for t in self.tensors]
        return lambda indices: [new_tensor(a[indices]) for a in arrays]


class Subset(Dataset):
    """The samples of `dataset` at `indices`, in that order."""

    def __init__(self, dataset, indices):
        self.dataset = dataset
        self.indices = indices

    def __getitem__(self, index):
        if isinstance(index, list):
            return self.dataset[[self.indices[i] for i in index]]
        return self.dataset[self.indices[index]]

    def __getitems__(self, indices):
        inner = getattr(self.dataset, "__getitems__", None)
        if inner is not None:
            return inner([self.indices[i] for i in indices])
        return [self.dataset[self.indices[i]] for i in indices]

    def __len__(self):
        return len(self.indices)

    def _batch_fetcher(self):
        if type(self).__getitem__ is not Subset.__getitem__:
            return None
        inner = getattr(self.dataset, "_batch_fetcher", None)
        inner = inner() if inner is not None else None
        if inner is None:
            return None
        positions = np.asarray(self.indices, dtype=np.int64)
        return lambda indices: inner(positions[indices])


class ConcatDataset(Dataset):
    """Several map-style datasets one after the other."""

    def __init__(self, datasets):
        self.datasets = list(datasets)
        if not self.datasets:
            raise ValueError("ConcatDataset: datasets should not be an empty iterable")
        for d in self.datasets:
            if isinstance(d, IterableDataset):
                raise ValueError("ConcatDataset: does not support IterableDataset (ChainDataset)")
        self.cumulative_sizes = list(itertools.accumulate(len(d) for d in self.datasets))

    def __len__(self):
        return self.cumulative_sizes[-1]

    def __getitem__(self, index):
        if index < 0:
            if -index > len(self):
                raise IndexError(
                    f"ConcatDataset: index {index} is out of range for length {len(self)}"
                )
            index += len(self)
        which = bisect.bisect_right(self.cumulative_sizes, index)
        if which == len(self.datasets):
            raise IndexError(f"ConcatDataset: index {index} is out of range for length {len(self)}")
        offset = self.cumulative_sizes[which - 1] if which > 0 else 0
        return self.datasets[which][index - offset]


class ChainDataset(IterableDataset):
    """Several iterable datasets one after the other."""

    def __init__(self, datasets):
        self.datasets = list(datasets)

    def __iter__(self):
        for d in self.datasets:
            if not isinstance(d, IterableDataset):
                raise TypeError("ChainDataset: only supports IterableDataset")
            yield from d

    def __len__(self):
        return sum(len(d) for d in self.datasets)


def random_split(dataset, lengths, generator=None):
    """Split `dataset` into non-overlapping random `Subset`s of the given lengths.

    `lengths` are sizes that add up to `len(dataset)`, or fractions that add up to 1: then each
    split gets `floor(len(dataset) * fraction)` samples and the remainder is dealt out one by
    one from the first split on (PyTorch's rule). Seed with `generator=rg.Generator(seed=...)`;
    without one the default generator is used (see `rg.manual_seed`).
    """
    check_generator(generator, "random_split")
    n = len(dataset)
    lengths = list(lengths)
    if math.isclose(sum(lengths), 1) and sum(lengths) <= 1:
        lengths = _lengths_from_fractions(lengths, n)
    for i, length in enumerate(lengths):
        if not isinstance(length, (int, np.integer)) or length < 0:
            raise ValueError(
                f"random_split: lengths must be non-negative ints or fractions summing to 1, "
                f"got {lengths[i]!r} at index {i}"
            )
    if sum(lengths) != n:
        raise ValueError(
            f"random_split: sum of input lengths ({sum(lengths)}) does not equal the length of "
            f"the input dataset ({n})"
        )
    order = stream(generator).permutation(n).tolist()
    ends = itertools.accumulate(lengths)
    return [Subset(dataset, order[end - length : end]) for end, length in zip(ends, lengths)]


def _lengths_from_fractions(fractions, n):
    lengths = []
    for i, frac in enumerate(fractions):
        if not 0 <= frac <= 1:
            raise ValueError(f"random_split: fraction at index {i} is not between 0 and 1")
        lengths.append(int(math.floor(n * frac)))
    for i in range(n - sum(lengths)):
        lengths[i % len(lengths)] += 1
    for i, length in enumerate(lengths):
        if length == 0:
            warnings.warn(
                f"random_split: length of split at index {i} is 0; this split will be empty",
                stacklevel=3,
            )
    return lengths


def _as_tensor(t):
    if isinstance(t, Tensor):
        return t
    if isinstance(t, np.ndarray):
        return new_tensor(t)
    raise TypeError(f"TensorDataset: expected Tensors or NumPy arrays, got {type(t).__name__}")
