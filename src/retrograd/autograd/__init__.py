"""The autograd engine: Tensor, the graph, reverse and forward mode, grad modes, checks."""

from . import graph
from .anomaly import AnomalyError, detect_anomaly, is_anomaly_enabled
from .compat import Variable, set_detect_anomaly
from .engine import accelerated, backward, grad, use_accelerator
from .function import Function, FunctionCtx
from .grad_mode import enable_grad, inference_mode, is_grad_enabled, no_grad, set_grad_enabled
from .gradcheck import GradcheckError, gradcheck, gradgradcheck
from .graph import REGISTRY, Node, Op, apply
from .tensor import Tensor

__all__ = [
    "AnomalyError",
    "Function",
    "FunctionCtx",
    "GradcheckError",
    "Node",
    "Op",
    "REGISTRY",
    "Tensor",
    "Variable",
    "accelerated",
    "apply",
    "backward",
    "detect_anomaly",
    "enable_grad",
    "grad",
    "gradcheck",
    "gradgradcheck",
    "graph",
    "inference_mode",
    "is_anomaly_enabled",
    "set_detect_anomaly",
    "is_grad_enabled",
    "no_grad",
    "set_grad_enabled",
    "use_accelerator",
]
