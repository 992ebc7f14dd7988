"""(nn: dropout) — placeholder, filled by its owner."""

__all__ = []
