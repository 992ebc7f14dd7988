"""Custom differentiable functions with PyTorch's API: subclass `Function`.

    class Cube(rg.autograd.Function):
        @staticmethod
        def forward(ctx, x):
            ctx.save_for_backward(x)
            return x ** 3

        @staticmethod
        def backward(ctx, grad):
            (x,) = ctx.saved_tensors
            return grad * 3 * x ** 2

    y = Cube.apply(x)

`forward` runs under no_grad on Tensors; `backward` receives one gradient Tensor per output and
returns one gradient (or None) per forward argument. Written with retrograd ops, `backward` is
itself recorded under `create_graph=True`, so second derivatives through a Function work.

How it sits on the engine: each call becomes one graph node made by `apply` (so forward mode,
anomaly mode and node observers see it like any built-in op) whose op is an unregistered `Op`
subclass named after the Function. A Function with several outputs gets one such node plus, per
output, a small "output" node pointing at it; the output nodes hand the shared node their
gradients as a `_Grads` (one slot per output), which the engine adds like any gradient.
"""

import weakref

import numpy as np

from . import graph
from .grad_mode import no_grad
from .graph import Op, apply
from .tensor import Tensor, new_tensor

# The shared node of a multi-output Function has this empty array as its "output".
_DUMMY = np.empty((0,), dtype=np.float64)
_DUMMY.flags.writeable = False


class FunctionCtx:
    """The `ctx` passed to forward, backward and jvp; any attribute may be set on it."""

    def __init__(self):
        self.needs_input_grad = ()
        self.materialize_grads = True
        self._to_save = ()
        self._saved = None
        self._non_differentiable = ()

    def save_for_backward(self, *tensors):
        """Keep tensors (inputs, outputs or intermediates; None allowed) for backward.

        Saved tensors are version-checked: changing one in place before backward is an error.
        """
        for t in tensors:
            if t is not None and not isinstance(t, Tensor):
                raise TypeError(
                    f"save_for_backward: expected Tensors or None, got {type(t).__name__}; "
                    "store other values as attributes of ctx"
                )
        self._to_save = tensors

    @property
    def saved_tensors(self):
        if self._saved is None:
            if self._to_save is not None:
                return tuple(self._to_save)  # in jvp, right after forward
            raise RuntimeError("saved_tensors: only available inside backward() or jvp()")
        return self._saved

    def mark_non_differentiable(self, *tensors):
        """Outputs that are not differentiable (indices, masks): they will not require grad."""
        self._non_differentiable = tuple(id(t) for t in tensors)

    def set_materialize_grads(self, value):
        """With False, backward receives None (not zeros) for outputs that got no gradient."""
        self.materialize_grads = bool(value)


class Function:
    """Base class of custom differentiable functions (see the module docstring)."""

    @staticmethod
    def forward(ctx, *args, **kwargs):
        raise NotImplementedError("a Function subclass must define forward(ctx, *args)")

    @staticmethod
    def backward(ctx, *grad_outputs):
        raise NotImplementedError("a Function subclass must define backward(ctx, *grads)")

    jvp = None  # optional: jvp(ctx, *tangents) -> output tangent(s), for forward mode

    @classmethod
    def apply(cls, *args, **kwargs):
        ctx = FunctionCtx()
        recording = graph.is_grad_enabled()
        ctx.needs_input_grad = tuple(
            recording and isinstance(a, Tensor) and a._requires_grad for a in args
        )
        with no_grad():
            result = cls.forward(ctx, *args, **kwargs)
        single = isinstance(result, Tensor)
        outs = (result,) if single else result
        if not isinstance(outs, (tuple, list)):
            raise TypeError(
                f"{cls.__name__}.forward must return a Tensor or a tuple of Tensors, got "
                f"{type(result).__name__}"
            )
        return _record(cls, ctx, args, tuple(outs), single)


def _record(cls, ctx, args, outs, single):
    fn_op, output_op = _ops(cls)
    inputs = [a for a in args if isinstance(a, Tensor)]
    ctx._function = cls
    ctx._arg_is_tensor = tuple(isinstance(a, Tensor) for a in args)
    differentiable = [
        isinstance(o, Tensor) and id(o) not in ctx._non_differentiable and o.is_floating_point()
        for o in outs
    ]
    ctx._output_meta = tuple(
        (o.data.shape, o.data.dtype) if isinstance(o, Tensor) else None for o in outs
    )
    ctx._single = single
    ctx._tangents = None
    results = list(outs)
    try:
        if single:
            if differentiable[0]:
                ctx._result = outs[0].data
                results[0] = apply(fn_op, *inputs, ctx=ctx)
                node = results[0]._node
            else:
                results[0], node = new_tensor(outs[0].data), None
        else:
            ctx._result = _DUMMY
            shared = apply(fn_op, *inputs, ctx=ctx)
            node = shared._node
            for k, o in enumerate(outs):
                if not isinstance(o, Tensor):
                    continue
                if differentiable[k]:
                    ctx._result = o.data
                    results[k] = apply(output_op, shared, ctx=ctx, index=k)
                else:
                    results[k] = new_tensor(o.data)
        if node is not None:
            _keep_saved(ctx, node, outs, results)
    finally:
        ctx._result = None
        ctx._to_save = None  # the node holds what backward needs; ctx must not keep it alive
    return results[0] if single else tuple(results)


def _keep_saved(ctx, node, outs, results):
    """Put the saved tensors on the node, so the engine version-checks and releases them.

    A saved output is kept as forward's own tensor (which has no node, so no reference cycle)
    sharing the returned output's version counter; backward rebuilds it on its node.
    """
    layout, kept = [], []
    out_ids = {id(o): k for k, o in enumerate(outs) if isinstance(o, Tensor)}
    out_nodes = {}
    for t in ctx._to_save or ():
        if t is None:
            layout.append(None)
            continue
        k = out_ids.get(id(t))
        if k is not None and results[k]._node is not None:
            results[k]._version = t._counter()
            out_nodes[k] = weakref.ref(results[k]._node)
            layout.append(k)
        else:
            layout.append(-1)
        kept.append(t)
    ctx._layout = tuple(layout)
    ctx._out_nodes = out_nodes
    ctx._n_kept = len(kept)
    graph.save_tensors(node, kept)


class _Grads:
    """The gradients of a multi-output Function's outputs, one slot each, travelling through the
    engine's table as one value (shape and dtype those of the shared node's empty output)."""

    __slots__ = ("items",)
    shape = _DUMMY.shape
    dtype = _DUMMY.dtype
    # NOTE: anomaly mode checks `.data` for NaN: here nothing; the gradients are checked where
    # they leave the shared node.
    data = _DUMMY

    def __init__(self, items):
        self.items = items

    def __add__(self, other):
        return _Grads(
            [b if a is None else a if b is None else a + b for a, b in zip(self.items, other.items)]
        )


class _FunctionOp(Op):
    """The op of a Function's node: forward hands back the output computed by Function.apply."""

    @staticmethod
    def forward(*arrays, ctx):
        return ctx._result

    @staticmethod
    def vjp(ns, g, saved, params, needs):
        return _backward(params["ctx"], g, saved, needs)

    @staticmethod
    def jvp(ns, ts, xs, out, params):
        return _jvp(params["ctx"], ts)


class _OutputOp(Op):
    """Output `index` of a multi-output Function."""

    @staticmethod
    def forward(shared, ctx, index):
        return ctx._result

    @staticmethod
    def vjp(ns, g, saved, params, needs):
        items = [None] * len(params["ctx"]._output_meta)
        items[params["index"]] = g
        return _Grads(items)

    @staticmethod
    def jvp(ns, ts, xs, out, params):
        tangent = params["ctx"]._tangents[params["index"]]
        return np.zeros_like(out) if tangent is None else tangent


def _ops(cls):
    """The two op classes of Function `cls`, made once. They are named after the Function but not
    registered (custom ops are not part of the built-in REGISTRY)."""
    ops = cls.__dict__.get("_retrograd_ops")
    if ops is None:
        fn_op = type(f"{cls.__name__}Backward", (_FunctionOp,), {"__module__": cls.__module__})
        fn_op.name = cls.__name__
        output_op = type(f"{cls.__name__}Output", (_OutputOp,), {"__module__": cls.__module__})
        output_op.name = f"{cls.__name__}.output"
        ops = (fn_op, output_op)
        cls._retrograd_ops = ops
    return ops


def _as_tensor(value):
    return value if isinstance(value, Tensor) else new_tensor(value)


def _saved_tensors(ctx, values, create_graph):
    name = ctx._function.__name__
    if len(values) < ctx._n_kept:
        raise RuntimeError(
            f"backward through '{name}' a second time: its saved tensors were already freed; "
            "pass retain_graph=True to the first backward() to keep them"
        )
    saved, j = [], 0
    for slot in ctx._layout:
        if slot is None:
            saved.append(None)
            continue
        value = values[j]
        j += 1
        if slot >= 0 and create_graph:
            # A saved output must stay connected to its node for the gradient of the gradient.
            t = new_tensor(value.data)
            t._version = value._version
            t._node = ctx._out_nodes[slot]()
            t._requires_grad = True
            saved.append(t)
        else:
            saved.append(_as_tensor(value))
    return tuple(saved)


def _backward(ctx, g, values, needs):
    cls = ctx._function
    name = cls.__name__
    items = g.items if isinstance(g, _Grads) else [g]
    create_graph = any(isinstance(v, Tensor) for v in items)
    grads = []
    for item, meta in zip(items, ctx._output_meta):
        if item is None and meta is not None and ctx.materialize_grads:
            item = np.zeros(meta[0], dtype=meta[1])
            if create_graph:
                item = new_tensor(item)
        grads.append(None if item is None else _as_tensor(item))
    ctx._saved = _saved_tensors(ctx, values, create_graph)
    try:
        result = cls.backward(ctx, *grads)
    finally:
        ctx._saved = None
    if not isinstance(result, (tuple, list)):
        result = (result,)
    n_args = len(ctx._arg_is_tensor)
    if len(result) < n_args or any(r is not None for r in result[n_args:]):
        raise RuntimeError(
            f"{name}.backward returned {len(result)} gradients, but forward took {n_args} "
            "arguments: return one gradient (or None) per forward argument"
        )
    gxs = []
    for i, (gx, is_tensor) in enumerate(zip(result, ctx._arg_is_tensor)):
        if not is_tensor:
            if gx is not None:
                raise RuntimeError(
                    f"{name}.backward returned a gradient for argument {i}, which is not a "
                    "Tensor; return None there"
                )
            continue
        if gx is None or not needs[len(gxs)]:
            gxs.append(None)
            continue
        if not isinstance(gx, Tensor):
            raise TypeError(
                f"{name}.backward must return Tensors or None, got {type(gx).__name__} for "
                f"argument {i}"
            )
        gxs.append(gx if create_graph else gx.data)
    return gxs[0] if len(gxs) == 1 else tuple(gxs)


def _jvp(ctx, ts):
    cls = ctx._function
    if cls.jvp is None:
        raise NotImplementedError(
            f"forward-mode AD: Function '{cls.__name__}' has no jvp(ctx, *tangents)"
        )
    tangents, j = [], 0
    for is_tensor in ctx._arg_is_tensor:
        if is_tensor:
            t = ts[j]
            tangents.append(None if t is None else new_tensor(t))
            j += 1
        else:
            tangents.append(None)
    with no_grad():
        result = cls.jvp(ctx, *tangents)
    if ctx._single:
        return _tangent_array(result, cls)
    if not isinstance(result, (tuple, list)) or len(result) != len(ctx._output_meta):
        raise RuntimeError(
            f"{cls.__name__}.jvp must return one tangent per output ({len(ctx._output_meta)})"
        )
    ctx._tangents = [None if r is None else _tangent_array(r, cls) for r in result]
    return _DUMMY


def _tangent_array(t, cls):
    if not isinstance(t, Tensor):
        raise TypeError(f"{cls.__name__}.jvp must return Tensors, got {type(t).__name__}")
    return t.data
