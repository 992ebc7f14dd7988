"""Pipeline (model) parallelism: an `nn.Sequential` split into consecutive stages, one per rank.

    model = nn.Sequential(...)                          # the same model, built on every rank
    pipe = Pipeline(model, balance=[3, 2], chunks=4)    # rank 0 keeps layers 0-2, rank 1 3-4
    optimizer = rg.optim.SGD(pipe.parameters(), lr=0.1) # each rank steps its own stage
    loss = pipe.train_step(x, y, F.cross_entropy)       # x read on rank 0, y on the last rank
    optimizer.step()

GPipe's schedule: the batch is cut into `chunks` micro-batches; every micro-batch goes forward
through the stages (rank r receives it from rank r-1, runs its layers and sends the result to
rank r+1, while rank r-1 already works on the next micro-batch); then each rank runs one
backward pass over all its micro-batches, in reverse order, exchanging gradients with its
neighbours through the differentiable `send`/`recv` of `retrograd.distributed.functional`.
The last rank concatenates the micro-batch outputs, so the loss and every gradient are those of
the whole model on the whole batch (up to floating-point rounding).

Layers that mix samples (BatchNorm) see micro-batches, not the batch, as in GPipe.
"""

import numpy as np

from ..autograd.grad_mode import no_grad
from ..autograd.tensor import Tensor
from ..nn.container import Sequential
from ..nn.module import Module
from ..ops.joining import cat
from . import process_group
from .functional import recv_with_extra, send, wait_all

__all__ = ["Pipeline", "partition"]

_TAGS = 32768  # MPI guarantees tags up to 32767; messages between two ranks arrive in order


class Pipeline(Module):
    """This rank's stage of `module` (an `nn.Sequential`) in a pipeline over all ranks.

    The split is given by `balance` (the number of layers of each rank, one entry per rank) or
    by `split_points` (the indices of the layers that start a new stage, world size - 1 of
    them); by default the layers are shared out as evenly as their count allows. `chunks` is
    the number of micro-batches a batch is cut into (along dim 0).

    `pipe(x)` runs the forward pass: the input is read on the first rank only (others may pass
    None). It returns the output on the last rank and, on the others, a 0-d tensor whose
    `backward()` runs that rank's part of the backward pass. `train_step` does both and returns
    the loss on every rank. The stage is the attribute `stage` (its layers keep their names in
    `module`); `is_first_stage`, `is_last_stage` and `layers` (a range) describe it.
    """

    def __init__(self, module, balance=None, *, split_points=None, chunks=1):
        super().__init__()
        if not isinstance(module, Sequential):
            raise TypeError(f"Pipeline: expected an nn.Sequential, got {type(module).__name__}")
        if not isinstance(chunks, int) or chunks < 1:
            raise ValueError(f"Pipeline: chunks must be a positive int, got {chunks!r}")
        self.rank = process_group.get_rank()
        self.world_size = process_group.get_world_size()
        bounds = partition(len(module), self.world_size, balance, split_points)
        start, end = bounds[self.rank], bounds[self.rank + 1]
        self.layers = range(start, end)
        self.stage = module[start:end]
        self.chunks = chunks
        self.is_first_stage = self.rank == 0
        self.is_last_stage = self.rank == self.world_size - 1

    def forward(self, input=None):
        pending = []  # non-blocking sends of activations, completed before returning
        try:
            if self.is_first_stage:
                if not isinstance(input, Tensor):
                    raise TypeError(f"Pipeline: the first stage needs the input Tensor, got "
                                    f"{type(input).__name__}")
                micro = input.chunk(self.chunks) if self.chunks > 1 else (input,)
                count = len(micro)
            else:
                micro, count = None, None
            outputs = []
            m = 0
            while count is None or m < count:
                if self.is_first_stage:
                    x = micro[m]
                else:
                    x, count = recv_with_extra(self.rank - 1, m % _TAGS)  # header: the count
                y = self.stage(x)
                if self.is_last_stage:
                    outputs.append(y)
                else:
                    outputs.append(send(y, self.rank + 1, m % _TAGS, pending=pending, extra=count))
                m += 1
        finally:
            wait_all(pending)
        if self.is_last_stage:
            return outputs[0] if len(outputs) == 1 else cat(outputs)
        total = outputs[0]
        for token in outputs[1:]:
            total = total + token  # one root: backward then visits micro-batches last to first
        return total

    def train_step(self, input, target, loss_fn):
        """Forward and backward of one batch; returns the loss (a float, on every rank).

        The gradients are accumulated into the stage's parameters' `.grad` (zero them and step
        the optimizer around it, as with a plain model). `target` is read on the last rank.
        """
        out = self(input)
        if self.is_last_stage:
            loss = loss_fn(out, target)
            loss.backward()
            value = np.array([float(loss.item())], dtype=np.float64)
        else:
            if out.requires_grad:
                out.backward()
            value = np.zeros(1, dtype=np.float64)
        process_group.comm().Bcast(value, root=self.world_size - 1)
        return float(value[0])

    @no_grad()
    def predict(self, input=None):
        """Forward without a graph; the output on the last rank, None on the others."""
        out = self(input)
        return out if self.is_last_stage else None

    def extra_repr(self):
        return (f"rank={self.rank}, layers={self.layers.start}..{self.layers.stop - 1}, "
                f"chunks={self.chunks}")


def partition(n_layers, world_size, balance=None, split_points=None):
    """The stage boundaries [0, b1, ..., n_layers]: stage r holds layers b_r .. b_(r+1) - 1."""
    if balance is not None and split_points is not None:
        raise ValueError("Pipeline: give balance or split_points, not both")
    if split_points is not None:
        points = [int(p) for p in split_points]
        if len(points) != world_size - 1:
            raise ValueError(f"Pipeline: {world_size} ranks need {world_size - 1} split points, "
                             f"got {points}")
        bounds = [0, *points, n_layers]
    elif balance is not None:
        balance = [int(b) for b in balance]
        if len(balance) != world_size:
            raise ValueError(f"Pipeline: balance {balance} has {len(balance)} entries for "
                             f"{world_size} ranks (one entry per rank)")
        if sum(balance) != n_layers:
            raise ValueError(f"Pipeline: balance {balance} sums to {sum(balance)}, but the "
                             f"Sequential has {n_layers} layers")
        bounds = [0]
        for b in balance:
            bounds.append(bounds[-1] + b)
    else:
        base, extra = divmod(n_layers, world_size)
        bounds = [0]
        for r in range(world_size):
            bounds.append(bounds[-1] + base + (1 if r < extra else 0))
    if any(b >= e for b, e in zip(bounds, bounds[1:])) or bounds[-1] != n_layers:
        raise ValueError(f"Pipeline: every one of the {world_size} stages needs at least one of "
                         f"the {n_layers} layers; stage boundaries {bounds}")
    return bounds
