"""Containers: Sequential, ModuleList, ModuleDict, ParameterList, ParameterDict.

Each keeps its items in one attribute listed in `_anonymous`, so the items are named by
position or key alone (`0.weight`, `encoder.weight`), exactly as in PyTorch's state dicts.
"""

import collections
import operator

from ..autograd.tensor import Tensor
from .module import Module
from .parameter import Parameter

__all__ = ["Sequential", "ModuleList", "ModuleDict", "ParameterList", "ParameterDict"]


def _index(idx, n, where):
    try:
        idx = operator.index(idx)
    except TypeError:
        raise TypeError(f"{where}: index must be an int or a slice, got {type(idx).__name__}") \
            from None
    if not -n <= idx < n:
        raise IndexError(f"{where}: index {idx} is out of range for {n} items")
    return idx % n


def _check_module(module, where):
    if not isinstance(module, Module):
        raise TypeError(f"{where}: {type(module).__name__} is not a Module subclass")
    return module


class Sequential(Module):
    """Modules called in order, each on the previous one's output.

    `Sequential(m0, m1, ...)` names them '0', '1', ...; `Sequential(OrderedDict(name=module))`
    keeps the given names.
    """

    _anonymous = ("_modules",)

    def __init__(self, *args):
        super().__init__()
        self._modules = {}
        if len(args) == 1 and isinstance(args[0], collections.OrderedDict):
            for name, module in args[0].items():
                self.add_module(name, module)
        else:
            for module in args:
                self.append(module)

    def forward(self, input):
        for module in self._modules.values():
            input = module(input)
        return input

    def add_module(self, name, module):
        if not isinstance(name, str) or not name or "." in name:
            raise KeyError(f"Sequential: module names must be non-empty without '.', got {name!r}")
        if module is not None:
            _check_module(module, "Sequential")
        self._modules[name] = module

    register_module = add_module

    def append(self, module):
        self.add_module(str(len(self._modules)), module)
        return self

    def extend(self, modules):
        for module in modules:
            self.append(module)
        return self

    def insert(self, index, module):
        n = len(self._modules)
        if not -n <= index <= n:
            raise IndexError(f"Sequential.insert: index {index} is out of range for {n} items")
        items = list(self._modules.values())
        items.insert(index + n if index < 0 else index, _check_module(module, "insert"))
        self._renumber(items)
        return self

    def pop(self, index=-1):
        module = self[index]
        del self[index]
        return module

    def _renumber(self, items):
        self._modules = {str(i): m for i, m in enumerate(items)}

    def __getitem__(self, idx):
        items = list(self._modules.items())
        if isinstance(idx, slice):
            return Sequential(collections.OrderedDict(items[idx]))
        return items[_index(idx, len(items), "Sequential")][1]

    def __setitem__(self, idx, module):
        keys = list(self._modules)
        self._modules[keys[_index(idx, len(keys), "Sequential")]] = _check_module(
            module, "Sequential"
        )

    def __delitem__(self, idx):
        items = list(self._modules.values())
        if isinstance(idx, slice):
            del items[idx]
        else:
            del items[_index(idx, len(items), "Sequential")]
        self._renumber(items)  # as in PyTorch, the remaining modules are numbered 0, 1, ...

    def __len__(self):
        return len(self._modules)

    def __iter__(self):
        return iter(list(self._modules.values()))

    def __add__(self, other):
        if not isinstance(other, Sequential):
            return NotImplemented
        return Sequential(*self, *other)


class _ListContainer(Module):
    """The list protocol shared by ModuleList and ParameterList: entries live in the list named
    by `_anonymous[0]` (so their positions are their names) and pass through `_checked` on the
    way in."""

    def __init__(self, entries=None):
        super().__init__()
        setattr(self, self._anonymous[0], [])
        if entries is not None:
            self.extend(entries)

    def _entries_list(self):
        return getattr(self, self._anonymous[0])

    def _checked(self, value, where):
        raise NotImplementedError

    def _position(self, idx, where=""):
        name = type(self).__name__ + where
        return _index(idx, len(self._entries_list()), name)

    def append(self, value):
        self._entries_list().append(self._checked(value, f"{type(self).__name__}.append"))
        return self

    def extend(self, values):
        for value in values:
            self.append(value)
        return self

    def insert(self, index, value):
        self._entries_list().insert(index, self._checked(value, f"{type(self).__name__}.insert"))

    def pop(self, index=-1):
        return self._entries_list().pop(self._position(index, ".pop"))

    def __getitem__(self, idx):
        if isinstance(idx, slice):
            return type(self)(self._entries_list()[idx])
        return self._entries_list()[self._position(idx)]

    def __setitem__(self, idx, value):
        self._entries_list()[self._position(idx)] = self._checked(value, type(self).__name__)

    def __delitem__(self, idx):
        if isinstance(idx, slice):
            del self._entries_list()[idx]
        else:
            del self._entries_list()[self._position(idx)]

    def __len__(self):
        return len(self._entries_list())

    def __iter__(self):
        return iter(list(self._entries_list()))

    def __iadd__(self, values):
        return self.extend(values)

    def __add__(self, other):
        return type(self)([*self, *other])


class ModuleList(_ListContainer):
    """A list of modules (no forward): `self.blocks = ModuleList([Block() for _ in range(4)])`.

    A plain Python list of modules works the same way here (modules are found by walking
    attributes); ModuleList adds PyTorch's API and its names.
    """

    _anonymous = ("_modules",)

    def __init__(self, modules=None):
        super().__init__(modules)

    def _checked(self, module, where):
        return _check_module(module, where)


class _KeyedContainer(Module):
    """The dict protocol shared by ModuleDict and ParameterDict: entries live in the dict named
    by `_anonymous[0]` (so their keys are their names) and pass through `_checked` on the way
    in."""

    def __init__(self, entries=None):
        super().__init__()
        setattr(self, self._anonymous[0], {})
        if entries is not None:
            self.update(entries)

    def _entries_dict(self):
        return getattr(self, self._anonymous[0])

    def _checked(self, value):
        raise NotImplementedError

    def __getitem__(self, key):
        return self._entries_dict()[key]

    def __setitem__(self, key, value):
        if not isinstance(key, str) or not key or "." in key:
            raise KeyError(
                f"{type(self).__name__}: keys must be non-empty strings without '.', got {key!r}"
            )
        self._entries_dict()[key] = self._checked(value)

    def __delitem__(self, key):
        del self._entries_dict()[key]

    def __len__(self):
        return len(self._entries_dict())

    def __iter__(self):
        return iter(list(self._entries_dict()))

    def __contains__(self, key):
        return key in self._entries_dict()

    def keys(self):
        return self._entries_dict().keys()

    def values(self):
        return self._entries_dict().values()

    def items(self):
        return self._entries_dict().items()

    def update(self, entries):
        items = entries.items() if hasattr(entries, "items") else entries
        for key, value in items:
            self[key] = value

    def pop(self, key):
        return self._entries_dict().pop(key)

    def clear(self):
        self._entries_dict().clear()


class ModuleDict(_KeyedContainer):
    """A dict of modules, named by their keys (strings)."""

    _anonymous = ("_modules",)

    def __init__(self, modules=None):
        super().__init__(modules)

    def _checked(self, module):
        return _check_module(module, "ModuleDict")


def _as_parameter(value, where):
    if isinstance(value, Parameter) or value is None:
        return value
    if isinstance(value, Tensor):
        # As in PyTorch, a plain tensor put into a parameter container becomes a Parameter.
        return Parameter(value)
    raise TypeError(f"{where}: expected a Parameter or Tensor, got {type(value).__name__}")


class ParameterList(_ListContainer):
    """A list of Parameters (tensors are wrapped as Parameters), named '0', '1', ..."""

    _anonymous = ("_params",)

    def __init__(self, values=None):
        super().__init__(values)

    def _checked(self, value, where):
        return _as_parameter(value, where)

    def extra_repr(self):
        return "\n".join(_parameter_line(i, p) for i, p in enumerate(self._params))


class ParameterDict(_KeyedContainer):
    """A dict of Parameters (tensors are wrapped as Parameters), named by their keys."""

    _anonymous = ("_params",)

    def __init__(self, parameters=None):
        super().__init__(parameters)

    def _checked(self, value):
        return _as_parameter(value, "ParameterDict")

    def extra_repr(self):
        return "\n".join(_parameter_line(k, p) for k, p in self._params.items())


def _parameter_line(name, p):
    return f"({name}): Parameter containing: [{p.dtype} of size {'x'.join(map(str, p.shape))}]"
