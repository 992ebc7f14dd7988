"""rg.diagnostics: tools that look at a recorded graph and at training (the activation-memory
ledger, the gradient-flow report)."""

from .gradient_flow import (
    Finding,
    GradientFlowCallback,
    GradientFlowReport,
    GradientFlowTracker,
    LayerFlow,
    Thresholds,
    gradient_flow,
)
from .memory import BackwardMemory, LedgerRow, MemoryLedger, memory_ledger, watch_backward

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
]
