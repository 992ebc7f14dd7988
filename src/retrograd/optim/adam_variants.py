"""Adamax and NAdam (Kingma & Ba, 2015; Dozat, 2016) and RAdam (Liu et al., 2020), written as
torch.optim's single-tensor code is, operation for operation, so results agree to the last few
bits."""

import numpy as np

from ..autograd import dtypes
from ..autograd.tensor import new_tensor
from ._maths import addcdiv_, addcmul_, lerp_
from .adam import Adam
from .optimizer import check_nonnegative

__all__ = ["Adamax", "NAdam", "RAdam", "adamax_update", "nadam_update", "radam_update"]


def _decay(param, grad, lr, weight_decay, decoupled):
    if weight_decay != 0:
        if decoupled:
            param *= 1 - lr * weight_decay
        else:
            grad = grad + weight_decay * param
    return grad


def adamax_update(param, grad, exp_avg, exp_inf, *, step, lr, beta1, beta2, eps, weight_decay,
                  maximize):
    """One Adamax step number `step` (from 1) on NumPy arrays, in place."""
    if maximize:
        grad = -grad
    grad = _decay(param, grad, lr, weight_decay, False)
    lerp_(exp_avg, grad, 1 - beta1)
    exp_inf *= beta2
    np.maximum(exp_inf, np.abs(grad) + eps, out=exp_inf)
    clr = lr / (1 - beta1**step)
    addcdiv_(param, exp_avg, exp_inf, -clr)


def nadam_update(param, grad, exp_avg, exp_avg_sq, mu_product, *, step, lr, beta1, beta2, eps,
                 weight_decay, momentum_decay, decoupled_weight_decay, maximize):
    """One NAdam step on NumPy arrays, in place; returns the new `mu_product` (a 0-d array kept
    in the state's dtype, as PyTorch keeps it)."""
    if maximize:
        grad = -grad
    bias_correction2 = 1 - beta2**step
    grad = _decay(param, grad, lr, weight_decay, decoupled_weight_decay)
    mu = beta1 * (1.0 - 0.5 * (0.96 ** (step * momentum_decay)))
    mu_next = beta1 * (1.0 - 0.5 * (0.96 ** ((step + 1) * momentum_decay)))
    mu_product = (mu_product * mu_product.dtype.type(mu)).astype(mu_product.dtype)
    lerp_(exp_avg, grad, 1 - beta1)
    exp_avg_sq *= beta2
    addcmul_(exp_avg_sq, grad, grad, 1 - beta2)
    denom = np.sqrt(exp_avg_sq / bias_correction2)
    product = float(mu_product)
    denom += eps
    addcdiv_(param, grad, denom, -lr * (1.0 - mu) / (1.0 - product))
    addcdiv_(param, exp_avg, denom, (-lr * mu_next) / (1.0 - product * mu_next))
    return mu_product


def radam_update(param, grad, exp_avg, exp_avg_sq, *, step, lr, beta1, beta2, eps,
                 weight_decay, decoupled_weight_decay, maximize):
    """One RAdam step on NumPy arrays, in place: Adam with the variance of the adaptive step
    rectified, plain momentum SGD while that variance is intractable (rho_t <= 5)."""
    if maximize:
        grad = -grad
    grad = _decay(param, grad, lr, weight_decay, decoupled_weight_decay)
    lerp_(exp_avg, grad, 1 - beta1)
    exp_avg_sq *= beta2
    addcmul_(exp_avg_sq, grad, grad, 1 - beta2)
    bias_correction1 = 1 - beta1**step
    bias_correction2 = 1 - beta2**step
    corrected = exp_avg / bias_correction1
    rho_inf = 2 / (1 - beta2) - 1
    rho_t = rho_inf - 2 * step * (beta2**step) / bias_correction2
    if rho_t > 5.0:
        rect = ((rho_t - 4) * (rho_t - 2) * rho_inf
                / ((rho_inf - 4) * (rho_inf - 2) * rho_t)) ** 0.5
        adaptive = (bias_correction2**0.5) / (np.sqrt(exp_avg_sq) + eps)
        param -= corrected * lr * adaptive * rect
    else:
        param -= corrected * lr


class Adamax(Adam):
    r"""Adamax, exactly as `torch.optim.Adamax`: Adam with the infinity norm::

        g_t ← -g_t if maximize;  g_t ← g_t + λ θ_{t-1} if λ ≠ 0
        m_t = β1 m_{t-1} + (1 - β1) g_t
        u_t = max(β2 u_{t-1}, |g_t| + ε)
        θ_t = θ_{t-1} - γ / (1 - β1^t) · m_t / u_t

    State per parameter: `step`, `exp_avg` (m), `exp_inf` (u).
    """

    def __init__(self, params, lr=2e-3, betas=(0.9, 0.999), eps=1e-8, weight_decay=0, *,
                 maximize=False):
        defaults = {"lr": lr, "betas": tuple(float(b) for b in betas), "eps": eps,
                    "weight_decay": weight_decay, "maximize": maximize}
        super(Adam, self).__init__(params, defaults)

    def _update_group(self, group, params):
        beta1, beta2 = group["betas"]
        for p in params:
            state = self.state[p]
            if not state:
                state["step"] = 0
                state["exp_avg"] = new_tensor(np.zeros_like(p.data))
                state["exp_inf"] = new_tensor(np.zeros_like(p.data))
            state["step"] += 1
            adamax_update(p.data, p.grad.data, state["exp_avg"].data, state["exp_inf"].data,
                          step=state["step"], lr=group["lr"], beta1=beta1, beta2=beta2,
                          eps=group["eps"], weight_decay=group["weight_decay"],
                          maximize=group["maximize"])


class NAdam(Adam):
    r"""NAdam, exactly as `torch.optim.NAdam`: Adam with Nesterov momentum and the momentum
    schedule μ_t = β1 (1 - 0.5 · 0.96^(t ψ)) (ψ = momentum_decay)::

        m_t = β1 m_{t-1} + (1 - β1) g_t;   v_t = β2 v_{t-1} + (1 - β2) g_t²
        d_t = sqrt(v_t / (1 - β2^t)) + ε
        θ_t = θ_{t-1} - γ (1 - μ_t) / (1 - Π_{i≤t} μ_i) · g_t / d_t
                      - γ μ_{t+1} / (1 - Π_{i≤t+1} μ_i) · m_t / d_t

    State per parameter: `step`, `mu_product`, `exp_avg`, `exp_avg_sq`.
    """

    def __init__(self, params, lr=2e-3, betas=(0.9, 0.999), eps=1e-8, weight_decay=0,
                 momentum_decay=4e-3, decoupled_weight_decay=False, *, maximize=False):
        defaults = {"lr": lr, "betas": tuple(float(b) for b in betas), "eps": eps,
                    "weight_decay": weight_decay, "momentum_decay": momentum_decay,
                    "decoupled_weight_decay": decoupled_weight_decay, "maximize": maximize}
        super(Adam, self).__init__(params, defaults)

    @staticmethod
    def _check_group(group):
        Adam._check_group(group)
        check_nonnegative(group, "momentum_decay", "momentum_decay value")

    def _update_group(self, group, params):
        beta1, beta2 = group["betas"]
        for p in params:
            state = self.state[p]
            if not state:
                state["step"] = 0
                # PyTorch keeps it in float32 unless the default dtype is float64
                scalar = np.float64 if dtypes.get_default_dtype() == dtypes.float64 else np.float32
                state["mu_product"] = new_tensor(np.ones((), scalar))
                state["exp_avg"] = new_tensor(np.zeros_like(p.data))
                state["exp_avg_sq"] = new_tensor(np.zeros_like(p.data))
            state["step"] += 1
            state["mu_product"].data = nadam_update(
                p.data, p.grad.data, state["exp_avg"].data, state["exp_avg_sq"].data,
                state["mu_product"].data, step=state["step"], lr=group["lr"], beta1=beta1,
                beta2=beta2, eps=group["eps"], weight_decay=group["weight_decay"],
                momentum_decay=group["momentum_decay"],
                decoupled_weight_decay=group["decoupled_weight_decay"],
                maximize=group["maximize"])


class RAdam(Adam):
    r"""RAdam, exactly as `torch.optim.RAdam`: Adam whose adaptive step is multiplied by the
    rectification r_t = sqrt((ρ_t - 4)(ρ_t - 2) ρ_∞ / ((ρ_∞ - 4)(ρ_∞ - 2) ρ_t)) once
    ρ_t = ρ_∞ - 2 t β2^t / (1 - β2^t) exceeds 5 (ρ_∞ = 2 / (1 - β2) - 1), and momentum SGD
    with bias correction before::

        θ_t = θ_{t-1} - γ m_t / (1 - β1^t) · r_t sqrt(1 - β2^t) / (sqrt(v_t) + ε)   (ρ_t > 5)
        θ_t = θ_{t-1} - γ m_t / (1 - β1^t)                                          (else)

    State per parameter: `step`, `exp_avg`, `exp_avg_sq`.
    """

    def __init__(self, params, lr=1e-3, betas=(0.9, 0.999), eps=1e-8, weight_decay=0,
                 decoupled_weight_decay=False, *, maximize=False):
        defaults = {"lr": lr, "betas": tuple(float(b) for b in betas), "eps": eps,
                    "weight_decay": weight_decay,
                    "decoupled_weight_decay": decoupled_weight_decay, "maximize": maximize}
        super(Adam, self).__init__(params, defaults)

    def _update_group(self, group, params):
        beta1, beta2 = group["betas"]
        for p in params:
            state = self.state[p]
            if not state:
                state["step"] = 0
                state["exp_avg"] = new_tensor(np.zeros_like(p.data))
                state["exp_avg_sq"] = new_tensor(np.zeros_like(p.data))
            state["step"] += 1
            radam_update(p.data, p.grad.data, state["exp_avg"].data, state["exp_avg_sq"].data,
                         step=state["step"], lr=group["lr"], beta1=beta1, beta2=beta2,
                         eps=group["eps"], weight_decay=group["weight_decay"],
                         decoupled_weight_decay=group["decoupled_weight_decay"],
                         maximize=group["maximize"])
