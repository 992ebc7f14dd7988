"""(nn.functional: _pooling) — placeholder, filled by its owner."""

__all__ = []
