"""AdamW (Loshchilov & Hutter, 2019): Adam with weight decay decoupled from the gradient."""

from .adam import Adam

__all__ = ["AdamW"]


class AdamW(Adam):
    r"""Adam with decoupled weight decay, exactly as `torch.optim.AdamW`.

    The same step as `Adam`, except that the decay shrinks the parameters directly instead of
    being added to the gradient (so the adaptive scaling does not weaken it)::

        θ_{t-1} ← θ_{t-1} (1 - γ λ)
        m_t = β1 m_{t-1} + (1 - β1) g_t
        v_t = β2 v_{t-1} + (1 - β2) g_t²
        v̂_t = max(v̂_{t-1}, v_t) if amsgrad, else v_t
        θ_t = θ_{t-1} - γ / (1 - β1^t) · m_t / (sqrt(v̂_t) / sqrt(1 - β2^t) + ε)

    The default weight decay λ is 1e-2. State per parameter as in `Adam`.
    """

    def __init__(
        self,
        params,
        lr=1e-3,
        betas=(0.9, 0.999),
        eps=1e-8,
        weight_decay=1e-2,
        amsgrad=False,
        *,
        maximize=False,
    ):
        super().__init__(
            params,
            lr=lr,
            betas=betas,
            eps=eps,
            weight_decay=weight_decay,
            amsgrad=amsgrad,
            maximize=maximize,
            decoupled_weight_decay=True,
        )

    def load_state_dict(self, state_dict):
        super().load_state_dict(state_dict)
        for group in self.param_groups:
            group["decoupled_weight_decay"] = True  # an Adam checkpoint loaded into AdamW
