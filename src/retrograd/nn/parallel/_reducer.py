"""Gradient buckets: how DistributedDataParallel averages gradients while backward runs.

The parameters are laid out in reverse order (backward produces the last layers' gradients
first) in contiguous buckets of at most `bucket_cap_mb`, one dtype per bucket. When a
parameter's gradient is complete (a post-accumulate-grad hook; the engine fires it as soon as
no node left in the walk can add to it), it is copied into its slot; when a bucket is full it is
all-reduced with a non-blocking `Iallreduce` while backward goes on. Buckets start strictly in
order, the same order on every rank (MPI matches collectives by order). A callback queued on
the engine runs after the walk: it fills the slots of parameters that got no gradient with
zeros, starts the remaining buckets, waits for all of them, divides by the world size and
copies the averages back into `.grad`.

A gradient is copied into its slot in its own memory order: a weight used as `x @ w` gets its
gradient from a matmul transposed (Fortran order), and a plain copy of it is 10x faster than a
transposing one, both ways. Each slot's order travels with the bucket as one extra
element per parameter (0 for C order, 1 for Fortran order), summed with the rest: a sum other
than 0 or the world size means the ranks laid a gradient out differently, and that bucket is
reduced again in C order.
"""

import functools
import time
import warnings

import numpy as np

from ...autograd import engine
from ...autograd.tensor import new_tensor
from ...distributed import process_group
from ...distributed._mpi import mpi


class Bucket:
    """A contiguous buffer for the gradients of some parameters (all of one dtype), followed by
    one layout flag per parameter."""

    __slots__ = ("buffer", "flags", "indices", "offsets", "missing", "request")

    def __init__(self, dtype, indices, sizes):
        self.indices = indices  # positions in the reducer's parameter list
        self.offsets = np.concatenate([[0], np.cumsum(sizes)]).astype(np.int64)
        total = int(self.offsets[-1])
        self.buffer = np.zeros(total + len(indices), dtype=dtype)
        self.flags = self.buffer[total:]  # 1: that slot holds its gradient in Fortran order
        self.missing = len(indices)
        self.request = None


class Reducer:
    """The per-backward state machine of DistributedDataParallel's gradient averaging."""

    def __init__(self, names, params, bucket_cap_mb, find_unused_parameters, debug):
        self.names = names
        self.params = params
        self.find_unused_parameters = find_unused_parameters
        self.debug = debug
        self.comm = process_group.comm()
        self.world_size = self.comm.Get_size()
        self.buckets, self.where = _layout(params, bucket_cap_mb)
        self.armed = False  # a forward that will sync has run; its backward reduces
        self.queued = False  # the end-of-backward callback is queued for this pass
        self.ready = [False] * len(params)
        self.next_bucket = 0
        self.passes = 0  # backward passes whose gradients were averaged
        self.comm_seconds = 0.0  # time spent waiting for the reductions (see `stats`)
        self.handles = [
            p.register_post_accumulate_grad_hook(functools.partial(self._grad_ready, i))
            for i, p in enumerate(params)
        ]

    def bucket_sizes(self):
        """[(parameters, bytes of gradients)] per bucket, in the order they are reduced."""
        return [(len(b.indices), int(b.offsets[-1]) * b.buffer.itemsize) for b in self.buckets]

    def prepare_for_backward(self):
        """Called by forward when this pass must average gradients."""
        if self.next_bucket and self.armed:
            # A forward whose backward never ran (or stopped part-way): start afresh.
            self._wait_all()
        self.armed = True
        self.queued = False
        self.ready = [False] * len(self.params)
        self.next_bucket = 0
        for bucket in self.buckets:
            bucket.missing = len(bucket.indices)
            bucket.request = None

    def remove_hooks(self):
        for handle in self.handles:
            handle.remove()
        self.handles = []

    # ------------------------------------------------------------------ during backward
    def _grad_ready(self, index, param):
        if not self.armed:
            return  # no_sync(), or no forward since the last reduction: just accumulate
        if self.ready[index]:
            raise RuntimeError(
                f"DistributedDataParallel: parameter '{self.names[index]}' got its gradient "
                "twice after one forward pass (two backward passes through one forward?); run "
                "forward again before each backward, or use no_sync() to accumulate"
            )
        if not self.queued:
            engine.queue_callback(self._finish)
            self.queued = True
        self.ready[index] = True
        b, k, start, end = self.where[index]
        bucket = self.buckets[b]
        bucket.flags[k] = _fill(bucket.buffer[start:end], param.grad.data)
        bucket.missing -= 1
        if bucket.missing == 0 and b == self.next_bucket:
            self._launch_ready()

    def _launch_ready(self):
        MPI = mpi()
        while self.next_bucket < len(self.buckets):
            bucket = self.buckets[self.next_bucket]
            if bucket.missing:
                break
            bucket.request = self.comm.Iallreduce(MPI.IN_PLACE, bucket.buffer, op=MPI.SUM)
            self.next_bucket += 1
        # MPI moves non-blocking collectives along inside MPI calls: nudge the ones in flight
        started = [b.request for b in self.buckets[: self.next_bucket] if b.request is not None]
        if started:
            MPI.Request.Testall(started)

    # ------------------------------------------------------------------ after backward
    def _finish(self):
        unused = [i for i, done in enumerate(self.ready) if not done]
        for i in unused:  # no gradient on this rank: contribute zeros to the average
            b, k, start, end = self.where[i]
            bucket = self.buckets[b]
            bucket.buffer[start:end] = 0
            bucket.flags[k] = 0
            bucket.missing -= 1
        self._launch_ready()
        used_anywhere = None
        if self.find_unused_parameters:
            used = np.array(self.ready, dtype=np.int32)
            self.comm.Allreduce(mpi().IN_PLACE, used, op=mpi().MAX)
            used_anywhere = used.astype(bool)
        self._wait_all()
        for bucket in self.buckets:
            flags = bucket.flags
            if np.any((flags != 0) & (flags != self.world_size)):
                self._reduce_again_in_c_order(bucket)
        for i, p in enumerate(self.params):
            if used_anywhere is not None and not used_anywhere[i]:
                continue  # unused on every rank: the gradient stays as it was (None)
            b, k, start, end = self.where[i]
            bucket = self.buckets[b]
            _set_grad(p, bucket.buffer[start:end], bucket.flags[k] != 0, self.world_size)
        self.armed = False
        self.passes += 1
        if unused and self.debug:
            names = ", ".join(self.names[i] for i in unused)
            warnings.warn(
                f"[rank {process_group.get_rank()}] DistributedDataParallel: {len(unused)} "
                f"parameter(s) received no gradient in this backward pass: {names} (zeros were "
                "contributed to their average)",
                RuntimeWarning,
                stacklevel=2,
            )

    def _reduce_again_in_c_order(self, bucket):
        """The ranks disagreed on a slot's memory order (every rank sees the same sums, so all
        of them come here): reduce the bucket again with every gradient in C order."""
        for k, i in enumerate(bucket.indices):
            start, end = int(bucket.offsets[k]), int(bucket.offsets[k + 1])
            slot = bucket.buffer[start:end]
            if self.ready[i]:
                np.copyto(slot, self.params[i].grad.data.reshape(-1), casting="same_kind")
            else:
                slot[...] = 0
        bucket.flags[...] = 0
        self.comm.Allreduce(mpi().IN_PLACE, bucket.buffer, op=mpi().SUM)

    def _wait_all(self):
        requests = [b.request for b in self.buckets if b.request is not None]
        if requests:
            started = time.perf_counter()
            mpi().Request.Waitall(requests)
            self.comm_seconds += time.perf_counter() - started
        for bucket in self.buckets:
            bucket.request = None


def _fill(slot, grad):
    """Copy `grad` into its flat slot in its own memory order; returns the layout flag."""
    if grad.ndim > 1 and grad.flags.f_contiguous and not grad.flags.c_contiguous:
        np.copyto(slot, grad.reshape(-1, order="F"), casting="same_kind")  # a view: no transpose
        return 1
    np.copyto(slot, grad.reshape(-1), casting="same_kind")
    return 0


def _set_grad(param, summed, fortran, world_size):
    """`.grad` = the slot's sum / world size, written in place when the gradient's layout is
    the slot's (a plain copy), else into a new array."""
    order = "F" if fortran else "C"
    grad = param.grad
    if grad is not None and grad._node is None and grad.data.shape == param.data.shape:
        data = grad.data
        contiguous = data.flags.f_contiguous if fortran else data.flags.c_contiguous
        if contiguous and data.flags.writeable and data.dtype == summed.dtype:
            np.divide(summed, world_size, out=data.reshape(-1, order=order))
            return
    values = np.divide(summed, world_size).astype(param.data.dtype, copy=False)
    param.grad = new_tensor(values.reshape(param.data.shape, order=order))


def _layout(params, bucket_cap_mb):
    """Buckets over the parameters in reverse order, at most `bucket_cap_mb` each (a parameter
    larger than that gets a bucket of its own), one dtype per bucket; and for each parameter
    (bucket index, position in the bucket, start, end) of its slot."""
    cap = float(bucket_cap_mb) * 2**20
    buckets, where = [], [None] * len(params)
    open_by_dtype = {}  # dtype -> (indices, sizes, bytes) of the bucket being filled
    order = []  # bucket contents in the order they were closed or opened

    def close(dtype):
        indices, sizes, _ = open_by_dtype.pop(dtype)
        order.append((dtype, indices, sizes))

    for i in reversed(range(len(params))):
        data = params[i].data
        dtype = data.dtype
        current = open_by_dtype.get(dtype)
        if current is not None and current[2] + data.nbytes > cap and current[0]:
            close(dtype)
            current = None
        if current is None:
            current = open_by_dtype[dtype] = ([], [], 0)
        indices, sizes, nbytes = current
        indices.append(i)
        sizes.append(data.size)
        open_by_dtype[dtype] = (indices, sizes, nbytes + data.nbytes)
    for dtype in list(open_by_dtype):
        close(dtype)
    for b, (dtype, indices, sizes) in enumerate(order):
        bucket = Bucket(dtype, indices, sizes)
        buckets.append(bucket)
        for k, i in enumerate(indices):
            where[i] = (b, k, int(bucket.offsets[k]), int(bucket.offsets[k + 1]))
    return buckets, where
