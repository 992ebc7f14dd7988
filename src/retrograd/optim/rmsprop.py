"""RMSprop (Hinton, lecture 6e), optionally centered and with momentum."""

import numpy as np

from ..autograd.tensor import new_tensor
from ._maths import addcdiv_, addcmul_, lerp_
from .optimizer import Optimizer, check_nonnegative

__all__ = ["RMSprop", "rmsprop_update"]


def rmsprop_update(
    param,
    grad,
    square_avg,
    grad_avg,
    momentum_buffer,
    *,
    lr,
    alpha,
    eps,
    weight_decay,
    momentum,
    maximize,
):
    """One RMSprop step on NumPy arrays, in place. `grad_avg` is None unless centered,
    `momentum_buffer` None unless momentum > 0; `grad` is never written to."""
    if maximize:
        grad = -grad
    if weight_decay != 0:
        grad = grad + weight_decay * param
    square_avg *= alpha
    addcmul_(square_avg, grad, grad, 1 - alpha)
    if grad_avg is not None:
        lerp_(grad_avg, grad, 1 - alpha)
        avg = np.array(square_avg, copy=True)
        addcmul_(avg, grad_avg, grad_avg, -1)
        np.sqrt(avg, out=avg)
    else:
        avg = np.sqrt(square_avg)
    avg += eps
    if momentum_buffer is not None:
        momentum_buffer *= momentum
        addcdiv_(momentum_buffer, grad, avg)
        param -= lr * momentum_buffer
    else:
        addcdiv_(param, grad, avg, -lr)


class RMSprop(Optimizer):
    r"""RMSprop, exactly as `torch.optim.RMSprop`.

    With gradient g_t, parameters θ, learning rate γ, smoothing constant α, weight decay λ and
    momentum μ, each step computes::

        g_t ← -g_t                                   if maximize
        g_t ← g_t + λ θ_{t-1}                        if λ ≠ 0
        v_t = α v_{t-1} + (1 - α) g_t²
        if centered:
            ḡ_t = α ḡ_{t-1} + (1 - α) g_t
            d_t = sqrt(v_t - ḡ_t²) + ε
        else:
            d_t = sqrt(v_t) + ε
        if μ > 0:
            b_t = μ b_{t-1} + g_t / d_t
            θ_t = θ_{t-1} - γ b_t
        else:
            θ_t = θ_{t-1} - γ g_t / d_t

    State per parameter: `step`, `square_avg` (v), `momentum_buffer` (b, when μ > 0) and
    `grad_avg` (ḡ, when centered).
    """

    def __init__(
        self,
        params,
        lr=1e-2,
        alpha=0.99,
        eps=1e-8,
        weight_decay=0,
        momentum=0,
        centered=False,
        *,
        maximize=False,
    ):
        defaults = {
            "lr": lr,
            "momentum": momentum,
            "alpha": alpha,
            "eps": eps,
            "centered": centered,
            "weight_decay": weight_decay,
            "maximize": maximize,
        }
        super().__init__(params, defaults)

    @staticmethod
    def _check_group(group):
        check_nonnegative(group, "lr", "learning rate")
        check_nonnegative(group, "eps", "epsilon value")
        check_nonnegative(group, "momentum", "momentum value")
        check_nonnegative(group, "weight_decay", "weight_decay value")
        check_nonnegative(group, "alpha", "alpha value")

    def _update_group(self, group, params):
        momentum = group["momentum"]
        centered = group["centered"]
        for p in params:
            state = self.state[p]
            if not state:
                state["step"] = 0
                state["square_avg"] = new_tensor(np.zeros_like(p.data))
            if momentum > 0 and "momentum_buffer" not in state:
                state["momentum_buffer"] = new_tensor(np.zeros_like(p.data))
            if centered and "grad_avg" not in state:
                state["grad_avg"] = new_tensor(np.zeros_like(p.data))
            state["step"] += 1
            rmsprop_update(
                p.data,
                p.grad.data,
                state["square_avg"].data,
                state["grad_avg"].data if centered else None,
                state["momentum_buffer"].data if momentum > 0 else None,
                lr=group["lr"],
                alpha=group["alpha"],
                eps=group["eps"],
                weight_decay=group["weight_decay"],
                momentum=momentum,
                maximize=group["maximize"],
            )
