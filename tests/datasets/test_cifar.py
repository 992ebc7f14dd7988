import hashlib
import io
import os
import pickle
import tarfile

import numpy as np
import pytest

import retrograd as rg
from retrograd.datasets import _cifar, cifar10, read_cifar_batch

TRAIN = [f"data_batch_{i}" for i in range(1, 6)]


def batch_dict(n, seed, str_keys=False):
    rng = np.random.default_rng(seed)
    batch = {
        b"batch_label": b"testing batch",
        b"labels": rng.integers(0, 10, n).tolist(),
        b"data": rng.integers(0, 256, (n, 3072), dtype=np.uint8),
        b"filenames": [f"img_{i}.png".encode() for i in range(n)],
    }
    return {k.decode(): v for k, v in batch.items()} if str_keys else batch


def write_cifar(directory, n=3, str_keys=False, meta=True):
    """CIFAR-10-style batches in `directory`; returns {name: batch dict}."""
    directory.mkdir(parents=True, exist_ok=True)
    batches = {}
    for seed, name in enumerate([*TRAIN, "test_batch"]):
        batches[name] = batch_dict(n, seed, str_keys)
        with open(directory / name, "wb") as f:
            pickle.dump(batches[name], f, protocol=3)
    if meta:
        names = [
            b"plane",
            b"car",
            b"bird",
            b"cat",
            b"deer",
            b"dog",
            b"frog",
            b"horse",
            b"ship",
            b"truck",
        ]
        with open(directory / "batches.meta", "wb") as f:
            pickle.dump({b"label_names": names, b"num_vis": 3072}, f, protocol=3)
    return batches


def expected(batches, names):
    x = np.concatenate([batches[n][b"data"] for n in names]).reshape(-1, 3, 32, 32) / 255.0
    y = np.concatenate([batches[n][b"labels"] for n in names])
    return x, y


def test_cifar10_loads_the_python_batches(tmp_path):
    batches = write_cifar(tmp_path / "cifar-10-batches-py")
    train, test = cifar10(tmp_path)
    assert train.data.shape == (15, 3, 32, 32) and test.data.shape == (3, 3, 32, 32)
    assert train.data.dtype == rg.float32 and train.targets.dtype == rg.int64
    for split, names in ((train, TRAIN), (test, ["test_batch"])):
        x, y = expected(batches, names)
        np.testing.assert_allclose(split.data.numpy(), x, rtol=1e-6)
        np.testing.assert_array_equal(split.targets.numpy(), y)
    assert train.classes[1] == "car"  # read from batches.meta


def test_cifar10_str_keys_no_meta_and_batches_in_root(tmp_path):
    batches = write_cifar(tmp_path, str_keys=True, meta=False)
    train, _ = cifar10(tmp_path)
    assert train.classes[0] == "airplane"
    x, _ = expected(
        {k: {kk.encode(): vv for kk, vv in b.items()} for k, b in batches.items()}, TRAIN
    )
    np.testing.assert_allclose(train.data.numpy(), x, rtol=1e-6)


def test_batches_pickled_under_numpy_1_and_protocol_2_load(tmp_path):
    batch = batch_dict(2, 0)
    raw = pickle.dumps(batch, protocol=2)
    raw = raw.replace(b"cnumpy._core.multiarray\n", b"cnumpy.core.multiarray\n")
    assert b"numpy.core.multiarray" in raw
    (tmp_path / "old").write_bytes(raw)
    images, labels = read_cifar_batch(tmp_path / "old")
    np.testing.assert_array_equal(images.reshape(2, -1), batch[b"data"])
    assert labels.tolist() == batch[b"labels"]


class _Payload:
    def __init__(self, target):
        self.target = target

    def __reduce__(self):
        return (os.mkdir, (self.target,))


def test_a_tampered_batch_is_refused_without_running_code(tmp_path):
    target = tmp_path / "pwned"
    (tmp_path / "evil").write_bytes(
        pickle.dumps({b"data": _Payload(str(target)), b"labels": []}, protocol=2)
    )
    with pytest.raises(pickle.UnpicklingError, match="refusing to load global.*mkdir"):
        read_cifar_batch(tmp_path / "evil")
    assert not target.exists()


def test_truncated_and_malformed_batches(tmp_path):
    raw = pickle.dumps(batch_dict(2, 0), protocol=3)
    (tmp_path / "cut").write_bytes(raw[: len(raw) // 2])
    with pytest.raises(ValueError, match="truncated or corrupt"):
        read_cifar_batch(tmp_path / "cut")
    (tmp_path / "nolabels").write_bytes(pickle.dumps({b"data": np.zeros((1, 3072), np.uint8)}))
    with pytest.raises(ValueError, match="no 'labels' entry"):
        read_cifar_batch(tmp_path / "nolabels")
    bad = {b"data": np.zeros((2, 100), np.uint8), b"labels": [0, 1]}
    (tmp_path / "shape").write_bytes(pickle.dumps(bad))
    with pytest.raises(ValueError, match=r"\(N, 3072\)"):
        read_cifar_batch(tmp_path / "shape")


def test_missing_batches_are_named(tmp_path):
    with pytest.raises(FileNotFoundError, match=r"data_batch_1.*test_batch.*cifar-10-python"):
        cifar10(tmp_path)
    write_cifar(tmp_path / "cifar-10-batches-py")
    (tmp_path / "cifar-10-batches-py" / "data_batch_4").unlink()
    with pytest.raises(FileNotFoundError) as info:
        cifar10(tmp_path)
    assert "data_batch_4" in str(info.value) and "data_batch_3" not in str(info.value)


def test_download_checks_the_archive_checksum(tmp_path, monkeypatch):
    source = tmp_path / "source"
    batches = write_cifar(source / "cifar-10-batches-py")
    archive = tmp_path / "cifar-10-python.tar.gz"
    with tarfile.open(archive, "w:gz") as tar:
        tar.add(source / "cifar-10-batches-py", arcname="cifar-10-batches-py")
        info = tarfile.TarInfo("elsewhere/ignored.txt")
        tar.addfile(info, io.BytesIO(b""))
    monkeypatch.setattr(_cifar, "_URL", archive.as_uri())
    monkeypatch.setattr(_cifar, "_ARCHIVE_MD5", "f" * 32)
    with pytest.raises(RuntimeError, match="checksum mismatch"):
        cifar10(tmp_path / "data", download=True)
    monkeypatch.setattr(_cifar, "_ARCHIVE_MD5", hashlib.md5(archive.read_bytes()).hexdigest())
    _, test = cifar10(tmp_path / "data", download=True)
    np.testing.assert_array_equal(test.targets.numpy(), batches["test_batch"][b"labels"])
    assert not (tmp_path / "data" / "elsewhere").exists()  # only the batches are unpacked
