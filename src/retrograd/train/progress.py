"""What a run shows while it trains: a progress bar per epoch and one line per finished epoch.

The bar (tqdm) shows the running loss and the throughput in samples per second. It appears
only when standard error is a terminal (never in logs, pipes or tests) and tqdm is installed.
"""

import sys
import time

from .callbacks import Callback

__all__ = ["ProgressBar", "EpochPrinter", "format_record"]


class ProgressBar(Callback):
    """A tqdm bar over each epoch's batches with the live loss and samples/s.

    `enabled=None` (the default) shows it only when standard error is a terminal; True always
    shows it. Other keyword arguments go to `tqdm` (`mininterval=`, `ncols=`...).
    """

    order = -20
    rank_zero_only = True

    def __init__(self, enabled=None, **tqdm_options):
        self.enabled = enabled
        self.tqdm_options = tqdm_options
        self.bar = None

    def _tqdm(self):
        if self.enabled is False:
            return None
        if self.enabled is None and not _isatty(sys.stderr):
            return None
        try:
            from tqdm.auto import tqdm
        except ImportError:  # tqdm is a dependency, but a bar is not worth failing a run for
            return None
        return tqdm

    def on_epoch_begin(self, trainer, logs):
        tqdm = self._tqdm()
        if tqdm is None:
            return
        width = len(str(trainer.epochs))
        options = {"unit": "batch", "leave": False, "file": sys.stderr, "dynamic_ncols": True}
        self.bar = tqdm(
            total=logs["batches"],
            desc=f"epoch {logs['epoch']:>{width}}/{trainer.epochs}",
            **{**options, **self.tqdm_options},
        )
        self._start = time.perf_counter()
        self._samples = 0
        self._loss = 0.0

    def on_batch_end(self, trainer, logs):
        if self.bar is None:
            return
        self._samples += logs["size"]
        self._loss += logs["loss"] * logs["size"]
        elapsed = max(time.perf_counter() - self._start, 1e-9)
        self.bar.set_postfix_str(
            f"loss {self._loss / max(self._samples, 1):.4f}, {self._samples / elapsed:,.0f} "
            "samples/s",
            refresh=False,
        )
        self.bar.update(1)

    def on_epoch_end(self, trainer, logs):
        self._close()

    def on_train_end(self, trainer, logs):
        self._close()

    def _close(self):
        if self.bar is not None:
            self.bar.close()
            self.bar = None


class EpochPrinter(Callback):
    """Print one line per epoch: train and validation loss and metrics, rate, time."""

    order = -10
    rank_zero_only = True

    def on_epoch_end(self, trainer, logs):
        trainer.log(format_record(logs, trainer.epochs))


def format_record(record, epochs=None):
    """`epoch 3/10  train loss 0.4123 acc 88.20%  val loss 0.4500 acc 86.00%  lr 0.01  1.7s`."""
    epoch = record.get("epoch", "?")
    width = len(str(epochs)) if epochs else 1
    parts = [f"epoch {epoch:>{width}}/{epochs}" if epochs else f"epoch {epoch}"]
    for prefix in ("train_", "val_"):
        keys = [k for k in record if k.startswith(prefix)]
        if keys:
            values = " ".join(_format_value(k.removeprefix(prefix), record[k]) for k in keys)
            parts.append(f"{prefix[:-1]} {values}")
    if "lr" in record:
        parts.append(f"lr {record['lr']:.3g}")
    if "time" in record:
        parts.append(f"{record['time']:.{2 if record['time'] < 10 else 1}f}s")
    return "  ".join(parts)


def _format_value(name, value):
    if value is None:
        return f"{name} -"
    if name in ("accuracy", "acc"):
        return f"acc {100 * value:.2f}%"
    return f"{name} {value:.4f}"


def _isatty(stream):
    try:
        return stream.isatty()
    except (AttributeError, ValueError):
        return False
