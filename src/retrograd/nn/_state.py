"""State dicts (which tensors, in which order; loading all-or-nothing) and dtype/device
arguments of Module.to."""

import collections
import collections.abc

import numpy as np

from ..autograd import dtypes, typeinfo
from ..autograd.grad_mode import no_grad
from ..autograd.tensor import Tensor, new_tensor
from . import _walk
from ._walk import BUFFER, PARAM

IncompatibleKeys = collections.namedtuple("IncompatibleKeys", ["missing_keys", "unexpected_keys"])


def load_state_dict(module, state_dict, strict, assign, module_type):
    """Module.load_state_dict: check every key and shape first, then copy (see its docstring)."""
    if not isinstance(state_dict, collections.abc.Mapping):
        raise TypeError(f"load_state_dict: expected a dict, got {type(state_dict).__name__}")
    targets = dict(state_entries(module, "", module_type))
    missing = [k for k in targets if k not in state_dict]
    unexpected = [k for k in state_dict if k not in targets]
    problems, arrays = [], {}
    for key, target in targets.items():
        if key not in state_dict:
            continue
        try:
            array = as_array(state_dict[key])
        except (TypeError, ValueError) as err:
            problems.append(f"  {key}: can't read the value ({err})")
            continue
        if array.shape != target.data.shape:
            problems.append(
                f"  {key}: shape {tuple(array.shape)} in the state dict, "
                f"{tuple(target.data.shape)} in the model"
            )
        arrays[key] = array
    if strict:
        header = []
        if missing:
            header.append("  missing keys: " + ", ".join(missing))
        if unexpected:
            header.append("  unexpected keys: " + ", ".join(unexpected))
        problems = header + problems
    if problems:
        raise RuntimeError(
            f"load_state_dict: can't load into {type(module).__name__} (nothing was changed):\n"
            + "\n".join(problems)
        )
    with no_grad():
        for key, array in arrays.items():
            target = targets[key]
            if assign:
                target.data = array.astype(target.data.dtype, copy=False)
            else:
                target.copy_(new_tensor(array))
    return IncompatibleKeys(missing, unexpected)


def state_entries(module, prefix, module_type):
    """(name, tensor) of every parameter and persistent buffer, as PyTorch's state_dict orders
    them: per module, pre-order; shared tensors appear under every name."""
    out = []
    modules = _walk.named_modules(module, module_type, prefix, remove_duplicate=False)
    for module_name, m in modules:
        buffers = m.__dict__.get("_buffers") or {}
        head = module_name + "." if module_name else ""
        own = m._entries()
        for kind, name, value in own:
            if kind == PARAM:
                out.append((head + name, value))
        for kind, name, value in own:
            if kind == BUFFER and buffers.get(name, True):
                out.append((head + name, value))
    return out


def as_array(value):
    """A state-dict value as an ndarray: Tensors, arrays, torch tensors, nested lists."""
    if isinstance(value, Tensor):
        return value.data
    if isinstance(value, np.ndarray):
        return value
    if hasattr(value, "detach") and hasattr(value, "numpy"):  # a torch tensor, say
        return np.asarray(value.detach().cpu().numpy())
    array = np.asarray(value)
    if array.dtype.kind not in "biuf":
        raise TypeError(f"expected a tensor, got {type(value).__name__}")
    return array


def parse_to(args, kwargs):
    """The dtype in Module.to's arguments (None if none); a device other than cpu is an error."""
    dtype = kwargs.pop("dtype", None)
    device = kwargs.pop("device", None)
    kwargs.pop("non_blocking", None)
    if kwargs:
        raise TypeError(f"to: unexpected keyword arguments {sorted(kwargs)}")
    for arg in args:
        if isinstance(arg, Tensor):
            dtype = arg.dtype
        elif isinstance(arg, typeinfo.device) or (isinstance(arg, str) and not _is_dtype_name(arg)):
            device = arg
        elif arg is not None and not isinstance(arg, bool):
            dtype = arg
    if device is not None and str(device).split(":")[0] != "cpu":
        raise RuntimeError(f"to: device '{device}' is not available; retrograd runs on cpu")
    return dtypes.as_dtype(dtype)


def _is_dtype_name(name):
    try:
        dtypes.as_dtype(name)
    except (TypeError, ValueError):
        return False
    return True
