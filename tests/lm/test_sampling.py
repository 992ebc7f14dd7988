"""generate(): prompts, temperature 0, top-k, seeds, errors."""

import numpy as np
import pytest

import retrograd as rg
from retrograd.lm.data import CharVocab
from retrograd.lm.models import TransformerLM
from retrograd.lm.sampling import generate


@pytest.fixture
def model_and_vocab():
    rg.manual_seed(0)
    vocab = CharVocab("abcde\n")
    model = TransformerLM(len(vocab), block_size=4, d_model=8, nhead=2, num_layers=1,
                          dim_feedforward=16)
    return model, vocab


def test_generate_continues_the_prompt_with_known_characters(model_and_vocab):
    model, vocab = model_and_vocab
    text = generate(model, vocab, 20, prompt="abc", seed=0)
    assert text.startswith("abc") and len(text) == 23
    assert set(text) <= set(vocab.chars)
    assert generate(model, vocab, 20, prompt="abc", seed=0) == text  # seeded
    assert model.training  # the mode is restored


def test_temperature_zero_is_greedy(model_and_vocab):
    model, vocab = model_and_vocab
    text = generate(model, vocab, 6, prompt="ab", temperature=0)
    ids = list(vocab.encode("ab"))
    model.eval()
    for _ in range(6):
        logits = model(rg.tensor(np.array([ids[-4:]]))).data[0, -1]
        ids.append(int(np.argmax(logits)))
    assert text == vocab.decode(ids)


def test_top_k_one_is_greedy_at_any_temperature(model_and_vocab):
    model, vocab = model_and_vocab
    assert (generate(model, vocab, 8, prompt="e", temperature=2.0, top_k=1, seed=1)
            == generate(model, vocab, 8, prompt="e", temperature=0))


def test_generate_errors(model_and_vocab):
    model, vocab = model_and_vocab
    with pytest.raises(ValueError, match="'z' is not in the vocabulary"):
        generate(model, vocab, 3, prompt="z")
    with pytest.raises(ValueError, match="top_k"):
        generate(model, vocab, 3, top_k=0)
    assert generate(model, vocab, 0, prompt="ab") == "ab"
