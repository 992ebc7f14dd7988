"""MNIST-1D (Greydanus, 2020): a small 1-D signal benchmark, generated locally from code."""

import random

import numpy as np

from ..autograd.tensor import new_tensor
from ._common import ClassificationDataset, Splits

__all__ = ["mnist1d"]


def mnist1d(*, num_samples=5000, train_split=0.8, seed=42, shuffle_seq=False):
    """MNIST-1D generated with the `mnist1d` package, as `Splits(train, test)`.

    The defaults (5,000 samples, 80% train, seed 42) are the package's own, which define the
    published dataset: 4,000 training and 1,000 test signals of length 40, 10 classes.
    Inputs are float32 of shape (N, 1, 40) (one channel, for Conv1d; flatten for an MLP),
    labels int64. Nothing is downloaded: the signals are built from the digit templates by
    `mnist1d.data.make_dataset`. The global NumPy and `random` states, which that function
    reseeds, are restored afterwards. Needs `pip install mnist1d`.
    """
    try:
        from mnist1d.data import get_dataset_args, make_dataset
    except ImportError as err:
        raise ImportError("mnist1d: needs the mnist1d package: pip install mnist1d") from err
    if not 0 < train_split < 1:
        raise ValueError(f"mnist1d: train_split must lie in (0, 1), got {train_split}")
    args = get_dataset_args()
    args.num_samples = int(num_samples)
    args.train_split = float(train_split)
    args.seed = int(seed)
    args.shuffle_seq = bool(shuffle_seq)
    np_state, py_state = np.random.get_state(), random.getstate()
    try:
        data = make_dataset(args)
    finally:
        np.random.set_state(np_state)
        random.setstate(py_state)
    classes = [str(d) for d in range(10)]
    return Splits(
        _dataset(data["x"], data["y"], classes),
        _dataset(data["x_test"], data["y_test"], classes),
    )


def _dataset(x, y, classes):
    x = np.asarray(x, dtype=np.float32)[:, None, :]
    return ClassificationDataset(new_tensor(x), new_tensor(np.asarray(y, dtype=np.int64)), classes)
