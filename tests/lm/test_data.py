"""Corpus, vocabulary, held-out split, windows and the unigram baseline."""

import math
import sysconfig

import numpy as np
import pytest

from retrograd.lm import data


def test_default_corpus_is_deterministic_python_source():
    a = data.default_corpus(50_000)
    assert a == data.default_corpus(50_000)
    assert len(a) == 50_000
    assert "def " in a and "import " in a
    first = sorted(p for p in __import__("os").listdir(sysconfig.get_paths()["stdlib"])
                   if p.endswith(".py") and not p.startswith("_"))[0]
    with open(f"{sysconfig.get_paths()['stdlib']}/{first}", encoding="utf-8") as f:
        assert a.startswith(f.read()[:1000])


def test_vocab_round_trip_and_unknown_characters():
    vocab = data.CharVocab("hello world")
    assert vocab.chars == " dehlorw" and len(vocab) == 8
    ids = vocab.encode("low")
    assert ids.dtype == np.int64 and vocab.decode(ids) == "low"
    with pytest.raises(ValueError, match="'z' is not in the vocabulary"):
        vocab.encode("zoo")


def test_split_keeps_the_end_for_held_out_text():
    ids = np.arange(100)
    train, held = data.split_text(ids, 0.2)
    np.testing.assert_array_equal(train, np.arange(80))
    np.testing.assert_array_equal(held, np.arange(80, 100))
    with pytest.raises(ValueError, match="val_fraction"):
        data.split_text(ids, 0.0)


def test_windows_are_shifted_by_one():
    ds = data.windows(np.arange(23), 5)
    assert len(ds) == 4  # (23 - 1) // 5
    x, y = ds[2]
    np.testing.assert_array_equal(x.numpy(), np.arange(10, 15))
    np.testing.assert_array_equal(y.numpy(), np.arange(11, 16))
    with pytest.raises(ValueError, match="too few"):
        data.windows(np.arange(5), 5)


def test_unigram_bits_is_the_cross_entropy_of_smoothed_frequencies():
    train = np.array([0, 0, 0, 1])
    held = np.array([0, 1])
    bits, entropy = data.unigram_bits(train, held, 3)
    p = np.array([4, 2, 1]) / 7  # add-one counts
    assert math.isclose(bits, -(np.log2(p[0]) + np.log2(p[1])) / 2)
    assert math.isclose(entropy, -np.sum(p * np.log2(p)))


def test_read_text(tmp_path):
    path = tmp_path / "t.txt"
    path.write_bytes(b"caf\xc3\xa9 \xff!")
    assert data.read_text(path) == "café \ufffd!"
    assert data.read_text(path, max_chars=3) == "caf"
    (tmp_path / "empty.txt").write_text("")
    with pytest.raises(ValueError, match="empty"):
        data.read_text(tmp_path / "empty.txt")
