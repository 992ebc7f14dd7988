"""Differentiable point-to-point messages: the seams between pipeline stages.

    y = stage0(x)
    token = send(y, dst=1)        # rank 0: its backward receives dL/dy from rank 1
    ...
    h = recv(src=0)               # rank 1: its backward sends dL/dh back to rank 0
    loss = loss_fn(stage1(h), target)

`send` returns a 0-d "token" whose gradient does not matter: calling `token.backward()` on
the sending rank waits for the gradient of what it sent, then backpropagates it through the
rank's own graph. `recv` gets the shape and dtype from a small header sent before the data, so
the receiver needs to know nothing in advance. Each rank runs its own backward; the messages of
those backward passes meet because every rank walks its graph in the reverse of the order in
which it was built.
"""

import numpy as np

from ..autograd.function import Function
from ..autograd.grad_mode import is_grad_enabled
from ..autograd.tensor import Tensor, new_tensor
from . import process_group
from ._mpi import mpi

__all__ = ["send", "recv", "recv_with_extra", "send_array", "recv_array", "wait_all"]

# Header: [dtype code, extra, ndim, shape...]; `extra` carries a small integer for the caller
# (the pipeline's number of micro-batches).
_DTYPES = (np.float32, np.float64, np.float16, np.int64, np.int32, np.uint8, np.bool_, np.int8,
           np.int16)
_MAX_NDIM = 12
_HEADER = 3 + _MAX_NDIM


def send(tensor, dst, tag=0, *, pending=None, extra=0):
    """Send `tensor` to rank `dst` and return a 0-d token tensor whose backward receives the
    gradient of `tensor` from `dst` (sent by its `recv`'s backward) and passes it on.

    With `pending` (a list), the data goes out with a non-blocking send whose request is
    appended to the list; complete them with `wait_all(pending)` before the data may change.
    `extra` is a small integer delivered with the header (see `recv_with_extra`).
    """
    if not isinstance(tensor, Tensor):
        raise TypeError(f"send: expected a Tensor, got {type(tensor).__name__}")
    process_group._check_peer(dst, "send", "dst")
    return _Send.apply(tensor, dst, tag, pending, extra)


def recv(src, tag=0, *, requires_grad=True):
    """Receive a tensor from rank `src` (its shape and dtype come with it). When grad mode is
    on and `requires_grad`, the result is part of the graph: its gradient is sent back to `src`
    during this rank's backward pass."""
    return recv_with_extra(src, tag, requires_grad=requires_grad)[0]


def recv_with_extra(src, tag=0, *, requires_grad=True):
    """`recv`, and the `extra` integer its sender passed to `send`."""
    process_group._check_peer(src, "recv", "src")
    if requires_grad and is_grad_enabled():
        anchor = new_tensor(np.zeros((), dtype=np.float64))
        anchor._requires_grad = True  # gives the received tensor a node (its gradient is None)
        box = [None]
        out = _Recv.apply(anchor, src, tag, box)
        return out, box[0]
    array, extra = recv_array(src, tag)
    return new_tensor(array), extra


class _Send(Function):
    @staticmethod
    def forward(ctx, x, dst, tag, pending, extra):
        ctx.meta = (x.data.shape, x.data.dtype, dst, tag)
        send_array(x.data, dst, tag, extra, pending)
        return new_tensor(np.zeros((), dtype=x.data.dtype if x.is_floating_point() else
                                   np.float64))

    @staticmethod
    def backward(ctx, g):
        shape, dtype, dst, tag = ctx.meta
        gx = np.empty(shape, dtype=dtype)
        process_group.comm().Recv(gx, source=dst, tag=tag)
        return new_tensor(gx), None, None, None, None


class _Recv(Function):
    @staticmethod
    def forward(ctx, anchor, src, tag, box):
        array, box[0] = recv_array(src, tag)
        ctx.meta = (src, tag)
        return new_tensor(array)

    @staticmethod
    def backward(ctx, g):
        src, tag = ctx.meta
        process_group.comm().Send(np.ascontiguousarray(g.data), dest=src, tag=tag)
        return None, None, None, None


def send_array(array, dst, tag=0, extra=0, pending=None):
    """Send an ndarray's header (dtype, shape, `extra`) and data to `dst`."""
    comm = process_group.comm()
    array = np.ascontiguousarray(array)
    header = _header(array, extra)
    if pending is None:
        comm.Send(header, dest=dst, tag=tag)
        comm.Send(array, dest=dst, tag=tag)
        return
    # the arrays ride along with their requests so they outlive the sends
    pending.append((comm.Isend(header, dest=dst, tag=tag), header))
    pending.append((comm.Isend(array, dest=dst, tag=tag), array))


def recv_array(src, tag=0):
    """(the ndarray sent by `send_array` from `src`, its `extra` integer)."""
    comm = process_group.comm()
    header = np.empty(_HEADER, dtype=np.int64)
    comm.Recv(header, source=src, tag=tag)
    code, extra, ndim = (int(v) for v in header[:3])
    array = np.empty(tuple(int(n) for n in header[3:3 + ndim]), dtype=_DTYPES[code])
    comm.Recv(array, source=src, tag=tag)
    return array, extra


def wait_all(pending):
    """Complete the non-blocking sends collected in `pending` and empty it."""
    if pending:
        mpi().Request.Waitall([request for request, _ in pending])
        pending.clear()


def _header(array, extra):
    dtype = array.dtype
    codes = [i for i, d in enumerate(_DTYPES) if np.dtype(d) == dtype]
    if not codes:
        raise TypeError(f"send: dtype {dtype} can't be sent; supported: "
                        f"{[np.dtype(d).name for d in _DTYPES]}")
    if array.ndim > _MAX_NDIM:
        raise ValueError(f"send: at most {_MAX_NDIM} dimensions, got shape {array.shape}")
    header = np.zeros(_HEADER, dtype=np.int64)
    header[:3] = (codes[0], extra, array.ndim)
    header[3:3 + array.ndim] = array.shape
    return header
