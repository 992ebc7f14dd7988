"""GradientFlowCallback: gradient-flow reports from inside `rg.train.fit`.

It follows rg.train's callback protocol (the hooks are looked up by name), without importing
the train layer, which sits above diagnostics. The trainer clears `.grad` right after each
optimizer step, before `on_batch_end`, so the callback sums the gradients as backward delivers
them (parameter hooks) and snapshots the weights when a watched step begins.
"""

import json
import os

from ._flow_report import Thresholds
from .gradient_flow import GradientFlowTracker

__all__ = ["GradientFlowCallback"]


class GradientFlowCallback:
    """A `rg.train` callback: a gradient-flow report of one optimizer step every `every`
    steps (the first step, then every `every`-th).

    Reports are kept in `reports` (and `latest`), put into the batch's logs as
    `logs["gradient_flow"]`, written as JSON lines (`report.to_dict()`) to `path` when given
    (a run directory's `gradient_flow.jsonl`: a fresh run starts it anew, a resumed one keeps
    the steps it resumes from), and each new (kind, layer) finding is logged through the
    trainer once.
    """

    order = -5  # before other callbacks, so they see logs["gradient_flow"]

    def __init__(self, every=100, thresholds=None, path=None, verbose=True):
        if not isinstance(every, int) or every < 1:
            raise ValueError(f"GradientFlowCallback: every must be a positive int, got {every!r}")
        self.every = every
        self.thresholds = Thresholds.of(thresholds)
        self.path = None if path is None else os.fspath(path)
        self.verbose = verbose
        self.reports = []
        self.latest = None
        self.tracker = None
        self._active = False
        self._at_step_boundary = True
        self._announced = set()

    def on_train_begin(self, trainer, logs):
        self.tracker = GradientFlowTracker(trainer.model, self.thresholds)
        self._at_step_boundary = True
        if self.path is not None:
            _restart_log(self.path, trainer.global_step)

    def on_epoch_begin(self, trainer, logs):
        self._at_step_boundary = True

    def on_batch_begin(self, trainer, logs):
        if self._active or not self._at_step_boundary or trainer.global_step % self.every:
            return
        self.tracker.reset()
        self.tracker.attach()
        scaler = getattr(trainer, "grad_scaler", None)
        scale = 1.0
        if scaler is not None and scaler.is_enabled():
            scale = float(scaler.get_scale())
        self.tracker.watch_gradients(scale)
        self.tracker.before_step()
        self._active = True

    def on_batch_end(self, trainer, logs):
        self._at_step_boundary = bool(logs.get("stepped"))
        if not (self._active and logs.get("stepped")):
            return
        self.tracker.after_step()
        report = self.tracker.report(step=trainer.global_step)
        report.epoch = trainer.epoch + 1
        self.tracker.detach()
        self._active = False
        self.reports.append(report)
        self.latest = report
        logs["gradient_flow"] = report
        if self.path is not None:
            with open(self.path, "a", encoding="utf-8") as f:
                f.write(json.dumps(report.to_dict(), allow_nan=True) + "\n")
        if self.verbose:
            for finding in report.findings:
                key = (finding.kind, finding.layer)
                if key not in self._announced:
                    self._announced.add(key)
                    trainer.log(f"gradient flow at step {report.step}: {finding}")

    def on_train_end(self, trainer, logs):
        if self._active:
            self.tracker.detach()
            self._active = False


def _restart_log(path, step):
    """Keep the reports of steps up to `step` (those a resumed run has already done)."""
    kept = []
    if step > 0 and os.path.exists(path):
        with open(path, encoding="utf-8") as f:
            kept = [line for line in f if line.strip() and json.loads(line)["step"] <= step]
    if os.path.dirname(path):
        os.makedirs(os.path.dirname(path), exist_ok=True)
    with open(path, "w", encoding="utf-8") as f:
        f.writelines(kept)
