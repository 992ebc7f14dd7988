"""(nn.functional: _loss) — placeholder, filled by its owner."""

__all__ = []
