"""Module: the base class of every layer and model, with PyTorch's API.

A Module is a plain class. Its parameters, buffers and submodules are found by walking its
instance attributes in the order they were set (lists, tuples and dicts of modules or
parameters included), which gives stable dotted names such as `layers.0.weight`; there is no
`__setattr__` magic and no hand-written parameter list (see `_walk.py`).

    class MLP(rg.nn.Module):
        def __init__(self):
            super().__init__()
            self.fc1 = rg.nn.Linear(784, 128)
            self.fc2 = rg.nn.Linear(128, 10)

        def forward(self, x):
            return self.fc2(rg.relu(self.fc1(x)))

Calling a module runs `forward` (and its hooks). An exception leaving a submodule's forward
carries that submodule's dotted path in its message (see `_errors.py`).
"""

import collections

import numpy as np

from ..autograd import dtypes
from ..autograd.hooks import RemovableHandle
from ..autograd.tensor import Tensor, new_tensor
from . import _errors, _hooks, _state, _walk
from ._errors import check_input
from ._paths import record_module_paths
from ._repr import module_repr
from ._walk import BUFFER, MODULE, PARAM
from .parameter import Parameter

__all__ = ["Module", "check_input", "record_module_paths"]

class Module:
    """Base class of layers and models: subclass it, set layers and Parameters as attributes in
    `__init__` (after `super().__init__()`) and define `forward`."""

    training = True
    _hooked = False  # set on the instance when a hook is registered: __call__ takes the slow path
    _hook_state = None
    _anonymous = ()  # attributes whose contents are named without the attribute name

    def __init__(self):
        self.training = True

    def forward(self, *args, **kwargs):
        raise NotImplementedError(
            f'Module [{type(self).__name__}] is missing the required "forward" function'
        )

    def __call__(self, *args, **kwargs):
        try:
            if self._hooked:
                return _hooks.call_with_hooks(self, args, kwargs)
            return self.forward(*args, **kwargs)
        except Exception as err:
            _errors.annotate(err, self, Module)
            raise

    # ----------------------------------------------------------------- the module tree
    def _entries(self):
        return _walk.local_entries(self, Module)

    def named_modules(self, memo=None, prefix="", remove_duplicate=True):
        """(name, module) for this module and every submodule, pre-order; '' is this one."""
        pairs = _walk.named_modules(self, Module, prefix, remove_duplicate)
        if memo is not None:
            pairs = [(n, m) for n, m in pairs if m not in memo]
            memo.update(m for _, m in pairs)
        return iter(pairs)

    def modules(self):
        for _, module in self.named_modules():
            yield module

    def named_children(self):
        seen = set()
        for kind, name, value in self._entries():
            if kind == MODULE and id(value) not in seen:
                seen.add(id(value))
                yield name, value

    def children(self):
        for _, module in self.named_children():
            yield module

    def _named_members(self, kind, prefix, recurse, remove_duplicate):
        if recurse:
            modules = _walk.named_modules(self, Module, prefix, remove_duplicate)
        else:
            modules = [(prefix, self)]
        seen = set()
        for module_name, module in modules:
            for entry_kind, name, value in module._entries():
                if entry_kind != kind:
                    continue
                if remove_duplicate:
                    if id(value) in seen:
                        continue
                    seen.add(id(value))
                yield (f"{module_name}.{name}" if module_name else name), value

    def named_parameters(self, prefix="", recurse=True, remove_duplicate=True):
        """(dotted name, Parameter) pairs; a parameter shared by several modules is listed once
        unless `remove_duplicate=False`."""
        return self._named_members(PARAM, prefix, recurse, remove_duplicate)

    def parameters(self, recurse=True):
        for _, p in self.named_parameters(recurse=recurse):
            yield p

    def named_buffers(self, prefix="", recurse=True, remove_duplicate=True):
        """(dotted name, buffer) pairs, persistent or not."""
        return self._named_members(BUFFER, prefix, recurse, remove_duplicate)

    def buffers(self, recurse=True):
        for _, b in self.named_buffers(recurse=recurse):
            yield b

    # ----------------------------------------------------------------- registration
    def register_buffer(self, name, tensor, persistent=True):
        """Set attribute `name` to `tensor` (or None) and record it as a buffer: state that is
        saved in `state_dict` (unless `persistent=False`) and cast by `to()`, but not trained."""
        _check_name(self, name, "register_buffer")
        if tensor is not None and not isinstance(tensor, Tensor):
            raise TypeError(
                f"register_buffer: buffer '{name}' must be a Tensor or None, got "
                f"{type(tensor).__name__}"
            )
        if isinstance(tensor, Parameter):
            raise TypeError(f"register_buffer: '{name}' is a Parameter; use register_parameter")
        buffers = self.__dict__.get("_buffers")
        if (buffers is None or name not in buffers) and hasattr(self, name):
            raise KeyError(f"register_buffer: attribute '{name}' already exists")
        if buffers is None:
            buffers = self._buffers = {}
        buffers[name] = bool(persistent)
        setattr(self, name, tensor)

    def register_parameter(self, name, param):
        """Set attribute `name` to `param` (a Parameter, or None for an absent one)."""
        _check_name(self, name, "register_parameter")
        if param is not None and not isinstance(param, Parameter):
            raise TypeError(
                f"register_parameter: '{name}' must be a Parameter or None, got "
                f"{type(param).__name__}"
            )
        _check_free(self, name, Parameter, "register_parameter")
        setattr(self, name, param)

    def add_module(self, name, module):
        """Set attribute `name` to `module` (a Module or None)."""
        _check_name(self, name, "add_module")
        if module is not None and not isinstance(module, Module):
            raise TypeError(f"add_module: {type(module).__name__} is not a Module subclass")
        _check_free(self, name, Module, "add_module")
        setattr(self, name, module)

    register_module = add_module

    def get_submodule(self, target):
        """The submodule at dotted path `target` ('' is this module)."""
        module, rest = _resolve(self, target)
        if rest:
            raise AttributeError(
                f"get_submodule: {type(self).__name__} has no submodule '{target}'"
            )
        return module

    def get_parameter(self, target):
        return self._get_member(target, PARAM, "get_parameter", "parameter")

    def get_buffer(self, target):
        return self._get_member(target, BUFFER, "get_buffer", "buffer")

    def _get_member(self, target, kind, where, what):
        module, rest = _resolve(self, target)
        for entry_kind, name, value in module._entries():
            if entry_kind == kind and name == rest:
                return value
        raise AttributeError(f"{where}: {type(self).__name__} has no {what} '{target}'")

    # ----------------------------------------------------------------- modes and gradients
    def train(self, mode=True):
        """Set training mode (True) or evaluation mode (False) on this module and all below."""
        if not isinstance(mode, bool):
            raise ValueError(f"train: mode must be a bool, got {type(mode).__name__}")
        for module in self.modules():
            module.training = mode
        return self

    def eval(self):
        return self.train(False)

    def requires_grad_(self, requires_grad=True):
        for p in self.parameters():
            p.requires_grad_(requires_grad)
        return self

    def zero_grad(self, set_to_none=True):
        for p in self.parameters():
            g = p.grad
            if g is None:
                continue
            if set_to_none or g._node is not None or not g.data.flags.writeable:
                p.grad = None if set_to_none else new_tensor(np.zeros_like(g.data))
            else:
                g.data.fill(0)

    def apply(self, fn):
        """Call `fn(module)` on every submodule, children before parents, then on self."""
        for module in reversed(_post_order_reversed(self)):
            fn(module)
        return self

    # ----------------------------------------------------------------- state
    def state_dict(self, destination=None, prefix="", keep_vars=False):
        """An OrderedDict of dotted name -> tensor: every parameter and persistent buffer.

        As in PyTorch the values share memory with the module (they are detached from the
        graph, not copied): save them, or `clone()` them for a snapshot that later training
        does not change. `keep_vars=True` returns the Parameters themselves.
        """
        out = collections.OrderedDict() if destination is None else destination
        for name, value in _state.state_entries(self, prefix, Module):
            out[name] = value if keep_vars else value.detach()
        return out

    def load_state_dict(self, state_dict, strict=True, assign=False):
        """Copy the values of `state_dict` into this module's parameters and buffers in place
        (cast to their dtypes), so optimizers keep their references.

        Everything is checked before anything is written: with `strict` (the default), any
        missing or unexpected key is an error; a shape mismatch always is. The one RuntimeError
        lists every problem, and the module is left untouched. Returns
        `(missing_keys, unexpected_keys)`. With `assign=True` the module takes the given
        tensors' data instead of copying into its own arrays.
        """
        return _state.load_state_dict(self, state_dict, strict, assign, Module)

    # ----------------------------------------------------------------- dtype and device
    def to(self, *args, **kwargs):
        """`to(dtype)`, `to('cpu')`, `to(tensor)`: cast floating-point parameters and buffers in
        place (the Parameter objects stay the same, so optimizers keep them)."""
        dtype = _state.parse_to(args, kwargs)
        if dtype is not None:
            if not dtypes.is_floating(dtype):
                raise TypeError(f"to: nn.Module.to only accepts floating dtypes, got {dtype}")
            self._cast(dtype)
        return self

    def _cast(self, dtype):
        seen = set()
        for module in self.modules():
            for _, _, t in module._entries():
                if isinstance(t, Module) or id(t) in seen:
                    continue
                seen.add(id(t))
                if dtypes.is_floating(t.data.dtype) and t.data.dtype != dtype:
                    t.data = t.data.astype(dtype)
                    if t.grad is not None:
                        t.grad = new_tensor(t.grad.data.astype(dtype))

    def float(self):
        return self.to(dtypes.float32)

    def double(self):
        return self.to(dtypes.float64)

    def half(self):
        return self.to(dtypes.float16)

    def type(self, dst_type):
        return self.to(dst_type)

    def share_memory(self):
        """For torch.multiprocessing code: the arrays are plain NumPy memory; returns self."""
        return self

    def to_empty(self, *, device=None, recurse=True):
        """For meta-device initialisation code: the parameters exist already; returns self."""
        return self

    def cpu(self):
        return self

    def cuda(self, device=None):
        raise RuntimeError("cuda: retrograd runs on cpu only")

    # ----------------------------------------------------------------- hooks
    def _hooks(self):
        state = self.__dict__.get("_hook_state")
        if state is None:
            state = self._hook_state = _hooks.HookState()
        self._hooked = True
        return state

    def register_forward_pre_hook(self, hook, *, prepend=False, with_kwargs=False):
        """`hook(module, args)` (or `hook(module, args, kwargs)`) before forward; it may return
        new args (or `(args, kwargs)`)."""
        return _add_hook(self._hooks().forward_pre, (hook, with_kwargs), prepend)

    def register_forward_hook(self, hook, *, prepend=False, with_kwargs=False, always_call=False):
        """`hook(module, args, output)` (or `hook(module, args, kwargs, output)`) after forward;
        it may return a new output."""
        return _add_hook(self._hooks().forward, (hook, with_kwargs, always_call), prepend)

    def register_full_backward_hook(self, hook, prepend=False):
        """`hook(module, grad_input, grad_output)` once the gradients with respect to the
        module's tensor inputs are computed; it may return a new grad_input tuple."""
        return _add_hook(self._hooks().backward, hook, prepend)

    def register_full_backward_pre_hook(self, hook, prepend=False):
        """`hook(module, grad_output)` when the gradients of the outputs arrive; it may return a
        new grad_output tuple."""
        return _add_hook(self._hooks().backward_pre, hook, prepend)

    # ----------------------------------------------------------------- display
    def extra_repr(self):
        """The text inside `Name(...)` in the repr; layers override it."""
        return ""

    def __repr__(self):
        return module_repr(self)


def _add_hook(hooks, entry, prepend):
    if prepend:
        hooks.insert(0, entry)
    else:
        hooks.append(entry)
    return RemovableHandle(hooks, entry)


def _check_name(module, name, where):
    if not isinstance(name, str):
        raise TypeError(f"{where}: name must be a str, got {type(name).__name__}")
    if not name or "." in name:
        raise KeyError(f"{where}: name can't be empty or contain '.', got '{name}'")
    if name in _walk.INTERNAL:
        raise KeyError(f"{where}: '{name}' is reserved by Module")


def _check_free(module, name, kind, where):
    """As in PyTorch, registering must not silently replace another kind of attribute (a
    method, a buffer, a plain value); re-registering the same kind is fine."""
    if not hasattr(module, name):
        return
    current = module.__dict__.get(name, _MISSING)
    buffers = module.__dict__.get("_buffers") or {}
    if current is _MISSING or name in buffers or not (current is None or isinstance(current, kind)):
        raise KeyError(f"{where}: attribute '{name}' already exists")


_MISSING = object()


def _resolve(root, target):
    """(module, remaining path) after following `target` through children as far as it goes.

    Children of plain lists have dotted local names ('layers.0'), so the longest matching
    prefix is taken at each step.
    """
    module = root
    parts = target.split(".") if target else []
    i = 0
    while i < len(parts):
        best, best_len = None, 0
        for name, child in module.named_children():
            name_parts = name.split(".")
            k = len(name_parts)
            if k > best_len and parts[i:i + k] == name_parts:
                best, best_len = child, k
        if best is None:
            break
        module, i = best, i + best_len
    return module, ".".join(parts[i:])


def _post_order_reversed(root):
    # Pre-order with children visited last-first, reversed, is post-order with children first.
    order, stack, seen = [], [root], {id(root)}
    while stack:
        module = stack.pop()
        order.append(module)
        for child in module.children():
            if id(child) not in seen:
                seen.add(id(child))
                stack.append(child)
    return order
