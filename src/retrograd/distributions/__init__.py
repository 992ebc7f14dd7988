"""rg.distributions: probability distributions for sampling and likelihoods, with PyTorch's
torch.distributions API (a small part of it): Normal, Uniform, Categorical,
OneHotCategorical, Bernoulli, Independent and kl_divergence.

Sampling uses rg's default generator; `rsample` (Normal, Uniform) is differentiable in the
parameters (the reparameterisation trick); log_prob and entropy are differentiable.
"""

from .continuous import Normal, Uniform
from .discrete import Bernoulli, Categorical, OneHotCategorical
from .distribution import Distribution, Independent
from .kl import kl_divergence, register_kl

__all__ = [
    "Distribution", "Normal", "Uniform", "Categorical", "OneHotCategorical", "Bernoulli",
    "Independent", "kl_divergence", "register_kl",
]  # fmt: skip
