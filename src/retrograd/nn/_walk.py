"""How a Module finds its parameters, buffers and submodules: by walking its attributes.

A module's *local entries* are its own parameters, buffers and child modules, read from the
instance attributes in insertion order. An attribute holding a list, tuple or dict is looked
into (iteratively, to any nesting), and what it holds is named by position or key:
`self.layers = [Linear(...), Linear(...)]` gives children `layers.0` and `layers.1`. Containers
list the attributes whose contents are named without the attribute's own name in the class
attribute `_anonymous` (Sequential's `_modules` dict gives children `0`, `1`, ...).

Tensors that are not Parameters count only when registered as buffers (`register_buffer`),
whose names the module records in its `_buffers` dict (name -> persistent).
"""

from ..autograd.tensor import Tensor
from .parameter import Parameter

PARAM, BUFFER, MODULE = 0, 1, 2

# Module bookkeeping attributes: never walked.
INTERNAL = frozenset(("training", "_buffers", "_hook_state", "_hooked"))

_CONTAINERS = (list, tuple, dict)


def local_entries(module, module_type):
    """[(kind, name, value)] for `module`'s own parameters, buffers and children, in order.

    `module_type` is the Module class (passed in to avoid an import cycle). None-valued
    buffers and parameters are left out, as in PyTorch's state_dict.
    """
    entries = []
    attrs = module.__dict__
    buffers = attrs.get("_buffers")
    anonymous = type(module)._anonymous
    for attr, value in attrs.items():
        if attr in INTERNAL:
            continue
        if isinstance(value, Tensor):
            if isinstance(value, Parameter):
                entries.append((PARAM, attr, value))
            elif buffers is not None and attr in buffers:
                entries.append((BUFFER, attr, value))
        elif isinstance(value, module_type):
            entries.append((MODULE, attr, value))
        elif isinstance(value, _CONTAINERS) and value:
            _walk_container("" if attr in anonymous else attr, value, module_type, entries)
    return entries


def _walk_container(base, container, module_type, entries):
    """Append the Parameters and Modules inside nested lists, tuples and dicts, depth first."""
    stack = [(base, container)]
    while stack:
        name, value = stack.pop()
        if isinstance(value, Parameter):
            entries.append((PARAM, name, value))
        elif isinstance(value, module_type):
            entries.append((MODULE, name, value))
        elif isinstance(value, _CONTAINERS):
            if isinstance(value, dict):
                items = [(k, v) for k, v in value.items() if isinstance(k, (str, int))]
            else:
                items = list(enumerate(value))
            prefix = name + "." if name else ""
            for key, item in reversed(items):
                if isinstance(item, (Parameter, module_type, *_CONTAINERS)):
                    stack.append((f"{prefix}{key}", item))


def named_modules(root, module_type, prefix="", remove_duplicate=True):
    """Pre-order (prefix, module) pairs of the tree under `root`, without recursion.

    With `remove_duplicate` a module reached twice (shared) is listed once, under its first
    name. Without it, shared modules are listed under every name; a module that contains
    itself (a cycle) is an error rather than an endless walk.
    """
    seen = {id(root)}
    result = []
    # (name, module, parent record): parent records let us look for cycles when needed
    stack = [(prefix, root, None)]
    while stack:
        record = stack.pop()
        name, module, _ = record
        result.append((name, module))
        children = []
        for kind, child_name, child in local_entries(module, module_type):
            if kind != MODULE:
                continue
            if id(child) in seen:
                if remove_duplicate:
                    continue
                _check_no_cycle(record, child, name, child_name)
            seen.add(id(child))
            children.append((f"{name}.{child_name}" if name else child_name, child, record))
        stack.extend(reversed(children))
    return result


def _check_no_cycle(record, child, name, child_name):
    while record is not None:
        if record[1] is child:
            raise RuntimeError(
                f"module '{name}' contains its ancestor '{record[0]}' as '{child_name}': the "
                "module tree has a cycle"
            )
        record = record[2]


def child_name(parent, child, module_type):
    """The local name under which `parent` holds `child`, or None."""
    for kind, name, value in local_entries(parent, module_type):
        if kind == MODULE and value is child:
            return name
    return None
