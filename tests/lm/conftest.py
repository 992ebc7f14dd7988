"""A small structured text for fast language-model runs."""

import numpy as np
import pytest

WORDS = ["the", "cat", "dog", "sat", "on", "a", "mat", "and", "ran", "to", "big", "red", "house"]


def structured_text(n_sentences=600, seed=0):
    """Sentences of 3-8 words from a small list: easy for a model with context, while the
    character frequencies alone (the unigram baseline) leave about 4 bits per character."""
    rng = np.random.default_rng(seed)
    lines = []
    for _ in range(n_sentences):
        words = rng.choice(WORDS, size=rng.integers(3, 9))
        lines.append(" ".join(words).capitalize() + ".")
    return "\n".join(lines) + "\n"


@pytest.fixture
def text_file(tmp_path):
    path = tmp_path / "corpus.txt"
    path.write_text(structured_text(), encoding="utf-8")
    return path
