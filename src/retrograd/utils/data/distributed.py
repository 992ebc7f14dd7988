"""DistributedSampler: each rank of a data-parallel job visits its own share of the dataset."""

import math

import numpy as np

from ...ops.random import Generator
from .sampler import Sampler

__all__ = ["DistributedSampler"]


class DistributedSampler(Sampler):
    """The indices of rank `rank`'s share of `dataset`, out of `num_replicas` shares (PyTorch's
    semantics; the defaults come from the default process group).

    Every epoch all ranks draw the same permutation (seeded with `seed + epoch`: call
    `set_epoch(epoch)` before each epoch, or every epoch repeats one order; `rg.train`'s fit
    loop does it) and rank r takes every `num_replicas`-th index from position r. The shares
    have equal length: without `drop_last` the permutation is padded with its own first
    indices (a few samples count twice per epoch); with it, the tail that does not fill a
    round is dropped. With `shuffle=False` the order is 0, 1, 2, ...

    Because the shares interleave, the union of the ranks' t-th batches of size b is exactly
    the t-th batch of size `num_replicas * b` of a one-process run over the same permutation.
    """

    def __init__(self, dataset, num_replicas=None, rank=None, shuffle=True, seed=0,
                 drop_last=False):
        if num_replicas is None or rank is None:
            from ...distributed.process_group import (  # noqa: PLC0415 - only when asked
                get_rank,
                get_world_size,
                is_initialized,
            )

            if not is_initialized():
                raise RuntimeError(
                    "DistributedSampler: num_replicas and rank default to the process group's, "
                    "and none is initialized; call rg.distributed.init_process_group() or pass "
                    "num_replicas= and rank="
                )
            num_replicas = get_world_size() if num_replicas is None else num_replicas
            rank = get_rank() if rank is None else rank
        if not isinstance(num_replicas, int) or num_replicas < 1:
            raise ValueError(f"DistributedSampler: num_replicas must be a positive int, got "
                             f"{num_replicas!r}")
        if not isinstance(rank, int) or not 0 <= rank < num_replicas:
            raise ValueError(f"DistributedSampler: invalid rank {rank!r}, rank should be in the "
                             f"interval [0, {num_replicas - 1}]")
        self.dataset = dataset
        self.num_replicas = num_replicas
        self.rank = rank
        self.epoch = 0
        self.shuffle = shuffle
        self.seed = int(seed)
        self.drop_last = drop_last
        n = len(dataset)
        if drop_last and n % num_replicas:
            self.num_samples = math.ceil((n - num_replicas) / num_replicas)
        else:
            self.num_samples = math.ceil(n / num_replicas)
        self.total_size = self.num_samples * num_replicas

    def __iter__(self):
        n = len(self.dataset)
        if self.shuffle:
            indices = Generator(seed=self.seed + self.epoch).np.permutation(n)
        else:
            indices = np.arange(n)
        if self.total_size > n:  # pad with the order's own beginning (repeated if need be)
            indices = np.resize(indices, self.total_size) if n else indices
        else:
            indices = indices[: self.total_size]
        return iter(indices[self.rank : self.total_size : self.num_replicas].tolist())

    def __len__(self):
        return self.num_samples

    def set_epoch(self, epoch):
        """Use epoch `epoch`'s permutation (the same on every rank) in the next pass."""
        self.epoch = int(epoch)
