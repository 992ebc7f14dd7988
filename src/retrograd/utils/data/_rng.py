"""The one place where data loading turns an `rg.Generator` into NumPy random draws."""

import numpy as np

from ...ops.random import Generator, default_generator


def check_generator(generator, where):
    if generator is not None and not isinstance(generator, Generator):
        raise TypeError(
            f"{where}: generator must be an rg.Generator or None, got {type(generator).__name__}"
        )
    return generator


def stream(generator):
    """The NumPy stream to draw from: the generator's own, or the default generator's."""
    return (generator or default_generator).np


def epoch_stream(generator):
    """A stream for one pass over the data.

    With an explicit generator this is that generator's stream, so successive epochs continue
    it (a different order every epoch, the same sequence of orders for the same seed). Without
    one, a fresh stream is seeded from the default generator, as PyTorch does, so
    `rg.manual_seed` makes shuffling reproducible.
    """
    if generator is not None:
        return generator.np
    seed = int(default_generator.np.integers(2**63))
    return np.random.Generator(np.random.PCG64(seed))
