"""rg.diagnostics: tools that look at a recorded graph (the activation-memory ledger)."""

from .memory import BackwardMemory, LedgerRow, MemoryLedger, memory_ledger, watch_backward

__all__ = ["BackwardMemory", "LedgerRow", "MemoryLedger", "memory_ledger", "watch_backward"]
