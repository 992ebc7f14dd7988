"""The run directory's log format: append-only JSON lines, truncation on resume, reading back."""

import json
import math

import pytest

from retrograd.monitor import read_run
from retrograd.monitor.runlog import HISTOGRAM_FILE, MONITOR_FILE, JsonLines, read_jsonl


def test_json_lines_append_one_record_per_line_and_keep_nan(tmp_path):
    log = JsonLines(tmp_path / "a.jsonl")
    log.write({"step": 1, "loss": 0.5})
    log.write({"step": 2, "loss": float("nan")})
    # flushed at once: readable while the writer is still open
    lines = (tmp_path / "a.jsonl").read_text().splitlines()
    assert len(lines) == 2 and json.loads(lines[0]) == {"step": 1, "loss": 0.5}
    log.close()
    log.write({"step": 3})  # appends after a close, never truncates
    records = read_jsonl(tmp_path / "a.jsonl")
    assert [r["step"] for r in records] == [1, 2, 3] and math.isnan(records[1]["loss"])
    log.close()


def test_truncate_after_drops_later_steps_and_a_torn_line(tmp_path):
    path = tmp_path / "a.jsonl"
    path.write_text("".join(json.dumps({"step": s}) + "\n" for s in (1, 2, 3, 4))
                    + '{"type": "run"}\n{"step": 5, "lo')
    JsonLines(path).truncate_after(2)
    assert [r.get("step") for r in read_jsonl(path)] == [1, 2, None]
    JsonLines(tmp_path / "missing.jsonl").truncate_after(3)  # nothing to do
    assert not (tmp_path / "missing.jsonl").exists()


def test_read_jsonl_skips_a_torn_last_line_with_a_warning(tmp_path):
    path = tmp_path / "a.jsonl"
    path.write_text('{"step": 1}\n\n{"step": 2, "lo')
    with pytest.warns(RuntimeWarning, match="incomplete last line"):
        assert read_jsonl(path) == [{"step": 1}]
    path.write_text('{"step": 1}\nnot json\n{"step": 2}\n')
    with pytest.raises(ValueError, match=r"a.jsonl:2: not a JSON line"):
        read_jsonl(path)
    assert read_jsonl(tmp_path / "none.jsonl") == []


def write(path, records):
    path.write_text("".join(json.dumps(r) + "\n" for r in records))


def test_read_run_groups_records_and_keeps_the_last_of_a_repeated_step(tmp_path):
    write(tmp_path / MONITOR_FILE, [
        {"type": "run", "every": 2, "start_step": 0},
        {"type": "step", "step": 2, "loss": 1.0, "layers": {"0": {"grad_norm": 1.0}}},
        {"type": "step", "step": 4, "loss": 0.9, "layers": {"0": {}, "2": {}}},
        {"type": "run", "every": 2, "start_step": 2},  # resumed from step 2
        {"type": "step", "step": 4, "loss": 0.8, "layers": {"0": {}, "2": {}}},
        {"type": "epoch", "epoch": 1, "step": 4, "val_loss": 0.7},
        {"type": "scalars", "step": 4, "values": {"val_loss": 0.7}},
        {"type": "gradient_flow", "step": 4, "report": {"findings": [], "layers": []}},
        {"type": "something_new", "step": 4},  # newer writers may add types
    ])
    write(tmp_path / HISTOGRAM_FILE, [
        {"step": 2, "kind": "weight", "name": "0.weight", "counts": [1], "edges": [0, 1]},
        {"step": 4, "kind": "weight", "name": "0.weight", "counts": [2], "edges": [0, 1]},
        {"step": 2, "kind": "grad", "name": "0.weight", "counts": [1], "edges": [0, 1]},
    ])
    (tmp_path / "config.json").write_text('{"model": "mlp"}')
    run = read_run(tmp_path)
    assert run.has_monitor and run.config == {"model": "mlp"} and run.results is None
    assert [s["step"] for s in run.steps] == [2, 4] and run.steps[1]["loss"] == 0.8
    assert [s["start_step"] for s in run.starts] == [0, 2]
    assert run.epoch_records() == run.epochs and run.epochs[0]["val_loss"] == 0.7
    assert run.layer_names() == ["0", "2"]
    assert run.last_flow()["step"] == 4 and run.scalars[0]["values"] == {"val_loss": 0.7}
    assert [r["step"] for r in run.histograms["weight"]["0.weight"]] == [2, 4]
    assert list(run.histograms["grad"]) == ["0.weight"] and run.histograms["activation"] == {}


def test_a_run_without_a_monitor_reads_metrics_jsonl(tmp_path):
    write(tmp_path / "metrics.jsonl", [{"epoch": 1, "train_loss": 1.0}])
    run = read_run(tmp_path)
    assert not run.has_monitor and run.steps == [] and run.last_flow() is None
    assert run.epoch_records() == [{"epoch": 1, "train_loss": 1.0}]


def test_read_run_needs_a_directory(tmp_path):
    with pytest.raises(FileNotFoundError, match="no run directory"):
        read_run(tmp_path / "nope")
