"""weight_norm and spectral_norm (PyTorch's hook-based forms, torch.nn.utils.weight_norm and
torch.nn.utils.spectral_norm): a module's weight becomes a function of new parameters,
recomputed by a forward pre-hook before every call.

weight_norm: weight = g * v / ||v|| (the norm over every dim but `dim`), parameters `weight_g`
and `weight_v`. spectral_norm: weight = weight_orig / sigma, sigma the largest singular value
of weight_orig (as a matrix with `dim` first), estimated by power iteration with the buffers
`weight_u` and `weight_v`, advanced once per training-mode call.
"""

import numpy as np

from ...autograd.grad_mode import no_grad
from ...autograd.tensor import new_tensor
from ...ops import random as _random
from ..functional._activation import normalize
from ..parameter import Parameter

__all__ = ["weight_norm", "remove_weight_norm", "spectral_norm", "remove_spectral_norm"]


def _norm_except_dim(v, dim):
    """The 2-norm of v over every dim but `dim` (keeping dims; over all of v for dim=-1)."""
    if dim == -1:
        return v.norm()
    dims = tuple(d for d in range(v.ndim) if d != dim)
    return v.norm(2, dim=dims, keepdim=True) if dims else v.abs()


class _WeightNorm:
    def __init__(self, name, dim):
        self.name, self.dim = name, dim

    def compute(self, module):
        g = getattr(module, self.name + "_g")
        v = getattr(module, self.name + "_v")
        return v * (g / _norm_except_dim(v, self.dim))

    def __call__(self, module, args):
        setattr(module, self.name, self.compute(module))


def weight_norm(module, name="weight", dim=0):
    """Reparameterise `module.<name>` as g * v / ||v||: direction and magnitude learnt apart
    (Salimans & Kingma, 2016). dim=None normalises over the whole tensor."""
    if dim is None:
        dim = -1
    weight = getattr(module, name)
    if any(isinstance(h[0], _WeightNorm) and h[0].name == name
           for h in _pre_hooks(module)):
        raise RuntimeError(f"weight_norm: cannot register two weight_norm hooks on {name!r}")
    fn = _WeightNorm(name, dim)
    with no_grad():
        g = Parameter(_norm_except_dim(weight, dim).detach().clone())
        v = Parameter(weight.detach().clone())
    delattr(module, name)
    setattr(module, name + "_g", g)
    setattr(module, name + "_v", v)
    setattr(module, name, fn.compute(module))
    fn.handle = module.register_forward_pre_hook(fn)
    return module


def remove_weight_norm(module, name="weight"):
    """Undo weight_norm: `module.<name>` becomes a Parameter holding the current weight."""
    for hook in _pre_hooks(module):
        fn = hook[0]
        if isinstance(fn, _WeightNorm) and fn.name == name:
            with no_grad():
                weight = fn.compute(module).detach()
            fn.handle.remove()
            delattr(module, name + "_g")
            delattr(module, name + "_v")
            setattr(module, name, Parameter(weight))
            return module
    raise ValueError(f"weight_norm of {name!r} not found in {module}")


class _SpectralNorm:
    def __init__(self, name, n_power_iterations, dim, eps):
        self.name, self.n_power_iterations, self.dim, self.eps = (
            name, n_power_iterations, dim, eps)

    def matrix(self, weight):
        if self.dim != 0:
            order = [self.dim] + [d for d in range(weight.ndim) if d != self.dim]
            weight = weight.permute(*order)
        return weight.reshape(weight.shape[0], -1)

    def compute(self, module, power_iteration):
        weight = getattr(module, self.name + "_orig")
        u = getattr(module, self.name + "_u")
        v = getattr(module, self.name + "_v")
        matrix = self.matrix(weight)
        if power_iteration:
            with no_grad():
                for _ in range(self.n_power_iterations):
                    # The buffers change in place, as in PyTorch; the clones below keep the
                    # values this call's graph uses.
                    v.data[...] = normalize(matrix.detach().t() @ u, dim=0, eps=self.eps).data
                    u.data[...] = normalize(matrix.detach() @ v, dim=0, eps=self.eps).data
                if self.n_power_iterations > 0:
                    u, v = u.clone(), v.clone()
        sigma = u.dot(matrix @ v)
        return weight / sigma

    def __call__(self, module, args):
        setattr(module, self.name, self.compute(module, module.training))


def _pre_hooks(module):
    state = module.__dict__.get("_hook_state")
    return list(state.forward_pre) if state is not None else []


def spectral_norm(module, name="weight", n_power_iterations=1, eps=1e-12, dim=None):
    """Divide `module.<name>` by its spectral norm before every call (Miyato et al., 2018),
    which keeps a GAN discriminator's layers 1-Lipschitz. dim defaults to 0 (1 for the
    transposed convolutions)."""
    if n_power_iterations <= 0:
        raise ValueError(f"spectral_norm: expected n_power_iterations > 0, got "
                         f"{n_power_iterations}")
    if dim is None:
        dim = 1 if type(module).__name__.startswith("ConvTranspose") else 0
    weight = getattr(module, name)
    fn = _SpectralNorm(name, n_power_iterations, dim, eps)
    with no_grad():
        matrix = fn.matrix(weight)
        h, w = matrix.shape
        rng = _random._gen(None)
        dtype = weight.data.dtype
        u = normalize(new_tensor(rng.standard_normal(h).astype(dtype)), dim=0, eps=eps)
        v = normalize(new_tensor(rng.standard_normal(w).astype(dtype)), dim=0, eps=eps)
    orig = Parameter(weight.detach().clone())
    delattr(module, name)
    setattr(module, name + "_orig", orig)
    setattr(module, name, weight.detach().clone())
    module.register_buffer(name + "_u", new_tensor(np.array(u.data)))
    module.register_buffer(name + "_v", new_tensor(np.array(v.data)))
    fn.handle = module.register_forward_pre_hook(fn)
    return module


def remove_spectral_norm(module, name="weight"):
    """Undo spectral_norm: `module.<name>` becomes a Parameter holding the normalised weight."""
    for hook in _pre_hooks(module):
        fn = hook[0]
        if isinstance(fn, _SpectralNorm) and fn.name == name:
            with no_grad():
                weight = fn.compute(module, power_iteration=False).detach()
            fn.handle.remove()
            delattr(module, name + "_orig")
            delattr(module, name + "_u")
            delattr(module, name + "_v")
            module._buffers.pop(name + "_u", None)
            module._buffers.pop(name + "_v", None)
            setattr(module, name, Parameter(weight))
            return module
    raise ValueError(f"spectral_norm of {name!r} not found in {module}")
