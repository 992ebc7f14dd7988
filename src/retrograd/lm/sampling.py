"""Generating text from a character-level language model, one character at a time."""

import numpy as np

from ..autograd.grad_mode import no_grad
from ..autograd.tensor import new_tensor
from ..nn import functional as F

__all__ = ["generate"]


def generate(model, vocab, n_chars, prompt="", temperature=1.0, top_k=None, seed=None):
    """`prompt` followed by `n_chars` sampled characters.

    Each step feeds the last `model.block_size` characters, divides the last position's
    logits by `temperature` (lower: more conservative; 0: always the most likely character)
    and samples among the `top_k` most likely characters (all when None). An empty prompt
    starts from a newline when the vocabulary has one.
    """
    if n_chars < 0:
        raise ValueError(f"generate: n_chars must be >= 0, got {n_chars}")
    if temperature < 0:
        raise ValueError(f"generate: temperature must be >= 0, got {temperature}")
    if top_k is not None and top_k < 1:
        raise ValueError(f"generate: top_k must be >= 1, got {top_k}")
    if not prompt:
        prompt = "\n" if "\n" in vocab.index else vocab.chars[0]
    ids = list(vocab.encode(prompt))
    rng = np.random.default_rng(seed)
    block = model.block_size
    was_training = model.training
    model.eval()
    try:
        with no_grad():
            for _ in range(n_chars):
                context = new_tensor(np.asarray(ids[-block:], dtype=np.int64)[None])
                logits = model(context).data[0, -1].astype(np.float64)
                ids.append(_pick(logits, temperature, top_k, rng))
    finally:
        model.train(was_training)
    return prompt + vocab.decode(ids[len(ids) - n_chars:]) if n_chars else prompt


def _pick(logits, temperature, top_k, rng):
    if temperature == 0:
        return int(np.argmax(logits))
    if top_k is not None and top_k < logits.size:
        cutoff = np.partition(logits, -top_k)[-top_k]
        logits = np.where(logits < cutoff, -np.inf, logits)
    probs = F.softmax(new_tensor(logits / temperature), dim=-1).data
    return int(rng.choice(probs.size, p=probs / probs.sum()))
