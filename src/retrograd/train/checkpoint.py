"""Training checkpoints: everything a run needs to continue exactly where it stopped.

A checkpoint is one safetensors file written with `rg.save` (atomically: a crash mid-save
leaves the previous file whole) holding a dict:

    format       "retrograd.train/1"
    epoch        epochs completed;  global_step: optimizer steps taken
    model        model.state_dict()
    optimizer    optimizer.state_dict();  scheduler: its state_dict() or None
    rng          the random streams: rg's default generator, NumPy's and Python's global ones,
                 and the generators of the training DataLoader (its shuffling)
    history      History.to_dict();  callbacks: {name: state} (early stopping, best value...)
    + any extra entries (the command line stores its `config`)

The model's tensors sit under `model.<name>`, so PyTorch can read the weights straight from
the file with `safetensors.torch.load_file`.
"""

import os
import random

import numpy as np

from ..ops.random import Generator, get_rng_state, set_rng_state
from .callbacks import Callback, monitored
from .history import resolve_mode

__all__ = ["ModelCheckpoint", "FORMAT"]

FORMAT = "retrograd.train/1"


class ModelCheckpoint(Callback):
    """Save training checkpoints into `dirpath` at the end of every epoch.

    `last.safetensors` always holds the latest epoch (resume from it); `best.safetensors` the
    epoch with the best `monitor` value (default: `val_loss`, or `train_loss` without a
    validation loader; `mode` "auto" minimises losses and maximises accuracies). Both are full
    checkpoints. `extra` (a dict) is stored in every file, for example the run's config.
    """

    order = 10
    rank_zero_only = True

    def __init__(self, dirpath, monitor=None, mode="auto", save_last=True, save_best=True,
                 every_n_epochs=1, last_name="last.safetensors", best_name="best.safetensors",
                 extra=None):
        if every_n_epochs < 1:
            raise ValueError(f"ModelCheckpoint: every_n_epochs must be >= 1, got {every_n_epochs}")
        self.dirpath = os.fspath(dirpath)
        self.monitor = monitor
        self.mode = mode
        self.save_last = save_last
        self.save_best = save_best
        self.every_n_epochs = every_n_epochs
        self.last_path = os.path.join(self.dirpath, last_name)
        self.best_path = os.path.join(self.dirpath, best_name)
        self.extra = extra
        self.best = None
        self.best_epoch = None

    def on_train_begin(self, trainer, logs):
        os.makedirs(self.dirpath, exist_ok=True)

    def on_epoch_end(self, trainer, logs):
        improved = False
        if self.save_best:
            monitor = self.monitor or ("val_loss" if "val_loss" in logs else "train_loss")
            value = monitored(logs, monitor, "ModelCheckpoint")
            sign = -1.0 if resolve_mode(monitor, self.mode) == "max" else 1.0
            if self.best is None or sign * value < sign * self.best:
                self.best, self.best_epoch, improved = value, logs["epoch"], True
        last_epoch = trainer.epoch >= trainer.epochs or trainer.stop_training
        if self.save_last and (logs["epoch"] % self.every_n_epochs == 0 or last_epoch):
            trainer.save_checkpoint(self.last_path, extra=self.extra)
        if improved:
            trainer.save_checkpoint(self.best_path, extra=self.extra)

    def state_dict(self):
        return {"best": self.best, "best_epoch": self.best_epoch}

    def load_state_dict(self, state):
        self.best, self.best_epoch = state["best"], state["best_epoch"]


# ---------------------------------------------------------------------------- random state


def loader_generators(loader):
    """The distinct rg.Generators that drive a DataLoader's order (its own, its sampler's)."""
    found = []
    sampler = getattr(loader, "sampler", None)
    batch_sampler = getattr(loader, "batch_sampler", None)
    for owner in (loader, sampler, getattr(batch_sampler, "sampler", None)):
        g = getattr(owner, "generator", None)
        if isinstance(g, Generator) and all(g is not f for f in found):
            found.append(g)
    return found


def capture_rng(loader):
    np_state = np.random.get_state()
    version, py_state, gauss = random.getstate()
    return {
        "retrograd": get_rng_state(),
        "numpy": {
            "kind": np_state[0],
            "key": np_state[1],
            "pos": int(np_state[2]),
            "has_gauss": int(np_state[3]),
            "cached_gaussian": float(np_state[4]),
        },
        "python": {"version": version, "state": np.asarray(py_state, dtype=np.int64),
                   "gauss_next": gauss},
        "loaders": [g.get_state() for g in loader_generators(loader)],
    }


def restore_global_rng(state):
    """Restore rg's, NumPy's and Python's global streams (the loaders' wait for `fit`)."""
    set_rng_state(state["retrograd"])
    n = state["numpy"]
    key = np.asarray(n["key"], dtype=np.uint32)
    np.random.set_state((n["kind"], key, n["pos"], n["has_gauss"], n["cached_gaussian"]))
    p = state["python"]
    random.setstate((p["version"], tuple(int(v) for v in np.asarray(p["state"])), p["gauss_next"]))
