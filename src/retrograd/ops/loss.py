"""(category: loss) — ops are added here; see ops/arithmetic.py for the pattern."""

__all__ = []

TENSOR_METHODS = {}
