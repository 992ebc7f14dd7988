"""Forward-mode transforms: jvp and jacfwd (and `jacobian`, which picks a mode)."""

import numpy as np

from .. import ops
from ..autograd import graph
from ..autograd.forward_ad import dual_level, make_dual
from ..autograd.grad_mode import no_grad
from ..autograd.tensor import Tensor, new_tensor
from . import _reverse
from ._pytree import check_argnums, flatten, rebuild_args, split_aux, tensor_leaves, unflatten


def _check_forward(where, primal_leaves):
    if graph._forward_ad_depth:
        raise NotImplementedError(
            f"{where}: nested forward mode (jvp or jacfwd inside another) is not supported; "
            "forward mode here is first order"
        )
    if _reverse._reverse_depth and any(p._requires_grad for p in primal_leaves):
        raise NotImplementedError(
            f"{where}: forward mode inside a reverse transform (jacrev or grad of jvp) is not "
            "supported: tangents are not recorded for reverse mode; use rg.func.hessian or "
            "rg.func.hvp (reverse over reverse)"
        )
    for p in primal_leaves:
        if not p.is_floating_point():
            raise TypeError(f"{where}: primals must be floating-point tensors, got {p.dtype}")


def _dual(primal, tangent):
    # A primal that requires grad keeps its place in the reverse-mode graph through a clone.
    base = ops.clone(primal) if primal._requires_grad and graph.is_grad_enabled() else primal
    return make_dual(base, tangent)


def _strip(t):
    """The primal of a dual tensor, without its tangent (which must not outlive the level)."""
    if not isinstance(t, Tensor):
        return t
    out = new_tensor(t.data)
    out._requires_grad = t._requires_grad
    out._node = t._node
    return out


def _tangent_of(t):
    tangent = t._tangent
    return new_tensor(np.zeros_like(t.data) if tangent is None else tangent)


def _push(f, args, tangents_by_leaf):
    """f's output, run under forward mode with tangents on some leaves of `args` (one (leaves,
    spec) pair per argument; `tangents_by_leaf` maps (argument, leaf) to a tangent)."""
    with dual_level():
        call_args = []
        for k, (leaves, spec) in enumerate(args):
            duals = [
                _dual(x, tangents_by_leaf[(k, j)]) if (k, j) in tangents_by_leaf else x
                for j, x in enumerate(leaves)
            ]
            call_args.append(unflatten(spec, duals))
        out = f(*call_args)
    return out


def jvp(f, primals, tangents, has_aux=False):
    """``(output, tangent_out)`` = (f(*primals), J(primals) @ tangents), computed in forward
    mode from the ops' JVP rules; with `has_aux`, ``(output, tangent_out, aux)``. `primals` and
    `tangents` are tuples of the same structure."""
    where = "jvp(f, primals, tangents)"
    if not isinstance(primals, (tuple, list)) or not isinstance(tangents, (tuple, list)):
        raise TypeError(f"{where}: primals and tangents must be tuples (e.g. (x,) and (v,))")
    p_leaves, p_spec = tensor_leaves(tuple(primals), where, "primals")
    t_leaves, t_spec = tensor_leaves(tuple(tangents), where, "tangents")
    if p_spec != t_spec:
        raise ValueError(f"{where}: primals and tangents must have the same structure")
    _check_forward(where, p_leaves)
    for i, (p, t) in enumerate(zip(p_leaves, t_leaves)):
        if p.shape != t.shape:
            raise ValueError(
                f"{where}: tangent {i} has shape {t.shape} but its primal has shape {p.shape}"
            )
    args = [flatten(p) for p in primals]
    by_leaf, n = {}, 0
    for k, (leaves, _) in enumerate(args):
        for j in range(len(leaves)):
            by_leaf[(k, j)] = t_leaves[n]
            n += 1
    out, aux = split_aux(_push(f, args, by_leaf), has_aux, where)
    outputs, out_spec = tensor_leaves(out, where, "the output of f")
    primal_out = unflatten(out_spec, [_strip(o) for o in outputs])
    tangent_out = unflatten(out_spec, [_tangent_of(o) for o in outputs])
    if has_aux:
        aux_leaves, aux_spec = flatten(aux)
        return primal_out, tangent_out, unflatten(aux_spec, [_strip(a) for a in aux_leaves])
    return primal_out, tangent_out


def jacfwd(f, argnums=0, has_aux=False):
    """The Jacobian of `f` by forward mode, one forward pass per input element (its columns);
    the same layout as jacrev."""

    def jacfwd_f(*args, **kwargs):
        where = "jacfwd(f)(*args)"
        nums, single = check_argnums(argnums, len(args), where)
        flat_args = [flatten(a) for a in args]
        inputs, specs = [], []
        for a in nums:
            leaves, spec = tensor_leaves(args[a], where, f"argument {a}")
            inputs.extend((a, j, x) for j, x in enumerate(leaves))
            specs.append((spec, len(leaves)))
        _check_forward(where, [x for _, _, x in inputs])
        call = lambda *a: f(*a, **kwargs)  # noqa: E731
        columns = []  # per input: per element, the tangents of all outputs
        out = None
        for a, j, x in inputs:
            cols = []
            for e in range(x.data.size):
                onehot = np.zeros(x.data.shape, dtype=x.data.dtype)
                onehot.flat[e] = 1
                # NOTE: no reverse graph: the Jacobian is built from tangents alone.
                with no_grad():
                    out = _push(call, flat_args, {(a, j): new_tensor(onehot)})
                outputs = flatten(split_aux(out, has_aux, where)[0])[0]
                cols.append([_tangent_of(o).data for o in outputs])
            columns.append(cols)
        if out is None:  # every input is empty: run f once for the output's structure
            out = call(*args)
        out, aux = split_aux(out, has_aux, where)
        outputs, out_spec = tensor_leaves(out, where, "the output of f")
        blocks_per_output = []
        for k, o in enumerate(outputs):
            blocks = []
            for (_, _, x), cols in zip(inputs, columns):
                shape = o.data.shape + x.data.shape
                if cols:
                    block = np.stack([c[k] for c in cols], axis=-1).reshape(shape)
                else:
                    block = np.zeros(shape, dtype=o.data.dtype)
                blocks.append(new_tensor(block))
            blocks_per_output.append(rebuild_args(specs, single, blocks))
        result = unflatten(out_spec, blocks_per_output)
        if has_aux:
            aux_leaves, aux_spec = flatten(aux)
            return result, unflatten(aux_spec, [_strip(t) for t in aux_leaves])
        return result

    return jacfwd_f


def jacobian(f, argnums=0, *, has_aux=False, mode="rev"):
    """jacrev (``mode="rev"``, best for few outputs) or jacfwd (``mode="fwd"``, best for few
    inputs)."""
    if mode == "rev":
        return _reverse.jacrev(f, argnums, has_aux)
    if mode == "fwd":
        return jacfwd(f, argnums, has_aux)
    raise ValueError(f"jacobian: mode must be 'rev' or 'fwd', got {mode!r}")
