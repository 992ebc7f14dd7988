"""Adadelta (Zeiler, 2012) and Rprop (Riedmiller & Braun, 1993), as torch.optim computes them."""

import numpy as np

from ..autograd.tensor import new_tensor
from ._maths import addcmul_
from .optimizer import Optimizer, check_nonnegative

__all__ = ["Adadelta", "Rprop", "adadelta_update", "rprop_update"]


def adadelta_update(param, grad, square_avg, acc_delta, *, lr, rho, eps, weight_decay,
                    maximize):
    """One Adadelta step on NumPy arrays, in place."""
    if maximize:
        grad = -grad
    if weight_decay != 0:
        grad = grad + weight_decay * param
    square_avg *= rho
    addcmul_(square_avg, grad, grad, 1 - rho)
    std = np.sqrt(square_avg + eps)
    delta = np.sqrt(acc_delta + eps)
    delta /= std
    delta *= grad
    acc_delta *= rho
    addcmul_(acc_delta, delta, delta, 1 - rho)
    param += -lr * delta


def rprop_update(param, grad, prev, step_size, *, eta_minus, eta_plus, step_size_min,
                 step_size_max, maximize):
    """One Rprop step on NumPy arrays, in place: each step size grows by eta_plus while its
    gradient keeps its sign and shrinks by eta_minus when it flips (that step is then skipped);
    the parameter moves by the step size against the gradient's sign."""
    if maximize:
        grad = -grad
    sign = np.sign(grad * prev)
    factor = np.where(sign > 0, eta_plus, np.where(sign < 0, eta_minus, 1.0)).astype(grad.dtype)
    step_size *= factor
    np.clip(step_size, step_size_min, step_size_max, out=step_size)
    grad = np.where(factor == eta_minus, 0, grad).astype(grad.dtype)
    param -= np.sign(grad) * step_size
    prev[...] = grad


class Adadelta(Optimizer):
    r"""Adadelta, exactly as `torch.optim.Adadelta`::

        g_t ← -g_t if maximize;  g_t ← g_t + λ θ_{t-1} if λ ≠ 0
        v_t = ρ v_{t-1} + (1 - ρ) g_t²
        Δ_t = sqrt(u_{t-1} + ε) / sqrt(v_t + ε) · g_t
        u_t = ρ u_{t-1} + (1 - ρ) Δ_t²
        θ_t = θ_{t-1} - γ Δ_t

    State per parameter: `step`, `square_avg` (v), `acc_delta` (u).
    """

    def __init__(self, params, lr=1.0, rho=0.9, eps=1e-6, weight_decay=0, *, maximize=False):
        defaults = {"lr": lr, "rho": rho, "eps": eps, "weight_decay": weight_decay,
                    "maximize": maximize}
        super().__init__(params, defaults)

    @staticmethod
    def _check_group(group):
        check_nonnegative(group, "lr", "learning rate")
        if not 0.0 <= group["rho"] <= 1.0:
            raise ValueError(f"Invalid rho value: {group['rho']}")
        check_nonnegative(group, "eps", "epsilon value")
        check_nonnegative(group, "weight_decay", "weight_decay value")

    def _update_group(self, group, params):
        for p in params:
            state = self.state[p]
            if not state:
                state["step"] = 0
                state["square_avg"] = new_tensor(np.zeros_like(p.data))
                state["acc_delta"] = new_tensor(np.zeros_like(p.data))
            state["step"] += 1
            adadelta_update(p.data, p.grad.data, state["square_avg"].data,
                            state["acc_delta"].data, lr=group["lr"], rho=group["rho"],
                            eps=group["eps"], weight_decay=group["weight_decay"],
                            maximize=group["maximize"])


class Rprop(Optimizer):
    r"""Rprop, exactly as `torch.optim.Rprop` (full-batch training: it uses only gradient
    signs)::

        s = sign(g_t g_{t-1});  η = η+ if s > 0, η- if s < 0, 1 otherwise
        δ_t = clamp(η δ_{t-1}, step_size_min, step_size_max)     (δ_0 = lr)
        g_t ← 0 where η = η-
        θ_t = θ_{t-1} - sign(g_t) δ_t

    State per parameter: `step`, `prev` (the last gradient used), `step_size` (δ).
    """

    def __init__(self, params, lr=1e-2, etas=(0.5, 1.2), step_sizes=(1e-6, 50), *,
                 maximize=False):
        defaults = {"lr": lr, "etas": tuple(etas), "step_sizes": tuple(step_sizes),
                    "maximize": maximize}
        super().__init__(params, defaults)

    @staticmethod
    def _check_group(group):
        check_nonnegative(group, "lr", "learning rate")
        eta_minus, eta_plus = group["etas"]
        if not 0.0 < eta_minus < 1.0 < eta_plus:
            raise ValueError(f"Invalid eta values: {eta_minus}, {eta_plus}")

    def _update_group(self, group, params):
        eta_minus, eta_plus = group["etas"]
        low, high = group["step_sizes"]
        for p in params:
            state = self.state[p]
            if not state:
                state["step"] = 0
                state["prev"] = new_tensor(np.zeros_like(p.data))
                state["step_size"] = new_tensor(np.full_like(p.data, group["lr"]))
            state["step"] += 1
            rprop_update(p.data, p.grad.data, state["prev"].data, state["step_size"].data,
                         eta_minus=eta_minus, eta_plus=eta_plus, step_size_min=low,
                         step_size_max=high, maximize=group["maximize"])
