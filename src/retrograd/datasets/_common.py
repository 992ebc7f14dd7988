"""What the dataset loaders share: the result types, where files live, and verified downloads."""

import collections
import hashlib
import os
import shutil
import tempfile
import urllib.error
import urllib.request
from pathlib import Path

from ..utils.data import TensorDataset

Splits = collections.namedtuple("Splits", ["train", "test"])
Splits.__doc__ = "The train and test datasets of a benchmark: `train, test = rg.datasets.mnist()`."

_CHUNK = 1 << 20


class ClassificationDataset(TensorDataset):
    """A `TensorDataset` of (input, label) pairs that also knows the class names.

    `data` holds the inputs (float32), `targets` the int64 labels, `classes` the names of
    labels 0, 1, ... (torchvision's attribute names).
    """

    def __init__(self, data, targets, classes):
        super().__init__(data, targets)
        self.classes = list(classes)

    @property
    def data(self):
        return self.tensors[0]

    @property
    def targets(self):
        return self.tensors[1]

    def __repr__(self):
        return (
            f"{type(self).__name__}(samples={len(self)}, input_shape={tuple(self.data.shape[1:])}, "
            f"classes={len(self.classes)})"
        )


def data_root(root, name):
    """The directory that holds a dataset's files.

    `root` when given; otherwise `$RETROGRAD_DATA/<name>`, or `~/.cache/retrograd/<name>` when
    that variable is unset.
    """
    if root is not None:
        return Path(root).expanduser()
    base = os.environ.get("RETROGRAD_DATA") or os.path.join("~", ".cache", "retrograd")
    return Path(base).expanduser() / name


def md5_file(path):
    # MD5 because that is what the dataset authors publish; this checks integrity, not trust.
    digest = hashlib.md5(usedforsecurity=False)
    with open(path, "rb") as f:
        for block in iter(lambda: f.read(_CHUNK), b""):
            digest.update(block)
    return digest.hexdigest()


def fetch_verified(urls, dest, md5, *, dataset):
    """Fetch `dest` from the first mirror in `urls` that answers, check its MD5, then move it
    into place. A failed or mismatching download leaves nothing behind at `dest`."""
    dest = Path(dest)
    dest.parent.mkdir(parents=True, exist_ok=True)
    failures = []
    for url in urls:
        fd, tmp = tempfile.mkstemp(prefix=f".{dest.name}.", suffix=".part", dir=dest.parent)
        try:
            with os.fdopen(fd, "wb") as out, urllib.request.urlopen(url, timeout=60) as response:
                shutil.copyfileobj(response, out, _CHUNK)
            got = md5_file(tmp)
            if got == md5:
                os.replace(tmp, dest)
                return dest
            failures.append(f"{url}: checksum mismatch: expected MD5 {md5}, got {got}")
        except (urllib.error.URLError, OSError) as err:
            failures.append(f"{url}: {err}")
        finally:
            if os.path.exists(tmp):
                os.unlink(tmp)
    raise RuntimeError(
        f"{dataset}: could not download a verified copy of {dest.name} (is this machine online?)."
        "\n  " + "\n  ".join(failures) + f"\nYou can also put the file into {dest.parent} by hand."
    )


def missing_files(dataset, directories, names, source):
    """The FileNotFoundError for files that are not where they should be."""
    where = " or ".join(str(d) for d in directories)
    return FileNotFoundError(
        f"{dataset}: missing {', '.join(names)} in {where}. {source} "
        "(or pass download=True on a machine that is online)."
    )
