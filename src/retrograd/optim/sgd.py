"""Stochastic gradient descent, optionally with momentum (heavy ball or Nesterov)."""

import numpy as np

from ..autograd.tensor import new_tensor
from .optimizer import Optimizer, check_nonnegative

__all__ = ["SGD", "sgd_update"]


def sgd_update(param, grad, buf, *, lr, momentum, dampening, weight_decay, nesterov, maximize):
    """One SGD step on NumPy arrays: updates `param` (and `buf`) in place, never `grad`.

    Returns the momentum buffer, made from the gradient on the first step (`buf` None).
    """
    if maximize:
        grad = -grad
    if weight_decay != 0:
        grad = grad + weight_decay * param
    if momentum != 0:
        if buf is None:
            buf = np.array(grad, copy=True)
        else:
            buf *= momentum
            buf += grad if dampening == 0 else (1 - dampening) * grad
        grad = grad + momentum * buf if nesterov else buf
    param -= lr * grad
    return buf


class SGD(Optimizer):
    r"""Stochastic gradient descent, with optional momentum, Nesterov momentum and L2 weight
    decay, exactly as `torch.optim.SGD`.

    With gradient g_t, parameters θ, learning rate γ, weight decay λ, momentum μ and
    dampening τ, each step computes::

        g_t ← -g_t                          if maximize
        g_t ← g_t + λ θ_{t-1}               if λ ≠ 0
        if μ ≠ 0:
            b_t = g_t                       on the first step
            b_t = μ b_{t-1} + (1 - τ) g_t   afterwards
            g_t ← g_t + μ b_t               if nesterov, else g_t ← b_t
        θ_t = θ_{t-1} - γ g_t

    State per parameter: `momentum_buffer` (only when momentum ≠ 0).
    """

    def __init__(
        self,
        params,
        lr=1e-3,
        momentum=0,
        dampening=0,
        weight_decay=0,
        nesterov=False,
        *,
        maximize=False,
    ):
        defaults = {
            "lr": lr,
            "momentum": momentum,
            "dampening": dampening,
            "weight_decay": weight_decay,
            "nesterov": nesterov,
            "maximize": maximize,
        }
        super().__init__(params, defaults)

    @staticmethod
    def _check_group(group):
        check_nonnegative(group, "lr", "learning rate")
        check_nonnegative(group, "momentum", "momentum value")
        check_nonnegative(group, "weight_decay", "weight_decay value")
        if group["nesterov"] and (group["momentum"] <= 0 or group["dampening"] != 0):
            raise ValueError("Nesterov momentum requires a momentum and zero dampening")

    def _update_group(self, group, params):
        momentum = group["momentum"]
        options = {
            "lr": group["lr"],
            "momentum": momentum,
            "dampening": group["dampening"],
            "weight_decay": group["weight_decay"],
            "nesterov": group["nesterov"],
            "maximize": group["maximize"],
        }
        for p in params:
            if momentum == 0:
                sgd_update(p.data, p.grad.data, None, **options)
                continue
            state = self.state[p]
            buf = state.get("momentum_buffer")
            new = sgd_update(p.data, p.grad.data, None if buf is None else buf.data, **options)
            if buf is None:
                state["momentum_buffer"] = new_tensor(new)
