"""rg.diagnostics: tools that look at a recorded graph and at training (the activation-memory
ledger, the gradient-flow report, NaN/Inf provenance)."""

from ._flow_callback import GradientFlowCallback
from .gradient_flow import (
    Finding,
    GradientFlowReport,
    GradientFlowTracker,
    LayerFlow,
    Thresholds,
    gradient_flow,
)
from .memory import BackwardMemory, LedgerRow, MemoryLedger, memory_ledger, watch_backward
from .nan import (
    NonfiniteError,
    NonfiniteReport,
    allow_nonfinite,
    detect_nonfinite,
    find_nonfinite,
)

__all__ = [
    "BackwardMemory",
    "LedgerRow",
    "MemoryLedger",
    "memory_ledger",
    "watch_backward",
    "Finding",
    "GradientFlowCallback",
    "GradientFlowReport",
    "GradientFlowTracker",
    "LayerFlow",
    "Thresholds",
    "gradient_flow",
    "NonfiniteError",
    "NonfiniteReport",
    "allow_nonfinite",
    "detect_nonfinite",
    "find_nonfinite",
]
