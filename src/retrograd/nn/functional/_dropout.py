"""(nn.functional: _dropout) — placeholder, filled by its owner."""

__all__ = []
