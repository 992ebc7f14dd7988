"""(nn.functional: _conv) — placeholder, filled by its owner."""

__all__ = []
