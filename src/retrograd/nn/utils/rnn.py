"""Utilities for recurrent networks: truncated backpropagation through time, and padding.

Truncated BPTT splits a long sequence into chunks of `k` steps; the recurrent state is carried
from one chunk to the next with its value intact but cut from the graph (detached), so each
chunk's loss backpropagates through that chunk only:

    def step(chunk, target, state):
        out, state = lstm(chunk, state)
        return F.mse_loss(head(out), target), state

    result = rg.nn.utils.tbptt(step, x, k=20, targets=y, optimizer=opt)

`tbptt` is the driver (forward a chunk, backward, optimizer step, detach, repeat);
`tbptt_chunks` and `detach_state` are the two pieces, for loops written by hand.
"""

import collections

from ...autograd.tensor import Tensor
from ...ops.arrange import pad as _pad
from ...ops.joining import split, stack

__all__ = ["tbptt", "tbptt_chunks", "detach_state", "TBPTTResult", "pad_sequence"]

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
