"""rg.autograd.functional: PyTorch's torch.autograd.functional API (jacobian, hessian, vjp, jvp,
hvp, vhp) over the transforms of rg.func.

`inputs` is a Tensor or a tuple of Tensors, and the results follow PyTorch's structure (a
Tensor for a Tensor, tuples for tuples). Unless `create_graph=True` the results carry no graph.
(This module sits in the func layer; the package re-exports it from the top level.)
"""

from ..func import hessian as _hessian
from ..func import hvp as _hvp
from ..func import jacrev as _jacrev
from ..func import jvp as _jvp
from ..func import vjp as _vjp
from .grad_mode import enable_grad, no_grad
from .tensor import Tensor

__all__ = ["jacobian", "hessian", "vjp", "jvp", "hvp", "vhp"]


def _as_tuple(inputs):
    single = isinstance(inputs, Tensor)
    return single, ((inputs,) if single else tuple(inputs))


def _mode(create_graph):
    return enable_grad() if create_graph else no_grad()


def _detached(value, create_graph):
    if create_graph or value is None:
        return value
    if isinstance(value, Tensor):
        return value.detach()
    return type(value)(_detached(v, create_graph) for v in value)


def jacobian(func, inputs, create_graph=False, strict=False, vectorize=False,
             strategy="reverse-mode"):
    """The Jacobian of `func` at `inputs`: for an output of shape S and an input of shape T a
    block of shape S + T, nested as (outputs, inputs) when either is a tuple."""
    single, args = _as_tuple(inputs)
    with _mode(create_graph):
        result = _jacrev(func, 0 if single else tuple(range(len(args))))(*args)
    return _detached(result, create_graph)


def hessian(func, inputs, create_graph=False, strict=False, vectorize=False,
            outer_jacobian_strategy="reverse-mode"):
    """The Hessian of a scalar `func` at `inputs` (a tuple of tuples for tuple inputs)."""
    single, args = _as_tuple(inputs)
    with _mode(create_graph):
        result = _hessian(func, 0 if single else tuple(range(len(args))))(*args)
    return _detached(result, create_graph)


def vjp(func, inputs, v=None, create_graph=False, strict=False):
    """(func(inputs), v^T J); `v` may be left out for a scalar output."""
    single, args = _as_tuple(inputs)
    with _mode(create_graph):
        out, pullback = _vjp(func, *args)
        if v is None:
            if not isinstance(out, Tensor) or out.data.size != 1:
                raise RuntimeError("vjp: v can only be left out when func returns one element")
            v = out.new_ones(out.shape)
        grads = pullback(v)
    grads = grads[0] if single else tuple(grads)
    return _detached(out, create_graph), _detached(grads, create_graph)


def jvp(func, inputs, v=None, create_graph=False, strict=False):
    """(func(inputs), J v) by forward mode; `v` may be left out for a one-element input."""
    single, args = _as_tuple(inputs)
    if v is None:
        if len(args) != 1 or args[0].data.size != 1:
            raise RuntimeError("jvp: v can only be left out for a single one-element input")
        v = args[0].new_ones(args[0].shape)
    tangents = (v,) if isinstance(v, Tensor) else tuple(v)
    out, tangent = _jvp(func, args, tangents)
    return _detached(out, False), _detached(tangent, False)


def hvp(func, inputs, v=None, create_graph=False, strict=False):
    """(func(inputs), H v) for a scalar `func`, by double backward."""
    single, args = _as_tuple(inputs)
    if v is None:
        v = tuple(a.new_ones(a.shape) for a in args)
    tangents = (v,) if isinstance(v, Tensor) else tuple(v)
    with _mode(create_graph):
        out, product = _hvp(func, args, tangents)
    if single and isinstance(product, tuple):
        product = product[0]
    return _detached(out, create_graph), _detached(product, create_graph)


def vhp(func, inputs, v=None, create_graph=False, strict=False):
    """(func(inputs), v^T H): the same as hvp, the Hessian being symmetric."""
    return hvp(func, inputs, v, create_graph, strict)
