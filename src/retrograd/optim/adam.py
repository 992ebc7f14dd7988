"""Adam (Kingma & Ba, 2015), with L2 or decoupled weight decay and the AMSGrad variant."""

import numpy as np

from ..autograd.tensor import new_tensor
from ._maths import addcdiv_, addcmul_, lerp_
from .optimizer import Optimizer, check_nonnegative

__all__ = ["Adam", "adam_update"]


def adam_update(
    param,
    grad,
    exp_avg,
    exp_avg_sq,
    max_exp_avg_sq,
    *,
    step,
    lr,
    beta1,
    beta2,
    eps,
    weight_decay,
    decoupled_weight_decay,
    maximize,
):
    """One Adam step number `step` (counting from 1) on NumPy arrays, in place.

    `max_exp_avg_sq` is None unless AMSGrad is on. `grad` is never written to.
    """
    if maximize:
        grad = -grad
    if weight_decay != 0:
        if decoupled_weight_decay:
            param *= 1 - lr * weight_decay
        else:
            grad = grad + weight_decay * param
    lerp_(exp_avg, grad, 1 - beta1)
    exp_avg_sq *= beta2
    addcmul_(exp_avg_sq, grad, grad, 1 - beta2)

    bias_correction1 = 1 - beta1**step
    bias_correction2 = 1 - beta2**step
    step_size = lr / bias_correction1
    bias_correction2_sqrt = bias_correction2**0.5
    if max_exp_avg_sq is not None:
        np.maximum(max_exp_avg_sq, exp_avg_sq, out=max_exp_avg_sq)
        denom = np.sqrt(max_exp_avg_sq)
    else:
        denom = np.sqrt(exp_avg_sq)
    denom /= bias_correction2_sqrt
    denom += eps
    addcdiv_(param, exp_avg, denom, -step_size)


class Adam(Optimizer):
    r"""Adam, exactly as `torch.optim.Adam`.

    With gradient g_t, parameters θ, learning rate γ, betas (β1, β2), weight decay λ and step
    t (from 1), each step computes::

        g_t ← -g_t                               if maximize
        θ_{t-1} ← θ_{t-1} (1 - γ λ)              if λ ≠ 0 and decoupled_weight_decay (AdamW)
        g_t ← g_t + λ θ_{t-1}                    if λ ≠ 0 otherwise (L2 penalty)
        m_t = β1 m_{t-1} + (1 - β1) g_t
        v_t = β2 v_{t-1} + (1 - β2) g_t²
        v̂_t = max(v̂_{t-1}, v_t) if amsgrad, else v_t
        θ_t = θ_{t-1} - γ / (1 - β1^t) · m_t / (sqrt(v̂_t) / sqrt(1 - β2^t) + ε)

    State per parameter: `step`, `exp_avg` (m), `exp_avg_sq` (v) and, with amsgrad,
    `max_exp_avg_sq` (v̂).
    """

    def __init__(
        self,
        params,
        lr=1e-3,
        betas=(0.9, 0.999),
        eps=1e-8,
        weight_decay=0,
        amsgrad=False,
        *,
        maximize=False,
        decoupled_weight_decay=False,
    ):
        defaults = {
            "lr": lr,
            "betas": tuple(float(b) for b in betas),
            "eps": eps,
            "weight_decay": weight_decay,
            "amsgrad": amsgrad,
            "maximize": maximize,
            "decoupled_weight_decay": decoupled_weight_decay,
        }
        super().__init__(params, defaults)

    @staticmethod
    def _check_group(group):
        check_nonnegative(group, "lr", "learning rate")
        check_nonnegative(group, "eps", "epsilon value")
        betas = group["betas"]
        if len(betas) != 2:
            raise ValueError(f"betas must be a pair (beta1, beta2), got {betas}")
        for i, beta in enumerate(betas):
            if not 0.0 <= beta < 1.0:
                raise ValueError(f"Invalid beta parameter at index {i}: {beta}")
        check_nonnegative(group, "weight_decay", "weight_decay value")

    def _update_group(self, group, params):
        beta1, beta2 = group["betas"]
        amsgrad = group["amsgrad"]
        for p in params:
            state = self.state[p]
            if not state:
                state["step"] = 0
                state["exp_avg"] = new_tensor(np.zeros_like(p.data))
                state["exp_avg_sq"] = new_tensor(np.zeros_like(p.data))
            if amsgrad and "max_exp_avg_sq" not in state:
                state["max_exp_avg_sq"] = new_tensor(np.zeros_like(p.data))
            state["step"] += 1
            adam_update(
                p.data,
                p.grad.data,
                state["exp_avg"].data,
                state["exp_avg_sq"].data,
                state["max_exp_avg_sq"].data if amsgrad else None,
                step=state["step"],
                lr=group["lr"],
                beta1=beta1,
                beta2=beta2,
                eps=group["eps"],
                weight_decay=group["weight_decay"],
                decoupled_weight_decay=group["decoupled_weight_decay"],
                maximize=group["maximize"],
            )
