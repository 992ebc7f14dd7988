"""DistributedDataParallel: one replica of the model per rank, gradients averaged in backward.

    rg.distributed.init_process_group("mpi")
    model = DistributedDataParallel(Net())          # rank 0's parameters go to every rank
    optimizer = rg.optim.SGD(model.parameters(), lr=0.1)
    for x, y in loader:                             # each rank loads its own part of the data
        optimizer.zero_grad()
        F.cross_entropy(model(x), y).backward()     # gradients averaged over ranks here
        optimizer.step()                            # same step on every rank

With the same optimizer on every rank, the replicas stay identical, and N ranks with batches
of B samples each take the same steps as one process with batches of N*B samples (for a loss
that is a mean over the batch, and layers that treat samples independently; BatchNorm
normalizes each rank's B samples with their own statistics).
"""

import contextlib

import numpy as np

from ...autograd.grad_mode import is_grad_enabled, no_grad
from ...distributed import debug as _debug
from ...distributed import process_group
from ..module import Module
from ._reducer import Reducer

__all__ = ["DistributedDataParallel"]


class DistributedDataParallel(Module):
    """Data parallelism over the ranks of the default process group.

    - At construction, rank 0's parameters and buffers are broadcast to every rank (after a
      check that all ranks built the same parameters).
    - Each backward pass averages the gradients over the ranks: gradient hooks fill buckets of
      at most `bucket_cap_mb` in reverse parameter order and all-reduce each full bucket
      without blocking while backward continues; everything is complete when backward returns.
    - `no_sync()`: forwards and backwards inside it only accumulate local gradients (for
      gradient accumulation); the first backward after it averages the accumulated sum.
    - `broadcast_buffers=True` (as in PyTorch): rank 0's buffers (BatchNorm's running
      statistics) are copied to every rank at the start of each forward that will sync. Each
      rank then updates them with its own batch, so between forwards they differ; rank 0's
      are the ones that rank-0 checkpoints save.
    - A parameter that gets no gradient on a rank contributes zeros to the average. With
      `find_unused_parameters=True` the ranks also agree on which parameters no rank used, and
      those keep `.grad` as it was (None) instead of receiving zeros.
    - `debug` (default: RETROGRAD_DISTRIBUTED_DEBUG=1 or init_process_group(debug=True)):
      after the first averaged step, the next forward checks that the parameters are identical
      on every rank and raises naming those that are not; parameters that received no
      gradient are named in a warning.

    The wrapped model is `.module`; the state dict's keys carry the prefix "module." as in
    PyTorch (save `model.module.state_dict()` for keys without it).
    """

    def __init__(self, module, device_ids=None, output_device=None, dim=0,
                 broadcast_buffers=True, process_group=None, bucket_cap_mb=25,
                 find_unused_parameters=False, *, debug=None):
        super().__init__()
        if not isinstance(module, Module):
            raise TypeError(f"DistributedDataParallel: expected a Module, got "
                            f"{type(module).__name__}")
        if device_ids not in (None, [], ["cpu"]) or output_device not in (None, "cpu"):
            raise ValueError("DistributedDataParallel: retrograd runs on cpu; leave device_ids "
                             "and output_device as None")
        if dim != 0:
            raise ValueError("DistributedDataParallel: batches are split along dim 0")
        if process_group is not None:
            raise ValueError("DistributedDataParallel: only the default process group is "
                             "supported (process_group=None)")
        if bucket_cap_mb is None:
            bucket_cap_mb = 25
        if not bucket_cap_mb > 0:
            raise ValueError(f"DistributedDataParallel: bucket_cap_mb must be positive, got "
                             f"{bucket_cap_mb!r}")
        _ddp_process_group()  # a clear error when there is none
        self.module = module
        self.broadcast_buffers = broadcast_buffers
        self.bucket_cap_mb = bucket_cap_mb
        self.find_unused_parameters = find_unused_parameters
        self.require_backward_grad_sync = True
        self.debug = _ddp_debug() if debug is None else bool(debug)
        self._checked = False

        _debug.check_same_structure(module, "DistributedDataParallel")
        named = [(n, p) for n, p in module.named_parameters() if p.requires_grad]
        self._sync_tensors([p for _, p in module.named_parameters()])
        self._sync_tensors(list(module.buffers()))
        # the gradient buckets and their state (a plain object: Module's walk ignores it)
        self.reducer = Reducer([n for n, _ in named], [p for _, p in named], bucket_cap_mb,
                               find_unused_parameters, self.debug)

    def forward(self, *args, **kwargs):
        sync = is_grad_enabled() and self.require_backward_grad_sync
        if sync:
            if self.debug and not self._checked and self.reducer.passes >= 1:
                self._checked = True
                _debug.check_parameters_agree(self.module)  # after the first step
            if self.broadcast_buffers:
                self._sync_tensors(list(self.module.buffers()))
            self.reducer.prepare_for_backward()
        return self.module(*args, **kwargs)

    @contextlib.contextmanager
    def no_sync(self):
        """Inside, backward only accumulates each rank's own gradients (no communication); the
        first backward after the block averages the accumulated gradients."""
        previous = self.require_backward_grad_sync
        self.require_backward_grad_sync = False
        try:
            yield
        finally:
            self.require_backward_grad_sync = previous

    def _sync_tensors(self, tensors):
        """Broadcast `tensors` from rank 0, packed into one buffer per dtype."""
        comm = process_group.comm()
        if comm.Get_size() == 1 or not tensors:
            return
        by_dtype = {}
        for t in tensors:
            if t is not None:
                by_dtype.setdefault(t.data.dtype, []).append(t)
        with no_grad():
            for group in by_dtype.values():
                flat = np.concatenate([t.data.reshape(-1) for t in group])
                comm.Bcast(flat, root=0)
                offset = 0
                for t in group:
                    n = t.data.size
                    np.copyto(t.data, flat[offset:offset + n].reshape(t.data.shape))
                    offset += n

    def extra_repr(self):
        return (f"world_size={process_group.get_world_size()}, "
                f"buckets={len(self.reducer.buckets)}, bucket_cap_mb={self.bucket_cap_mb}")


def _ddp_process_group():
    if not process_group.is_initialized():
        raise RuntimeError("DistributedDataParallel: the default process group has not been "
                           "initialized; call rg.distributed.init_process_group() first")


def _ddp_debug():
    return process_group.debug_enabled()
