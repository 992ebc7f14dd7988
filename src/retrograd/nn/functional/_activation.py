"""(nn.functional: _activation) — placeholder, filled by its owner."""

__all__ = []
