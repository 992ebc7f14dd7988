"""Recurrent primitives: a whole sequence of LSTM, GRU or Elman RNN steps as one graph node.

    hs, h_n, c_n = lstm_sequence(xproj, h0, c0, w_hh)      # xproj = x @ w_ih.T + b_ih + b_hh
    hs, h_n = gru_sequence(xproj, h0, w_hh, b_hh)          # xproj = x @ w_ih.T + b_ih
    hs, h_n = rnn_sequence(xproj, h0, w_hh, "tanh")        # xproj = x @ w_ih.T + b_ih + b_hh

The input projections of all steps are one ordinary matmul made by the caller (`nn.LSTM` and the
cells here), whose gradients the engine handles; the primitive runs the recurrence: per step one
matmul h @ w_hh.T for all gates at once and a few whole-array NumPy calls, and its VJP is one
loop back over time in NumPy, with the weight gradient of all steps as one matmul at the end.
The torch-named cells (`lstm_cell`, `gru_cell`, `rnn_tanh_cell`, `rnn_relu_cell`) are the same
primitives run for one step.

NOTE: why a sequence primitive. Measured on an LSTM training step (input 32, hidden 128, 50 steps,
batch 32, float32, one thread, CPU time; benchmarks/bench_lstm.py, docs/rnn.md): PyTorch 14.6 ms,
this primitive 20.4 ms (hand-written NumPy with the same kernels: 19.1 ms), a Python loop over
the one-step primitive (`lstm_cell`) 38.0 ms, the LSTM composed of retrograd ops (about 12 graph
nodes per step) 53.4 ms. The VJP is written twice: the NumPy loop (first order, the fast path),
and `vjp_ns`, the same gradient against the rule namespace, which the engine uses under
create_graph=True; it recomputes the forward from the saved inputs, so gradients of gradients
are exact (at the composed LSTM's speed).

How several outputs come out of one node: the primitive's own output is an empty placeholder
and each result is a small "recurrent_output" node on top of it, whose VJP hands its gradient to
the shared node as one slot of a `_Grads` (the engine adds those like gradients). Forward mode
passes the tangents the same way, through the call's `_Pending` record.
"""

import numpy as np

from ..autograd import array_ns, graph
from ..autograd.graph import Op
from ..autograd.tensor import new_tensor
from . import _recurrent_gru as _gru
from . import _recurrent_lstm as _lstm
from . import _recurrent_rnn as _rnn
from ._util import Tensor, apply
from .linalg import matmul

__all__ = ["lstm_cell", "gru_cell", "rnn_tanh_cell", "rnn_relu_cell"]

TENSOR_METHODS = {}

_PLACEHOLDER = np.empty((0,), dtype=np.float64)
_PLACEHOLDER.flags.writeable = False


class _Pending:
    """One call's results on their way from the primitive's forward to its output nodes (and,
    in forward mode, the tangents of those outputs). Emptied once the output nodes exist, so
    the graph does not keep the arrays through it."""

    __slots__ = ("arrays", "cache", "tangents")

    def __init__(self):
        self.arrays = self.cache = self.tangents = None


class _Grads:
    """The gradients of a sequence primitive's outputs, one slot each (None: no gradient),
    travelling through the engine's table as one value shaped like the placeholder output."""

    __slots__ = ("items",)
    shape = _PLACEHOLDER.shape
    dtype = _PLACEHOLDER.dtype
    data = _PLACEHOLDER  # what anomaly mode checks for NaN: nothing here (see RecurrentOutput)

    def __init__(self, items):
        self.items = items

    def __add__(self, other):
        return _Grads(
            [b if a is None else a if b is None else a + b for a, b in zip(self.items, other.items)]
        )


class RecurrentOutput(Op):
    """Output `index` of a sequence primitive (its input is the primitive's placeholder)."""

    name = "recurrent_output"
    input_names = ("sequence",)

    @staticmethod
    def forward(sequence, state, index, count):
        return state.arrays[index]

    @staticmethod
    def vjp(ns, g, saved, params, needs):
        items = [None] * params["count"]
        items[params["index"]] = g
        return _Grads(items)

    @staticmethod
    def jvp(ns, ts, xs, out, params):
        return params["state"].tangents[params["index"]]


class _Sequence(Op):
    """A sequence primitive: the kernel's outputs go to the call's `_Pending` record, the cache
    its backward reads is the aux. Subclasses name their kernels (see `_recurrent_lstm.py`),
    which take the op's parameters other than `state` as keywords."""

    has_aux = True
    kernel_forward = kernel_backward = kernel_vjp_ns = kernel_jvp = None

    @classmethod
    def forward(cls, *xs, state, **config):
        outputs, cache = cls.kernel_forward(*xs, **config)
        state.arrays, state.cache = outputs, cache
        return _PLACEHOLDER, cache

    @classmethod
    def vjp(cls, ns, g, saved, params, needs):
        # saved: the inputs, then the tensor guarding hs (see _outputs), then the aux cache
        config = _config(params)
        xs = saved[:len(needs)]
        if ns is array_ns:
            return cls.kernel_backward(saved[-1], g.items, xs, needs, **config)
        return cls.kernel_vjp_ns(ns, xs, g.items, needs, **config)

    @classmethod
    def jvp(cls, ns, ts, xs, out, params):
        state = params["state"]
        state.tangents = cls.kernel_jvp(state.cache, xs, ts, **_config(params))
        return _PLACEHOLDER


def _config(params):
    return {k: v for k, v in params.items() if k != "state"}


class LSTMSequence(_Sequence):
    name = "lstm_sequence"
    input_names = ("xproj", "h0", "c0", "w_hh")
    save = (0, 1, 2, 3)
    kernel_forward = staticmethod(_lstm.forward)
    kernel_backward = staticmethod(_lstm.backward)
    kernel_vjp_ns = staticmethod(_lstm.vjp_ns)
    kernel_jvp = staticmethod(_lstm.jvp)


class LSTMProjSequence(LSTMSequence):
    """`lstm_sequence` with a projection weight w_hr (LSTM(proj_size=...)); a separate op as
    `save` names fixed input positions."""

    name = "lstm_proj_sequence"
    input_names = ("xproj", "h0", "c0", "w_hh", "w_hr")
    save = (0, 1, 2, 3, 4)


class GRUSequence(_Sequence):
    name = "gru_sequence"
    input_names = ("xproj", "h0", "w_hh", "b_hh")
    save = (0, 1, 2, 3)
    kernel_forward = staticmethod(_gru.forward)
    kernel_backward = staticmethod(_gru.backward)
    kernel_vjp_ns = staticmethod(_gru.vjp_ns)
    kernel_jvp = staticmethod(_gru.jvp)


class RNNSequence(_Sequence):
    name = "rnn_sequence"
    input_names = ("xproj", "h0", "w_hh")
    save = (0, 1, 2)
    kernel_forward = staticmethod(_rnn.forward)
    kernel_backward = staticmethod(_rnn.backward)
    kernel_vjp_ns = staticmethod(_rnn.vjp_ns)
    kernel_jvp = staticmethod(_rnn.jvp)


def _outputs(op, inputs, select=None, **params):
    """Run sequence primitive `op` and return its outputs as Tensors (those at indices `select`
    when given: a cell needs only the final states).

    The first output, hs, shares its array with the cache backward reads, so it shares a version
    counter with a tensor the primitive's node keeps: changing it in place before backward is
    then an error, as for any saved tensor.
    """
    state = _Pending()
    shared = apply(op, *inputs, state=state, **params)
    count = len(state.arrays)
    indices = tuple(range(count)) if select is None else tuple(select)
    outs = tuple(
        apply(RecurrentOutput, shared, state=state, index=k, count=count) for k in indices
    )
    node = shared._node
    if node is not None and 0 in indices:
        kept = new_tensor(state.arrays[0])
        outs[indices.index(0)]._version = kept._counter()
        graph.save_tensors(node, node.saved + (kept,))
    state.arrays = state.cache = state.tangents = None
    return outs


def _check_sequence(name, xproj, h0, width, batch_sizes):
    """The shapes and dtypes a sequence primitive needs; `batch_sizes` as a tuple of ints."""
    if batch_sizes is None:
        if xproj.ndim != 3 or h0.ndim != 2 or xproj.shape[1] != h0.shape[0]:
            raise ValueError(
                f"{name}: expected xproj (L, N, {width}) and h0 (N, H), got shapes "
                f"{tuple(xproj.shape)} and {tuple(h0.shape)}"
            )
    else:
        if isinstance(batch_sizes, Tensor):
            batch_sizes = batch_sizes.data
        batch_sizes = tuple(int(b) for b in np.asarray(batch_sizes).reshape(-1))
        sizes_ok = (
            all(b > 0 for b in batch_sizes)
            and all(a >= b for a, b in zip(batch_sizes, batch_sizes[1:]))
        )
        if not sizes_ok:
            raise ValueError(
                f"{name}: batch_sizes must be positive and non-increasing, got {batch_sizes}"
            )
        if (xproj.ndim != 2 or h0.ndim != 2 or xproj.shape[0] != sum(batch_sizes)
                or (batch_sizes and batch_sizes[0] != h0.shape[0])):
            raise ValueError(
                f"{name}: expected packed xproj ({sum(batch_sizes)}, {width}) and h0 "
                f"({batch_sizes[0] if batch_sizes else 0}, H) for batch_sizes {batch_sizes}, "
                f"got shapes {tuple(xproj.shape)} and {tuple(h0.shape)}"
            )
    if xproj.shape[-1] != width:
        raise ValueError(
            f"{name}: xproj has {xproj.shape[-1]} features per step; expected {width}"
        )
    if xproj.dtype != h0.dtype:
        raise TypeError(
            f"{name}: xproj and h0 have different dtypes ({xproj.dtype} and {h0.dtype})"
        )
    return batch_sizes


def lstm_sequence(xproj, h0, c0, w_hh, w_hr=None, reverse=False, *, batch_sizes=None,
                  select=None):
    """LSTM over a sequence: (hs (L, N, P), h_n (N, P), c_n (N, H)).

    xproj (L, N, 4H): x @ w_ih.T + b_ih + b_hh for every step (gates i, f, g, o); h0 (N, P),
    c0 (N, H); w_hh (4H, P); w_hr (P, H) projects h (LSTM's proj_size; None: P = H).
    `reverse` runs the steps from last to first; hs stays in input order. With `batch_sizes`
    (a PackedSequence's), xproj is packed (T, 4H) and so is hs (T, P); h_n and c_n hold each
    sequence's final state. `select`: the indices of the outputs to return.
    """
    hidden = c0.shape[-1]
    batch_sizes = _check_sequence("lstm_sequence", xproj, h0, 4 * hidden, batch_sizes)
    _check_weight("lstm_sequence", "w_hh", w_hh, (4 * hidden, h0.shape[-1]), xproj.dtype)
    _check_weight("lstm_sequence", "c0", c0, (h0.shape[0], hidden), xproj.dtype)
    config = {"reverse": bool(reverse), "batch_sizes": batch_sizes}
    if w_hr is None:
        return _outputs(LSTMSequence, (xproj, h0, c0, w_hh), select, **config)
    _check_weight("lstm_sequence", "w_hr", w_hr, (h0.shape[-1], hidden), xproj.dtype)
    return _outputs(LSTMProjSequence, (xproj, h0, c0, w_hh, w_hr), select, **config)


def gru_sequence(xproj, h0, w_hh, b_hh, reverse=False, *, batch_sizes=None, select=None):
    """GRU over a sequence: (hs (L, N, H), h_n (N, H)).

    xproj (L, N, 3H): x @ w_ih.T + b_ih for every step (gates r, z, n); h0 (N, H);
    w_hh (3H, H); b_hh (3H,) (zeros for a GRU without bias). `batch_sizes`, `select`: as for
    `lstm_sequence`.
    """
    hidden = h0.shape[-1]
    batch_sizes = _check_sequence("gru_sequence", xproj, h0, 3 * hidden, batch_sizes)
    _check_weight("gru_sequence", "w_hh", w_hh, (3 * hidden, hidden), xproj.dtype)
    _check_weight("gru_sequence", "b_hh", b_hh, (3 * hidden,), xproj.dtype)
    return _outputs(GRUSequence, (xproj, h0, w_hh, b_hh), select, reverse=bool(reverse),
                    batch_sizes=batch_sizes)


def rnn_sequence(xproj, h0, w_hh, nonlinearity="tanh", reverse=False, *, batch_sizes=None,
                 select=None):
    """Elman RNN over a sequence: (hs (L, N, H), h_n (N, H)), h' = act(xproj_t + h @ w_hh.T)
    with act tanh or relu; xproj (L, N, H) holds x @ w_ih.T + b_ih + b_hh for every step.
    `batch_sizes`, `select`: as for `lstm_sequence`."""
    if nonlinearity not in ("tanh", "relu"):
        raise ValueError(
            f"rnn_sequence: unknown nonlinearity '{nonlinearity}'; select from 'tanh' or 'relu'"
        )
    hidden = h0.shape[-1]
    batch_sizes = _check_sequence("rnn_sequence", xproj, h0, hidden, batch_sizes)
    _check_weight("rnn_sequence", "w_hh", w_hh, (hidden, hidden), xproj.dtype)
    return _outputs(RNNSequence, (xproj, h0, w_hh), select, nonlinearity=nonlinearity,
                    reverse=bool(reverse), batch_sizes=batch_sizes)


def _check_weight(name, what, w, shape, dtype):
    if tuple(w.shape) != shape:
        raise ValueError(f"{name}: expected {what} of shape {shape}, got {tuple(w.shape)}")
    if w.dtype != dtype:
        raise TypeError(f"{name}: {what} has dtype {w.dtype}, the input {dtype}")


# ----------------------------------------------------------------- cells (PyTorch's names)
def _step_projection(name, input, w_ih, biases, gates):
    """input @ w_ih.T plus the biases, as a one-step (1, N, G) sequence."""
    if input.ndim != 2:
        raise ValueError(f"{name}: expected a 2-D input (N, input_size), got {tuple(input.shape)}")
    if w_ih.ndim != 2 or w_ih.shape[1] != input.shape[1] or w_ih.shape[0] % gates:
        raise ValueError(
            f"{name}: input of shape {tuple(input.shape)} does not match w_ih of shape "
            f"{tuple(w_ih.shape)}"
        )
    xproj = matmul(input, w_ih.T)
    for b in biases:
        if b is not None:
            xproj = xproj + b
    return xproj.reshape(1, *xproj.shape)


def _hidden(name, hx, batch, size, what="hx"):
    if tuple(hx.shape) != (batch, size):
        raise ValueError(f"{name}: expected {what} of shape {(batch, size)}, got {tuple(hx.shape)}")
    return hx


def lstm_cell(input, hx, w_ih, w_hh, b_ih=None, b_hh=None):
    """One LSTM step, as torch.lstm_cell: input (N, I), hx = (h, c) each (N, H), w_ih (4H, I),
    w_hh (4H, H); returns (h', c')."""
    h, c = hx
    xproj = _step_projection("lstm_cell", input, w_ih, (b_ih, b_hh), 4)
    hidden = w_ih.shape[0] // 4
    _hidden("lstm_cell", h, input.shape[0], hidden, "h")
    _hidden("lstm_cell", c, input.shape[0], hidden, "c")
    return lstm_sequence(xproj, h, c, w_hh, select=(1, 2))


def gru_cell(input, hx, w_ih, w_hh, b_ih=None, b_hh=None):
    """One GRU step, as torch.gru_cell: input (N, I), hx (N, H), w_ih (3H, I), w_hh (3H, H)."""
    xproj = _step_projection("gru_cell", input, w_ih, (b_ih,), 3)
    hidden = w_ih.shape[0] // 3
    _hidden("gru_cell", hx, input.shape[0], hidden)
    if b_hh is None:
        b_hh = new_tensor(np.zeros(3 * hidden, dtype=w_hh.dtype))
    return gru_sequence(xproj, hx, w_hh, b_hh, select=(1,))[0]


def _rnn_cell(name, nonlinearity, input, hx, w_ih, w_hh, b_ih, b_hh):
    xproj = _step_projection(name, input, w_ih, (b_ih, b_hh), 1)
    _hidden(name, hx, input.shape[0], w_ih.shape[0])
    return rnn_sequence(xproj, hx, w_hh, nonlinearity, select=(1,))[0]


def rnn_tanh_cell(input, hx, w_ih, w_hh, b_ih=None, b_hh=None):
    """One Elman RNN step, tanh(input @ w_ih.T + b_ih + hx @ w_hh.T + b_hh)."""
    return _rnn_cell("rnn_tanh_cell", "tanh", input, hx, w_ih, w_hh, b_ih, b_hh)


def rnn_relu_cell(input, hx, w_ih, w_hh, b_ih=None, b_hh=None):
    """One Elman RNN step, relu(input @ w_ih.T + b_ih + hx @ w_hh.T + b_hh)."""
    return _rnn_cell("rnn_relu_cell", "relu", input, hx, w_ih, w_hh, b_ih, b_hh)
