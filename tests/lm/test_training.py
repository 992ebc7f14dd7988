"""A tiny train-lm run (seconds): held-out loss beats the unigram baseline; checkpoints load
back for sampling."""

import json
import math

import numpy as np
import pytest

import retrograd as rg
from retrograd.lm.data import bits
from retrograd.lm.training import load_model, train_lm

TINY = {"block_size": 32, "batch_size": 16, "d_model": 32, "nhead": 2, "num_layers": 1,
        "dim_feedforward": 64, "epochs": 3, "lr": 1e-2}


def test_tiny_run_beats_the_unigram_baseline(text_file, tmp_path, capsys):
    out = tmp_path / "run"
    model, vocab, history, baseline = train_lm({"text": str(text_file), **TINY}, out=str(out),
                                               progress=False)
    held_out = bits(history.records[-1]["val_loss"])
    assert 3.0 < baseline < 5.0
    assert held_out < baseline - 1.0, (held_out, baseline)
    printed = capsys.readouterr().out
    assert "unigram baseline" in printed and "val loss" in printed and "bpc" in printed
    assert {p.name for p in out.iterdir()} >= {"config.json", "metrics.jsonl",
                                               "last.safetensors", "best.safetensors"}
    assert json.loads((out / "config.json").read_text())["d_model"] == 32
    lines = (out / "metrics.jsonl").read_text().splitlines()
    assert len(lines) == 3 and math.isclose(json.loads(lines[-1])["val_bpc"], held_out)

    loaded, loaded_vocab, config = load_model(str(out / "last.safetensors"))
    assert loaded_vocab.chars == vocab.chars and config["model"] == "transformer"
    ids = rg.tensor(vocab.encode("The cat sat on a mat.\nThe")[None])
    model.eval()
    np.testing.assert_allclose(loaded(ids).data, model(ids).data, rtol=1e-6, atol=1e-6)


def test_same_seed_same_run(text_file):
    config = {"text": str(text_file), **TINY, "epochs": 1, "max_chars": 4000}
    a = train_lm(config, progress=False, verbose=False)[2]
    b = train_lm(config, progress=False, verbose=False)[2]
    assert a["val_loss"] == b["val_loss"]


def test_load_model_rejects_other_checkpoints(tmp_path):
    rg.save({"weights": rg.zeros(2)}, tmp_path / "x.safetensors")
    with pytest.raises(ValueError, match="not a retrograd language-model checkpoint"):
        load_model(str(tmp_path / "x.safetensors"))


def test_tiny_lstm_run_beats_the_unigram_baseline(text_file):
    config = {"model": "lstm", "text": str(text_file), "block_size": 32, "batch_size": 16,
              "d_model": 48, "epochs": 2, "lr": 1e-2}
    model, _, history, baseline = train_lm(config, progress=False, verbose=False)
    assert isinstance(model.lstm, rg.nn.LSTM)
    assert bits(history.records[-1]["val_loss"]) < baseline - 1.0
