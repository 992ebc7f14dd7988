"""The fit loop: `Trainer(model, loss_fn, optimizer, ...).fit(train_loader, val_loader, epochs)`.

One epoch: the model in train mode; for each batch `(inputs..., target)` the forward pass,
`loss_fn(output, target)`, backward, and every `accumulation_steps` batches an optimizer step
(after optional gradient clipping), then the per-step scheduler; then validation in eval mode
under `no_grad`; then the per-epoch scheduler; then the epoch's record goes into the History
and to the callbacks (printing, logging, early stopping, checkpoints).

In a data-parallel job (the model wrapped in DistributedDataParallel) every rank runs the
loop on its own batches: the epoch's metrics are averaged over all ranks' samples, a stop
requested on any rank stops every rank, the DistributedSampler's epoch is set each epoch, and
printing, logging and checkpoint files happen on rank 0 only (callbacks with
`rank_zero_only = True`). `fit` and `evaluate` are then collective: call them on every rank.
"""

import contextlib
import io
import sys
import time
import warnings

from ..amp import autocast
from ..autograd.grad_mode import no_grad
from ..autograd.tensor import Tensor
from ..nn.utils import clip_grad_norm_
from ..optim.lr_scheduler import ReduceLROnPlateau
from ..serialization import load, save
from ._parallel import agree_to_stop, reduce_totals, unwrap, world
from .callbacks import monitored
from .checkpoint import FORMAT, capture_rng, loader_generators, restore_global_rng
from .history import History
from .metrics import MetricTotals, batch_size, resolve_metrics
from .progress import EpochPrinter, ProgressBar

__all__ = ["Trainer", "fit"]


class Trainer:
    """Trains `model` on batches of `(inputs..., target)` by minimising `loss_fn(output, target)`.

    - `scheduler`: an `rg.optim.lr_scheduler` scheduler, stepped once per epoch after
      validation (`scheduler_interval="epoch"`, the default) or after every optimizer step
      (`"step"`, for OneCycleLR and warm-ups counted in steps). `ReduceLROnPlateau` is given
      the value of `scheduler_monitor` (default `val_loss`, or `train_loss` without validation).
    - `metrics`: "auto" (accuracy whenever the targets are integer class labels), or names
      ("accuracy") and functions `fn(output, target) -> float`, averaged over the samples.
    - `grad_clip`: clip the gradients' total L2 norm to this value before each step.
    - `accumulation_steps=k`: each batch's loss is scaled by 1/k and its gradients add up; the
      optimizer steps every k batches (so k batches of size b act as one batch of size k*b).
      A last, shorter group at the end of an epoch is stepped too, its gradient being the mean
      over its own batches.
    - `autocast`: a dtype (rg.float16 or rg.bfloat16) to run forward passes and losses under
      `rg.amp.autocast`; `grad_scaler`: an `rg.amp.GradScaler` that scales each loss before
      backward, unscales before clipping and skips steps with inf/NaN gradients (float16).
    - `progress`: a tqdm bar per epoch with the live loss and samples/s (shown only when
      standard error is a terminal); `verbose`: print one line per epoch.

    The state a callback can read: `model`, `optimizer`, `scheduler`, `history`, `epoch`
    (epochs completed), `epochs` (the target), `global_step` (optimizer steps), `batch`
    (index in the current epoch), `train_loader`, `val_loader`; a callback sets
    `stop_training = True` to end training after the current epoch (or batch).
    """

    def __init__(self, model, loss_fn, optimizer, *, scheduler=None, scheduler_interval="epoch",
                 scheduler_monitor=None, callbacks=(), metrics="auto", grad_clip=None,
                 accumulation_steps=1, progress=True, verbose=True, autocast=None,
                 grad_scaler=None):
        if scheduler_interval not in ("epoch", "step"):
            raise ValueError(
                f"Trainer: scheduler_interval must be 'epoch' or 'step', got {scheduler_interval!r}"
            )
        if isinstance(scheduler, ReduceLROnPlateau) and scheduler_interval == "step":
            raise ValueError("Trainer: ReduceLROnPlateau steps once per epoch, on a metric")
        if not isinstance(accumulation_steps, int) or accumulation_steps < 1:
            raise ValueError(
                f"Trainer: accumulation_steps must be a positive int, got {accumulation_steps!r}"
            )
        if grad_clip is not None and not grad_clip > 0:
            raise ValueError(f"Trainer: grad_clip must be a positive max norm, got {grad_clip!r}")
        self.model = model
        self.loss_fn = loss_fn
        self.optimizer = optimizer
        self.scheduler = scheduler
        self.scheduler_interval = scheduler_interval
        self.scheduler_monitor = scheduler_monitor
        self.metrics = resolve_metrics(metrics)
        self.grad_clip = grad_clip
        self.accumulation_steps = accumulation_steps
        self.autocast = autocast
        self.grad_scaler = grad_scaler
        self.verbose = verbose
        if not isinstance(callbacks, (list, tuple)):
            callbacks = [callbacks]
        extra = [ProgressBar(None if progress is True else progress)] if progress else []
        extra += [EpochPrinter()] if verbose else []
        self.callbacks = sorted([*extra, *callbacks], key=lambda cb: getattr(cb, "order", 0))

        self.history = History()
        self.epoch = 0
        self.epochs = None
        self.global_step = 0
        self.batch = None
        self.stop_training = False
        self.train_loader = None
        self.val_loader = None
        self._loader_rng = None  # the loaders' generator states from a checkpoint, for fit
        self.rank, self.world_size = world(model)

    # ------------------------------------------------------------------ the loop
    def fit(self, train_loader, val_loader=None, epochs=1, *, resume=None):
        """Train until `epochs` epochs are complete in total, and return the History.

        `resume` (a checkpoint path or a loaded checkpoint dict) first restores the complete
        training state, so that training continues exactly where that checkpoint was taken:
        `fit(..., epochs=4, resume="run/last.safetensors")` after 2 epochs runs epochs 3 and 4.
        """
        self.rank, self.world_size = world(self.model)
        if resume is not None:
            self.load_checkpoint(resume)
        self.train_loader, self.val_loader, self.epochs = train_loader, val_loader, int(epochs)
        self._restore_loader_rng()
        self.stop_training = False
        start = self.epoch
        if start >= self.epochs and self.verbose:
            self.log(f"already trained {start} epochs of {self.epochs}; nothing to do")
        self._call("on_train_begin", {"epochs": self.epochs, "start_epoch": start})
        try:
            while self.epoch < self.epochs and not self._should_stop():
                self._run_epoch()
        except BaseException:
            for cb in self.callbacks:  # leave the terminal clean
                if isinstance(cb, ProgressBar):
                    cb.on_train_end(self, {})
            raise
        self._call("on_train_end", {"epochs_run": self.epoch - start,
                                    "stopped_early": self.epoch < self.epochs})
        return self.history

    def _run_epoch(self):
        number = self.epoch + 1
        lr = float(self.optimizer.param_groups[0]["lr"])
        started = time.perf_counter()
        sampler = getattr(self.train_loader, "sampler", None)
        if hasattr(sampler, "set_epoch"):  # DistributedSampler: this epoch's permutation
            sampler.set_epoch(self.epoch)
        self._call("on_epoch_begin", {"epoch": number, "batches": _length(self.train_loader)})
        totals = reduce_totals(self._train_epoch(), self.world_size)
        record = {"epoch": number, **totals.means("train_")}
        if self.val_loader is not None:
            record.update({f"val_{k}": v for k, v in self.evaluate(self.val_loader).items()})
        record["lr"] = lr
        if self.scheduler is not None and self.scheduler_interval == "epoch":
            if isinstance(self.scheduler, ReduceLROnPlateau):
                default = "val_loss" if "val_loss" in record else "train_loss"
                monitor = self.scheduler_monitor or default
                self.scheduler.step(monitored(record, monitor, "ReduceLROnPlateau"))
            else:
                self.scheduler.step()
        self.epoch = number
        record["time"] = time.perf_counter() - started
        self.history.append(record)
        self._call("on_epoch_end", record)

    def _train_epoch(self):
        self.model.train()
        k = self.accumulation_steps
        totals = MetricTotals(self.metrics)
        pending = 0  # batches whose gradients wait for the next step
        self.optimizer.zero_grad()
        for index, (batch, last) in enumerate(_with_last(self.train_loader)):
            self.batch = index
            self._call("on_batch_begin", {"batch": index})
            inputs, target = _split(batch)
            # data parallel: gradients of batches that are not stepped on need no averaging yet
            local = pending + 1 < k and not last and hasattr(self.model, "no_sync")
            with self._precision(), (self.model.no_sync() if local else contextlib.nullcontext()):
                output = self.model(*inputs)
                loss = _check_loss(self.loss_fn(output, target))
                scaled = loss * (1.0 / k) if k > 1 else loss
                (scaled if self.grad_scaler is None else self.grad_scaler.scale(scaled)).backward()
            pending += 1
            stepped = pending == k or last
            grad_norm = None
            if stepped:
                grad_norm = self._optimizer_step(k / pending)
                pending = 0
            size = batch_size(target)
            loss_value = loss.item()
            totals.add(loss_value, output.detach(), target, size)
            self._call("on_batch_end", {"batch": index, "size": size, "loss": loss_value,
                                        "stepped": stepped, "grad_norm": grad_norm})
            if self._should_stop():
                break
        if pending:  # a callback stopped training inside a group: don't waste its gradients
            self._optimizer_step(k / pending)
        return totals

    def _optimizer_step(self, rescale):
        params = [p for group in self.optimizer.param_groups for p in group["params"]]
        if self.grad_scaler is not None:  # the true gradients, for rescaling and clipping
            self.grad_scaler.unscale_(self.optimizer)
        if rescale != 1:  # a short last group: its gradient is the mean over its own batches
            with no_grad():
                for p in params:
                    if p.grad is not None:
                        p.grad.mul_(rescale)
        grad_norm = None
        if self.grad_clip is not None:
            grad_norm = float(clip_grad_norm_(params, self.grad_clip))
        if self.grad_scaler is None:
            self.optimizer.step()
        else:  # skipped when a gradient is inf/NaN
            self.grad_scaler.step(self.optimizer)
            self.grad_scaler.update()
        self.optimizer.zero_grad()
        self.global_step += 1
        if self.scheduler is not None and self.scheduler_interval == "step":
            self.scheduler.step()
        return grad_norm

    def evaluate(self, loader):
        """Mean loss and metrics over `loader`, in eval mode and without a graph:
        `{"loss": ..., "accuracy": ...}`. The model's train/eval mode is restored after."""
        was_training = self.model.training
        self.model.eval()
        totals = MetricTotals(self.metrics)
        try:
            with no_grad(), self._precision():
                for batch in loader:
                    inputs, target = _split(batch)
                    output = self.model(*inputs)
                    loss = _check_loss(self.loss_fn(output, target))
                    totals.add(loss.item(), output, target, batch_size(target))
        finally:
            self.model.train(was_training)
        return reduce_totals(totals, self.world_size).means("")

    def _should_stop(self):
        """`stop_training`, agreed by all ranks of a data-parallel job."""
        self.stop_training = agree_to_stop(self.stop_training, self.world_size)
        return self.stop_training

    def _precision(self):
        return contextlib.nullcontext() if self.autocast is None else autocast(dtype=self.autocast)

    def log(self, message):
        if self.verbose and self.rank == 0:
            print(message, file=sys.stdout, flush=True)

    def _call(self, hook, logs):
        for cb in self.callbacks:
            if self.rank and getattr(cb, "rank_zero_only", False):
                continue
            fn = getattr(cb, hook, None)
            if fn is not None:
                fn(self, logs)

    # ------------------------------------------------------------------ checkpoints
    def state_dict(self, extra=None):
        """The whole training state as a checkpoint dict (see `retrograd.train.checkpoint`)."""
        state = {
            "format": FORMAT,
            "epoch": self.epoch,
            "global_step": self.global_step,
            "model": unwrap(self.model).state_dict(),
            "optimizer": self.optimizer.state_dict(),
            "scheduler": None if self.scheduler is None else self.scheduler.state_dict(),
            "rng": capture_rng(self.train_loader),
            "history": self.history.to_dict(),
            "callbacks": {name: cb.state_dict() for name, cb in self._stateful_callbacks()},
            "grad_scaler": None if self.grad_scaler is None else self.grad_scaler.state_dict(),
        }
        for key, value in (extra or {}).items():
            if key in state:
                raise ValueError(f"save_checkpoint: extra key {key!r} clashes with the state")
            state[key] = value
        return state

    def save_checkpoint(self, path, extra=None):
        """Write the training state to `path` (atomically) with rg.save; in a data-parallel
        job only rank 0 writes (the replicas are identical)."""
        if self.rank == 0:
            save(self.state_dict(extra), path)

    def load_checkpoint(self, checkpoint):
        """Restore the training state from a path or a loaded checkpoint dict.

        All or nothing: a corrupt or truncated file, or a checkpoint that does not fit this
        model, optimizer or scheduler, raises ValueError and leaves everything as it was.
        The DataLoader's generator state is applied by the next `fit`. Returns the dict.
        """
        state = read_checkpoint(checkpoint)
        backup, pending = io.BytesIO(), self._loader_rng
        save(self.state_dict(), backup)
        try:
            self._apply(state)
        except Exception as err:
            backup.seek(0)
            self._apply(load(backup))
            self._loader_rng = pending
            raise ValueError(f"load_checkpoint: {_source(checkpoint)} does not fit this "
                             f"training setup, nothing was loaded: {err}") from err
        return state

    def _apply(self, state):
        if (state["scheduler"] is None) != (self.scheduler is None):
            saved = "with" if state["scheduler"] is not None else "without"
            raise ValueError(f"the checkpoint was saved {saved} a scheduler, unlike this trainer")
        unwrap(self.model).load_state_dict(state["model"])
        self.optimizer.load_state_dict(state["optimizer"])
        if self.scheduler is not None:
            self.scheduler.load_state_dict(state["scheduler"])
        saved = state["callbacks"]
        for name, cb in self._stateful_callbacks():
            if name in saved:
                cb.load_state_dict(saved[name])
        if self.grad_scaler is not None and state.get("grad_scaler"):
            self.grad_scaler.load_state_dict(state["grad_scaler"])
        restore_global_rng(state["rng"])
        self._loader_rng = state["rng"]["loaders"]
        self.epoch = int(state["epoch"])
        self.global_step = int(state["global_step"])
        self.history = History.from_dict(state["history"])

    def _stateful_callbacks(self):
        counts = {}
        for cb in self.callbacks:
            if getattr(cb, "state_dict", None) is None or cb.state_dict() is None:
                continue
            name = type(cb).__name__
            counts[name] = counts.get(name, 0) + 1
            yield (name if counts[name] == 1 else f"{name}#{counts[name]}"), cb

    def _restore_loader_rng(self):
        states, self._loader_rng = self._loader_rng, None
        if states is None:
            return
        generators = loader_generators(self.train_loader)
        if len(generators) != len(states):
            warnings.warn(
                f"fit: the checkpoint holds {len(states)} DataLoader generator state(s) but "
                f"train_loader has {len(generators)} generator(s); the order of the batches "
                "will differ from the run that saved it",
                RuntimeWarning,
                stacklevel=3,
            )
            return
        for generator, state in zip(generators, states):
            generator.set_state(state)


def fit(model, loss_fn, optimizer, train_loader, val_loader=None, epochs=1, *, resume=None,
        **options):
    """Train `model` and return its History: `Trainer(model, loss_fn, optimizer, **options)`
    `.fit(train_loader, val_loader, epochs, resume=resume)`. See `Trainer` for the options."""
    trainer = Trainer(model, loss_fn, optimizer, **options)
    return trainer.fit(train_loader, val_loader, epochs, resume=resume)


def read_checkpoint(checkpoint):
    """A checkpoint dict from a path (checked) or a dict; ValueError if it is not one."""
    state = checkpoint if isinstance(checkpoint, dict) else load(checkpoint)
    required = ("format", "epoch", "global_step", "model", "optimizer", "scheduler", "rng",
                "history", "callbacks")
    if not isinstance(state, dict) or state.get("format") != FORMAT:
        raise ValueError(f"load_checkpoint: {_source(checkpoint)} is not a retrograd training "
                         f"checkpoint (expected format {FORMAT!r})")
    missing = [key for key in required if key not in state]
    if missing:
        raise ValueError(f"load_checkpoint: {_source(checkpoint)} lacks {missing}")
    return state


def _source(checkpoint):
    return "the checkpoint dict" if isinstance(checkpoint, dict) else str(checkpoint)


def _split(batch):
    if isinstance(batch, (tuple, list)) and len(batch) >= 2:
        return batch[:-1], batch[-1]
    raise TypeError(
        "fit: each batch must be a tuple (inputs..., target), as a DataLoader over a "
        f"TensorDataset(x, y) gives; got {type(batch).__name__}"
    )


def _check_loss(loss):
    if not isinstance(loss, Tensor) or loss.numel() != 1:
        shape = tuple(loss.shape) if isinstance(loss, Tensor) else type(loss).__name__
        raise ValueError(f"fit: loss_fn must return a one-element Tensor, got {shape}")
    return loss


def _length(loader):
    try:
        return len(loader)
    except TypeError:
        return None


def _with_last(iterable):
    """(item, is_last) pairs, looking one item ahead."""
    iterator = iter(iterable)
    try:
        item = next(iterator)
    except StopIteration:
        return
    for following in iterator:
        yield item, False
        item = following
    yield item, True

