"""Utilities that sit beside the model code: data loading (`retrograd.utils.data`)."""

from . import data

__all__ = ["data"]
