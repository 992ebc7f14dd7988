"""Function transforms for derivatives, after torch.func (and JAX's value_and_grad).

Each transform takes a function of Tensors and returns a function that computes derivatives:

    df = rg.func.grad(f)              # df(x) == d f(x) / dx, for a scalar f
    out, tangent = rg.func.jvp(f, (x,), (v,))     # forward mode: J v
    out, vjp_fn = rg.func.vjp(f, x);  vjp_fn(u)    # reverse mode: u^T J
    rg.func.jacrev(f)(x), rg.func.jacfwd(f)(x), rg.func.hessian(f)(x)
    rg.func.hvp(f, (x,), (v,))                      # (f(x), H v) by double backward

Arguments are Tensors or nested tuples, lists and dicts of Tensors (`argnums` picks which
positional arguments are differentiated); results mirror that structure. The inputs need not
require grad: the transforms differentiate internal copies.

Transforms nest in reverse mode (`jacrev(jacrev(f))`, `grad(grad(f))`): the inner one records its
backward pass (`create_graph=True`) whenever its inputs or the tensors `f` closes over require
grad and grad mode is on, so the result can be differentiated again. Under `rg.no_grad()` the
results carry no graph, and the backward passes run at first-order speed. Forward mode is first
order: a forward transform over a reverse one (or the other way round) raises an error.
"""

from ._forward import jacfwd, jacobian, jvp
from ._reverse import grad, grad_and_value, hessian, hvp, jacrev, value_and_grad, vjp

__all__ = [
    "grad",
    "grad_and_value",
    "value_and_grad",
    "vjp",
    "jvp",
    "jacrev",
    "jacfwd",
    "jacobian",
    "hessian",
    "hvp",
]
