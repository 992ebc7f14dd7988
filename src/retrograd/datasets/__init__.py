"""Benchmark datasets as ready-to-use `TensorDataset`s: `train, test = rg.datasets.mnist(root)`.

Every loader returns `Splits(train, test)` of `ClassificationDataset`s (float32 inputs with a
channel dimension, scaled to [0, 1] for images; int64 labels; `.classes` names the labels).

- `digits()`: scikit-learn's bundled 8x8 digits, no files needed.
- `mnist(root)`, `fashion_mnist(root)`: the IDX files (raw or .gz) in `root`.
- `cifar10(root)`: the python batches in `root/cifar-10-batches-py/`.
- `mnist1d()`: MNIST-1D, generated locally by the `mnist1d` package.

Loaders that read files download only when asked (`download=True`) and then check the
published MD5 of every file they fetch. `load(name, **kwargs)` picks a loader by name.
"""

from ._cifar import cifar10, read_cifar_batch
from ._common import ClassificationDataset, Splits, data_root
from ._digits import digits
from ._idx import read_idx
from ._mnist import fashion_mnist, mnist
from ._mnist1d import mnist1d

_LOADERS = {
    "digits": digits,
    "mnist": mnist,
    "fashion_mnist": fashion_mnist,
    "cifar10": cifar10,
    "mnist1d": mnist1d,
}


def names():
    """The names `load` accepts."""
    return sorted(_LOADERS)


def load(name, **kwargs):
    """`load("mnist", root=...)` is `mnist(root=...)`; for command lines and configs."""
    key = name.lower().replace("-", "_")
    if key not in _LOADERS:
        raise ValueError(f"datasets.load: unknown dataset '{name}'; available: {names()}")
    return _LOADERS[key](**kwargs)


__all__ = [
    "Splits",
    "ClassificationDataset",
    "data_root",
    "digits",
    "mnist",
    "fashion_mnist",
    "cifar10",
    "mnist1d",
    "read_idx",
    "read_cifar_batch",
    "names",
    "load",
]
