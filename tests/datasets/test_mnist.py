import hashlib

import numpy as np
import pytest

import retrograd as rg
from retrograd.datasets import _mnist as mnist_module
from retrograd.datasets import fashion_mnist, mnist

from .idx_files import idx_bytes, write_mnist


def check_split(dataset, images, labels):
    assert dataset.data.shape == (len(labels), 1, 28, 28)
    assert dataset.data.dtype == rg.float32 and dataset.targets.dtype == rg.int64
    np.testing.assert_allclose(dataset.data.numpy()[:, 0], images / 255.0, rtol=1e-6)
    np.testing.assert_array_equal(dataset.targets.numpy(), labels)
    assert 0.0 <= dataset.data.numpy().min() and dataset.data.numpy().max() <= 1.0


@pytest.mark.parametrize("gz", [False, True])
def test_mnist_reads_raw_and_gzipped_idx_files(tmp_path, gz):
    arrays = write_mnist(tmp_path, n_train=6, n_test=4, gz=gz)
    train, test = mnist(tmp_path)
    check_split(train, arrays["train-images-idx3-ubyte"], arrays["train-labels-idx1-ubyte"])
    check_split(test, arrays["t10k-images-idx3-ubyte"], arrays["t10k-labels-idx1-ubyte"])
    assert train.classes == [str(d) for d in range(10)]
    x, y = train[2]
    assert x.shape == (1, 28, 28) and y.item() == arrays["train-labels-idx1-ubyte"][2]


def test_torchvision_layout_and_fashion_classes(tmp_path):
    arrays = write_mnist(tmp_path / "FashionMNIST" / "raw", gz=True)
    train, test = fashion_mnist(tmp_path)
    check_split(test, arrays["t10k-images-idx3-ubyte"], arrays["t10k-labels-idx1-ubyte"])
    assert train.classes[0] == "T-shirt/top" and train.classes[9] == "Ankle boot"
    assert rg.datasets.load("fashion-mnist", root=tmp_path).train.data.shape == train.data.shape


def test_default_root_comes_from_the_environment(tmp_path, monkeypatch):
    write_mnist(tmp_path / "mnist")
    monkeypatch.setenv("RETROGRAD_DATA", str(tmp_path))
    assert len(mnist().train) == 6


def test_missing_files_name_the_files_the_directory_and_the_source(tmp_path):
    write_mnist(tmp_path)
    (tmp_path / "t10k-labels-idx1-ubyte").unlink()
    with pytest.raises(FileNotFoundError) as info:
        mnist(tmp_path)
    message = str(info.value)
    assert "t10k-labels-idx1-ubyte[.gz]" in message and "train-images" not in message
    assert str(tmp_path) in message and "ossci-datasets" in message and "download=True" in message


def test_images_and_labels_must_agree(tmp_path):
    write_mnist(tmp_path)
    (tmp_path / "train-labels-idx1-ubyte").write_bytes(idx_bytes(np.zeros(5, dtype=np.uint8)))
    with pytest.raises(ValueError, match=r"do not fit together.*\(6, 28, 28\) and \(5,\)"):
        mnist(tmp_path)


def _mirror(tmp_path, monkeypatch, corrupt=None):
    """A local file:// mirror of gzipped MNIST files with their checksums (no network)."""
    mirror = tmp_path / "mirror"
    arrays = write_mnist(mirror, gz=True, seed=5)
    md5 = {}
    for path in mirror.iterdir():
        md5[path.name] = hashlib.md5(path.read_bytes()).hexdigest()
    if corrupt:
        md5[corrupt] = "0" * 32
    spec = dict(mnist_module._MNIST, mirrors=(mirror.as_uri() + "/",), md5=md5)
    monkeypatch.setattr(mnist_module, "_MNIST", spec)
    return arrays


def test_download_fetches_and_verifies_checksums(tmp_path, monkeypatch):
    arrays = _mirror(tmp_path, monkeypatch)
    root = tmp_path / "data"
    with pytest.raises(FileNotFoundError):
        mnist(root)  # no download unless asked
    train, _ = mnist(root, download=True)
    check_split(train, arrays["train-images-idx3-ubyte"], arrays["train-labels-idx1-ubyte"])
    assert sorted(p.name for p in root.iterdir()) == sorted(mnist_module._MNIST["md5"])
    mnist(root, download=True)  # already there and verified: nothing to fetch


def test_download_with_a_wrong_checksum_keeps_nothing(tmp_path, monkeypatch):
    _mirror(tmp_path, monkeypatch, corrupt="t10k-images-idx3-ubyte.gz")
    root = tmp_path / "data"
    with pytest.raises(RuntimeError, match="checksum mismatch.*expected MD5 0000"):
        mnist(root, download=True)
    assert not (root / "t10k-images-idx3-ubyte.gz").exists()
    assert not [p for p in root.iterdir() if p.name.endswith(".part")]


def test_an_unreachable_mirror_says_so(tmp_path, monkeypatch):
    spec = dict(mnist_module._MNIST, mirrors=((tmp_path / "nowhere").as_uri() + "/",))
    monkeypatch.setattr(mnist_module, "_MNIST", spec)
    with pytest.raises(RuntimeError, match="could not download.*online"):
        mnist(tmp_path / "data", download=True)
