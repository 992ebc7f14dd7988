"""DistributedSampler without MPI (explicit num_replicas and rank): PyTorch's shares, padding
and drop_last; one permutation per epoch shared by all ranks; the union of the ranks' batches
is the one-process batch."""

import numpy as np
import pytest

import retrograd as rg
from retrograd.utils.data import DataLoader, DistributedSampler, TensorDataset

CASES = [(n, world, drop_last) for n in (0, 1, 5, 10, 11, 13) for world in (1, 2, 3, 4)
         for drop_last in (False, True)]


@pytest.mark.parametrize("n,world,drop_last", CASES)
def test_shares_match_torch_without_shuffling(n, world, drop_last):
    torch_data = pytest.importorskip("torch.utils.data")
    for rank in range(world):
        ours = DistributedSampler(range(n), world, rank, shuffle=False, drop_last=drop_last)
        theirs = torch_data.DistributedSampler(range(n), world, rank, shuffle=False,
                                               drop_last=drop_last)
        assert list(ours) == list(theirs) and len(ours) == len(theirs)


@pytest.mark.parametrize("n,world,drop_last", CASES)
def test_shuffled_shares_cover_one_permutation(n, world, drop_last):
    shares = [list(DistributedSampler(range(n), world, r, seed=4, drop_last=drop_last))
              for r in range(world)]
    assert len({len(s) for s in shares}) <= 1
    order = list(DistributedSampler(range(n), 1, 0, seed=4))
    merged = [s[i] for i in range(len(shares[0])) for s in shares]
    if drop_last:
        assert merged == order[: len(merged)] and len(merged) > n - world
    else:
        padded = (order * (len(merged) // max(n, 1) + 1))[: len(merged)]
        assert merged == padded and len(merged) < n + world


def test_epochs_reshuffle_and_repeat_with_the_seed():
    sampler = DistributedSampler(range(20), 2, 1, seed=7)
    first = list(sampler)
    assert list(sampler) == first  # same epoch, same order
    sampler.set_epoch(1)
    second = list(sampler)
    assert second != first
    assert list(DistributedSampler(range(20), 2, 1, seed=8)) != first
    again = DistributedSampler(range(20), 2, 1, seed=7)
    again.set_epoch(1)
    assert list(again) == second


def test_rank_batches_together_are_the_combined_batch():
    x = rg.arange(24.0).reshape(12, 2)
    dataset = TensorDataset(x, rg.arange(12))
    one = DataLoader(dataset, batch_size=6, sampler=DistributedSampler(dataset, 1, 0, seed=1))
    ranks = [DataLoader(dataset, batch_size=3, sampler=DistributedSampler(dataset, 2, r, seed=1))
             for r in range(2)]
    for (xb, _), (x0, _), (x1, _) in zip(one, *ranks, strict=True):
        assert sorted(xb[:, 0].tolist()) == sorted(x0[:, 0].tolist() + x1[:, 0].tolist())


def test_errors():
    with pytest.raises(ValueError, match="invalid rank 2"):
        DistributedSampler(range(4), num_replicas=2, rank=2)
    with pytest.raises(ValueError, match="num_replicas"):
        DistributedSampler(range(4), num_replicas=0, rank=0)
    if not rg.distributed.is_initialized():
        with pytest.raises(RuntimeError, match="init_process_group"):
            DistributedSampler(range(4))


def test_numpy_indices_are_python_ints():
    assert all(type(i) is int for i in DistributedSampler(np.arange(7), 3, 2))
