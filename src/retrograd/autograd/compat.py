"""Names of torch.autograd that old or scripted code uses: Variable (PyTorch's pre-0.4 wrapper:
`Variable(t)` is a Tensor sharing t's data, cut from the graph, requiring grad if asked; every
Tensor is a Variable) and set_detect_anomaly (a switch that is also a context manager)."""

from . import graph
from .anomaly import AnomalyMode
from .tensor import Tensor, as_array, new_tensor

__all__ = ["Variable", "set_detect_anomaly"]


class _VariableMeta(type):
    def __instancecheck__(cls, obj):
        return isinstance(obj, Tensor)


class Variable(metaclass=_VariableMeta):
    """`Variable(data, requires_grad=False)`: a Tensor (the class itself is never instantiated;
    `isinstance(t, Variable)` holds for every Tensor)."""

    def __new__(cls, data, requires_grad=False, volatile=False):
        t = data.detach() if isinstance(data, Tensor) else new_tensor(as_array(data))
        if requires_grad:
            t.requires_grad_(True)
        return t


class set_detect_anomaly:  # noqa: N801 - PyTorch's name
    """Turn anomaly detection on or off (see detect_anomaly) from now on, or, used as a context
    manager, until the block ends."""

    def __init__(self, mode, check_nan=True):
        self._previous = graph.set_anomaly(AnomalyMode(check_nan) if mode else None)

    def __enter__(self):
        return self

    def __exit__(self, *exc_info):
        graph.set_anomaly(self._previous)
        return False
