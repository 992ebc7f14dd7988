"""(nn.utils: clip_grad) — placeholder, filled by its owner."""

__all__ = []
