"""Optimizer: the bookkeeping every optimizer shares (parameter groups, per-parameter state,
`zero_grad`, `step` with a closure, `state_dict`), kept apart from the update equations.

Subclasses validate their hyperparameters in `_check_group` (it runs on the defaults and on every
group added later) and implement `_update_group(group, params)`, which receives the group's
parameters that have a gradient and applies the update by calling an update function that works
on NumPy arrays in place. The updates touch `p.data` directly, so no graph is recorded.
"""

from collections import defaultdict

import numpy as np

from ..autograd import dtypes
from ..autograd.grad_mode import enable_grad
from ..autograd.tensor import Tensor, new_tensor

__all__ = ["Optimizer"]


class Optimizer:
    """Base class of the optimizers.

    `params` is an iterable of Tensors, of `(name, Tensor)` pairs, or of dicts (parameter
    groups: `{"params": [...], "lr": 0.1, ...}`; options missing from a group come from
    `defaults`). `state[p]` is a dict of per-parameter state, created on the first step that
    sees a gradient for `p`.
    """

    def __init__(self, params, defaults):
        if isinstance(params, Tensor):
            raise TypeError(
                "params argument given to the optimizer should be an iterable of Tensors or "
                f"dicts, but got {type(params).__name__}"
            )
        self._check_group(defaults)
        self.defaults = defaults
        self.state = defaultdict(dict)
        self.param_groups = []
        groups = list(params)
        if not groups:
            raise ValueError("optimizer got an empty parameter list")
        if not isinstance(groups[0], dict):
            groups = [{"params": groups}]
        for group in groups:
            self.add_param_group(group)

    # ------------------------------------------------------------------ what subclasses write
    @staticmethod
    def _check_group(group):
        """Raise ValueError for an invalid hyperparameter in `group` (defaults or a group)."""

    def _update_group(self, group, params):
        """Apply one update to `params` (the group's parameters whose grad is not None)."""
        raise NotImplementedError(f"{type(self).__name__} does not implement _update_group")

    # ------------------------------------------------------------------ groups
    def add_param_group(self, param_group):
        """Add a group of parameters (a dict with 'params' and optional per-group options)."""
        if not isinstance(param_group, dict):
            raise TypeError(f"param_group must be a dict, but got {type(param_group).__name__}")
        if "params" not in param_group:
            raise ValueError("param_group must have a 'params' entry")
        group = dict(param_group)
        params = group["params"]
        if isinstance(params, Tensor):
            params = [params]
        elif isinstance(params, (set, frozenset)):
            raise TypeError(
                "optimizer parameters need to be organized in ordered collections, but the "
                "ordering of tensors in sets changes between runs; use a list instead"
            )
        params = list(params)
        names = [p[0] for p in params if isinstance(p, tuple)]
        if names:
            if len(names) != len(params):
                raise ValueError(
                    "all optimizer params should be with/without names. Some param names are "
                    "missing"
                )
            group["param_names"] = names
            params = [p[1] for p in params]
        for p in params:
            _check_param(p)
        group["params"] = params
        for name, default in self.defaults.items():
            group.setdefault(name, default)
        self._check_group(group)

        ids = [id(p) for p in params]
        if len(set(ids)) != len(ids):
            raise ValueError("optimizer contains a parameter group with duplicate parameters")
        seen = set()
        for other in self.param_groups:
            seen.update(id(p) for p in other["params"])
            if ("param_names" in other) != ("param_names" in group):
                raise ValueError(
                    "all optimizer param groups should be with/without names; cannot add a "
                    "param group " + ("with" if "param_names" in group else "without") + " names"
                )
        if not seen.isdisjoint(ids):
            raise ValueError("some parameters appear in more than one parameter group")
        self.param_groups.append(group)

    # ------------------------------------------------------------------ stepping
    def zero_grad(self, set_to_none=True):
        """Reset the gradients: set `.grad` to None (default) or fill it with zeros."""
        for group in self.param_groups:
            for p in group["params"]:
                g = p.grad
                if g is None:
                    continue
                if set_to_none:
                    p.grad = None
                    continue
                if g._node is not None:
                    g.detach_()
                else:
                    g._requires_grad = False
                if g.data.flags.writeable:
                    g.data.fill(0)
                    _bump_version(g, "zero_grad")
                else:
                    p.grad = new_tensor(np.zeros_like(g.data))

    def step(self, closure=None):
        """Update every parameter that has a gradient; return `closure()` if given.

        The closure re-evaluates the model and returns the loss; it runs with grad mode on, so
        it may call `backward()` even when `step` is called inside `no_grad`.
        """
        loss = None
        if closure is not None:
            with enable_grad():
                loss = closure()
        name = type(self).__name__ + ".step"
        for group in self.param_groups:
            params = [p for p in group["params"] if p.grad is not None]
            if not params:
                continue
            for p in params:
                if p.grad.data.shape != p.data.shape:
                    raise RuntimeError(
                        f"{name}: a gradient of shape {p.grad.data.shape} does not match its "
                        f"parameter of shape {p.data.shape}"
                    )
            self._update_group(group, params)
            for p in params:
                _bump_version(p, name)
        self._opt_called = True
        return loss

    # ------------------------------------------------------------------ checkpoints
    def state_dict(self):
        """The optimizer's state in PyTorch's layout: `{"state": {index: {...}},
        "param_groups": [{..., "params": [index, ...]}]}`, parameters replaced by their
        position in the groups.

        The returned Tensors are copies, so the dict is a snapshot that later steps leave alone.
        """
        index = {}
        groups = []
        for group in self.param_groups:
            packed = {k: _snapshot(v) for k, v in group.items() if k != "params"}
            for p in group["params"]:
                index.setdefault(id(p), len(index))
            packed["params"] = [index[id(p)] for p in group["params"]]
            groups.append(packed)
        state = {}
        for p, values in self.state.items():
            if id(p) in index and values:
                state[index[id(p)]] = _snapshot(values)
        state = dict(sorted(state.items()))
        return {"state": state, "param_groups": groups}

    def load_state_dict(self, state_dict):
        """Load a dict made by `state_dict()` into an optimizer over parameters of the same
        shapes, in the same groups and order."""
        saved_groups = state_dict["param_groups"]
        if len(saved_groups) != len(self.param_groups):
            raise ValueError(
                f"loaded state dict has {len(saved_groups)} parameter groups, the optimizer has "
                f"{len(self.param_groups)}"
            )
        for i, (group, saved) in enumerate(zip(self.param_groups, saved_groups)):
            if len(group["params"]) != len(saved["params"]):
                raise ValueError(
                    f"loaded state dict has {len(saved['params'])} parameters in group {i}, "
                    f"the optimizer's group has {len(group['params'])}"
                )
        by_index = {}
        for group, saved in zip(self.param_groups, saved_groups):
            by_index.update(zip(saved["params"], group["params"]))

        state = defaultdict(dict)
        for key, values in state_dict["state"].items():
            key = int(key)  # formats that stringify keys
            if key not in by_index:
                raise ValueError(f"loaded state dict has state for unknown parameter {key}")
            p = by_index[key]
            state[p] = {name: _load_value(p, name, value) for name, value in values.items()}

        groups = []
        for group, saved in zip(self.param_groups, saved_groups):
            new = {k: _snapshot(v) for k, v in saved.items() if k != "params"}
            if isinstance(new.get("betas"), list):
                new["betas"] = tuple(new["betas"])  # formats without tuples
            new["params"] = group["params"]
            if "param_names" in group and "param_names" not in new:
                new["param_names"] = group["param_names"]
            for name, default in self.defaults.items():
                new.setdefault(name, default)
            groups.append(new)
        self.state = state
        self.param_groups = groups

    def __repr__(self):
        lines = [type(self).__name__ + " ("]
        for i, group in enumerate(self.param_groups):
            lines.append(f"Parameter Group {i}")
            lines.extend(f"    {k}: {group[k]}" for k in sorted(group) if k != "params")
        return "\n".join(lines) + "\n)"


# ---------------------------------------------------------------------- helpers
def check_nonnegative(group, key, what):
    """Raise PyTorch's ValueError ("Invalid learning rate: -0.1") unless group[key] >= 0."""
    value = group[key]
    if not 0.0 <= value:
        raise ValueError(f"Invalid {what}: {value}")


def _check_param(p):
    if not isinstance(p, Tensor):
        raise TypeError(
            f"optimizer can only optimize Tensors, but one of the params is {type(p).__name__}"
        )
    if p._node is not None:
        raise ValueError("can't optimize a non-leaf Tensor")
    if not dtypes.is_floating(p.data.dtype):
        raise ValueError(
            f"optimizer can only optimize floating-point Tensors, but one of the params has "
            f"dtype {p.data.dtype}"
        )


def _bump_version(t, name):
    """Record an in-place change, so a graph that saved `t` before the update refuses to run
    backward with the new values (PyTorch's version counter)."""
    vc = t._counter()
    vc[0] += 1
    vc[1] = name


def _snapshot(value):
    """A copy of a state or group value that later in-place updates leave alone."""
    if isinstance(value, Tensor):
        return new_tensor(value.data.copy())
    if isinstance(value, dict):
        return {k: _snapshot(v) for k, v in value.items()}
    if isinstance(value, list):
        return [_snapshot(v) for v in value]
    if isinstance(value, tuple):
        return tuple(_snapshot(v) for v in value)
    if isinstance(value, np.ndarray):
        return value.copy()
    return value


def _load_value(p, name, value):
    """A loaded state value: 'step' as a Python number, buffers as fresh Tensors in the
    parameter's dtype (PyTorch casts floating-point state to the parameter's dtype)."""
    if isinstance(value, (Tensor, np.ndarray, np.generic)):
        array = value.data if isinstance(value, Tensor) else np.asarray(value)
        if name == "step":
            step = float(array.reshape(()).item())
            return int(step) if step.is_integer() else step
        if dtypes.is_floating(array.dtype):
            array = array.astype(p.data.dtype, copy=True)
        else:
            array = array.copy()
        return new_tensor(array)
    return _snapshot(value)
