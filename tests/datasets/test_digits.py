import numpy as np
import pytest

import retrograd as rg
from retrograd.datasets import digits

sklearn_datasets = pytest.importorskip("sklearn.datasets")


def test_digits_shapes_dtypes_and_scale():
    train, test = digits()
    assert len(train) == 1438 and len(test) == 359
    assert train.data.shape == (1438, 1, 8, 8) and train.data.dtype == rg.float32
    assert test.targets.dtype == rg.int64 and set(test.targets.tolist()) == set(range(10))
    assert train.data.numpy().min() == 0.0 and train.data.numpy().max() == 1.0


def test_digits_split_is_a_seeded_partition_of_the_bundled_data():
    bunch = sklearn_datasets.load_digits()
    train, test = digits(seed=0)
    images = np.concatenate([train.data.numpy(), test.data.numpy()]).reshape(-1, 64) * 16
    labels = np.concatenate([train.targets.numpy(), test.targets.numpy()])
    rows = sorted(zip(images.round().astype(int).tolist(), labels.tolist()))
    original = sorted(zip(bunch.data.astype(int).tolist(), bunch.target.tolist()))
    assert rows == original
    again = digits(seed=0)
    np.testing.assert_array_equal(again.test.targets.numpy(), test.targets.numpy())
    other = digits(seed=1)
    assert not np.array_equal(other.test.data.numpy(), test.data.numpy())
    assert [len(s) for s in digits(test_fraction=0.5)] == [899, 898]


def test_digits_rejects_a_bad_fraction():
    with pytest.raises(ValueError, match="test_fraction"):
        digits(test_fraction=1.0)
