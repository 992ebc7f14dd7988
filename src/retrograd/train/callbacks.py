"""Callbacks: hooks into the fit loop (early stopping, JSON-lines logging, your own).

A callback subclasses `Callback` and overrides any of the hooks below. Every hook receives the
`Trainer` (model, optimizer, scheduler, history, epoch, global_step, stop_training...) and a
dict of logs:

    on_train_begin(trainer, logs)   logs: {"epochs": total, "start_epoch": epochs already done}
    on_epoch_begin(trainer, logs)   logs: {"epoch": number (from 1), "batches": len or None}
    on_batch_begin(trainer, logs)   logs: {"batch": index in the epoch}
    on_batch_end(trainer, logs)     logs: {"batch", "size", "loss", "stepped", "grad_norm"}
    on_epoch_end(trainer, logs)     logs: the epoch's record (what History stores)
    on_train_end(trainer, logs)     logs: {"epochs_run": n, "stopped_early": bool}

Callbacks run in the order given, except that each class has an `order` (default 0; the
progress bar -20, the epoch printer -10, checkpoints +10): lower runs first, so checkpoints
save the state every other callback has already updated. In a data-parallel job, callbacks
with `rank_zero_only = True` (printing, logging, checkpoints) run on rank 0 only; the others
run on every rank and see metrics averaged over all ranks. A callback whose state matters for
resuming returns it from `state_dict()` and takes it back in `load_state_dict()`; it is
saved in the training checkpoint under its class name.
"""

import json
import math
import os

from .history import resolve_mode

__all__ = ["Callback", "LambdaCallback", "EarlyStopping", "MetricsLogger", "TerminateOnNaN"]


class Callback:
    order = 0
    rank_zero_only = False  # True: in a data-parallel job only rank 0 calls its hooks

    def on_train_begin(self, trainer, logs):
        pass

    def on_epoch_begin(self, trainer, logs):
        pass

    def on_batch_begin(self, trainer, logs):
        pass

    def on_batch_end(self, trainer, logs):
        pass

    def on_epoch_end(self, trainer, logs):
        pass

    def on_train_end(self, trainer, logs):
        pass

    def state_dict(self):
        """What a resumed run needs from this callback (None: nothing)."""
        return None

    def load_state_dict(self, state):
        pass


HOOKS = ("on_train_begin", "on_epoch_begin", "on_batch_begin", "on_batch_end", "on_epoch_end",
         "on_train_end")


class LambdaCallback(Callback):
    """A callback from plain functions: `LambdaCallback(on_epoch_end=lambda trainer, logs: ...)`."""

    def __init__(self, **hooks):
        unknown = set(hooks) - set(HOOKS)
        if unknown:
            raise TypeError(f"LambdaCallback: unknown hooks {sorted(unknown)}; hooks are {HOOKS}")
        for name, fn in hooks.items():
            setattr(self, name, fn)


class EarlyStopping(Callback):
    """Stop training when `monitor` has not improved by more than `min_delta` for `patience`
    epochs in a row (patience=0: at the first epoch without improvement).

    `mode` is "min", "max" or "auto" (max for accuracies, min otherwise). With
    `restore_best_weights=True` the model gets back the weights of its best epoch when training
    ends (whether it stopped early or ran out of epochs).
    """

    def __init__(self, monitor="val_loss", patience=5, min_delta=0.0, mode="auto",
                 restore_best_weights=False, verbose=True):
        if patience < 0:
            raise ValueError(f"EarlyStopping: patience must be >= 0, got {patience}")
        self.monitor = monitor
        self.patience = int(patience)
        self.min_delta = abs(float(min_delta))
        self.mode = resolve_mode(monitor, mode)
        self.restore_best_weights = restore_best_weights
        self.verbose = verbose
        self.best = math.inf if self.mode == "min" else -math.inf
        self.best_epoch = None
        self.wait = 0
        self.stopped_epoch = None
        self.best_weights = None

    def _improved(self, value):
        if self.mode == "min":
            return value < self.best - self.min_delta
        return value > self.best + self.min_delta

    def on_epoch_end(self, trainer, logs):
        value = monitored(logs, self.monitor, "EarlyStopping")
        if self._improved(value):
            self.best, self.best_epoch, self.wait = value, logs["epoch"], 0
            if self.restore_best_weights:
                self.best_weights = {k: v.clone() for k, v in trainer.model.state_dict().items()}
            return
        self.wait += 1
        if self.wait >= self.patience:
            trainer.stop_training = True
            self.stopped_epoch = logs["epoch"]
            if self.verbose:
                trainer.log(
                    f"early stopping: {self.monitor} has not improved for {self.wait} epochs "
                    f"(best {self.best:.4g} at epoch {self.best_epoch})"
                )

    def on_train_end(self, trainer, logs):
        if self.restore_best_weights and self.best_weights is not None:
            trainer.model.load_state_dict(self.best_weights)
            if self.verbose:
                trainer.log(f"restored the weights of epoch {self.best_epoch}")

    def state_dict(self):
        return {"best": self.best, "best_epoch": self.best_epoch, "wait": self.wait,
                "best_weights": self.best_weights}

    def load_state_dict(self, state):
        self.best, self.best_epoch, self.wait = state["best"], state["best_epoch"], state["wait"]
        self.best_weights = state["best_weights"]


class TerminateOnNaN(Callback):
    """Stop training as soon as a batch's loss is NaN or infinite."""

    def on_batch_end(self, trainer, logs):
        if not math.isfinite(logs["loss"]):
            trainer.stop_training = True
            trainer.log(
                f"stopping: the loss is {logs['loss']} at epoch {trainer.epoch + 1}, "
                f"batch {logs['batch']}"
            )


class MetricsLogger(Callback):
    """Append each epoch's record to `path` as one JSON line (the `metrics.jsonl` of a run).

    A fresh run starts the file anew; a resumed run keeps the lines of the epochs it resumes
    from and drops later ones (left by a run that went on after its last checkpoint).
    """

    rank_zero_only = True

    def __init__(self, path):
        self.path = os.fspath(path)

    def on_train_begin(self, trainer, logs):
        kept = []
        if trainer.epoch > 0 and os.path.exists(self.path):
            with open(self.path, encoding="utf-8") as f:
                for line in f:
                    line = line.strip()
                    if line and json.loads(line).get("epoch", 0) <= trainer.epoch:
                        kept.append(line)
        directory = os.path.dirname(self.path)
        if directory:
            os.makedirs(directory, exist_ok=True)
        with open(self.path, "w", encoding="utf-8") as f:
            f.writelines(line + "\n" for line in kept)

    def on_epoch_end(self, trainer, logs):
        with open(self.path, "a", encoding="utf-8") as f:
            f.write(json.dumps(logs, allow_nan=True) + "\n")


def monitored(logs, monitor, who):
    """logs[monitor], or a ValueError that lists what can be monitored."""
    if monitor not in logs or logs[monitor] is None:
        available = [k for k, v in logs.items() if isinstance(v, float) and k != "time"]
        hint = " (pass a val_loader to fit for val_* values)" if monitor.startswith("val") else ""
        raise ValueError(f"{who}: no {monitor!r} in the epoch's logs{hint}; available: {available}")
    return float(logs[monitor])

