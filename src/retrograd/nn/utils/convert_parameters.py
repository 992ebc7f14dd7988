"""(nn.utils: convert_parameters) — placeholder."""

__all__ = []
