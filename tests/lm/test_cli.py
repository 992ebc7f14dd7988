"""`retrograd train-lm` through the main command line: a tiny run, then sampling from its
checkpoint; errors exit with status 2."""

import json

import pytest

from retrograd.cli import main

TINY = ["--block-size", "32", "--batch-size", "16", "--d-model", "32", "--heads", "2",
        "--layers", "1", "--dim-feedforward", "64", "--epochs", "2", "--lr", "1e-2",
        "--no-progress"]


def test_train_then_sample_from_the_checkpoint(text_file, tmp_path, capsys):
    out = tmp_path / "run"
    status = main(["train-lm", "--text", str(text_file), *TINY, "--out", str(out),
                   "--sample", "30", "--prompt", "The"])
    printed = capsys.readouterr().out
    assert status == 0, printed
    assert "unigram baseline" in printed and "epoch 2/2" in printed
    sample = printed.split("--- sample (30 characters, temperature 0.8) ---\n")[1]
    assert sample.startswith("The") and len(sample.rstrip("\n")) >= 33
    config = json.loads((out / "config.json").read_text())
    assert config["num_layers"] == 1 and config["nhead"] == 2

    status = main(["train-lm", "--checkpoint", str(out / "last.safetensors"), "--sample", "25",
                   "--prompt", "A dog", "--temperature", "0"])
    printed = capsys.readouterr().out
    assert status == 0 and "A dog" in printed
    greedy = printed.split("---\n")[1]
    assert main(["train-lm", "--checkpoint", str(out), "--sample", "25", "--prompt", "A dog",
                 "--temperature", "0", "--top-k", "3"]) == 0
    # best.safetensors of the run directory: the same last epoch here (the loss went down)
    assert capsys.readouterr().out.split("---\n")[1] == greedy


def test_errors_exit_with_status_2(tmp_path, capsys):
    assert main(["train-lm", "--text", str(tmp_path / "missing.txt"), *TINY]) == 2
    assert "retrograd train-lm: error:" in capsys.readouterr().err
    with pytest.raises(SystemExit):
        main(["train-lm", "--epochs", "0"])
    assert "must be positive" in capsys.readouterr().err
