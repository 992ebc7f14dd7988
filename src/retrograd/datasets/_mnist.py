"""MNIST and Fashion-MNIST from their IDX files (28x28 grey images, 10 classes)."""

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
from ._idx import read_idx

__all__ = ["mnist", "fashion_mnist"]

_FILES = {  # split -> (images, labels), the names the datasets are published under
    "train": ("train-images-idx3-ubyte", "train-labels-idx1-ubyte"),
    "test": ("t10k-images-idx3-ubyte", "t10k-labels-idx1-ubyte"),
}

_MNIST = {
    "name": "mnist",
    "torchvision_dir": "MNIST",
    "mirrors": (
        "https://ossci-datasets.s3.amazonaws.com/mnist/",
        "http://yann.lecun.com/exdb/mnist/",
    ),
    "md5": {  # of the published .gz files
        "train-images-idx3-ubyte.gz": "f68b3c2dcbeaaa9fbdd348bbdeb94873",
        "train-labels-idx1-ubyte.gz": "d53e105ee54ea40749a09fcbcd1e9432",
        "t10k-images-idx3-ubyte.gz": "9fb629c4189551a2d022fa330f9573f3",
        "t10k-labels-idx1-ubyte.gz": "ec29112dd5afa0611ce80d1b7f02629c",
    },
    "classes": [str(d) for d in range(10)],
}

_FASHION_MNIST = {
    "name": "fashion_mnist",
    "torchvision_dir": "FashionMNIST",
    "mirrors": ("http://fashion-mnist.s3-website.eu-central-1.amazonaws.com/",),
    "md5": {
        "train-images-idx3-ubyte.gz": "8d4fb7e6c68d591d4c3dfef9ec88bf0d",
        "train-labels-idx1-ubyte.gz": "25c81989df183df01b3e8a0aad5dffbe",
        "t10k-images-idx3-ubyte.gz": "bef4ecab320f06d8554ea6380940ec79",
        "t10k-labels-idx1-ubyte.gz": "bb300cfdad3c16e7a12a480ee83cd310",
    },
    "classes": [
        "T-shirt/top",
        "Trouser",
        "Pullover",
        "Dress",
        "Coat",
        "Sandal",
        "Shirt",
        "Sneaker",
        "Bag",
        "Ankle boot",
    ],
}


def mnist(root=None, *, download=False):
    """MNIST handwritten digits: `Splits(train, test)` of `ClassificationDataset`s.

    Reads the four IDX files (`train-images-idx3-ubyte`, `train-labels-idx1-ubyte`,
    `t10k-images-idx3-ubyte`, `t10k-labels-idx1-ubyte`, each raw or `.gz`) from `root`, or
    from `root/MNIST/raw` as torchvision lays them out. Default root: see `data_root`.
    Images are float32 of shape (N, 1, 28, 28) scaled to [0, 1]; labels int64.
    `download=True` fetches missing files and checks the published MD5 of each.
    """
    return _load(_MNIST, root, download)


def fashion_mnist(root=None, *, download=False):
    """Fashion-MNIST (Zalando clothing images), in MNIST's format and file names.

    Same layout and result as `mnist` (torchvision's directory is `root/FashionMNIST/raw`).
    """
    return _load(_FASHION_MNIST, root, download)


def _load(spec, root, download):
    root = data_root(root, spec["name"])
    directories = (root, root / spec["torchvision_dir"] / "raw")
    if download:
        _download_missing(spec, directories, root)
    paths = {}
    missing = []
    for name in (n for pair in _FILES.values() for n in pair):
        path = _find(directories, name)
        if path is None:
            missing.append(f"{name}[.gz]")
        paths[name] = path
    if missing:
        source = f"Get them from {spec['mirrors'][0]}"
        raise missing_files(spec["name"], directories, missing, source)
    return Splits(*(_split(spec, paths, *_FILES[split]) for split in ("train", "test")))


def _split(spec, paths, images_name, labels_name):
    images = read_idx(paths[images_name])
    labels = read_idx(paths[labels_name])
    if images.ndim != 3 or labels.ndim != 1 or images.shape[0] != labels.shape[0]:
        raise ValueError(
            f"{spec['name']}: {paths[images_name]} and {paths[labels_name]} do not fit together: "
            f"expected images (N, H, W) and labels (N,), got {images.shape} and {labels.shape}"
        )
    x = images[:, None].astype(np.float32) / np.float32(255)
    y = labels.astype(np.int64)
    return ClassificationDataset(new_tensor(x), new_tensor(y), spec["classes"])


def _find(directories, name):
    for directory in directories:
        for candidate in (directory / name, directory / f"{name}.gz"):
            if candidate.is_file():
                return candidate
    return None


def _download_missing(spec, directories, root):
    for gz_name, md5 in spec["md5"].items():
        existing = _find(directories, gz_name[: -len(".gz")])
        if existing is not None and (existing.suffix != ".gz" or md5_file(existing) == md5):
            continue  # present (an uncompressed copy has no published checksum to compare)
        urls = [mirror + gz_name for mirror in spec["mirrors"]]
        fetch_verified(urls, root / gz_name, md5, dataset=spec["name"])
