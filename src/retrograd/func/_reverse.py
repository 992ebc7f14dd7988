"""Reverse-mode transforms: grad, grad_and_value, value_and_grad, vjp, jacrev, hessian, hvp."""

import numpy as np

from .. import ops
from ..autograd import engine, graph
from ..autograd.grad_mode import enable_grad
from ..autograd.graph import Node
from ..autograd.tensor import Tensor, new_tensor
from ._pytree import (
    check_argnums,
    flatten,
    rebuild_args,
    split_aux,
    tensor_leaves,
    unflatten,
)

_reverse_depth = 0  # > 0 while a reverse transform runs the user's function


# ----------------------------------------------------------------------------------- helpers
def _diff_copy(x, where):
    """A copy of `x` to differentiate with respect to. Connected to `x` (through a clone) when
    `x` itself is being differentiated by an outer transform, a fresh leaf otherwise."""
    if not x.is_floating_point():
        raise TypeError(
            f"{where}: can only differentiate with respect to floating-point tensors, got "
            f"dtype {x.dtype}"
        )
    if x._requires_grad and graph.is_grad_enabled():
        return ops.clone(x)
    t = new_tensor(x.data)
    t._requires_grad = True
    return t


class _Prepared:
    """The call's arguments with the differentiated ones replaced by copies."""

    def __init__(self, args, argnums, where):
        if graph._forward_ad_depth:
            # NOTE: the recorded backward pass would not carry tangents (forward mode is first
            # order), so a reverse transform under forward mode would give wrong tangents.
            raise NotImplementedError(
                f"{where}: reverse mode inside forward mode (jacfwd or jvp of a reverse "
                "transform) is not supported; use rg.func.hessian or rg.func.hvp (reverse over "
                "reverse)"
            )
        self.nums, self.single = check_argnums(argnums, len(args), where)
        self.args = list(args)
        self.specs = []
        self.inputs = []  # the copies, flat, in argnums order
        self.outer = False  # whether an outer computation differentiates the inputs
        for a in self.nums:
            leaves, spec = tensor_leaves(args[a], where, f"argument {a}")
            copies = [_diff_copy(x, where) for x in leaves]
            self.outer = self.outer or any(c._node is not None for c in copies)
            self.args[a] = unflatten(spec, copies)
            self.specs.append((spec, len(copies)))
            self.inputs.extend(copies)

    def call(self, f):
        global _reverse_depth
        _reverse_depth += 1
        try:
            with enable_grad():
                return f(*self.args)
        finally:
            _reverse_depth -= 1

    def rebuild(self, flat):
        """Per-input results (flat, in input order) in the structure of the argnums."""
        return rebuild_args(self.specs, self.single, flat)


def _records(prepared, outputs):
    """Whether the backward passes must be recorded: grad mode is on and an outer computation
    may differentiate the result (the inputs are connected to one, or `f` used other tensors
    that require grad)."""
    if not graph.is_grad_enabled():
        return False
    return prepared.outer or _reaches_other_leaves(outputs, prepared.inputs)


def _reaches_other_leaves(outputs, own):
    own = {id(t) for t in own}
    stack = [o._node for o in outputs if o._node is not None]
    seen = set()
    while stack:
        node = stack.pop()
        if node in seen:
            continue
        seen.add(node)
        for edge in node.edges:
            if type(edge) is Node:
                if edge not in seen:
                    stack.append(edge)
            elif edge is not None and id(edge) not in own:
                return True
    return False


def _gradients(outputs, cotangents, inputs, create_graph, retain_graph=True):
    """d<cotangents, outputs>/d(inputs), zeros where an input is unused. The graph is kept by
    default: vjp_fn and jacrev walk it once per cotangent, and a recorded backward pass (an
    outer transform's) walks the forward graph again."""
    pairs = [(o, c) for o, c in zip(outputs, cotangents) if o._requires_grad]
    if not pairs:
        return [new_tensor(np.zeros_like(x.data)) for x in inputs]
    grads = engine.grad(
        [o for o, _ in pairs],
        inputs,
        grad_outputs=[c for _, c in pairs],
        retain_graph=retain_graph or create_graph,
        create_graph=create_graph,
        materialize_grads=True,
    )
    return list(grads)


def _result(t, create_graph):
    """What a transform hands back for a value: with its graph when recorded, else detached."""
    if not isinstance(t, Tensor):
        return t
    return t if create_graph else t.detach()


def _results(tree, create_graph):
    leaves, spec = flatten(tree)
    return unflatten(spec, [_result(t, create_graph) for t in leaves])


# ----------------------------------------------------------------------------------- grad
def grad_and_value(f, argnums=0, has_aux=False):
    """A function returning ``(gradient, value)`` of a function `f` with a scalar (0-d)
    output; with `has_aux`, `f` returns ``(output, aux)`` and the result is
    ``(gradient, (value, aux))``. The gradient mirrors the structure of ``argnums``."""

    def grad_and_value_f(*args, **kwargs):
        where = "grad_and_value(f)(*args)"
        prepared = _Prepared(args, argnums, where)
        out, aux = split_aux(
            prepared.call(lambda *a: f(*a, **kwargs)), has_aux, where
        )
        if not isinstance(out, Tensor) or out.data.ndim != 0:
            got = f"a tensor of shape {out.shape}" if isinstance(out, Tensor) else repr(out)
            raise RuntimeError(
                f"{where}: expected f to return a scalar (0-d) Tensor, got {got}; use "
                "rg.func.vjp or rg.func.jacrev for other outputs, or reduce it (.sum())"
            )
        record = _records(prepared, [out])
        grads = _gradients([out], [None], prepared.inputs, record, retain_graph=False)
        value = _result(out, record)
        gradient = prepared.rebuild(grads)
        if has_aux:
            return gradient, (value, _results(aux, record))
        return gradient, value

    return grad_and_value_f


def grad(f, argnums=0, has_aux=False):
    """The gradient of a scalar-valued `f` with respect to the arguments `argnums`; with
    `has_aux`, ``(gradient, aux)``."""
    inner = grad_and_value(f, argnums, has_aux)

    def grad_f(*args, **kwargs):
        gradient, value = inner(*args, **kwargs)
        return (gradient, value[1]) if has_aux else gradient

    return grad_f


def value_and_grad(f, argnums=0, has_aux=False):
    """JAX's spelling of grad_and_value: ``(value, gradient)``, or ``((value, aux), gradient)``
    with `has_aux`."""
    inner = grad_and_value(f, argnums, has_aux)

    def value_and_grad_f(*args, **kwargs):
        gradient, value = inner(*args, **kwargs)
        return value, gradient

    return value_and_grad_f


# ----------------------------------------------------------------------------------- vjp
def vjp(f, *primals, has_aux=False):
    """``(output, vjp_fn)``, or ``(output, vjp_fn, aux)``: `vjp_fn(cotangents)` returns u^T J
    for cotangents u shaped like the output, as a tuple with one entry per primal. `vjp_fn`
    may be called many times."""
    where = "vjp(f, *primals)"
    if not primals:
        raise ValueError(f"{where}: expected at least one primal")
    prepared = _Prepared(primals, tuple(range(len(primals))), where)
    out, aux = split_aux(prepared.call(f), has_aux, where)
    outputs, out_spec = tensor_leaves(out, where, "the output of f")
    record = _records(prepared, outputs)

    def vjp_fn(cotangents):
        cts, ct_spec = tensor_leaves(cotangents, "vjp_fn(cotangents)", "the cotangents")
        if ct_spec != out_spec or len(cts) != len(outputs):
            raise ValueError(
                "vjp_fn(cotangents): the cotangents must have the structure of f's output"
            )
        for i, (c, o) in enumerate(zip(cts, outputs)):
            if c.shape != o.shape:
                raise ValueError(
                    f"vjp_fn(cotangents): cotangent {i} has shape {c.shape} but the output "
                    f"has shape {o.shape}"
                )
        create = record or (graph.is_grad_enabled() and any(c._requires_grad for c in cts))
        grads = _gradients(outputs, cts, prepared.inputs, create)
        return prepared.rebuild(grads)

    result = (_results(out, record), vjp_fn)
    return result + (_results(aux, record),) if has_aux else result


# ----------------------------------------------------------------------------------- jacobians
def _stack(rows, out_shape, in_shape):
    """Jacobian rows (one per output element, each shaped like the input) as one tensor of shape
    out_shape + in_shape; differentiable when the rows carry a graph."""
    shape = tuple(out_shape) + tuple(in_shape)
    if not any(r._node is not None for r in rows):
        return new_tensor(np.stack([r.data for r in rows]).reshape(shape))
    if len(rows) == 1:
        return rows[0].reshape(shape)
    stack = getattr(ops, "stack", None)
    if stack is not None:
        return stack(rows).reshape(shape)
    total = None  # NOTE: fallback while no stack op exists: sum of one-hot outer products
    for j, r in enumerate(rows):
        onehot = np.zeros((len(rows), 1), dtype=r.data.dtype)
        onehot[j] = 1
        term = new_tensor(onehot) * r.reshape(1, -1)
        total = term if total is None else total + term
    return total.reshape(shape)


def jacrev(f, argnums=0, has_aux=False):
    """The Jacobian of `f` by reverse mode, one backward pass per output element. For an output
    of shape S and an input of shape T the block has shape S + T; the result nests as f's output
    structure, then the structure of `argnums`."""

    def jacrev_f(*args, **kwargs):
        where = "jacrev(f)(*args)"
        prepared = _Prepared(args, argnums, where)
        out, aux = split_aux(prepared.call(lambda *a: f(*a, **kwargs)), has_aux, where)
        outputs, out_spec = tensor_leaves(out, where, "the output of f")
        record = _records(prepared, outputs)
        blocks_per_output = []
        for o in outputs:
            rows = []
            for j in range(o.data.size):
                onehot = np.zeros(o.data.shape, dtype=o.data.dtype)
                onehot.flat[j] = 1
                rows.append(_gradients([o], [new_tensor(onehot)], prepared.inputs, record))
            blocks = [
                _stack([row[i] for row in rows], o.data.shape, x.data.shape)
                if rows else new_tensor(np.zeros(o.data.shape + x.data.shape, x.data.dtype))
                for i, x in enumerate(prepared.inputs)
            ]
            blocks_per_output.append(prepared.rebuild(blocks))
        result = unflatten(out_spec, blocks_per_output)
        return (result, _results(aux, record)) if has_aux else result

    return jacrev_f


def hessian(f, argnums=0):
    """The Hessian of a scalar `f`: the Jacobian of its gradient, by reverse mode over reverse
    mode (the inner backward pass is recorded and differentiated again). For an input of shape
    T the block has shape T + T."""
    return jacrev(jacrev(f, argnums), argnums)


def hvp(f, primals, tangents):
    """``(f(*primals), H v)``: the Hessian of a scalar `f` times the tangents v, by double
    backward (differentiate <grad f, v>), without forming H. `primals` and `tangents` are
    Tensors or tuples of the same structure; H v has the structure of `primals`."""
    where = "hvp(f, primals, tangents)"
    single = isinstance(primals, Tensor)
    if single:
        primals, tangents = (primals,), (tangents,)
    v_leaves, v_spec = tensor_leaves(tuple(tangents), where, "tangents")
    p_leaves, p_spec = tensor_leaves(tuple(primals), where, "primals")
    if v_spec != p_spec:
        raise ValueError(f"{where}: primals and tangents must have the same structure")
    for i, (p, v) in enumerate(zip(p_leaves, v_leaves)):
        if p.shape != v.shape:
            raise ValueError(
                f"{where}: tangent {i} has shape {v.shape} but its primal has shape {p.shape}"
            )
    prepared = _Prepared(tuple(primals), tuple(range(len(primals))), where)
    out = prepared.call(f)
    if not isinstance(out, Tensor) or out.data.ndim != 0:
        raise RuntimeError(f"{where}: expected f to return a scalar (0-d) Tensor")
    record = _records(prepared, [out])
    with enable_grad():
        grads = _gradients([out], [None], prepared.inputs, create_graph=True)
        inner = None
        for g, v in zip(grads, v_leaves):
            term = (g * v).sum()
            inner = term if inner is None else inner + term
    hv = _gradients([inner], [None], prepared.inputs, record, retain_graph=False)
    result = rebuild_args(prepared.specs, False, hv)
    return _result(out, record), (result[0] if single else result)
