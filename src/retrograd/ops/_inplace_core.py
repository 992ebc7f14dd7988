"""How an in-place op changes a tensor: the plain NumPy path and the recorded path.

The plain path (nothing to record) writes into the array with one NumPy call. The recorded path
runs the out-of-place op and re-points the tensor at that op's node, whose input is the tensor's
previous node; when the op's VJP keeps its input, the op gets a snapshot of the old value. For a
view, the base is re-pointed too: at a node that writes the view's new value into the base's old
value (PyTorch's CopySlices), built from the inverse of each view op between them.
"""

import weakref

import numpy as np

from ..autograd import graph
from ..autograd.graph import Node
from . import indexing, shape
from ._util import Tensor, apply, new_tensor, operand

# ----------------------------------------------------------------- the two paths


def as_data(value):
    if isinstance(value, Tensor):
        return value.data
    if isinstance(value, (list, tuple)):
        return np.asarray(value)
    return value


def is_plain(x, *operands):
    """True when the op records nothing: no graph, no anomaly checks, no forward-mode tangents."""
    if graph._anomaly is not None or graph._forward_ad_depth:
        return False
    if not graph._grad_enabled:
        return True
    if x._requires_grad:
        return False
    for o in operands:
        if isinstance(o, Tensor) and o._requires_grad:
            return False
    return True


def bump_version(x, name):
    vc = x._counter()
    vc[0] += 1
    vc[1] = name


def check_writable(x, name):
    if not x.data.flags.writeable:
        raise RuntimeError(
            f"{name}: the tensor of shape {x.shape} is a read-only view (several elements may "
            "share one memory location, as after expand()); apply the op to a .clone()"
        )


def ufunc_into(ufunc, x, other, name):
    """x <- ufunc(x, other), written into x's array (the fast path of the arithmetic ops)."""
    check_writable(x, name)
    try:
        ufunc(x.data, other, out=x.data, casting="same_kind")
    except TypeError as err:
        result = np.result_type(x.data, other)
        raise RuntimeError(
            f"{name}: result type {result} can't be cast to the desired output type {x.dtype}"
        ) from err
    except ValueError as err:
        raise RuntimeError(
            f"{name}: output with shape {x.shape} doesn't match the broadcast shape of "
            f"{x.shape} and {np.shape(other)}"
        ) from err
    bump_version(x, name)
    return x


def _check_recordable(x, name):
    """Raise for an in-place change autograd can't record; for a view, return the chain of view
    nodes from the view back to its base (the base's graph gets rewritten, as in PyTorch)."""
    if x._node is None and x._requires_grad:
        raise RuntimeError(
            f"{name}: a leaf tensor that requires grad is used in an in-place operation "
            f"'{name}'; change it under rg.no_grad() (as optimizers and nn.init do), or work on "
            "a .clone()"
        )
    base = x._base
    if base is None:
        return None
    if base._node is None and base._requires_grad:
        raise RuntimeError(
            f"{name}: a view of a leaf tensor that requires grad is used in an in-place "
            f"operation '{name}'; change the leaf under rg.no_grad(), or work on a .clone()"
        )
    key = base if base._node is None else base._node
    chain, node = [], x._node
    while node is not None and _is_view_node(node):
        chain.append(node)
        if node.edges[0] is key:
            return chain
        node = node.edges[0] if type(node.edges[0]) is Node else None
    raise RuntimeError(
        f"{name}: an in-place change of this view (or detach()ed alias) would have to be recorded "
        "for autograd, and retrograd can do that only for views made from their base by basic "
        "indexing, reshape/view and permute/transpose while the base required grad; use the "
        f"out-of-place op, or call '{name}' on a .clone()"
    )


def _is_view_node(node):
    op = node.op
    if op is indexing.Index:
        return node.params["indices"][1] is None  # basic indexing only: advanced ones copy
    return op is shape.Reshape or op is shape.Permute


def _unview(node, before, new):
    """The value of `before` (the view op's input) once its view has become `new`."""
    op, params = node.op, node.params
    if op is indexing.Index:
        return indexing.index_put_normalized(before, params["indices"], new)
    if op is shape.Reshape:
        return shape.reshape(new, before.data.shape)
    return shape.permute(new, tuple(np.argsort(params["dims"])))


def _rewrite_base(x, chain, result):
    """After view x took the value `result`: make x's base the output of a node that writes
    `result` into its old value, then make x a view of that again (so later in-place changes of
    x can be recorded too). The data is in place already; only the graph changes."""
    base = x._base
    befores = [base]  # the inputs of the chain's view ops, outermost last, with their old nodes
    for node in reversed(chain[1:]):
        before = new_tensor(node.op.forward(befores[-1].data, **node.params))
        before._node, before._requires_grad = node, True
        befores.append(before)
    new = result
    for node, before in zip(chain, reversed(befores)):
        new = _unview(node, before, new)
    _repoint(base, new)
    view = base
    for node in reversed(chain):
        view = apply(node.op, view, **node.params)
    x._node = view._node


def _snapshot(x):
    """The tensor's current value and graph position, on a copy that the overwrite won't touch."""
    old = new_tensor(x.data.copy())
    old._node = x._node
    old._requires_grad = x._requires_grad
    return old


def dtype_category(dtype):
    return 0 if dtype.kind == "b" else 1 if dtype.kind in "iu" else 2


def record_inplace(x, name, compute, operands=(), saves_input=False, cast=False, **kwargs):
    """The recorded (or checked) path: x <- compute(x, *operands, **kwargs), out of place.

    `saves_input`: the op's VJP keeps its first input, so it gets a snapshot of the old value
    (so do operands that are x itself).
    `cast`: any result dtype may be written into x (copy_, fill_), not just a same-kind one.
    """
    record = graph._grad_enabled and (
        x._requires_grad or any(isinstance(o, Tensor) and o._requires_grad for o in operands)
    )
    src, view_chain = x, None
    if record:
        view_chain = _check_recordable(x, name)
        if saves_input or any(o is x for o in operands):  # x.addcmul_(x, y): mul keeps x
            src = _snapshot(x)
    check_writable(x, name)
    result = compute(src, *[src if o is x else o for o in operands], **kwargs)
    if result.shape != x.shape:
        raise RuntimeError(
            f"{name}: output with shape {x.shape} doesn't match the broadcast shape {result.shape}"
        )
    if result.dtype != x.dtype:
        if not cast and dtype_category(result.dtype) > dtype_category(x.dtype):
            raise RuntimeError(
                f"{name}: result type {result.dtype} can't be cast to the desired output type "
                f"{x.dtype}"
            )
        if record:
            result = result.to(x.dtype)
    np.copyto(x.data, result.data, casting="unsafe")
    bump_version(x, name)
    if record:
        _repoint(x, result)
        if view_chain is not None:
            _rewrite_base(x, view_chain, result)
    if result._tangent is not None:
        x._tangent = result._tangent.astype(x.dtype, copy=False)
    return x


def _repoint(x, result):
    """Make x the output of result's node; a retain_grad() moves along to the new node."""
    old = x._node
    x._node = result._node
    x._requires_grad = result._requires_grad
    if x._retains_grad:
        if old is not None and old.hooks:
            old.hooks[:] = [h for h in old.hooks if not _is_retain_hook_of(h, x)]
        x._retains_grad = False
        if x._node is not None:
            x.retain_grad()


def _is_retain_hook_of(hook, x):
    """Whether `hook` is the one autograd.hooks.retain_grad_hook made for x (it holds x weakly)."""
    if getattr(hook, "__name__", "") != "retain_grad":
        return False
    cells = getattr(hook, "__closure__", None) or ()
    return any(isinstance(c.cell_contents, weakref.ref) and c.cell_contents() is x for c in cells)


def as_value(value, x, name):
    """A fill value as a Tensor (Python numbers take x's dtype)."""
    if isinstance(value, Tensor):
        return value
    return operand(value, x, name)


def overwrite(x, value):
    """x replaced everywhere by value (broadcast, cast to x's dtype): gradient to value only."""
    return indexing.index_put(x, Ellipsis, value)
