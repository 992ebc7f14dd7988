"""The offline HTML report of a run directory (and PNG plots with matplotlib)."""

from .page import build_report, render_report
from .plots import write_pngs

__all__ = ["build_report", "render_report", "write_pngs"]
