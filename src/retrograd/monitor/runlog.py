"""The monitor's files in a run directory, and reading a whole run back.

Two append-only JSON-lines files, one JSON object per line (written with `allow_nan`, so a
diverged loss shows as NaN; Python's json reads it back):

`monitor.jsonl`, each line with a "type":

    {"type": "run", "format": "retrograd-monitor/1", "every": 10, "bins": 30, "time": ...,
     "start_step": 0}                           # at every start (a resumed run adds one)
    {"type": "step", "step": 20, "epoch": 1, "time": ..., "loss": ..., "loss_avg": ...,
     "lr": ..., "grad_norm_total": ..., "skipped": false,
     "layers": {"0": {"grad_norm": ..., "weight_norm": ..., "update_ratio": ...}, ...}}
    {"type": "epoch", "step": 57, "epoch": 1, "train_loss": ..., "val_loss": ..., ...}
    {"type": "scalars", "step": 57, "values": {"val_loss": ...}}      # monitor.log_scalars
    {"type": "gradient_flow", "step": 20, "report": {... GradientFlowReport.to_dict() ...}}

`step` counts optimizer steps from 1. `loss` is the loss of the step's last batch, `loss_avg`
the mean over the batches since the previous logged step. `layers` is keyed by the dotted name
of each module that owns parameters directly ('' for the model itself): the L2 norms of its
gradients and weights (weight and bias together) and |w_after - w_before| / |w_before| for the
step (the update ratio; absent when the weights before the step were not kept).

`histograms.jsonl`, one histogram per line (the record of `retrograd.monitor.histogram`):

    {"step": 20, "kind": "weight" | "grad" | "activation", "name": "0.weight",
     "edges": [...], "counts": [...], "n": ..., "nonfinite": ..., "min": ..., "max": ...,
     "mean": ..., "std": ..., "zeros": ...}

Weights and gradients are per parameter (dotted name), activations per module (the output of
its forward, a bounded strided sample of it).

`read_run(run_dir)` reads these and the rest of a `retrograd train` run directory
(config.json, metrics.jsonl, results.json) into one `RunLog`.
"""

import json
import os
import warnings

__all__ = ["FORMAT", "MONITOR_FILE", "HISTOGRAM_FILE", "JsonLines", "RunLog", "read_run",
           "read_jsonl"]

FORMAT = "retrograd-monitor/1"
MONITOR_FILE = "monitor.jsonl"
HISTOGRAM_FILE = "histograms.jsonl"
HISTOGRAM_KINDS = ("weight", "grad", "activation")


class JsonLines:
    """An append-only JSON-lines file; each `write` is one line, flushed at once so that a
    crashed run keeps everything written before the crash."""

    def __init__(self, path):
        self.path = os.fspath(path)
        self._file = None

    def write(self, record):
        if self._file is None:
            self._file = open(self.path, "a", encoding="utf-8")  # kept open between writes
        self._file.write(json.dumps(record, allow_nan=True, separators=(",", ":")) + "\n")
        self._file.flush()

    def truncate_after(self, step):
        """Drop the records of steps after `step` (left by a run that went on past the
        checkpoint it is being resumed from)."""
        self.close()
        if not os.path.exists(self.path):
            return
        kept = [line for line in _lines(self.path) if _step_of(line) <= step]
        with open(self.path, "w", encoding="utf-8") as f:
            f.writelines(line + "\n" for line in kept)

    def close(self):
        if self._file is not None:
            self._file.close()
            self._file = None


def _lines(path):
    with open(path, encoding="utf-8") as f:
        return [line.rstrip("\n") for line in f if line.strip()]


def _step_of(line):
    try:
        return json.loads(line).get("step", 0) or 0
    except json.JSONDecodeError:
        return float("inf")  # a torn last line: drop it


def read_jsonl(path):
    """The records of a JSON-lines file ([] if it does not exist). A last line cut short by a
    crash is skipped with a warning; a bad line elsewhere is an error."""
    if not os.path.exists(path):
        return []
    lines = _lines(path)
    records = []
    for number, line in enumerate(lines, 1):
        try:
            records.append(json.loads(line))
        except json.JSONDecodeError as err:
            if number == len(lines):
                warnings.warn(f"{path}: skipping an incomplete last line ({err})",
                              RuntimeWarning, stacklevel=2)
                break
            raise ValueError(f"{path}:{number}: not a JSON line: {err}") from None
    return records


def _read_json(path):
    if not os.path.exists(path):
        return None
    with open(path, encoding="utf-8") as f:
        return json.load(f)


class RunLog:
    """Everything a run directory holds, as plain Python data.

    - `config`, `results`: the dicts of config.json and results.json (None when absent)
    - `metrics`: metrics.jsonl's per-epoch records (written by rg.train.MetricsLogger)
    - `starts`, `steps`, `epochs`, `scalars`, `flows`: monitor.jsonl's records by type
    - `histograms`: {kind: {name: [record with "step", ...]}} in step order
    """

    def __init__(self, run_dir):
        self.run_dir = os.fspath(run_dir)
        if not os.path.isdir(self.run_dir):
            raise FileNotFoundError(f"read_run: no run directory at {self.run_dir}")
        join = lambda name: os.path.join(self.run_dir, name)
        self.config = _read_json(join("config.json"))
        self.results = _read_json(join("results.json"))
        self.metrics = read_jsonl(join("metrics.jsonl"))
        by_type = {"run": [], "step": [], "epoch": [], "scalars": [], "gradient_flow": []}
        for record in read_jsonl(join(MONITOR_FILE)):
            by_type.setdefault(record.get("type"), []).append(record)
        self.starts = by_type["run"]
        self.steps = _last_per_step(by_type["step"])
        self.epochs = _last_per_key(by_type["epoch"], "epoch")
        self.scalars = by_type["scalars"]
        self.flows = by_type["gradient_flow"]
        self.histograms = {kind: {} for kind in HISTOGRAM_KINDS}
        for record in read_jsonl(join(HISTOGRAM_FILE)):
            kind = self.histograms.setdefault(record["kind"], {})
            kind.setdefault(record["name"], []).append(record)
        for names in self.histograms.values():
            for name, records in names.items():
                names[name] = _last_per_step(records)

    @property
    def has_monitor(self):
        return bool(self.starts or self.steps)

    def epoch_records(self):
        """The per-epoch records: the monitor's (which carry the step they ended at), or
        metrics.jsonl's for a run without a monitor."""
        return self.epochs or self.metrics

    def layer_names(self):
        """Every layer that has numbers in some step record, in order of first appearance."""
        seen = {}
        for record in self.steps:
            seen.update(dict.fromkeys(record.get("layers", {})))
        return list(seen)

    def last_flow(self):
        return self.flows[-1] if self.flows else None


def read_run(run_dir):
    """A `RunLog` of the run directory `run_dir`."""
    return RunLog(run_dir)


def _last_per_step(records):
    """Records in step order, keeping the last one written for a step (a resumed run that
    logged a step twice)."""
    return _last_per_key(records, "step")


def _last_per_key(records, key):
    latest = {}
    for record in records:
        latest[record.get(key)] = record
    return sorted(latest.values(), key=lambda r: (r.get(key) is None, r.get(key) or 0))
