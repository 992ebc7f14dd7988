"""CIFAR-10 from its "python version" batches (32x32 colour images, 10 classes).

The batches are Python pickles. They are read only from the directory the user names, and
through an unpickler that refuses every global except the three NumPy names an array needs,
so a tampered file cannot run code: it fails with `pickle.UnpicklingError`.
"""

import codecs
import io
import pickle
import tarfile

import numpy as np

from ..autograd.tensor import new_tensor
from ._common import (
    ClassificationDataset,
    Splits,
    data_root,
    fetch_verified,
    md5_file,
    missing_files,
)

__all__ = ["cifar10", "read_cifar_batch"]

_DIR = "cifar-10-batches-py"
_TRAIN = tuple(f"data_batch_{i}" for i in range(1, 6))
_TEST = ("test_batch",)
_URL = "https://www.cs.toronto.edu/~kriz/cifar-10-python.tar.gz"
_ARCHIVE = "cifar-10-python.tar.gz"
_ARCHIVE_MD5 = "c58f30108f718f92721af3b95e74349a"
_CLASSES = [
    "airplane",
    "automobile",
    "bird",
    "cat",
    "deer",
    "dog",
    "frog",
    "horse",
    "ship",
    "truck",
]


def cifar10(root=None, *, download=False):
    """CIFAR-10: `Splits(train, test)` of `ClassificationDataset`s (50,000 and 10,000 images).

    Reads `data_batch_1` ... `data_batch_5` and `test_batch` from `root/cifar-10-batches-py/`
    (or from `root` itself when the batches lie there). Images are float32 of shape
    (N, 3, 32, 32) scaled to [0, 1]; labels int64. `download=True` fetches the archive when the
    batches are missing, checks its published MD5 and unpacks it.
    """
    root = data_root(root, "cifar10")
    directories = (root / _DIR, root)
    directory = next((d for d in directories if (d / _TRAIN[0]).is_file()), None)
    if directory is None and download:
        _download(root)
        directory = root / _DIR
    if directory is None:
        raise missing_files(
            "cifar10",
            directories,
            [*_TRAIN, *_TEST],
            f"Get them from {_URL} (unpack the archive into {root})",
        )
    missing = [name for name in (*_TRAIN, *_TEST) if not (directory / name).is_file()]
    if missing:
        raise missing_files("cifar10", (directory,), missing, f"Get them from {_URL}")
    classes = _read_classes(directory)
    return Splits(
        _split([directory / name for name in _TRAIN], classes),
        _split([directory / name for name in _TEST], classes),
    )


def read_cifar_batch(path):
    """One CIFAR batch as (images uint8 (N, 3, 32, 32), labels int64 (N,)), read safely."""
    batch = _safe_unpickle(path)
    data = _field(batch, "data", path)
    labels = _field(batch, "labels", path)
    data = np.asarray(data, dtype=np.uint8)
    labels = np.asarray(labels, dtype=np.int64)
    if data.ndim != 2 or data.shape[1] != 3 * 32 * 32 or labels.shape != (data.shape[0],):
        raise ValueError(
            f"cifar10: {path} does not hold a CIFAR-10 batch: expected data (N, 3072) and "
            f"labels (N,), got {data.shape} and {labels.shape}"
        )
    return data.reshape(-1, 3, 32, 32), labels


def _split(paths, classes):
    parts = [read_cifar_batch(p) for p in paths]
    x = np.concatenate([images for images, _ in parts]).astype(np.float32) / np.float32(255)
    y = np.concatenate([labels for _, labels in parts])
    return ClassificationDataset(new_tensor(x), new_tensor(y), classes)


def _read_classes(directory):
    meta = directory / "batches.meta"
    if not meta.is_file():
        return _CLASSES
    names = _field(_safe_unpickle(meta), "label_names", meta)
    return [n.decode() if isinstance(n, bytes) else str(n) for n in names]


def _field(batch, key, path):
    if not isinstance(batch, dict):
        raise ValueError(f"cifar10: {path} holds a {type(batch).__name__}, expected a dict")
    for k in (key, key.encode()):
        if k in batch:
            return batch[k]
    raise ValueError(f"cifar10: {path} has no '{key}' entry (keys: {sorted(map(str, batch))})")


class _ArrayUnpickler(pickle.Unpickler):
    """Unpickles dicts, lists, strings, numbers and NumPy arrays, and nothing else."""

    _ALLOWED = {
        ("numpy", "ndarray"): np.ndarray,
        ("numpy", "dtype"): np.dtype,
        # protocol-2 pickles written by Python 3 spell bytes as _codecs.encode(str, "latin1")
        ("_codecs", "encode"): codecs.encode,
    }
    # Pickles written under NumPy 1.x (such as the published batches) name numpy.core.
    for _module in ("numpy.core.multiarray", "numpy._core.multiarray"):
        _ALLOWED[_module, "_reconstruct"] = np.ndarray.__reduce__(np.zeros(1))[0]
        _ALLOWED[_module, "scalar"] = np.float64(0).__reduce__()[0]
    del _module

    def find_class(self, module, name):
        if (module, name) in self._ALLOWED:
            return self._ALLOWED[module, name]
        raise _Refused(
            f"refusing to load global '{module}.{name}': a CIFAR batch holds only arrays, "
            "lists, strings and numbers"
        )


class _Refused(pickle.UnpicklingError):
    pass


def _safe_unpickle(path):
    with open(path, "rb") as f:
        raw = f.read()
    try:
        return _ArrayUnpickler(io.BytesIO(raw), encoding="latin1").load()
    except _Refused as err:
        raise pickle.UnpicklingError(f"cifar10: {path}: {err}") from None
    except Exception as err:  # pickle fails in many ways on damaged data
        raise ValueError(f"cifar10: {path} is truncated or corrupt: {err}") from None


def _download(root):
    archive = root / _ARCHIVE
    if not (archive.is_file() and md5_file(archive) == _ARCHIVE_MD5):
        fetch_verified([_URL], archive, _ARCHIVE_MD5, dataset="cifar10")
    with tarfile.open(archive, "r:gz") as tar:
        members = [m for m in tar.getmembers() if m.name.startswith(_DIR + "/") and m.isfile()]
        tar.extractall(root, members=members, filter="data")
