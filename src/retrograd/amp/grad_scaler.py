"""GradScaler: dynamic loss scaling for float16 training (torch.amp.GradScaler's API and update
rule, so the scale follows the same sequence as PyTorch's for the same overflows).

    scaler = rg.amp.GradScaler()
    for x, y in loader:
        optimizer.zero_grad()
        with rg.amp.autocast(dtype=rg.float16):
            loss = loss_fn(model(x), y)
        scaler.scale(loss).backward()
        scaler.unscale_(optimizer)        # optional: to clip the true gradients
        scaler.step(optimizer)            # skipped when a gradient is inf/NaN
        scaler.update()

The update rule (`_amp_update_scale_`): after a step whose gradients had an inf or NaN, the
scale is multiplied by `backoff_factor` and the count of good steps restarts; after
`growth_interval` good steps in a row it is multiplied by `growth_factor`. The scale is a
float32 number, as in PyTorch.
"""

import logging

import numpy as np

from ..autograd.tensor import Tensor, new_tensor

__all__ = ["GradScaler"]

logger = logging.getLogger("retrograd.amp")

_READY, _UNSCALED, _STEPPED = "ready", "unscaled", "stepped"
_F32 = np.float32


class GradScaler:
    """Scale the loss before backward, unscale the gradients before the step, skip steps with
    inf/NaN gradients (counted in `skipped_steps`, and logged), and adapt the scale."""

    def __init__(self, device="cpu", init_scale=2.0**16, growth_factor=2.0, backoff_factor=0.5,
                 growth_interval=2000, enabled=True):
        if str(device).split(":")[0] != "cpu":
            raise RuntimeError(f"GradScaler: device '{device}' is not available; retrograd runs "
                               "on cpu")
        if not growth_factor > 1.0:
            raise ValueError(f"GradScaler: growth_factor must be > 1, got {growth_factor}")
        if not 0.0 < backoff_factor < 1.0:
            raise ValueError(f"GradScaler: backoff_factor must be in (0, 1), got {backoff_factor}")
        if not isinstance(growth_interval, int) or growth_interval <= 0:
            raise ValueError(
                f"GradScaler: growth_interval must be a positive int, got {growth_interval!r}")
        self._enabled = bool(enabled)
        self._init_scale = float(init_scale)
        self._growth_factor = float(growth_factor)
        self._backoff_factor = float(backoff_factor)
        self._growth_interval = growth_interval
        self._scale = None  # float32, made by the first scale() (as PyTorch's, lazily)
        self._growth_tracker = 0
        self._per_optimizer = {}  # id(optimizer) -> {"stage", "found_inf"}
        self.skipped_steps = 0

    # ----------------------------------------------------------------- the four calls
    def scale(self, outputs):
        """outputs * scale (a Tensor, or nested lists/tuples of them)."""
        if not self._enabled:
            return outputs
        if self._scale is None:
            self._scale = _F32(self._init_scale)
        if isinstance(outputs, Tensor):
            return outputs * new_tensor(np.asarray(self._scale))
        if isinstance(outputs, (list, tuple)):
            return type(outputs)(self.scale(o) for o in outputs)
        raise TypeError(f"GradScaler.scale: expected Tensors, got {type(outputs).__name__}")

    def unscale_(self, optimizer):
        """Divide the gradients of `optimizer`'s parameters by the scale, in place, and record
        whether any is inf or NaN. At most once per optimizer between two update() calls."""
        if not self._enabled:
            return
        self._check_scale("unscale_")
        state = self._state(optimizer)
        if state["stage"] is _UNSCALED:
            raise RuntimeError(
                "unscale_() has already been called on this optimizer since the last update().")
        if state["stage"] is _STEPPED:
            raise RuntimeError("unscale_() is being called after step().")
        inv_scale = _F32(np.float64(1.0) / np.float64(self._scale))  # as PyTorch computes it
        found_inf = False
        for group in optimizer.param_groups:
            for p in group["params"]:
                if p.grad is None:
                    continue
                g = p.grad.data
                if g.dtype == np.float16:
                    raise ValueError("Attempting to unscale FP16 gradients.")
                if not found_inf and not np.isfinite(g).all():
                    found_inf = True
                if g.flags.writeable:
                    np.multiply(g, inv_scale, out=g, casting="unsafe")
                else:
                    p.grad.data = (g * inv_scale).astype(g.dtype)
        state["found_inf"] = found_inf
        state["stage"] = _UNSCALED

    def step(self, optimizer, *args, **kwargs):
        """Unscale (if not done yet) and run `optimizer.step(...)` unless a gradient was inf or
        NaN; then the step is skipped, counted and logged. Returns step's return value (None
        when skipped)."""
        if not self._enabled:
            return optimizer.step(*args, **kwargs)
        if "closure" in kwargs:
            raise RuntimeError("Closure use is not currently supported if GradScaler is enabled.")
        self._check_scale("step")
        state = self._state(optimizer)
        if state["stage"] is _STEPPED:
            raise RuntimeError("step() has already been called since the last update().")
        if state["stage"] is _READY:
            self.unscale_(optimizer)
        result = None
        if state["found_inf"]:
            self.skipped_steps += 1
            logger.warning(
                "GradScaler: skipped the optimizer step (gradients contain inf/NaN at scale "
                "%g); update() will lower the scale. Skipped steps so far: %d",
                float(self._scale), self.skipped_steps)
        else:
            result = optimizer.step(*args, **kwargs)
        state["stage"] = _STEPPED
        return result

    def update(self, new_scale=None):
        """Adapt the scale after the iteration's steps (or set it to `new_scale`)."""
        if not self._enabled:
            return
        self._check_scale("update")
        if new_scale is not None:
            value = new_scale.item() if isinstance(new_scale, Tensor) else new_scale
            if not isinstance(value, (int, float, np.floating)):
                raise TypeError("GradScaler.update: new_scale must be a float or a 1-element "
                                f"tensor, got {type(new_scale).__name__}")
            self._scale = _F32(value)
        else:
            checked = [s["found_inf"] for s in self._per_optimizer.values()
                       if s["stage"] is not _READY]
            if not checked:
                raise RuntimeError("No inf checks were recorded prior to update().")
            self._update_scale(any(checked))
        self._per_optimizer = {}

    def _update_scale(self, found_inf):
        # PyTorch's _amp_update_scale_, in float32.
        if found_inf:
            self._scale = _F32(self._scale * _F32(self._backoff_factor))
            self._growth_tracker = 0
            return
        successful = self._growth_tracker + 1
        if successful == self._growth_interval:
            grown = _F32(self._scale * _F32(self._growth_factor))
            if np.isfinite(grown):
                self._scale = grown
            self._growth_tracker = 0
        else:
            self._growth_tracker = successful

    # ----------------------------------------------------------------- inspection and state
    def get_scale(self):
        """The current scale as a Python float (1.0 when disabled)."""
        if not self._enabled:
            return 1.0
        return self._init_scale if self._scale is None else float(self._scale)

    def get_growth_factor(self):
        return self._growth_factor

    def set_growth_factor(self, new_factor):
        self._growth_factor = float(new_factor)

    def get_backoff_factor(self):
        return self._backoff_factor

    def set_backoff_factor(self, new_factor):
        self._backoff_factor = float(new_factor)

    def get_growth_interval(self):
        return self._growth_interval

    def set_growth_interval(self, new_interval):
        self._growth_interval = int(new_interval)

    def is_enabled(self):
        return self._enabled

    def state_dict(self):
        """The scale and the update rule's settings and progress ({} when disabled)."""
        if not self._enabled:
            return {}
        return {
            "scale": self.get_scale(),
            "growth_factor": self._growth_factor,
            "backoff_factor": self._backoff_factor,
            "growth_interval": self._growth_interval,
            "_growth_tracker": self._growth_tracker,
        }

    def load_state_dict(self, state_dict):
        if not self._enabled:
            return
        if len(state_dict) == 0:
            raise RuntimeError(
                "The source state dict is empty, possibly because it was saved from a disabled "
                "instance of GradScaler.")
        self._init_scale = float(state_dict["scale"])
        self._scale = _F32(state_dict["scale"])
        self._growth_factor = float(state_dict["growth_factor"])
        self._backoff_factor = float(state_dict["backoff_factor"])
        self._growth_interval = int(state_dict["growth_interval"])
        self._growth_tracker = int(state_dict["_growth_tracker"])

    def _state(self, optimizer):
        state = self._per_optimizer.get(id(optimizer))
        if state is None:
            state = self._per_optimizer[id(optimizer)] = {"stage": _READY, "found_inf": False}
        return state

    def _check_scale(self, where):
        if self._scale is None:
            raise RuntimeError(
                f"GradScaler.{where}: the scale is not set yet; call scaler.scale(loss) in the "
                "iteration first")

    def __repr__(self):
        return (f"GradScaler(scale={self.get_scale()}, growth_factor={self._growth_factor}, "
                f"backoff_factor={self._backoff_factor}, growth_interval="
                f"{self._growth_interval}, enabled={self._enabled})")
