"""Text for character-level language models: the corpus, the vocabulary, windows, baselines.

With no text given, the corpus is Python's own standard library: the public top-level
modules under `sysconfig.get_paths()['stdlib']`, in sorted order, until `max_chars`
characters. It needs no download, and on a given Python installation the selection is the same
every time.
"""

import math
import os
import sysconfig

import numpy as np

from ..utils.data import TensorDataset

__all__ = ["default_corpus", "read_text", "CharVocab", "split_text", "windows",
           "unigram_bits"]

DEFAULT_MAX_CHARS = 1_000_000


def default_corpus(max_chars=DEFAULT_MAX_CHARS):
    """About `max_chars` characters of the standard library's source, file after file (whole
    files, sorted by name, skipping private `_*.py` modules), separated by blank lines."""
    root = sysconfig.get_paths()["stdlib"]
    names = sorted(n for n in os.listdir(root) if n.endswith(".py") and not n.startswith("_"))
    parts, total = [], 0
    for name in names:
        try:
            with open(os.path.join(root, name), encoding="utf-8") as f:
                text = f.read()
        except (OSError, UnicodeDecodeError):
            continue
        parts.append(text)
        total += len(text) + 2
        if total >= max_chars:
            break
    if not parts:
        raise FileNotFoundError(f"default_corpus: no Python sources found under {root}")
    return "\n\n".join(parts)[:max_chars]


def read_text(path, max_chars=None):
    """The text of a UTF-8 file (undecodable bytes replaced), cut to `max_chars` if given."""
    with open(path, encoding="utf-8", errors="replace") as f:
        text = f.read() if max_chars is None else f.read(max_chars)
    if not text:
        raise ValueError(f"read_text: {path} is empty")
    return text


class CharVocab:
    """The sorted set of characters of a text; characters <-> integer ids."""

    def __init__(self, chars):
        self.chars = "".join(sorted(set(chars)))
        self.index = {c: i for i, c in enumerate(self.chars)}

    def __len__(self):
        return len(self.chars)

    def encode(self, text):
        """int64 ids of `text`; a character not in the vocabulary raises ValueError."""
        try:
            return np.fromiter((self.index[c] for c in text), dtype=np.int64, count=len(text))
        except KeyError as err:
            raise ValueError(f"CharVocab: character {err.args[0]!r} is not in the vocabulary "
                             f"of {len(self)} characters") from None

    def decode(self, ids):
        chars = self.chars
        return "".join(chars[int(i)] for i in np.asarray(ids).reshape(-1))

    def __repr__(self):
        return f"CharVocab({len(self)} characters)"


def split_text(ids, val_fraction):
    """(train, held-out) ids: the held-out part is the last `val_fraction` of the text, so no
    window of it overlaps training text."""
    if not 0.0 < val_fraction < 1.0:
        raise ValueError(f"split_text: val_fraction must be in (0, 1), got {val_fraction}")
    cut = int(round(len(ids) * (1.0 - val_fraction)))
    return ids[:cut], ids[cut:]


def windows(ids, block_size):
    """A TensorDataset of non-overlapping (input, target) windows of `block_size` ids, the
    target being the input shifted by one character."""
    n = (len(ids) - 1) // block_size
    if n < 1:
        raise ValueError(f"windows: {len(ids)} characters are too few for one window of "
                         f"{block_size} + 1")
    x = ids[: n * block_size].reshape(n, block_size)
    y = ids[1: n * block_size + 1].reshape(n, block_size)
    return TensorDataset(x, y)


def unigram_bits(train_ids, heldout_ids, vocab_size):
    """Bits per character of the best model that ignores context (character frequencies of
    the training text, add-one smoothed) on the held-out text: the baseline to beat. Also
    returns the training text's own unigram entropy."""
    counts = np.bincount(train_ids, minlength=vocab_size).astype(np.float64) + 1.0
    p = counts / counts.sum()
    heldout = float(-np.mean(np.log2(p[heldout_ids])))
    entropy = float(-np.sum(p * np.log2(p)))
    return heldout, entropy


def bits(nats):
    """Nats per character to bits per character."""
    return nats / math.log(2.0)
