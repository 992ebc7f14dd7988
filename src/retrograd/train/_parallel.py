"""What the fit loop does differently for a data-parallel model (DistributedDataParallel):
agree across ranks on metrics and on stopping, and checkpoint the wrapped model."""

import numpy as np

from .. import distributed
from ..nn.parallel import DistributedDataParallel


def world(model):
    """(rank, world size) when `model` is data parallel (DistributedDataParallel); else (0, 1),
    also inside an MPI job (each rank then trains a model of its own)."""
    if not isinstance(model, DistributedDataParallel) or not distributed.is_initialized():
        return 0, 1
    return distributed.get_rank(), distributed.get_world_size()


def unwrap(model):
    """The model whose state dict checkpoints hold: DistributedDataParallel's `.module`, so a
    checkpoint of a data-parallel run loads into a one-process run and back."""
    return model.module if isinstance(model, DistributedDataParallel) else model


def reduce_totals(totals, world_size):
    """A MetricTotals summed over all ranks, so its means are over every rank's samples."""
    if world_size == 1:
        return totals
    names = sorted(totals.sums)
    values = np.array([totals.samples, totals.loss, *(totals.sums[n] for n in names)],
                      dtype=np.float64)
    distributed.all_reduce(values)
    totals.samples, totals.loss = int(values[0]), float(values[1])
    totals.sums = {n: float(v) for n, v in zip(names, values[2:])}
    return totals


def agree_to_stop(stop, world_size):
    """True on every rank when any rank wants to stop: one rank that stops alone would leave
    the others waiting in their next collective."""
    if world_size == 1:
        return stop
    flag = np.array([1.0 if stop else 0.0])
    distributed.all_reduce(flag, op=distributed.ReduceOp.MAX)
    return bool(flag[0])
