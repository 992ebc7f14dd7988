"""Gradient checkpointing: a segment keeps only its inputs; its activations are recomputed in
backward.

How it sits on the engine (the default, `use_reentrant=False`): the segment runs normally, with
grad on, so its graph is the real one (parameters, inputs and nested segments are connected as
without checkpointing). A node observer collects the nodes it records. When it returns, every
array those nodes keep for backward (saved inputs, `out_data`, `aux`) is dropped: each saved
tensor is replaced by a *shell*, a Tensor with no data that remembers the original's node,
requires_grad and version counter. Leaves that require grad (parameters) stay, as they are alive
anyway. The outputs pass through an identity Function (`Checkpoint`) whose node keeps the
segment's inputs. That node is created after every node of the segment, so the engine (which
runs nodes in decreasing creation order) reaches it first: its backward runs the segment again
on the kept inputs, matches the new nodes to the old ones in creation order, and fills the
shells, `out_data` and `aux` of the old nodes with the recomputed arrays. Backward then goes on
through the old nodes as if nothing had happened, and `create_graph=True` works because a
shell is linked to the original graph exactly as the tensor it stands for.

`use_reentrant=True` is PyTorch's older scheme: the segment runs under no_grad inside a custom
Function, and backward re-runs it with grad on and calls backward on it from inside the outer
backward. It keeps even fewer nodes but cannot do `create_graph`/`rg.autograd.grad` through the
segment (as in PyTorch).
"""

import warnings

from ...autograd import engine, graph
from ...autograd.function import Function
from ...autograd.tensor import Tensor, new_tensor
from ...func import _pytree
from ...nn.module import Module
from . import _state

__all__ = ["checkpoint", "checkpoint_sequential"]


def checkpoint(function, *args, use_reentrant=False, preserve_rng_state=True, **kwargs):
    """`function(*args, **kwargs)`, keeping only its inputs for backward; its activations are
    recomputed when the gradient reaches it.

    Random draws (dropout) are replayed from the generators' saved states when
    `preserve_rng_state` is True; buffers of the modules the function reaches (BatchNorm's
    running statistics) are restored after the recomputation, so they are updated once.
    Outputs may be Tensors or nested tuples, lists and dicts holding Tensors and other values.
    Under no_grad it simply calls `function`.
    """
    if not callable(function):
        raise TypeError(f"checkpoint: expected a callable, got {type(function).__name__}")
    if use_reentrant:
        if kwargs:
            raise ValueError(
                "checkpoint: keyword arguments are not supported with use_reentrant=True, got "
                f"{sorted(kwargs)}; pass use_reentrant=False"
            )
        return _reentrant(function, args, preserve_rng_state)
    if not graph._grad_enabled:
        return function(*args, **kwargs)
    return _Segment(function, args, kwargs, preserve_rng_state).run()


def checkpoint_sequential(functions, segments, input, use_reentrant=False,
                          preserve_rng_state=True):
    """Run `functions` (a Sequential or a list of callables) one after another on `input`, in
    `segments` consecutive chunks of equal size, each checkpointed except the last (whose
    activations backward needs first anyway), as torch.utils.checkpoint.checkpoint_sequential."""
    if isinstance(functions, Module) and not isinstance(functions, (list, tuple)):
        functions = list(functions.children())
    functions = list(functions)
    if not isinstance(segments, int) or not 1 <= segments <= max(len(functions), 1):
        raise ValueError(
            f"checkpoint_sequential: segments must be an int between 1 and the number of "
            f"functions ({len(functions)}), got {segments!r}"
        )
    size = len(functions) // segments
    end = -1
    for start in range(0, size * (segments - 1), size):
        end = start + size - 1
        input = checkpoint(_Chain(functions[start:end + 1]), input,
                           use_reentrant=use_reentrant, preserve_rng_state=preserve_rng_state)
    return _Chain(functions[end + 1:])(input)


class _Chain:
    """Callables applied in order (a named class: its `functions` are what the segment reaches)."""

    def __init__(self, functions):
        self.functions = functions

    def __call__(self, input):
        for fn in self.functions:
            input = fn(input)
        return input


# ----------------------------------------------------------------- the non-reentrant scheme


def _holds(node):
    """Whether a node keeps arrays for backward (nodes that keep none need no refilling)."""
    op = node.op
    return bool(node.saved) or (op.save_out and node.out_data is not None) or (
        op.has_aux and node.aux is not None
    )


def _shell(x):
    """A data-less stand-in for saved tensor `x`, linked to the graph as `x` is. It shares x's
    version counter (made now if x had none), so an in-place change of x after the segment ran
    is still caught in backward."""
    shell = new_tensor(None)
    shell._node = x._node
    shell._requires_grad = x._requires_grad
    shell._version = x._counter()
    return shell


def _strip(node):
    """Drop what `node` keeps for backward; return the shells to fill (None for kept leaves)."""
    kept, shells = [], []
    for x in node.saved:
        if x._node is None and x._requires_grad:  # a parameter or leaf input: alive anyway
            kept.append(x)
            shells.append(None)
        else:
            shell = _shell(x)
            kept.append(shell)
            shells.append(shell)
    node.saved = tuple(kept)
    if node.op.save_out:
        node.out_data = None
    if node.op.has_aux:
        node.aux = None
    return shells


def _fork_autocast(hook):
    """The autocast state for a recomputation: the forward's policy with a cache of its own."""
    fork = getattr(hook, "fork", None)
    return hook if fork is None else fork()


class _Recording:
    """Collect the nodes recorded inside the block (the `_node_observers` hook point)."""

    def __enter__(self):
        self.nodes = []
        self._observer = lambda node, xs, out: self.nodes.append(node)
        graph.add_node_observer(self._observer)
        return self

    def __exit__(self, *exc_info):
        graph.remove_node_observer(self._observer)
        self._observer = None  # it refers to self: a cycle would keep the nodes (and arrays)
        return False


class _Replay:
    """Run a segment again as it first ran: generators at their saved states, the forward's
    autocast state, grad on; afterwards the generators and the modules' buffers are back to
    what they were before the replay."""

    def __init__(self, modules, rng, autocast):
        self.modules = modules
        self.rng = rng
        self.autocast = autocast

    def __enter__(self):
        self._buffers = _state.BufferSnapshot(self.modules)
        self._current_rng = None
        if self.rng is not None:
            self._current_rng = _state.rng_states([g for g, _ in self.rng])
            _state.set_rng_states(self.rng)
        self._autocast = graph.set_autocast(_fork_autocast(self.autocast))
        self._grad = graph.set_grad_enabled_flag(True)
        return self

    def __exit__(self, *exc_info):
        graph.set_grad_enabled_flag(self._grad)
        graph.set_autocast(self._autocast)
        self._buffers.restore()
        if self._current_rng is not None:
            _state.set_rng_states(self._current_rng)
        return False


def _split_call(args, kwargs):
    """(tensors, rebuild): the Tensors among the arguments, and a function that puts other
    Tensors in their places and returns (args, kwargs)."""
    leaves, spec = _pytree.flatten((list(args), kwargs))
    positions = [i for i, leaf in enumerate(leaves) if isinstance(leaf, Tensor)]
    others = [None if isinstance(leaf, Tensor) else leaf for leaf in leaves]

    def rebuild(tensors):
        filled = list(others)
        for i, t in zip(positions, tensors):
            filled[i] = t
        args, kwargs = _pytree.unflatten(spec, filled)
        return tuple(args), kwargs

    return [leaves[i] for i in positions], rebuild


def _fresh_inputs(values, requires_grad):
    """Leaf tensors on the kept inputs' arrays, requiring grad as the originals did, so the
    replay records the same nodes."""
    inputs = []
    for value, flag in zip(values, requires_grad):
        t = new_tensor(value.data if isinstance(value, Tensor) else value)
        t._requires_grad = flag
        inputs.append(t)
    return inputs


class _Segment:
    """One checkpointed call: how to run it again, and the old nodes to refill."""

    def __init__(self, fn, args, kwargs, preserve_rng_state):
        self.fn = fn
        self.inputs, self.rebuild = _split_call(args, kwargs)
        self.requires_grad = [t._requires_grad for t in self.inputs]
        self.modules, generators = _state.reachable(fn, args, kwargs)
        self.rng = _state.rng_states(generators) if preserve_rng_state else None
        self.autocast = graph.get_autocast()
        self.token = object()  # marks the nodes this segment refills (no reference cycle)
        self.holding = []  # (old node, its shells; None when a nested segment refills it)
        self.filled = False

    def run(self):
        with _Recording() as recording:
            args, kwargs = self.rebuild(self.inputs)
            out = self.fn(*args, **kwargs)
        leaves, spec = _pytree.flatten(out)
        wrap = [i for i, leaf in enumerate(leaves) if isinstance(leaf, Tensor) and
                leaf._requires_grad]
        if wrap:
            aliases = Checkpoint.apply(self, *[leaves[i] for i in wrap])
            if isinstance(aliases, Tensor):
                aliases = (aliases,)
            for i, alias in zip(wrap, aliases):
                # One version counter for an output and its alias (they share memory), so an
                # in-place change of the alias is seen by the nodes that saved the output.
                alias._version = leaves[i]._counter()
                leaves[i] = alias
        self.inputs = None  # the trigger node keeps them now, where an outer segment sees them
        for node in recording.nodes:
            if not _holds(node):
                continue
            if getattr(node, "_ckpt", None) is not None:  # refilled by a nested segment
                self.holding.append((node, None))
                continue
            self.holding.append((node, _strip(node)))
            node._ckpt = self.token
        return _pytree.unflatten(spec, leaves) if spec is not None else leaves[0]

    def refill(self, kept_inputs):
        """Run the segment again and give the old nodes the arrays they had dropped."""
        if self.filled:
            return
        inputs = _fresh_inputs(kept_inputs, self.requires_grad)
        with _Replay(self.modules, self.rng, self.autocast), _Recording() as recording:
            args, kwargs = self.rebuild(inputs)
            self.fn(*args, **kwargs)
        fresh = [node for node in recording.nodes if _holds(node)]
        if len(fresh) != len(self.holding):
            raise RuntimeError(
                f"checkpoint: the recomputation of {_name(self.fn)} recorded {len(fresh)} "
                f"operations that keep values for backward, the forward {len(self.holding)}: "
                "a checkpointed function must compute the same thing when it runs again"
            )
        for (old, shells), new in zip(self.holding, fresh):
            if old.op.name != new.op.name:
                raise RuntimeError(
                    f"checkpoint: the recomputation of {_name(self.fn)} ran '{new.op.name}' "
                    f"where the forward ran '{old.op.name}': a checkpointed function must "
                    "compute the same thing when it runs again"
                )
            if shells is None:
                continue
            for shell, x in zip(shells, new.saved):
                if shell is not None:
                    shell.data = x.data
            if old.op.save_out:
                old.out_data = new.out_data
            if old.op.has_aux:
                old.aux = new.aux
        # The nodes have their arrays back; holding on to the shells here would keep those
        # arrays alive after backward releases the nodes.
        self.holding = None
        self.filled = True


class Checkpoint(Function):
    """Identity on a segment's outputs. Its node is the segment's last, so backward reaches it
    before any node of the segment: that is when the segment is recomputed."""

    @staticmethod
    def forward(ctx, segment, *outs):
        ctx.set_materialize_grads(False)
        ctx.segment = segment
        ctx.save_for_backward(*segment.inputs)
        aliases = tuple(o.detach() for o in outs)
        return aliases[0] if len(aliases) == 1 else aliases

    @staticmethod
    def backward(ctx, *grads):
        ctx.segment.refill(ctx.saved_tensors)
        return (None, *grads)


def _name(fn):
    return getattr(fn, "__qualname__", None) or type(fn).__name__


# ----------------------------------------------------------------- the reentrant scheme

_TENSOR = object()  # marks where a Tensor argument goes


def _reentrant(fn, args, preserve_rng_state):
    if graph._grad_enabled and not any(isinstance(a, Tensor) and a._requires_grad for a in args):
        warnings.warn(
            "checkpoint: none of the inputs requires grad; with use_reentrant=True the "
            "parameters inside the checkpointed function will get no gradient "
            "(use_reentrant=False does not have this limitation)",
            stacklevel=3,
        )
    return CheckpointReentrant.apply(_ReentrantCall(fn, args, preserve_rng_state), *args)


class _ReentrantCall:
    def __init__(self, fn, args, preserve_rng_state):
        self.fn = fn
        self.modules, generators = _state.reachable(fn, args, {})
        self.rng = _state.rng_states(generators) if preserve_rng_state else None
        self.autocast = graph.get_autocast()
        self.others = [_TENSOR if isinstance(a, Tensor) else a for a in args]
        self.requires_grad = [a._requires_grad for a in args if isinstance(a, Tensor)]

    def args(self, tensors):
        tensors = iter(tensors)
        return [next(tensors) if a is _TENSOR else a for a in self.others]


class CheckpointReentrant(Function):
    """The segment runs under no_grad; backward runs it again with grad on and backpropagates
    through it from inside the outer backward (parameter gradients go straight to `.grad`)."""

    @staticmethod
    def forward(ctx, call, *args):
        ctx.call = call
        ctx.save_for_backward(*[a for a in args if isinstance(a, Tensor)])
        return call.fn(*args)

    @staticmethod
    def backward(ctx, *grads):
        call = ctx.call
        if graph._grad_enabled:  # the engine turns grad mode on only for create_graph
            raise RuntimeError(
                "checkpoint: use_reentrant=True does not support create_graph=True (double "
                "backward); use use_reentrant=False"
            )
        inputs = _fresh_inputs(ctx.saved_tensors, call.requires_grad)
        with _Replay(call.modules, call.rng, call.autocast):
            outs = call.fn(*call.args(inputs))
        outs = (outs,) if isinstance(outs, Tensor) else tuple(outs)
        pairs = [(o, g) for o, g in zip(outs, grads)
                 if isinstance(o, Tensor) and o._requires_grad and g is not None]
        if pairs:
            engine.backward([o for o, _ in pairs], [g for _, g in pairs])
        input_grads = iter([t.grad if t._requires_grad else None for t in inputs])
        return (None, *[next(input_grads) if a is _TENSOR else None for a in call.others])
