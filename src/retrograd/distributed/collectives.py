"""Collectives and point-to-point messages on tensors, with PyTorch's names and signatures.

Each works in place on the tensor's own array when that array is C-contiguous (the usual case);
otherwise on a contiguous copy that is written back when the operation completes. MPI's
buffer-based calls (uppercase in mpi4py: `Allreduce`, `Iallreduce`, `Bcast`...) move the bytes
without pickling. `async_op=True` starts the non-blocking variant and returns a `Work` whose
`wait()` completes it; the tensor must not be read or changed before then.
"""

import enum

import numpy as np

from ..autograd.tensor import Tensor
from . import process_group
from ._mpi import mpi

__all__ = [
    "ReduceOp",
    "Work",
    "all_reduce",
    "broadcast",
    "all_gather",
    "reduce_scatter",
    "send",
    "recv",
    "isend",
    "irecv",
]


class ReduceOp(enum.Enum):
    """How all_reduce and reduce_scatter combine the ranks' values. AVG is a SUM divided by the
    world size (floating-point tensors only)."""

    SUM = "sum"
    AVG = "avg"
    PRODUCT = "product"
    MIN = "min"
    MAX = "max"


class Work:
    """The handle of an operation started with `async_op=True`: `wait()` blocks until it is
    complete (and the result is in the tensor); `is_completed()` asks without blocking."""

    __slots__ = ("_requests", "_finish", "_keep", "_done")

    def __init__(self, requests, finish=None, keep=None):
        self._requests = list(requests)
        self._finish = finish  # runs once, after the requests complete: average, copy back
        self._keep = keep  # buffers MPI is reading or writing, alive until completion
        self._done = False

    def wait(self, timeout=None):
        """Block until the operation is complete (`timeout` is accepted for PyTorch's signature;
        MPI requests have none)."""
        if not self._done:
            mpi().Request.Waitall(self._requests)
            self._complete()
        return True

    def is_completed(self):
        if not self._done and mpi().Request.Testall(self._requests):
            self._complete()
        return self._done

    def _complete(self):
        self._done = True
        finish, self._finish, self._keep = self._finish, None, None
        if finish is not None:
            finish()


def all_reduce(tensor, op=ReduceOp.SUM, group=None, async_op=False):
    """Combine `tensor` over all ranks with `op`; every rank ends with the result, in place."""
    comm = _comm(group, "all_reduce")
    array, buf, write_back = _inout(tensor, "all_reduce")
    mpi_op, divide = _mpi_op(op, buf.dtype, "all_reduce")
    IN_PLACE = mpi().IN_PLACE
    size = comm.Get_size()

    def finish():
        if divide and size > 1:
            np.divide(buf, size, out=buf)
        write_back()

    if async_op:
        return Work([comm.Iallreduce(IN_PLACE, buf, op=mpi_op)], finish, buf)
    comm.Allreduce(IN_PLACE, buf, op=mpi_op)
    finish()
    return None


def broadcast(tensor, src, group=None, async_op=False):
    """Copy rank `src`'s `tensor` into `tensor` on every other rank."""
    comm = _comm(group, "broadcast")
    _check_rank(src, comm, "broadcast", "src")
    array, buf, write_back = _inout(tensor, "broadcast")
    if async_op:
        return Work([comm.Ibcast(buf, root=src)], write_back, buf)
    comm.Bcast(buf, root=src)
    write_back()
    return None


def all_gather(tensor_list, tensor, group=None, async_op=False):
    """Fill `tensor_list[r]` with rank r's `tensor`, on every rank."""
    comm = _comm(group, "all_gather")
    size = comm.Get_size()
    send = np.ascontiguousarray(_array(tensor, "all_gather"))
    if len(tensor_list) != size:
        raise ValueError(f"all_gather: tensor_list has {len(tensor_list)} tensors for a world "
                         f"of size {size}")
    for i, t in enumerate(tensor_list):
        target = _array(t, "all_gather")
        if target.shape != send.shape or target.dtype != send.dtype:
            raise ValueError(f"all_gather: tensor_list[{i}] has shape {target.shape} "
                             f"({target.dtype}); the tensor has {send.shape} ({send.dtype})")
    gathered = np.empty((size, *send.shape), dtype=send.dtype)

    def finish():
        for t, part in zip(tensor_list, gathered):
            _assign(t, part, "all_gather")

    if async_op:
        return Work([comm.Iallgather(send, gathered)], finish, (send, gathered))
    comm.Allgather(send, gathered)
    finish()
    return None


def reduce_scatter(output, input_list, op=ReduceOp.SUM, group=None, async_op=False):
    """Combine `input_list[r]` over all ranks with `op` and leave the result in rank r's
    `output`."""
    comm = _comm(group, "reduce_scatter")
    size = comm.Get_size()
    if len(input_list) != size:
        raise ValueError(f"reduce_scatter: input_list has {len(input_list)} tensors for a world "
                         f"of size {size}")
    out = _array(output, "reduce_scatter")
    parts = [_array(t, "reduce_scatter") for t in input_list]
    for i, part in enumerate(parts):
        if part.shape != out.shape or part.dtype != out.dtype:
            raise ValueError(f"reduce_scatter: input_list[{i}] has shape {part.shape} "
                             f"({part.dtype}); the output has {out.shape} ({out.dtype})")
    send = np.stack(parts) if parts else np.empty((0, *out.shape), out.dtype)
    received = np.empty(out.shape, dtype=out.dtype)
    mpi_op, divide = _mpi_op(op, out.dtype, "reduce_scatter")

    def finish():
        if divide and size > 1:
            np.divide(received, size, out=received)
        _assign(output, received, "reduce_scatter")

    if async_op:
        request = comm.Ireduce_scatter_block(send, received, op=mpi_op)
        return Work([request], finish, (send, received))
    comm.Reduce_scatter_block(send, received, op=mpi_op)
    finish()
    return None


def send(tensor, dst, group=None, tag=0):
    """Send `tensor` to rank `dst` (blocks until MPI holds or has delivered the data)."""
    comm = _comm(group, "send")
    _check_rank(dst, comm, "send", "dst")
    comm.Send(np.ascontiguousarray(_array(tensor, "send")), dest=dst, tag=tag)


def recv(tensor, src=None, group=None, tag=0):
    """Receive into `tensor` from rank `src` (any rank when None); returns the sender's rank."""
    comm = _comm(group, "recv")
    MPI = mpi()
    if src is not None:
        _check_rank(src, comm, "recv", "src")
    array, buf, write_back = _inout(tensor, "recv")
    status = MPI.Status()
    comm.Recv(buf, source=MPI.ANY_SOURCE if src is None else src, tag=tag, status=status)
    write_back()
    return status.Get_source()


def isend(tensor, dst, group=None, tag=0):
    """Start sending `tensor` to rank `dst`; returns a Work (do not change the tensor before
    `wait()`)."""
    comm = _comm(group, "isend")
    _check_rank(dst, comm, "isend", "dst")
    buf = np.ascontiguousarray(_array(tensor, "isend"))
    return Work([comm.Isend(buf, dest=dst, tag=tag)], None, buf)


def irecv(tensor, src=None, group=None, tag=0):
    """Start receiving into `tensor` from rank `src` (any rank when None); returns a Work."""
    comm = _comm(group, "irecv")
    MPI = mpi()
    if src is not None:
        _check_rank(src, comm, "irecv", "src")
    array, buf, write_back = _inout(tensor, "irecv")
    request = comm.Irecv(buf, source=MPI.ANY_SOURCE if src is None else src, tag=tag)
    return Work([request], write_back, buf)


# ---------------------------------------------------------------------------- buffers


def _comm(group, where):
    process_group._check_group(group, where)
    return process_group._world(where).comm


def _array(tensor, where):
    if isinstance(tensor, Tensor):
        return tensor.data
    if isinstance(tensor, np.ndarray):
        return tensor
    raise TypeError(f"{where}: expected a Tensor, got {type(tensor).__name__}")


def _inout(tensor, where):
    """(array, the contiguous buffer MPI works on, a function that puts the result back).

    The buffer is the array itself when it is C-contiguous and writeable; then there is
    nothing to copy back, only the tensor's version to bump (it was changed in place).
    """
    array = _array(tensor, where)
    if array.flags.c_contiguous and array.flags.writeable:
        buf = array

        def write_back():
            _bump_version(tensor, where)
    else:
        buf = np.array(array, order="C", copy=True)

        def write_back():
            _assign(tensor, buf, where)
    return array, buf, write_back


def _assign(tensor, values, where):
    """Write `values` into the tensor's array (or give it a new one if it is read-only)."""
    if isinstance(tensor, Tensor):
        if tensor.data.flags.writeable:
            np.copyto(tensor.data, values)
        else:
            tensor.data = np.array(values, copy=True)
        _bump_version(tensor, where)
    else:
        np.copyto(tensor, values)


def _bump_version(tensor, where):
    if isinstance(tensor, Tensor):
        counter = tensor._counter()
        counter[0] += 1
        counter[1] = where


def _mpi_op(op, dtype, where):
    """(the MPI reduction, whether to divide by the world size afterwards)."""
    MPI = mpi()
    if isinstance(op, str):
        try:
            op = ReduceOp[op.upper()]
        except KeyError:
            op = None
    if op is ReduceOp.AVG:
        if dtype.kind not in "fc":
            raise TypeError(f"{where}: ReduceOp.AVG needs a floating-point tensor, got {dtype}")
        return MPI.SUM, True
    table = {ReduceOp.SUM: MPI.SUM, ReduceOp.PRODUCT: MPI.PROD, ReduceOp.MIN: MPI.MIN,
             ReduceOp.MAX: MPI.MAX}
    if op not in table:
        raise ValueError(f"{where}: op must be a ReduceOp (SUM, AVG, PRODUCT, MIN, MAX), got "
                         f"{op!r}")
    return table[op], False


def _check_rank(rank, comm, where, name):
    size = comm.Get_size()
    if not isinstance(rank, (int, np.integer)) or not 0 <= rank < size:
        raise ValueError(f"{where}: {name}={rank!r} is not a rank of this world of size {size}")
