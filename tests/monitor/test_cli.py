"""`retrograd report` and `retrograd train --monitor-every/--tensorboard`."""

import json
import sys

import pytest

from retrograd.cli import build_parser, main
from retrograd.monitor import read_run


def test_report_help_explains_every_option(capsys):
    with pytest.raises(SystemExit) as exit_info:
        main(["report", "--help"])
    assert exit_info.value.code == 0
    text = capsys.readouterr().out
    report = next(a for a in build_parser()._actions if a.dest == "command").choices["report"]
    for action in report._actions:
        for flag in action.option_strings:
            assert flag in text
        assert action.help and len(action.help) > 10
    assert "RUN_DIR" in text and "examples:" in text


def test_report_writes_the_page_into_the_run_directory(healthy_run, capsys):
    assert main(["report", str(healthy_run)]) == 0
    page = healthy_run / "report.html"
    assert f"wrote {page}" in capsys.readouterr().out
    assert page.read_text().startswith("<!DOCTYPE html>")


def test_report_out_title_and_png(healthy_run, tmp_path, capsys):
    pytest.importorskip("matplotlib")
    out = tmp_path / "pages" / "demo.html"
    assert main(["report", str(healthy_run), "--out", str(out), "--png",
                 "--title", "Blobs demo"]) == 0
    assert "<title>Blobs demo</title>" in out.read_text()
    assert (tmp_path / "pages" / "learning_curves.png").exists()
    assert (tmp_path / "pages" / "gradient_norms.png").exists()


def test_png_without_matplotlib_still_writes_the_page(healthy_run, tmp_path, monkeypatch,
                                                       capsys):
    monkeypatch.setitem(sys.modules, "matplotlib", None)
    out = tmp_path / "r.html"
    assert main(["report", str(healthy_run), "--out", str(out), "--png"]) == 0
    assert out.exists() and not (tmp_path / "learning_curves.png").exists()
    assert "no PNG plots" in capsys.readouterr().err


def test_report_of_a_missing_directory_is_an_error(tmp_path, capsys):
    assert main(["report", str(tmp_path / "nope")]) == 2
    assert "no run directory" in capsys.readouterr().err


def test_train_with_the_monitor_then_report(tmp_path, capsys):
    pytest.importorskip("sklearn")
    pytest.importorskip("tensorboardX")
    out = tmp_path / "run"
    assert main(["train", "--epochs", "1", "--model", "mlp", "--scheduler", "none",
                 "--no-progress", "--monitor-every", "10", "--tensorboard",
                 "--out", str(out)]) == 0
    run = read_run(out)
    steps = [s["step"] for s in run.steps]
    assert steps[:3] == [1, 10, 20] and all(b - a == 10 for a, b in zip(steps[1:], steps[2:]))
    assert list(run.steps[0]["layers"]) == ["net.1", "net.4", "net.7"]  # the Linear layers
    assert run.config["model"] == "mlp" and run.epochs[0]["epoch"] == 1
    assert list((out / "tensorboard").glob("events.out.tfevents.*"))
    assert main(["report", str(out)]) == 0
    html = (out / "report.html").read_text()
    assert 'class="cell"' in html and 'class="ridge"' in html and "test accuracy" in html
    config = json.loads((out / "config.json").read_text())
    assert "monitor_every" not in config  # a viewing option, not a training setting
