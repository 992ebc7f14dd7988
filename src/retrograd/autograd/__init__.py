"""The autograd engine: Tensor, the graph, reverse and forward mode, grad modes, checks."""

from . import graph
from .anomaly import AnomalyError, detect_anomaly, is_anomaly_enabled
from .engine import backward, grad
from .grad_mode import enable_grad, inference_mode, is_grad_enabled, no_grad, set_grad_enabled
from .graph import REGISTRY, Node, Op, apply
from .tensor import Tensor

__all__ = [
    "AnomalyError",
    "Node",
    "Op",
    "REGISTRY",
    "Tensor",
    "apply",
    "backward",
    "detect_anomaly",
    "enable_grad",
    "grad",
    "graph",
    "inference_mode",
    "is_anomaly_enabled",
    "is_grad_enabled",
    "no_grad",
    "set_grad_enabled",
]
