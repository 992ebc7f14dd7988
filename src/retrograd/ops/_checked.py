"""PyTorch's TypeError for a function called with something that is no Tensor.

The public functions (rg.sum, F.softmax, ...) read `input.data` first thing, so None, a list
or a string would fail with an AttributeError from deep inside. The packages that export them
wrap each one whose first parameter is a tensor (`input`, `x`, `logits`) or tensors
(`*tensors`, `tensors`): the check runs only when the
call fails, so a call costs one frame more; Tensor methods are not wrapped.
"""

import functools
import inspect
import types

from ..autograd.graph import not_a_tensor
from ..autograd.tensor import Tensor


def check_tensor_inputs(namespace, names, module_name):
    """Replace each function `namespace[name]` that takes tensors first by a checked one,
    pickled as `module_name.name`."""
    for name in names:
        fn = namespace[name]
        if type(fn) is not types.FunctionType:
            continue
        if fn in _WRAPPED:  # one function exported twice (rg.conv2d is F.conv2d): one wrapper
            namespace[name] = _WRAPPED[fn]
            continue
        kind = _first_parameter(fn)
        if kind is not None:
            namespace[name] = _WRAPPED[fn] = _checked(fn, kind, module_name)


_WRAPPED = {}  # function -> its checked form


def _first_parameter(fn):
    parameters = list(inspect.signature(fn).parameters.values())
    if not parameters:
        return None
    first = parameters[0]
    if first.kind is first.VAR_POSITIONAL or first.name == "tensors":
        return "tensors"
    if first.name in _TENSOR_PARAMETERS:
        return first.name
    return None


_TENSOR_PARAMETERS = ("input", "x", "logits")  # first parameters that must be a Tensor


def _checked(fn, kind, module_name):
    @functools.wraps(fn)
    def checked(*args, **kwargs):
        try:
            return fn(*args, **kwargs)
        except AttributeError:
            bad = _not_tensors_error(fn.__name__, kind, args, kwargs)
            if bad is None:
                raise
            raise bad from None

    checked.__module__ = module_name
    return checked


def _not_tensors_error(name, kind, args, kwargs):
    """The TypeError for the argument that is no Tensor, or None when they all are."""
    if kind != "tensors":
        value = args[0] if args else kwargs.get(kind)
        return None if isinstance(value, Tensor) else not_a_tensor(name, kind, 0, value)
    items = args[0] if len(args) == 1 and isinstance(args[0], (list, tuple)) else args
    for position, value in enumerate(items):
        if not isinstance(value, Tensor):
            return TypeError(
                f"{name}(): expected Tensors, got {type(value).__name__} at position {position}"
            )
    return None
