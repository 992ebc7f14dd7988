"""Neural-network building blocks: Module, Parameter, layers, losses, initialisers."""

from .parameter import Parameter

__all__ = ["Parameter"]
