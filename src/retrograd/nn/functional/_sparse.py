"""embedding and one_hot, as torch.nn.functional."""

import numpy as np

from ...autograd.grad_mode import no_grad
from ...autograd.tensor import Tensor, new_tensor
from ...ops.comparison import where

__all__ = ["embedding", "one_hot"]


def _indices(input, name):
    idx = input.data if isinstance(input, Tensor) else np.asarray(input)
    if idx.dtype.kind not in "iu":
        raise TypeError(f"{name}: expected an integer (Long) index tensor, got dtype {idx.dtype}")
    return idx


def embedding(input, weight, padding_idx=None, max_norm=None, norm_type=2.0,
              scale_grad_by_freq=False, sparse=False):
    """Rows of `weight` (num_embeddings, embedding_dim) picked by the integer `input`: output
    shape input.shape + (embedding_dim,).

    Rows at `padding_idx` get no gradient. With `max_norm`, the rows looked up are first
    renormalised in place (under no_grad) to have `norm_type`-norm at most max_norm.
    """
    idx = _indices(input, "embedding")
    n = weight.shape[0]
    if idx.size and (idx.min() < 0 or idx.max() >= n):
        bad = idx.max() if idx.max() >= n else idx.min()
        raise IndexError(f"embedding: index {int(bad)} is out of range for {n} embeddings")
    if scale_grad_by_freq or sparse:
        raise NotImplementedError(
            "embedding: scale_grad_by_freq and sparse gradients are not supported"
        )
    if padding_idx is not None:
        padding_idx = _padding_index(padding_idx, n, "embedding")
    if max_norm is not None:
        _renorm_rows(weight, np.unique(idx), max_norm, norm_type)
    index = new_tensor(idx)
    out = weight[index]
    if padding_idx is not None and weight.requires_grad:
        # NOTE: the forward value is the padding row itself (it may be non-zero, as in
        # from_pretrained); only its gradient is cut, with one `where`.
        pad = new_tensor((idx == padding_idx)[..., None])
        out = where(pad, out.detach(), out)
    return out


def _padding_index(padding_idx, n, name):
    if not -n <= padding_idx < n:
        raise ValueError(f"{name}: padding_idx {padding_idx} must be within num_embeddings ({n})")
    return padding_idx % n


def _renorm_rows(weight, rows, max_norm, norm_type):
    data = weight.data[rows]
    norms = np.linalg.norm(data, ord=norm_type, axis=1)
    too_big = norms > max_norm
    if not too_big.any():
        return
    scale = np.where(too_big, max_norm / (norms + 1e-7), 1.0).astype(weight.dtype)
    with no_grad():
        weight[new_tensor(rows)] = new_tensor(data * scale[:, None])


def one_hot(tensor, num_classes=-1):
    """int64 tensor of shape tensor.shape + (num_classes,), with 1 at each index."""
    idx = _indices(tensor, "one_hot")
    if idx.size and idx.min() < 0:
        raise ValueError("one_hot: class values must be non-negative")
    if num_classes == -1:
        num_classes = int(idx.max()) + 1 if idx.size else 0
    elif idx.size and idx.max() >= num_classes:
        raise ValueError(
            f"one_hot: class value {int(idx.max())} is out of range for num_classes={num_classes}"
        )
    out = np.zeros(idx.shape + (num_classes,), dtype=np.int64)
    np.put_along_axis(out, idx[..., None].astype(np.int64), 1, axis=-1)
    return new_tensor(out)
