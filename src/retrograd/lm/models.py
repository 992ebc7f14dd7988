"""Character-level language models: ids (N, T) -> next-character logits (N, T, vocab).

`TransformerLM` is a decoder-only (GPT-style) transformer made of the library's layers: token
embedding + learned positional encoding, a stack of pre-LN TransformerEncoderLayers run with
the causal mask, a final LayerNorm and a linear head. `LSTMLM` is an embedding, rg.nn.LSTM and
a linear head. Both see only the current window (no state carried between windows).
"""

from .. import nn

__all__ = ["TransformerLM", "LSTMLM", "build_model", "MODEL_DEFAULTS"]

# Sizes that train to well below the unigram baseline in a few minutes on two CPU cores.
MODEL_DEFAULTS = {
    "transformer": {"d_model": 128, "nhead": 4, "num_layers": 2, "dim_feedforward": 512,
                    "dropout": 0.0},
    "lstm": {"d_model": 256, "num_layers": 1, "dropout": 0.1},
}


class TransformerLM(nn.Module):
    """GPT-style character model: position t sees characters 0..t of its window."""

    def __init__(self, vocab_size, block_size, d_model=128, nhead=4, num_layers=2,
                 dim_feedforward=512, dropout=0.1):
        super().__init__()
        self.block_size = block_size
        self.embedding = nn.Embedding(vocab_size, d_model)
        nn.init.normal_(self.embedding.weight, std=0.02)
        self.position = nn.LearnedPositionalEncoding(d_model, block_size, dropout,
                                                     batch_first=True)
        layer = nn.TransformerEncoderLayer(d_model, nhead, dim_feedforward, dropout,
                                           activation="relu", batch_first=True,
                                           norm_first=True)
        self.encoder = nn.TransformerEncoder(layer, num_layers, norm=nn.LayerNorm(d_model))
        self.head = nn.Linear(d_model, vocab_size)

    def forward(self, ids):
        x = self.position(self.embedding(ids))
        return self.head(self.encoder(x, is_causal=True))


class LSTMLM(nn.Module):
    """Embedding -> LSTM (batch first) -> dropout -> linear head."""

    def __init__(self, vocab_size, block_size, d_model=256, num_layers=1, dropout=0.1):
        super().__init__()
        lstm = getattr(nn, "LSTM", None)
        if lstm is None:
            raise RuntimeError("LSTMLM: rg.nn.LSTM is not available in this build")
        self.block_size = block_size
        self.embedding = nn.Embedding(vocab_size, d_model)
        self.lstm = lstm(d_model, d_model, num_layers=num_layers, batch_first=True,
                         dropout=dropout if num_layers > 1 else 0.0)
        self.dropout = nn.Dropout(dropout)
        self.head = nn.Linear(d_model, vocab_size)

    def forward(self, ids):
        out, _ = self.lstm(self.embedding(ids))
        return self.head(self.dropout(out))


_MODELS = {"transformer": TransformerLM, "lstm": LSTMLM}


def build_model(config):
    """The model a run config describes: `model` (transformer or lstm), `vocab`,
    `block_size` and that model's sizes (MODEL_DEFAULTS for any not given)."""
    kind = config["model"]
    if kind not in _MODELS:
        raise ValueError(f"build_model: unknown model {kind!r}; choose from {sorted(_MODELS)}")
    sizes = {**MODEL_DEFAULTS[kind], **{k: config[k] for k in MODEL_DEFAULTS[kind]
                                         if config.get(k) is not None}}
    return _MODELS[kind](len(config["vocab"]), config["block_size"], **sizes)
