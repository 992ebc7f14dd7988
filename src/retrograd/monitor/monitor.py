"""The training monitor: every N optimizer steps, what the network is doing, into the run
directory (see `runlog` for the files) and optionally TensorBoard.

In a fit loop (`rg.train.fit(..., callbacks=[Monitor("runs/demo", every=20)])`), or by hand:

    monitor = Monitor("runs/manual", every=20)
    monitor.watch(model)                      # before the first step
    for step, (x, y) in enumerate(loader, 1):
        optimizer.zero_grad()
        loss = loss_fn(model(x), y)
        loss.backward()
        optimizer.step()
        monitor.log_step(model, loss, optimizer, step)   # after the step, every step
    monitor.close()

What a logged step costs is paid only on logged steps: the hooks that collect gradients,
activations and the update are put on just before such a step and taken off right after it.
"""

import os
import time

import numpy as np

from ..autograd.grad_mode import is_grad_enabled
from ..autograd.tensor import Tensor
from ..diagnostics.gradient_flow import GradientFlowTracker
from .histogram import DEFAULT_BINS, bounded_sample, histogram
from .runlog import FORMAT, HISTOGRAM_FILE, MONITOR_FILE, JsonLines
from .tensorboard import TensorBoardWriter, layer_tag

__all__ = ["Monitor"]

# Leaf modules whose output repeats their input's distribution: no activation histogram.
_PASS_THROUGH = ("Flatten", "Unflatten", "Identity", "Dropout", "Dropout1d", "Dropout2d",
                 "Dropout3d", "AlphaDropout")


class Monitor:
    """Log losses, learning rate, per-layer gradient and weight norms, update ratios,
    gradient-flow findings and histograms of weights, gradients and activations to `run_dir`
    at step 1 and every `every` optimizer steps.

    - `histograms`: histograms of every parameter's weights and gradients (`bins` bins each);
      False logs none at all (activations neither), only the scalars and findings.
    - `activations`: histograms of the outputs of the model's leaf modules (a strided sample of
      at most `max_samples` values per module and step); True, False, or module names.
    - `tensorboard`: also write TensorBoard event files to `run_dir/tensorboard` (needs
      tensorboardX).
    - `thresholds`: for the gradient-flow findings (see rg.diagnostics.Thresholds).

    As a `rg.train` callback it also logs each epoch's record (train/validation loss and
    metrics). A resumed run drops the records written after the checkpoint it resumes from.
    """

    order = -4  # early: the step's numbers are recorded before other callbacks look at logs
    rank_zero_only = True  # data parallel: one rank writes the files

    def __init__(self, run_dir, every=100, histograms=True, activations=True, tensorboard=False,
                 bins=DEFAULT_BINS, max_samples=4096, thresholds=None):
        if not isinstance(every, int) or isinstance(every, bool) or every < 1:
            raise ValueError(f"Monitor: every must be a positive int, got {every!r}")
        if not isinstance(max_samples, int) or max_samples < 1:
            raise ValueError(f"Monitor: max_samples must be a positive int, got {max_samples!r}")
        histogram([0.0], bins)  # validates bins
        self.run_dir = os.fspath(run_dir)
        self.every = every
        self.histograms = bool(histograms)
        self.activations = activations
        self.tensorboard = bool(tensorboard)
        self.bins = bins
        self.max_samples = max_samples
        self.thresholds = thresholds
        self.model = None
        self.step = 0  # the last optimizer step seen
        self.latest_report = None  # the last gradient-flow report
        self._log = JsonLines(os.path.join(self.run_dir, MONITOR_FILE))
        self._hist = JsonLines(os.path.join(self.run_dir, HISTOGRAM_FILE))
        self._tb = None
        self._tracker = None
        self._armed_for = None  # the step the hooks are collecting for
        self._lr = None
        self._grad_hooks, self._grads, self._scale = [], {}, 1.0
        self._act_hooks, self._acts = [], {}
        self._losses = []  # batch losses since the last logged step
        self._epoch = None
        self._at_boundary = True
        self._started = False

    # ------------------------------------------------------------------ by hand
    def watch(self, model, start_step=0):
        """Start monitoring `model` (optimizer steps counted from `start_step`); arms the
        hooks for the first logged step."""
        self._start(model, start_step)
        if self.logs_step(self.step + 1):
            self._arm()
        return self

    def logs_step(self, step):
        """Whether `step` (counted from 1) is one the monitor logs: step 1 and every
        `every`-th."""
        return step == 1 or step % self.every == 0

    def log_step(self, model, loss, optimizer=None, step=None, **scalars):
        """Record optimizer step `step` (default: the previous one + 1): call it after every
        `optimizer.step()`, before the next `zero_grad()`. `loss` is the step's loss (a Tensor
        or a number); `optimizer` gives the learning rate; extra keyword scalars are logged
        with the step."""
        if not self._started or model is not self.model:
            self._start(model, self.step if step is None else step - 1)
        step = self.step + 1 if step is None else int(step)
        if optimizer is not None:  # after the step, before a scheduler moves it on
            self._lr = _lr(optimizer)
        self._losses.append(_number(loss))
        self._finish_step(step, grad_norm=None, extra=scalars)
        if self.logs_step(step + 1):
            self._arm(optimizer)

    def log_scalars(self, step, values):
        """Log other numbers at `step` (a validation loss, a metric): `{name: number}`."""
        record = {"type": "scalars", "step": int(step), "time": time.time(),
                  "values": {k: _number(v) for k, v in values.items()}}
        self._log.write(record)
        if self._tb is not None:
            self._tb.scalars(int(step), record["values"], prefix="scalars/")

    def close(self):
        """Take off every hook and close the files (the monitor can start again later)."""
        self._disarm()
        self._log.close()
        self._hist.close()
        if self._tb is not None:
            self._tb.close()
            self._tb = None
        self._started = False

    # ------------------------------------------------------------------ rg.train hooks
    def on_train_begin(self, trainer, logs):
        resumed = trainer.global_step > 0 or trainer.epoch > 0
        if resumed:
            self._log.truncate_after(trainer.global_step)
            self._hist.truncate_after(trainer.global_step)
        self._start(trainer.model, trainer.global_step, purge=resumed)

    def on_epoch_begin(self, trainer, logs):
        self._epoch = logs["epoch"]
        self._at_boundary = True

    def on_batch_begin(self, trainer, logs):
        if self._armed_for is None and self._at_boundary and self.logs_step(
                trainer.global_step + 1):
            scaler = getattr(trainer, "grad_scaler", None)
            scale = float(scaler.get_scale()) if scaler is not None and scaler.is_enabled() else 1
            self._arm(trainer.optimizer, scale)

    def on_batch_end(self, trainer, logs):
        self._losses.append(float(logs["loss"]))
        self._at_boundary = bool(logs.get("stepped"))
        if logs.get("stepped"):
            self._finish_step(trainer.global_step, grad_norm=logs.get("grad_norm"), extra={})

    def on_epoch_end(self, trainer, logs):
        record = {"type": "epoch", "step": trainer.global_step, **logs}
        self._log.write(record)
        if self._tb is not None:
            values = {k: v for k, v in logs.items() if k not in ("epoch", "time")}
            self._tb.scalars(trainer.global_step, values, prefix="epoch/")
            self._tb.flush()

    def on_train_end(self, trainer, logs):
        self.close()

    def state_dict(self):
        return None

    # ------------------------------------------------------------------ the work
    def _start(self, model, start_step, purge=False):
        if self._started:
            self._disarm()
        self.model = model
        self.step = int(start_step)
        self._losses = []
        self._at_boundary = True
        os.makedirs(self.run_dir, exist_ok=True)
        self._tracker = GradientFlowTracker(model, self.thresholds)
        self._log.write({"type": "run", "format": FORMAT, "every": self.every, "bins": self.bins,
                         "histograms": self.histograms, "activations": bool(self.activations),
                         "time": time.time(), "start_step": self.step})
        if self.tensorboard and self._tb is None:
            self._tb = TensorBoardWriter(os.path.join(self.run_dir, "tensorboard"),
                                         purge_step=self.step + 1 if purge else None)
        self._started = True

    def _arm(self, optimizer=None, scale=1.0):
        """Put on the hooks that collect what the coming step needs."""
        self._disarm()
        self._armed_for = self.step + 1
        if optimizer is not None:
            self._lr = _lr(optimizer)
        tracker = self._tracker
        tracker.reset()
        tracker.attach()
        tracker.watch_gradients(scale)
        tracker.before_step()
        if self.histograms:
            self._scale = float(scale)
            for name, p in self.model.named_parameters():
                if p.requires_grad:
                    self._grad_hooks.append(p.register_hook(self._grad_hook(name)))
        if self.histograms and self.activations:
            for name, module in self._activation_modules():
                self._act_hooks.append(module.register_forward_hook(self._act_hook(name)))

    def _disarm(self):
        for handle in self._grad_hooks + self._act_hooks:
            handle.remove()
        self._grad_hooks, self._act_hooks = [], []
        self._grads, self._acts = {}, {}
        if self._tracker is not None:
            self._tracker.detach()
        self._armed_for = None

    def _grad_hook(self, name):
        grads = self._grads

        def monitor_gradient(grad):
            g = np.asarray(grad.data, dtype=np.float64)
            previous = grads.get(name)
            grads[name] = g.copy() if previous is None else previous + g

        return monitor_gradient

    def _act_hook(self, name):
        acts, limit = self._acts, self.max_samples

        def monitor_activation(module, args, output):
            if not is_grad_enabled():  # an evaluation pass, not the step's forward
                return
            out = _first_tensor(output)
            if out is None:
                return
            kept = acts.setdefault(name, [])
            have = sum(a.size for a in kept)
            if have < limit:
                kept.append(np.array(bounded_sample(out.data, limit - have), dtype=np.float64))

        return monitor_activation

    def _activation_modules(self):
        wanted = self.activations
        named = set(wanted) if isinstance(wanted, (list, tuple, set, frozenset)) else None
        for name, module in self.model.named_modules():
            if named is not None:
                if name in named:
                    yield name, module
            elif next(iter(module.children()), None) is None and name:
                if type(module).__name__ not in _PASS_THROUGH:
                    yield name, module

    def _finish_step(self, step, grad_norm, extra):
        self.step = step
        if not self.logs_step(step):
            return
        record = {"type": "step", "step": step, "epoch": self._epoch, "time": time.time(),
                  "loss": self._losses[-1] if self._losses else None,
                  "loss_avg": float(np.mean(self._losses)) if self._losses else None,
                  "lr": self._lr, "grad_norm_total": grad_norm}
        record.update({k: _number(v) for k, v in extra.items()})
        self._losses = []
        report = None
        if self._armed_for == step:
            self._tracker.after_step()
            report = self._tracker.report(step=step)
        else:  # not armed in time (a monitor started mid-step): gradients from .grad
            self._tracker.reset()
            report = self._tracker.report(step=step)
        self.latest_report = report
        record["layers"] = {layer.name: _layer_numbers(layer) for layer in report.layers}
        if record["grad_norm_total"] is None:
            norms = [x.grad_norm for x in report.layers if x.grad_norm is not None]
            record["grad_norm_total"] = float(np.sqrt(sum(n * n for n in norms))) if norms \
                else None
        self._log.write(record)
        self._log.write({"type": "gradient_flow", "step": step, "report": report.to_dict()})
        histograms = self._histograms(step) if self.histograms else []
        for h in histograms:
            self._hist.write(h)
        if self._tb is not None:
            self._to_tensorboard(step, record, report, histograms)
        self._disarm()

    def _histograms(self, step):
        out = []
        params = list(self.model.named_parameters())
        for name, p in params:
            out.append({"step": step, "kind": "weight", "name": name,
                        **histogram(p.data, self.bins)})
        armed = self._armed_for == step
        for name, p in params:
            g = self._grads.get(name) if armed else None
            if g is not None and self._scale != 1.0:
                g = g / self._scale
            if g is None and p.grad is not None:
                g = p.grad.data
            if g is not None:
                out.append({"step": step, "kind": "grad", "name": name,
                            **histogram(g, self.bins)})
        for name, samples in (self._acts.items() if armed else ()):
            values = np.concatenate(samples) if samples else np.zeros(0)
            out.append({"step": step, "kind": "activation", "name": name,
                        **histogram(values, self.bins)})
        return out

    def _to_tensorboard(self, step, record, report, histograms):
        tb = self._tb
        tb.scalars(step, {"loss": record["loss"], "loss_avg": record["loss_avg"],
                          "lr": record["lr"], "grad_norm_total": record["grad_norm_total"]},
                   prefix="train/")
        for name, numbers in record["layers"].items():
            for key in ("grad_norm", "weight_norm", "update_ratio"):
                tb.scalars(step, {f"{key}/{layer_tag(name)}": numbers.get(key)})
        for h in histograms:
            tb.histogram(step, h["kind"], h["name"], h)
        tb.findings(step, [f.to_dict() for f in report.findings])
        tb.flush()


def _layer_numbers(layer):
    numbers = {"type": layer.module_type, "grad_norm": layer.grad_norm,
               "weight_norm": layer.weight_norm, "update_ratio": layer.update_ratio}
    for key in ("dead_fraction", "zero_fraction", "saturated_fraction"):
        value = getattr(layer, key)
        if value is not None:
            numbers[key] = value
    return numbers


def _lr(optimizer):
    groups = getattr(optimizer, "param_groups", None)
    return float(groups[0]["lr"]) if groups else None


def _number(value):
    if isinstance(value, Tensor):
        return float(value.item())
    if value is None or isinstance(value, (bool, str)):
        return value
    return float(value)


def _first_tensor(output):
    if isinstance(output, Tensor):
        return output
    if isinstance(output, (tuple, list)):
        for item in output:
            if isinstance(item, Tensor):
                return item
    return None
