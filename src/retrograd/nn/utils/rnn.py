"""Utilities for recurrent networks: truncated backpropagation through time, padding and packed
sequences.

Truncated BPTT splits a long sequence into chunks of `k` steps; the recurrent state is carried
from one chunk to the next with its value intact but cut from the graph (detached), so each
chunk's loss backpropagates through that chunk only:

    def step(chunk, target, state):
        out, state = lstm(chunk, state)
        return F.mse_loss(head(out), target), state

    result = rg.nn.utils.tbptt(step, x, k=20, targets=y, optimizer=opt)

`tbptt` is the driver (forward a chunk, backward, optimizer step, detach, repeat);
`tbptt_chunks` and `detach_state` are the two pieces, for loops written by hand.

Sequences of different lengths in one batch: `pad_sequence` pads them; `pack_padded_sequence`
and `pack_sequence` pack them (PyTorch's PackedSequence: the steps' rows one after the other,
the sequences sorted by decreasing length), which RNN, LSTM and GRU run without computing
anything for the padding, and `pad_packed_sequence` turns the result back into a padded tensor.
"""

import collections

import numpy as np

from ...autograd import dtypes
from ...autograd.tensor import Tensor, new_tensor
from ...ops.arrange import pad as _pad
from ...ops.creation import full
from ...ops.joining import cat, split, stack
from ...ops.scatter_gather import index_select

__all__ = [
    "tbptt",
    "tbptt_chunks",
    "detach_state",
    "TBPTTResult",
    "pad_sequence",
    "PackedSequence",
    "pack_padded_sequence",
    "pad_packed_sequence",
    "pack_sequence",
]

TBPTTResult = collections.namedtuple("TBPTTResult", ["losses", "state"])
TBPTTResult.__doc__ = """What `tbptt` returns: the loss of every chunk (floats, or the loss
tensors with backward=False) and the final recurrent state (detached)."""


def detach_state(state):
    """`state` cut from the graph: a Tensor, None, or tuples/lists of them nested to any depth
    (an LSTM's (h, c)), with the same values. The detached tensors share memory with the
    originals, as `Tensor.detach` does."""
    if state is None:
        return None
    if isinstance(state, Tensor):
        return state.detach()
    if isinstance(state, (tuple, list)):
        # NOTE: the nesting of recurrent states is shallow ((h, c), or one per layer), so a
        # recursion here is bounded by the user's structure, not by a graph's depth.
        return type(state)(detach_state(s) for s in state)
    raise TypeError(
        f"detach_state: expected a Tensor, None or a tuple/list of them, got {type(state).__name__}"
    )


def tbptt_chunks(sequences, k, dim=0):
    """Consecutive chunks of `k` steps (the last may be shorter) along dimension `dim`.

    `sequences` is one Tensor (chunks are yielded as Tensors) or a tuple/list of Tensors of the
    same length along `dim` (chunks are yielded as tuples, e.g. inputs and targets together).
    The chunks are views: gradients reach the original tensors.
    """
    k = _check_k(k)
    single = isinstance(sequences, Tensor)
    seqs = [sequences] if single else list(sequences)
    if not seqs or not all(isinstance(s, Tensor) for s in seqs):
        raise TypeError("tbptt_chunks: expected a Tensor or a tuple/list of Tensors")
    lengths = {s.shape[dim] for s in seqs}
    if len(lengths) != 1:
        shapes = ", ".join(str(tuple(s.shape)) for s in seqs)
        raise ValueError(
            f"tbptt_chunks: the sequences differ in length along dim {dim}: shapes {shapes}"
        )
    pieces = [split(s, k, dim) for s in seqs]
    for chunk in zip(*pieces):
        yield chunk[0] if single else chunk


def tbptt(step, inputs, k, state=None, *, targets=None, dim=0, optimizer=None, backward=True):
    """Truncated backpropagation through time over `inputs`, `k` steps at a time.

    For each chunk of `k` steps along `dim` (the last may be shorter), calls
    ``loss, state = step(chunk, state)`` (``step(chunk, target_chunk, state)`` when `targets`
    is given) and then, with `backward` (the default), ``loss.backward()``; with an `optimizer`,
    ``optimizer.step()`` and ``optimizer.zero_grad()`` after each chunk. The state handed to
    the next chunk is `detach_state(state)`: its values carry over, its gradient does not, so no
    gradient flows from a chunk's loss into earlier chunks. `state` is the initial state (None:
    the layer's default zeros).

    Without an optimizer the gradients of all chunks accumulate in `.grad`; with `k` equal to
    the sequence length this is ordinary (full) backpropagation through time.
    With ``backward=False`` nothing is differentiated and the losses are returned as tensors.

    Returns TBPTTResult(losses, state): per chunk the loss (a float, or the tensor with
    backward=False), and the final state, detached.
    """
    if targets is not None:
        chunks = tbptt_chunks((inputs, targets), k, dim)
    else:
        chunks = ((c,) for c in tbptt_chunks(inputs, k, dim))
    losses = []
    for chunk in chunks:
        result = step(*chunk, state)
        if not isinstance(result, tuple) or len(result) != 2:
            raise TypeError(
                "tbptt: step must return (loss, state), got "
                f"{type(result).__name__}{'' if not isinstance(result, tuple) else len(result)}"
            )
        loss, state = result
        if backward:
            loss.backward()
            if optimizer is not None:
                optimizer.step()
                optimizer.zero_grad()
            losses.append(loss.item())
        else:
            losses.append(loss)
        state = detach_state(state)
    return TBPTTResult(losses, state)


def _check_k(k):
    if isinstance(k, bool) or not isinstance(k, int) or k <= 0:
        raise ValueError(f"tbptt: k (steps per chunk) must be a positive integer, got {k!r}")
    return k


def pad_sequence(sequences, batch_first=False, padding_value=0.0, padding_side="right"):
    """Stack tensors of shapes (L_i, *) into (L_max, B, *) ((B, L_max, *) with batch_first),
    padding each with `padding_value` on the right (or the left) of its first dimension."""
    seqs = list(sequences)
    if not seqs:
        raise ValueError("pad_sequence: received an empty list of sequences")
    if padding_side not in ("left", "right"):
        raise ValueError(
            f"pad_sequence: padding_side must be 'left' or 'right', got '{padding_side}'"
        )
    trailing = seqs[0].shape[1:]
    for s in seqs:
        if s.ndim == 0 or s.shape[1:] != trailing:
            raise ValueError(
                "pad_sequence: every sequence needs the same trailing dimensions, got shapes "
                + ", ".join(str(tuple(t.shape)) for t in seqs)
            )
    longest = max(s.shape[0] for s in seqs)
    padded = []
    for s in seqs:
        extra = longest - s.shape[0]
        widths = [0, 0] * (s.ndim - 1) + ([0, extra] if padding_side == "right" else [extra, 0])
        padded.append(_pad(s, widths, value=padding_value) if extra else s)
    return stack(padded, 1 if not batch_first else 0)


# ----------------------------------------------------------------- packed sequences
class PackedSequence(collections.namedtuple(
        "PackedSequence", ["data", "batch_sizes", "sorted_indices", "unsorted_indices"])):
    """A batch of sequences of different lengths, as PyTorch's: `data` (T, *) holds the rows of
    step 0 for every sequence, then of step 1 for those still running, and so on, the sequences
    sorted by decreasing length; `batch_sizes` (an int64 tensor) says how many rows each step
    has; `sorted_indices` (None when the input was already sorted) maps the sorted order back to
    the batch order, `unsorted_indices` is its inverse. Make one with `pack_padded_sequence` or
    `pack_sequence`; RNN, LSTM and GRU take it as input and return one."""

    __slots__ = ()

    def __new__(cls, data, batch_sizes, sorted_indices=None, unsorted_indices=None):
        if unsorted_indices is None and sorted_indices is not None:
            unsorted_indices = _tensor_ints(np.argsort(_ints(sorted_indices), kind="stable"))
        return super().__new__(cls, data, batch_sizes, sorted_indices, unsorted_indices)

    def to(self, *args, **kwargs):
        data = self.data.to(*args, **kwargs)
        return self if data is self.data else self._replace(data=data)

    def double(self):
        return self.to(dtypes.float64)

    def float(self):
        return self.to(dtypes.float32)


def _ints(values):
    if isinstance(values, Tensor):
        values = values.data
    return np.asarray(values).astype(np.int64).reshape(-1)


def _tensor_ints(array):
    return new_tensor(np.asarray(array, dtype=np.int64))


def pack_padded_sequence(input, lengths, batch_first=False, enforce_sorted=True):
    """Pack a padded batch (L, N, *) ((N, L, *) with batch_first) whose sequence k has
    lengths[k] steps. With `enforce_sorted`, the lengths must not increase along the batch;
    otherwise the batch is sorted here and the PackedSequence remembers the order."""
    lengths = _ints(lengths)
    batch_dim = 0 if batch_first else 1
    if input.ndim < 2 or lengths.size != input.shape[batch_dim]:
        raise ValueError(
            f"pack_padded_sequence: {lengths.size} lengths for an input of shape "
            f"{tuple(input.shape)} (batch dimension {batch_dim})"
        )
    if lengths.size and lengths.min() <= 0:
        raise RuntimeError(
            "Length of all samples has to be greater than 0, but found an element in 'lengths' "
            "that is <= 0"
        )
    sorted_indices = None
    if enforce_sorted:
        if np.any(lengths[1:] > lengths[:-1]):
            raise RuntimeError(
                "`lengths` array must be sorted in decreasing order when `enforce_sorted` is "
                "True. You can pass `enforce_sorted=False` to pack_padded_sequence and/or "
                "pack_sequence to sidestep this requirement if you do not need ONNX "
                "exportability."
            )
    else:
        order = np.argsort(-lengths, kind="stable")
        sorted_indices = _tensor_ints(order)
        lengths = lengths[order]
        input = index_select(input, batch_dim, sorted_indices)
    if batch_first:
        input = input.transpose(0, 1)
    steps, batch = input.shape[0], input.shape[1]
    if lengths.size and lengths[0] > steps:
        raise ValueError(
            f"pack_padded_sequence: a length of {lengths[0]} for an input of {steps} steps"
        )
    batch_sizes = (lengths[None, :] > np.arange(lengths[0] if lengths.size else 0)[:, None])
    batch_sizes = batch_sizes.sum(axis=1)
    rows = np.concatenate([t * batch + np.arange(b) for t, b in enumerate(batch_sizes)]
                          or [np.zeros(0, np.int64)])
    flat = input.reshape(steps * batch, *input.shape[2:])
    data = index_select(flat, 0, _tensor_ints(rows))
    return PackedSequence(data, _tensor_ints(batch_sizes), sorted_indices)


def pad_packed_sequence(sequence, batch_first=False, padding_value=0.0, total_length=None):
    """The inverse of `pack_padded_sequence`: (padded (L, N, *) or (N, L, *), lengths), in the
    original batch order, padded with `padding_value` up to the longest sequence (or to
    `total_length` steps)."""
    data, batch_sizes, _, unsorted_indices = sequence
    sizes = _ints(batch_sizes)
    steps, batch = len(sizes), int(sizes[0]) if len(sizes) else 0
    if total_length is not None:
        if total_length < steps:
            raise ValueError(
                "Expected total_length to be at least the length of the longest sequence in "
                f"input, but got total_length={total_length} and max sequence length being "
                f"{steps}"
            )
        steps = total_length
    # every (step, sequence) slot reads its packed row, or the padding row after the data
    index = np.full((steps, batch), data.shape[0], dtype=np.int64)
    start = 0
    for t, b in enumerate(sizes):
        index[t, :b] = np.arange(start, start + b)
        start += b
    padding = full((1, *data.shape[1:]), padding_value, dtype=data.dtype)
    padded = index_select(cat([data, padding]), 0, _tensor_ints(index.reshape(-1)))
    padded = padded.reshape(steps, batch, *data.shape[1:])
    lengths = (sizes[:, None] > np.arange(batch)[None, :]).sum(axis=0)
    if unsorted_indices is not None:
        padded = index_select(padded, 1, unsorted_indices)
        lengths = lengths[_ints(unsorted_indices)]
    if batch_first:
        padded = padded.transpose(0, 1)
    return padded, _tensor_ints(lengths)


def pack_sequence(sequences, enforce_sorted=True):
    """Pack a list of (L_k, *) tensors (by decreasing length, unless enforce_sorted=False)."""
    seqs = list(sequences)
    lengths = [s.shape[0] for s in seqs]
    return pack_padded_sequence(pad_sequence(seqs), lengths, enforce_sorted=enforce_sorted)
