"""A tiny classification problem and a model with dropout, for fast fit-loop tests."""

import numpy as np

import retrograd as rg
from retrograd.utils.data import DataLoader, TensorDataset


def blobs(n=96, features=4, classes=3, seed=0, dtype=np.float32):
    """`n` points around `classes` separated centres, with integer labels."""
    rng = np.random.default_rng(seed)
    centres = rng.standard_normal((classes, features)) * 3
    y = rng.integers(0, classes, n)
    x = centres[y] + rng.standard_normal((n, features))
    return TensorDataset(x.astype(dtype), y.astype(np.int64))


def make_model(features=4, classes=3, hidden=16, dropout=0.2, dtype=rg.float32):
    model = rg.nn.Sequential(
        rg.nn.Linear(features, hidden),
        rg.nn.ReLU(),
        rg.nn.Dropout(dropout),
        rg.nn.Linear(hidden, classes),
    )
    return model.to(dtype)


def loaders(dataset, batch_size=16, seed=0, shuffle=True):
    train = DataLoader(dataset, batch_size=batch_size, shuffle=shuffle,
                       generator=rg.Generator(seed=seed) if shuffle else None)
    return train, DataLoader(dataset, batch_size=64)


def params(model):
    return {name: p.detach().numpy().copy() for name, p in model.named_parameters()}
