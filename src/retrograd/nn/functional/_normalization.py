"""(nn.functional: _normalization) — placeholder, filled by its owner."""

__all__ = []
