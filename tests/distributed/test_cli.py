"""`mpiexec -n 2 retrograd train --distributed`: one set of lines and one run directory (rank
0's), and a checkpoint that a one-process run resumes from."""

import json
import subprocess
import sys

import pytest

import retrograd as rg

from . import launcher


def test_distributed_run_prints_and_saves_once_and_resumes_in_one_process(tmp_path):
    pytest.importorskip("sklearn")  # the digits dataset
    out = tmp_path / "run"
    flags = ["--model", "mlp", "--scheduler", "none", "--no-progress", "--out", out]
    result, _ = launcher.run("retrograd", n=2, module=True, timeout=300,
                             args=["train", "--distributed", "--epochs", "1", *flags])
    assert result.returncode == 0, launcher.explain(result)
    text = result.stdout
    assert text.count("retrograd train: mlp") == 1 and "on 2 ranks" in text
    assert text.count("\nepoch 1/1") == 1 and text.count("test accuracy") == 1, text
    assert sorted(p.name for p in out.iterdir()) == [  # one of each: rank 0 writes them
        "best.safetensors", "config.json", "histograms.jsonl", "last.safetensors",
        "metrics.jsonl", "monitor.jsonl", "report.html", "results.json"]
    config = json.loads((out / "config.json").read_text())
    assert config["world_size"] == 2 and config["batch_size"] == 32
    assert json.loads((out / "results.json").read_text())["test_accuracy"] > 0.6
    checkpoint = rg.load(out / "last.safetensors")
    assert not any(k.startswith("module.") for k in checkpoint["model"])

    resumed = subprocess.run(
        [sys.executable, "-m", "retrograd", "train", "--resume", str(out), "--epochs", "2",
         "--no-progress"], capture_output=True, text=True, timeout=300)
    assert resumed.returncode == 0, resumed.stderr
    assert "epoch 2/2" in resumed.stdout and rg.load(out / "last.safetensors")["epoch"] == 2


def test_distributed_without_mpi_is_a_usage_error(monkeypatch, capsys):
    from retrograd import cli

    monkeypatch.setattr(cli.distributed, "is_available", lambda: False)
    assert cli.main(["train", "--distributed", "--no-progress"]) == 2
    assert "retrograd[distributed]" in capsys.readouterr().err
