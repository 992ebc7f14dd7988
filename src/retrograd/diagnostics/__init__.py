"""rg.diagnostics: tools that look at a recorded graph (the activation-memory ledger)."""

from .memory import LedgerRow, MemoryLedger, memory_ledger

__all__ = ["LedgerRow", "MemoryLedger", "memory_ledger"]
