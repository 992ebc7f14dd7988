"""Adagrad (Duchi, Hazan & Singer, 2011)."""

import numpy as np

from ..autograd.tensor import new_tensor
from ._maths import addcdiv_, addcmul_
from .optimizer import Optimizer, check_nonnegative

__all__ = ["Adagrad", "adagrad_update"]


def adagrad_update(param, grad, state_sum, *, step, lr, lr_decay, weight_decay, eps, maximize):
    """One Adagrad step number `step` (counting from 1) on NumPy arrays, in place; `grad` is
    never written to."""
    if maximize:
        grad = -grad
    if weight_decay != 0:
        grad = grad + weight_decay * param
    clr = lr / (1 + (step - 1) * lr_decay)
    addcmul_(state_sum, grad, grad)
    std = np.sqrt(state_sum)
    std += eps
    addcdiv_(param, grad, std, -clr)


class Adagrad(Optimizer):
    r"""Adagrad, exactly as `torch.optim.Adagrad`.

    With gradient g_t, parameters θ, learning rate γ, learning-rate decay η, weight decay λ
    and step t (from 1), each step computes::

        g_t ← -g_t                          if maximize
        g_t ← g_t + λ θ_{t-1}               if λ ≠ 0
        γ_t = γ / (1 + (t - 1) η)
        s_t = s_{t-1} + g_t²                (s_0 = initial_accumulator_value)
        θ_t = θ_{t-1} - γ_t g_t / (sqrt(s_t) + ε)

    State per parameter: `step` and `sum` (s). As in PyTorch it is created when the parameter
    is added (not on the first step), since `sum` starts at `initial_accumulator_value`.
    NOTE: PyTorch fills every group's `sum` with the constructor's value and gives groups added
    later no state; here each group uses its own `initial_accumulator_value`, also later.
    """

    def __init__(
        self,
        params,
        lr=1e-2,
        lr_decay=0,
        weight_decay=0,
        initial_accumulator_value=0,
        eps=1e-10,
        *,
        maximize=False,
    ):
        defaults = {
            "lr": lr,
            "lr_decay": lr_decay,
            "eps": eps,
            "weight_decay": weight_decay,
            "initial_accumulator_value": initial_accumulator_value,
            "maximize": maximize,
        }
        super().__init__(params, defaults)

    @staticmethod
    def _check_group(group):
        check_nonnegative(group, "lr", "learning rate")
        check_nonnegative(group, "lr_decay", "lr_decay value")
        check_nonnegative(group, "weight_decay", "weight_decay value")
        check_nonnegative(group, "initial_accumulator_value", "initial_accumulator_value value")
        check_nonnegative(group, "eps", "epsilon value")

    def add_param_group(self, param_group):
        super().add_param_group(param_group)
        group = self.param_groups[-1]
        for p in group["params"]:
            self._init_state(p, group)

    def _init_state(self, p, group):
        state = self.state[p]
        state["step"] = 0
        state["sum"] = new_tensor(np.full_like(p.data, group["initial_accumulator_value"]))

    def _update_group(self, group, params):
        for p in params:
            state = self.state[p]
            if not state:  # state dropped, e.g. by loading a checkpoint without it
                self._init_state(p, group)
            state["step"] += 1
            adagrad_update(
                p.data,
                p.grad.data,
                state["sum"].data,
                step=state["step"],
                lr=group["lr"],
                lr_decay=group["lr_decay"],
                weight_decay=group["weight_decay"],
                eps=group["eps"],
                maximize=group["maximize"],
            )
