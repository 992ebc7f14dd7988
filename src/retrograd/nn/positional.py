"""Positional encodings: add each position's vector to a sequence of embeddings.

Attention is blind to order; these layers make position visible. Both take inputs shaped like
the transformer layers' ((L, N, E) by default, (N, L, E) with batch_first=True, or unbatched
(L, E)), add the encoding of positions 0..L-1 and apply dropout, as in "Attention Is All You
Need" (PyTorch has no such layer; this is the one of its tutorials, with batch_first added).
"""

import math

import numpy as np

from ..autograd.tensor import new_tensor
from ..ops.creation import arange
from . import init
from .dropout import Dropout
from .linear import _factory_dtype
from .module import Module, check_input
from .sparse import Embedding

__all__ = ["SinusoidalPositionalEncoding", "LearnedPositionalEncoding"]


def sinusoidal_table(max_len, d_model, dtype=np.float32):
    """(max_len, d_model): sin(pos / 10000^(2i / d)) in even columns, cos in odd ones."""
    position = np.arange(max_len, dtype=np.float64)[:, None]
    div = np.exp(np.arange(0, d_model, 2, dtype=np.float64) * (-math.log(10000.0) / d_model))
    table = np.zeros((max_len, d_model))
    table[:, 0::2] = np.sin(position * div)
    table[:, 1::2] = np.cos(position * div[: d_model // 2])
    return table.astype(dtype)


class _PositionalEncoding(Module):
    def __init__(self, d_model, max_len, dropout, batch_first):
        super().__init__()
        if d_model <= 0 or max_len <= 0:
            raise ValueError(f"{type(self).__name__}: d_model and max_len must be positive, got "
                             f"{d_model} and {max_len}")
        self.d_model = d_model
        self.max_len = max_len
        self.batch_first = batch_first
        self.dropout = Dropout(dropout)

    def forward(self, x):
        check_input(x, ndim=(2, 3))
        check_input(x, dim=-1, size=self.d_model, what="d_model")
        seq_dim = 1 if x.ndim == 3 and self.batch_first else 0
        length = x.shape[seq_dim]
        if length > self.max_len:
            raise ValueError(f"sequence length {length} exceeds max_len {self.max_len} "
                             f"(input shape {tuple(x.shape)})")
        pe = self._encoding(length)
        if x.ndim == 3 and not self.batch_first:
            pe = pe.unsqueeze(1)
        return self.dropout(x + pe)

    def extra_repr(self):
        return f"{self.d_model}, max_len={self.max_len}, batch_first={self.batch_first}"


class SinusoidalPositionalEncoding(_PositionalEncoding):
    """Fixed sine/cosine encodings (Vaswani et al., 2017): nothing to learn, and the table
    (buffer `pe`, not saved in state dicts: it is a function of the sizes) extends to any
    max_len."""

    def __init__(self, d_model, max_len=5000, dropout=0.0, batch_first=False, dtype=None):
        super().__init__(d_model, max_len, dropout, batch_first)
        table = sinusoidal_table(max_len, d_model, _factory_dtype(None, dtype))
        self.register_buffer("pe", new_tensor(table), persistent=False)

    def _encoding(self, length):
        return self.pe[:length]


class LearnedPositionalEncoding(_PositionalEncoding):
    """One learned vector per position: an Embedding(max_len, d_model) named `embedding`,
    initialised N(0, 0.02^2) (as GPT-2) so it starts small next to the token embeddings."""

    def __init__(self, d_model, max_len=512, dropout=0.0, batch_first=False, dtype=None):
        super().__init__(d_model, max_len, dropout, batch_first)
        self.embedding = Embedding(max_len, d_model, dtype=dtype)
        init.normal_(self.embedding.weight, std=0.02)

    def _encoding(self, length):
        return self.embedding(arange(length))
