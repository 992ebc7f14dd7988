"""More of torch.nn.functional: gumbel_softmax, embedding_bag, rrelu, channel_shuffle, and the
in-place functional forms (relu_, elu_, leaky_relu_, hardtanh_, celu_, selu_, threshold_,
rrelu_).

Random draws (Gumbel noise, RReLU slopes) come from rg's default generator, so
`rg.manual_seed` makes them reproducible.
"""

import numpy as np

from ...autograd import dtypes
from ...autograd.tensor import new_tensor
from ...ops import random as _random
from ...ops.comparison import where
from ...ops.creation import zeros
from ...ops.inplace_math import inplace_form
from ...ops.reduction import softmax
from ._activation import celu, elu, hardtanh, leaky_relu, relu, selu, threshold
from ._sparse import _indices, _padding_index, embedding

__all__ = [
    "gumbel_softmax", "embedding_bag", "rrelu", "rrelu_", "channel_shuffle",
    "native_channel_shuffle", "relu_", "elu_", "leaky_relu_", "hardtanh_", "celu_", "selu_",
    "threshold_",
]  # fmt: skip


def gumbel_softmax(logits, tau=1.0, hard=False, eps=1e-10, dim=-1):
    """A sample from the Gumbel-softmax (Concrete) distribution over `dim`: softmax((logits +
    g) / tau) with g standard Gumbel noise. With `hard=True` the result is the one-hot arg-max
    of that sample, whose gradient is the soft sample's (the straight-through estimator)."""
    x = logits.data
    rng = _random._gen(None)
    # -log(E) with E ~ Exp(1) is standard Gumbel (PyTorch draws it the same way).
    exponential = rng.standard_exponential(x.shape).astype(x.dtype)
    with np.errstate(divide="ignore"):
        gumbels = new_tensor(-np.log(exponential))
    y_soft = softmax((logits + gumbels) / tau, dim)
    if not hard:
        return y_soft
    index = np.argmax(y_soft.data, axis=dim if y_soft.data.ndim else None, keepdims=True)
    y_hard = np.zeros_like(y_soft.data)
    if y_hard.ndim:
        np.put_along_axis(y_hard, index, 1.0, axis=dim)
    else:
        y_hard[()] = 1.0
    return new_tensor(y_hard) - y_soft.detach() + y_soft


# ------------------------------------------------------------------ embedding_bag


def embedding_bag(input, weight, offsets=None, max_norm=None, norm_type=2,
                  scale_grad_by_freq=False, mode="mean", sparse=False, per_sample_weights=None,
                  include_last_offset=False, padding_idx=None):
    """Sums, means or maxima of bags of embeddings, without the intermediate (N, D) tensor of
    every lookup being kept by the caller.

    A 2-D `input` (B, N) holds B bags of N indices; a 1-D `input` is cut into bags at
    `offsets` (the start of each bag; with `include_last_offset` the last offset is the end).
    `per_sample_weights` (input's shape) scale each looked-up row, for mode='sum' only.
    Entries equal to `padding_idx` are left out of their bag (and of its count for 'mean');
    empty bags give zeros. Result: (B, embedding_dim).
    """
    if mode not in ("sum", "mean", "max"):
        raise ValueError(f"embedding_bag: mode must be 'sum', 'mean' or 'max', got {mode!r}")
    idx = _indices(input, "embedding_bag")
    if per_sample_weights is not None:
        if mode != "sum":
            raise NotImplementedError(
                f"embedding_bag: per_sample_weights is only supported for mode='sum', got "
                f"mode={mode!r}"
            )
        if tuple(per_sample_weights.shape) != idx.shape:
            raise ValueError(
                f"embedding_bag: per_sample_weights of shape {tuple(per_sample_weights.shape)} "
                f"must have the input's shape {idx.shape}"
            )
    bags, n_bags = _bag_of_each_entry(idx, offsets, include_last_offset)
    flat = idx.reshape(-1)
    rows = embedding(new_tensor(flat), weight, None, max_norm, norm_type, scale_grad_by_freq,
                     sparse)
    if per_sample_weights is not None:
        rows = rows * per_sample_weights.reshape(-1, 1)
    keep = np.ones(flat.shape, bool)
    if padding_idx is not None:
        keep = flat != _padding_index(padding_idx, weight.shape[0], "embedding_bag")
        rows, bags = rows[new_tensor(keep)], bags[keep]
    dim = weight.shape[1]
    out = zeros(n_bags, dim, dtype=weight.dtype)
    if mode == "max":
        where_to = new_tensor(np.broadcast_to(bags[:, None], (bags.size, dim)))
        return out.scatter_reduce(0, where_to, rows, "amax", include_self=False)
    out = out.index_add(0, new_tensor(bags), rows)
    if mode == "mean":
        counts = np.bincount(bags, minlength=n_bags).astype(weight.data.dtype)
        out = out / new_tensor(np.maximum(counts, 1)[:, None])
    return out


def _bag_of_each_entry(idx, offsets, include_last_offset):
    """(the bag number of each flattened entry, the number of bags)."""
    if idx.ndim == 2:
        if offsets is not None:
            raise ValueError("embedding_bag: offsets must be None when the input is 2-D")
        n_bags, length = idx.shape
        return np.repeat(np.arange(n_bags), length), n_bags
    if idx.ndim != 1:
        raise ValueError(f"embedding_bag: input must be 1-D or 2-D, got shape {idx.shape}")
    if offsets is None:
        raise ValueError("embedding_bag: offsets are required with a 1-D input")
    starts = _indices(offsets, "embedding_bag").reshape(-1).astype(np.int64)
    if starts.size == 0 or starts[0] != 0:
        raise ValueError("embedding_bag: offsets must start with 0")
    if np.any(np.diff(starts) < 0) or starts[-1] > idx.size:
        raise ValueError(
            f"embedding_bag: offsets must be non-decreasing and at most the input size "
            f"{idx.size}, got {starts.tolist()}"
        )
    if include_last_offset:
        n_bags = starts.size - 1
        ends = starts[1:]
        starts = starts[:-1]
    else:
        n_bags = starts.size
        ends = np.append(starts[1:], idx.size)
    bags = np.repeat(np.arange(n_bags), ends - starts)
    if bags.size != idx.size:  # with include_last_offset, entries past the last offset
        raise ValueError("embedding_bag: with include_last_offset=True the last offset must be "
                         f"the input size {idx.size}, got {int(ends[-1])}")
    return bags, n_bags


# ------------------------------------------------------------------ rrelu, channel_shuffle


def rrelu(input, lower=1.0 / 8, upper=1.0 / 3, training=False, inplace=False):
    """Randomized leaky ReLU: x where x >= 0, else a * x. In training each negative element
    draws its slope a from U(lower, upper); in evaluation a = (lower + upper) / 2."""
    if inplace:
        return rrelu_(input, lower, upper, training)
    if not training:
        return leaky_relu(input, (lower + upper) / 2)
    x = input.data
    if not dtypes.is_floating(x.dtype):
        raise TypeError(f"rrelu: expected a floating-point input, got dtype {input.dtype}")
    slopes = _random._gen(None).uniform(lower, upper, x.shape).astype(x.dtype)
    return where(new_tensor(x >= 0), input, input * new_tensor(slopes))


def channel_shuffle(input, groups):
    """Interleave the channels (dim 1) of `groups` groups: (N, g * k, ...) read as (N, g, k,
    ...) and transposed to (N, k, g, ...) (ShuffleNet)."""
    if input.ndim < 3:
        raise ValueError(
            f"channel_shuffle: expected an input with at least 3 dims (N, C, *), got shape "
            f"{tuple(input.shape)}"
        )
    n, c = input.shape[0], input.shape[1]
    if groups <= 0 or c % groups:
        raise ValueError(
            f"channel_shuffle: the number of channels {c} must be divisible by groups {groups}"
        )
    rest = tuple(input.shape[2:])
    grouped = input.reshape(n, groups, c // groups, *rest)
    return grouped.transpose(1, 2).reshape(n, c, *rest)


native_channel_shuffle = channel_shuffle

relu_ = inplace_form(relu, "relu_")
elu_ = inplace_form(elu, "elu_")
leaky_relu_ = inplace_form(leaky_relu, "leaky_relu_")
hardtanh_ = inplace_form(hardtanh, "hardtanh_")
celu_ = inplace_form(celu, "celu_")
selu_ = inplace_form(selu, "selu_")
threshold_ = inplace_form(threshold, "threshold_")
rrelu_ = inplace_form(rrelu, "rrelu_")
