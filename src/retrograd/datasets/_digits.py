"""scikit-learn's bundled 8x8 digits (1,797 images, 10 classes): no download needed."""

import numpy as np

from ..autograd.tensor import new_tensor
from ._common import ClassificationDataset, Splits

__all__ = ["digits"]


def digits(*, test_fraction=0.2, seed=0):
    """The 8x8 handwritten digits that ship with scikit-learn, as `Splits(train, test)`.

    Images are float32 of shape (N, 1, 8, 8) scaled to [0, 1] (the raw values are 0..16);
    labels int64. The split is fixed by `seed`: the samples are put in the order of a seeded
    permutation (NumPy PCG64) and the last `round(1797 * test_fraction)` of them are the test
    set (359 with the defaults), so the same arguments always give the same split.
    Needs scikit-learn (`pip install retrograd[datasets]`).
    """
    if not 0 < test_fraction < 1:
        raise ValueError(f"digits: test_fraction must lie in (0, 1), got {test_fraction}")
    try:
        from sklearn.datasets import load_digits
    except ImportError as err:
        raise ImportError(
            "digits: needs scikit-learn, which bundles the data: pip install scikit-learn"
        ) from err
    bunch = load_digits()
    x = (bunch.images[:, None] / 16.0).astype(np.float32)
    y = bunch.target.astype(np.int64)
    order = np.random.default_rng(seed).permutation(len(y))
    n_test = int(round(len(y) * test_fraction))
    train, test = order[: len(y) - n_test], order[len(y) - n_test :]
    classes = [str(d) for d in range(10)]
    return Splits(
        ClassificationDataset(new_tensor(x[train]), new_tensor(y[train]), classes),
        ClassificationDataset(new_tensor(x[test]), new_tensor(y[test]), classes),
    )
