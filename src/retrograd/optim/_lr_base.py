"""LRScheduler: the base of the learning-rate schedulers (see `lr_scheduler.py`)."""

import warnings

from .optimizer import Optimizer

EPOCH_DEPRECATION_WARNING = (
    "The epoch parameter in `scheduler.step()` is deprecated, as in PyTorch; use "
    "`scheduler.step()`. When epoch is given, the closed form is used where there is one."
)


class LRScheduler:
    """Base class of the learning-rate schedulers.

    A scheduler sets `group["lr"]` of every parameter group of its optimizer each time `step()`
    is called (once per epoch or per batch, after `optimizer.step()`). It records the starting
    rates as `group["initial_lr"]` (`base_lrs`) and counts the steps in `last_epoch`; creating
    one performs step 0. Subclasses implement `get_lr()`, usually as PyTorch's recursive form
    (new rate from the current `group["lr"]`), so sequences match torch.optim.lr_scheduler to
    the last bit and schedulers can be chained.

    `last_epoch=-1` starts a fresh schedule; another value resumes one, which needs the groups'
    `initial_lr` (restored by `optimizer.load_state_dict`).
    """

    _is_initial = False

    def __init__(self, optimizer, last_epoch=-1):
        if not isinstance(optimizer, Optimizer):
            raise TypeError(f"{type(optimizer).__name__} is not an Optimizer")
        self.optimizer = optimizer
        if last_epoch == -1:
            for group in optimizer.param_groups:
                group.setdefault("initial_lr", group["lr"])
        else:
            for i, group in enumerate(optimizer.param_groups):
                if "initial_lr" not in group:
                    raise KeyError(
                        f"param 'initial_lr' is not specified in param_groups[{i}] when resuming "
                        f"a scheduler with last_epoch={last_epoch}; load the optimizer's state "
                        "first, or use last_epoch=-1 for a fresh schedule"
                    )
        self.base_lrs = [group["initial_lr"] for group in optimizer.param_groups]
        self.last_epoch = last_epoch
        self._initial_step()

    def _initial_step(self):
        self._step_count = 0
        self._is_initial = True
        try:
            self.step()
        finally:
            self._is_initial = False

    def get_lr(self):
        """The learning rates for the current `last_epoch`, one per parameter group."""
        raise NotImplementedError(f"{type(self).__name__} does not implement get_lr")

    def get_last_lr(self):
        """The learning rates set by the latest `step()`, one per parameter group."""
        return self._last_lr

    def step(self, epoch=None):
        """Advance the schedule by one step and set the optimizer's learning rates."""
        if self._step_count == 1 and not getattr(self.optimizer, "_opt_called", False):
            # Optimizers that override step() do not set the flag; don't blame their users.
            if type(self.optimizer).step is Optimizer.step:
                warnings.warn(
                    "Detected call of `lr_scheduler.step()` before `optimizer.step()`. Call "
                    "them in the opposite order: `optimizer.step()` before "
                    "`lr_scheduler.step()`; otherwise the first value of the learning rate "
                    "schedule is skipped.",
                    UserWarning,
                    stacklevel=2,
                )
        self._step_count += 1
        if epoch is not None:
            warnings.warn(EPOCH_DEPRECATION_WARNING, UserWarning, stacklevel=2)
        self._update_lr(epoch)

    def _update_lr(self, epoch=None):
        if epoch is None:
            self.last_epoch += 1
            values = self.get_lr()
        else:
            self.last_epoch = epoch
            closed_form = getattr(self, "_get_closed_form_lr", None)
            values = closed_form() if closed_form is not None else self.get_lr()
        groups = self.optimizer.param_groups
        if len(values) != len(groups):
            raise RuntimeError(
                f"{type(self).__name__}: {len(values)} learning rates for {len(groups)} "
                "parameter groups (was a group added after the scheduler was made?)"
            )
        for group, lr in zip(groups, values):
            group["lr"] = lr
        self._last_lr = [group["lr"] for group in groups]

    def state_dict(self):
        """Everything in the scheduler but the optimizer, as a dict."""
        return {key: value for key, value in self.__dict__.items() if key != "optimizer"}

    def load_state_dict(self, state_dict):
        self.__dict__.update(state_dict)


def format_param(name, optimizer, param):
    """One value per parameter group, from a scalar or a list/tuple of the right length."""
    if isinstance(param, (list, tuple)):
        if len(param) != len(optimizer.param_groups):
            raise ValueError(
                f"{name} must have the same length as optimizer.param_groups: {name} has "
                f"{len(param)} values, param_groups has {len(optimizer.param_groups)}"
            )
        return list(param)
    return [param] * len(optimizer.param_groups)


def current_lrs(optimizer):
    """The current learning rate of each parameter group."""
    return [group["lr"] for group in optimizer.param_groups]
