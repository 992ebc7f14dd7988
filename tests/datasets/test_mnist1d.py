import random

import numpy as np
import pytest

import retrograd as rg
from retrograd.datasets import mnist1d

mnist1d_data = pytest.importorskip("mnist1d.data")


def test_mnist1d_is_generated_locally_from_the_package_code():
    np_state, py_state = np.random.get_state(), random.getstate()
    train, test = mnist1d(num_samples=300, seed=3)
    # the package reseeds the global generators; the loader puts them back
    assert random.getstate() == py_state
    assert np.random.get_state()[1].tolist() == np_state[1].tolist()
    assert train.data.shape == (240, 1, 40) and test.data.shape == (60, 1, 40)
    assert train.data.dtype == rg.float32 and train.targets.dtype == rg.int64

    args = mnist1d_data.get_dataset_args()
    args.num_samples, args.seed = 300, 3
    reference = mnist1d_data.make_dataset(args)
    np.testing.assert_allclose(train.data.numpy()[:, 0], reference["x"], rtol=1e-6)
    np.testing.assert_array_equal(test.targets.numpy(), reference["y_test"])
    np.random.set_state(np_state)
    random.setstate(py_state)


def test_mnist1d_seed_changes_the_data_and_split_is_checked():
    a, _ = mnist1d(num_samples=100, seed=1)
    b, _ = mnist1d(num_samples=100, seed=2)
    assert not np.array_equal(a.data.numpy(), b.data.numpy())
    with pytest.raises(ValueError, match="train_split"):
        mnist1d(train_split=1.5)


def test_load_by_name():
    train, _ = rg.datasets.load("MNIST1D", num_samples=100)
    assert len(train) == 80
    assert "mnist1d" in rg.datasets.names()
    with pytest.raises(ValueError, match="unknown dataset 'imagenet'"):
        rg.datasets.load("imagenet")
