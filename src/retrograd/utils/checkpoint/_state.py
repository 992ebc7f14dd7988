"""What a checkpointed segment's recomputation must replay or leave untouched: random streams
and module buffers.

Dropout draws from rg generators, so the recomputation restores each generator to where it was
before the original forward (and puts it back where it was afterwards). BatchNorm updates its
running statistics in forward, so every buffer of the segment's modules is snapshotted before the
recomputation and restored after it: the statistics are updated once, by the original forward.

The modules and generators are found by looking at what the segment can reach: the function
itself when it is a Module, the Module of a bound method, the Modules and Generators among its
arguments, the cells of its closure, the attributes of a callable object and the parts of a
functools.partial (one level deep, and lists, tuples and dicts of them).
"""

import functools

import numpy as np

from ...nn.module import Module
from ...ops.random import Generator, default_generator


def reachable(fn, args, kwargs):
    """(modules, generators) the segment `fn(*args, **kwargs)` can reach (see the docstring)."""
    candidates = [fn, *args, *kwargs.values()]
    if not isinstance(fn, Module) and hasattr(fn, "__dict__"):
        candidates.extend(vars(fn).values())  # a callable object's attributes
    self = getattr(fn, "__self__", None)
    if self is not None:
        candidates.append(self)
    if isinstance(fn, functools.partial):
        candidates.extend([fn.func, *fn.args, *fn.keywords.values()])
        fn = fn.func
    for cell in getattr(fn, "__closure__", None) or ():
        try:
            candidates.append(cell.cell_contents)
        except ValueError:  # an empty cell
            continue
    flat = []
    for item in candidates:
        if isinstance(item, (list, tuple)):
            flat.extend(item)
        elif isinstance(item, dict):
            flat.extend(item.values())
        else:
            flat.append(item)
    modules, generators, seen = [], [default_generator], {id(default_generator)}
    for item in flat:
        if isinstance(item, Module):
            for module in item.modules():
                if id(module) not in seen:
                    seen.add(id(module))
                    modules.append(module)
        elif isinstance(item, Generator) and id(item) not in seen:
            seen.add(id(item))
            generators.append(item)
    for module in modules:  # a layer may own a generator (dropout with its own stream)
        for value in vars(module).values():
            if isinstance(value, Generator) and id(value) not in seen:
                seen.add(id(value))
                generators.append(value)
    return modules, generators


def rng_states(generators):
    return [(g, g.get_state()) for g in generators]


def set_rng_states(states):
    for generator, state in states:
        generator.set_state(state)


class BufferSnapshot:
    """The buffers of `modules` as they are now: which tensor each attribute names, which array
    each tensor holds, a copy of its values and its version. `restore()` puts all of it back."""

    def __init__(self, modules):
        self.bindings = []
        self.tensors = []
        seen = set()
        for module in modules:
            for name, buffer in module.named_buffers(recurse=False):
                if "." in name:  # a buffer inside a plain container: no attribute to rebind
                    continue
                self.bindings.append((module, name, buffer))
                if buffer is not None and id(buffer) not in seen:
                    seen.add(id(buffer))
                    self.tensors.append((buffer, buffer.data, buffer.data.copy(), buffer.version))

    def restore(self):
        for module, name, buffer in self.bindings:
            if module.__dict__.get(name) is not buffer:
                setattr(module, name, buffer)
        for tensor, array, values, version in self.tensors:
            if tensor.data is not array:
                tensor.data = array
            np.copyto(array, values)
            if tensor._version is not None:
                tensor._version[0] = version  # the values are back: so is the version
