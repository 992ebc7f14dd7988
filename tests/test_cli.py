"""`retrograd train`: help, a tiny run and its run directory, exact resume, clear errors."""

import json
import subprocess
import sys

import numpy as np
import pytest

import retrograd as rg
from retrograd.cli import build_parser, main

TINY = ["--no-progress", "--model", "mlp", "--scheduler", "none"]


def test_help_explains_every_option(capsys):
    with pytest.raises(SystemExit) as exit_info:
        main(["train", "--help"])
    assert exit_info.value.code == 0
    text = capsys.readouterr().out
    train = next(a for a in build_parser()._actions if a.dest == "command").choices["train"]
    for action in train._actions:
        for flag in action.option_strings:
            assert flag in text
        assert action.help and len(action.help) > 10
    assert "examples:" in text and "retrograd train --resume" in text


def test_top_level_help_lists_the_train_command():
    result = subprocess.run([sys.executable, "-m", "retrograd", "--help"], capture_output=True,
                            text=True, timeout=60)
    assert result.returncode == 0 and "train" in result.stdout


def test_no_command_prints_usage(capsys):
    assert main([]) == 2
    assert "COMMAND" in capsys.readouterr().out


def test_train_writes_a_run_directory(tmp_path, capsys):
    pytest.importorskip("sklearn")
    out = tmp_path / "run"
    assert main(["train", "--epochs", "2", "--out", str(out), *TINY]) == 0
    text = capsys.readouterr().out
    assert "mlp" in text and "digits" in text
    assert text.count("\nepoch ") == 2 and "test accuracy" in text
    assert sorted(p.name for p in out.iterdir()) == [
        "best.safetensors", "config.json", "histograms.jsonl", "last.safetensors",
        "metrics.jsonl", "monitor.jsonl", "report.html", "results.json"]
    assert f"report: {out / 'report.html'}" in text  # the monitor is on by default
    assert (out / "report.html").read_text().startswith("<!DOCTYPE html>")
    config = json.loads((out / "config.json").read_text())
    assert config["model"] == "mlp" and config["epochs"] == 2 and config["input_shape"] == [1, 8, 8]
    assert config["train_samples"] + config["val_samples"] + config["test_samples"] == 1797
    lines = [json.loads(line) for line in (out / "metrics.jsonl").read_text().splitlines()]
    assert [r["epoch"] for r in lines] == [1, 2] and "val_accuracy" in lines[0]
    results = json.loads((out / "results.json").read_text())
    assert results["test_accuracy"] > 0.8  # two epochs of an MLP on digits
    assert f"test accuracy {100 * results['test_accuracy']:.2f}%" in text
    ckpt = rg.load(out / "last.safetensors")
    assert ckpt["epoch"] == 2 and ckpt["config"]["model"] == "mlp"


def test_monitor_every_zero_turns_the_monitor_and_report_off(tmp_path, capsys):
    pytest.importorskip("sklearn")
    out = tmp_path / "run"
    assert main(["train", "--epochs", "1", "--out", str(out), "--monitor-every", "0",
                 *TINY]) == 0
    assert sorted(p.name for p in out.iterdir()) == [
        "best.safetensors", "config.json", "last.safetensors", "metrics.jsonl", "results.json"]
    assert "report:" not in capsys.readouterr().out
    assert main(["train", "--monitor-every", "0", "--tensorboard", *TINY]) == 2
    assert "--tensorboard needs the monitor" in capsys.readouterr().err


def test_cnn_runs_one_epoch(tmp_path, capsys):
    pytest.importorskip("sklearn")
    out = tmp_path / "cnn"
    assert main(["train", "--epochs", "1", "--out", str(out), "--no-progress"]) == 0
    assert json.loads((out / "config.json").read_text())["model"] == "cnn"
    assert json.loads((out / "results.json").read_text())["test_accuracy"] > 0.5


def _weights(path):
    return {k: v.numpy() for k, v in rg.load(path)["model"].items()}


def test_resume_matches_an_uninterrupted_run(tmp_path, capsys):
    pytest.importorskip("sklearn")
    straight, part = tmp_path / "straight", tmp_path / "part"
    assert main(["train", "--epochs", "3", "--out", str(straight), *TINY]) == 0
    assert main(["train", "--epochs", "2", "--out", str(part), *TINY]) == 0
    # the rest in a fresh process: nothing but the checkpoint carries the state over
    result = subprocess.run(
        [sys.executable, "-m", "retrograd", "train", "--resume", str(part), "--epochs", "3"],
        capture_output=True, text=True, timeout=120)
    assert result.returncode == 0, result.stderr
    assert "epoch 3/3" in result.stdout and "epoch 1/3" not in result.stdout
    a, b = _weights(straight / "last.safetensors"), _weights(part / "last.safetensors")
    for name in a:
        np.testing.assert_array_equal(a[name], b[name], err_msg=name)
    lines = (part / "metrics.jsonl").read_text().splitlines()
    assert [json.loads(line)["epoch"] for line in lines] == [1, 2, 3]


def test_resume_refuses_changed_settings(tmp_path, capsys):
    pytest.importorskip("sklearn")
    out = tmp_path / "run"
    assert main(["train", "--epochs", "1", "--out", str(out), *TINY]) == 0
    capsys.readouterr()
    assert main(["train", "--resume", str(out), "--lr", "0.5"]) == 2
    assert "--lr 0.5 differs from the resumed run's 0.003" in capsys.readouterr().err


def test_resume_from_a_damaged_checkpoint_fails_cleanly(tmp_path, capsys):
    pytest.importorskip("sklearn")
    out = tmp_path / "run"
    assert main(["train", "--epochs", "1", "--out", str(out), *TINY]) == 0
    raw = (out / "last.safetensors").read_bytes()
    (out / "last.safetensors").write_bytes(raw[:-64])
    capsys.readouterr()
    assert main(["train", "--resume", str(out)]) == 2
    err = capsys.readouterr().err
    assert err.startswith("retrograd train: error:") and "corrupt" in err
    assert "Traceback" not in err
    assert main(["train", "--resume", str(tmp_path / "nowhere")]) == 2


def test_missing_dataset_files_say_where_to_put_them(tmp_path, capsys):
    assert main(["train", "--dataset", "mnist", "--data-dir", str(tmp_path)]) == 2
    captured = capsys.readouterr()
    assert "train-images-idx3-ubyte" in captured.err and str(tmp_path) in captured.err
    assert "--data-dir" in captured.err and "Traceback" not in captured.err
    assert not list(tmp_path.iterdir())  # nothing written, no run directory


def test_invalid_values_are_rejected(capsys):
    for argv in (["--epochs", "0"], ["--val-fraction", "1.5"], ["--lr", "-1"],
                 ["--model", "rnn"]):
        with pytest.raises(SystemExit) as exit_info:
            main(["train", *argv])
        assert exit_info.value.code == 2
    assert "must be a positive integer" in capsys.readouterr().err


def test_threads_option_limits_blas():
    threadpoolctl = pytest.importorskip("threadpoolctl")
    from retrograd.cli import _blas_threads

    with _blas_threads(1):
        pools = [p for p in threadpoolctl.threadpool_info() if p["user_api"] == "blas"]
        assert pools and all(p["num_threads"] == 1 for p in pools)
