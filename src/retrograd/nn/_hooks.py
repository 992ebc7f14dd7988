"""Module hooks: the per-module hook lists, and full backward hooks.

Full backward hooks see the gradients of one module's own inputs and outputs. As in PyTorch,
they work by wrapping the module's call in two identity functions (`rg.autograd.Function`s):
one on the tensor inputs before `forward`, one on the outputs after it. In backward the output
identity is reached first: it receives `grad_output`, runs the backward pre-hooks (which may
replace it) and remembers it. The input identity is reached when the gradients with respect to
the module's inputs are complete: it runs the backward hooks with `(grad_input, grad_output)`.
When no input requires grad, the hooks run from the output identity with `grad_input` all None.
"""

from ..autograd import graph
from ..autograd.function import Function
from ..autograd.tensor import Tensor


class HookState:
    """The hook lists of one module (created on the first registration)."""

    __slots__ = ("forward_pre", "forward", "backward", "backward_pre")

    def __init__(self):
        self.forward_pre = []  # (hook, with_kwargs)
        self.forward = []  # (hook, with_kwargs, always_call)
        self.backward = []  # hook
        self.backward_pre = []  # hook


def call_with_hooks(module, args, kwargs):
    """Module.__call__ when the module has hooks: forward pre-hooks, backward-hook wrapping,
    forward, forward hooks."""
    state = module._hook_state
    if not (state.forward_pre or state.forward or state.backward or state.backward_pre):
        module._hooked = False  # every hook was removed: back to the plain call
        return module.forward(*args, **kwargs)
    for hook, with_kwargs in tuple(state.forward_pre):
        if with_kwargs:
            result = hook(module, args, kwargs)
            if result is not None:
                if not (isinstance(result, tuple) and len(result) == 2):
                    raise RuntimeError(
                        "a forward pre-hook registered with with_kwargs=True must return None "
                        f"or a tuple (args, kwargs), got {type(result).__name__}"
                    )
                args, kwargs = result
        else:
            result = hook(module, args)
            if result is not None:
                args = result if isinstance(result, tuple) else (result,)
    run = None
    if (state.backward or state.backward_pre) and graph._grad_enabled:
        run = _BackwardRun(module, state)
        args = run.wrap_inputs(args)
    try:
        out = module.forward(*args, **kwargs)
    except Exception:
        for hook, with_kwargs, always_call in tuple(state.forward):
            if always_call:
                hook(module, args, kwargs, None) if with_kwargs else hook(module, args, None)
        raise
    for hook, with_kwargs, _ in tuple(state.forward):
        result = hook(module, args, kwargs, out) if with_kwargs else hook(module, args, out)
        if result is not None:
            out = result
    if run is not None:
        out = run.wrap_outputs(out)
    return out


class _BackwardRun:
    """One call of a module with backward hooks: what its two identity functions share."""

    def __init__(self, module, state):
        self.module = module
        self.state = state
        self.n_inputs = 0
        self.input_slots = ()  # positions (among tensor args) that were wrapped
        self.grad_output = None

    def wrap_inputs(self, args):
        tensor_positions = [i for i, a in enumerate(args) if isinstance(a, Tensor)]
        self.n_inputs = len(tensor_positions)
        wrapped = [
            i for i in tensor_positions if args[i]._requires_grad and args[i].is_floating_point()
        ]
        self.input_slots = tuple(tensor_positions.index(i) for i in wrapped)
        if not wrapped:
            return args
        outs = _InputIdentity.apply(self, *[args[i] for i in wrapped])
        args = list(args)
        for i, t in zip(wrapped, outs):
            args[i] = t
        return tuple(args)

    def wrap_outputs(self, out):
        single = isinstance(out, Tensor)
        items = (out,) if single else out
        if not isinstance(items, (tuple, list)):
            return out
        positions = [
            i for i, o in enumerate(items)
            if isinstance(o, Tensor) and o._requires_grad and o.is_floating_point()
        ]
        if not positions:
            return out
        self.n_outputs = len(items)
        self.output_slots = tuple(positions)
        wrapped = _OutputIdentity.apply(self, *[items[i] for i in positions])
        if single:
            return wrapped[0]
        items = list(items)
        for i, t in zip(positions, wrapped):
            items[i] = t
        return type(out)(items) if isinstance(out, tuple) else items

    def output_gradients(self, grads):
        """Backward through the output identity: pre-hooks, and the hooks if no input needs
        a gradient."""
        grad_output = [None] * self.n_outputs
        for slot, g in zip(self.output_slots, grads):
            grad_output[slot] = g
        grad_output = tuple(grad_output)
        for hook in tuple(self.state.backward_pre):
            result = hook(self.module, grad_output)
            if result is not None:
                grad_output = _check_grads(result, len(grad_output), "backward pre-hook")
        self.grad_output = grad_output
        if not self.input_slots:
            self._run_hooks((None,) * self.n_inputs)
        return tuple(grad_output[slot] for slot in self.output_slots)

    def input_gradients(self, grads):
        grad_input = [None] * self.n_inputs
        for slot, g in zip(self.input_slots, grads):
            grad_input[slot] = g
        grad_input = self._run_hooks(tuple(grad_input))
        return tuple(grad_input[slot] for slot in self.input_slots)

    def _run_hooks(self, grad_input):
        grad_output = self.grad_output if self.grad_output is not None else ()
        for hook in tuple(self.state.backward):
            result = hook(self.module, grad_input, grad_output)
            if result is not None:
                grad_input = _check_grads(result, len(grad_input), "backward hook")
        return grad_input


def _check_grads(result, n, what):
    if isinstance(result, Tensor):
        result = (result,)
    if not isinstance(result, (tuple, list)) or len(result) != n:
        raise RuntimeError(f"a {what} must return None or a tuple of {n} gradients")
    return tuple(result)


def _aliases(tensors):
    # NOTE: the identity returns new tensors sharing the inputs' data, so the Function's outputs
    # are distinct objects from its inputs.
    return tuple(t.detach() for t in tensors)


class _InputIdentity(Function):
    @staticmethod
    def forward(ctx, run, *tensors):
        ctx.set_materialize_grads(False)
        ctx.run = run
        return _aliases(tensors)

    @staticmethod
    def backward(ctx, *grads):
        return (None, *ctx.run.input_gradients(grads))


class _OutputIdentity(Function):
    @staticmethod
    def forward(ctx, run, *tensors):
        ctx.set_materialize_grads(False)
        ctx.run = run
        return _aliases(tensors)

    @staticmethod
    def backward(ctx, *grads):
        return (None, *ctx.run.output_gradients(grads))
