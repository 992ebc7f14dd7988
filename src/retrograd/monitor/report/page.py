"""`build_report(run_dir)`: one self-contained HTML page about a training run.

Everything is inlined (styles, script, charts drawn as SVG here), nothing is fetched, so the
page works offline and from file://, and can be mailed or archived as one file.
"""

import os
import time
from html import escape
from pathlib import Path

from ..runlog import read_run
from . import sections

__all__ = ["build_report", "render_report"]

ASSETS = Path(__file__).resolve().parent / "assets"


def _asset(name):
    return (ASSETS / name).read_text(encoding="utf-8")


def render_report(run, title=None, max_ridges=16, max_columns=160):
    """The HTML text of the report of `run` (a RunLog)."""
    name = os.path.basename(os.path.abspath(run.run_dir))
    title = title or f"retrograd run {name}"
    parts = [
        ("curves", "Learning curves", sections.curves(run)),
        ("gradients", "Gradient norms and updates", sections.gradients(run, max_columns)),
        ("histograms", "Histograms over time", sections.histograms(run, max_ridges)),
        ("findings", "Gradient flow", sections.findings(run)),
        ("config", "Configuration", sections.configuration(run)),
    ]
    nav = "".join(f'<a href="#{key}">{escape(label)}</a>' for key, label, _ in parts)
    body = "".join(f'<section id="{key}"><h2>{escape(label)}</h2>{html}</section>'
                   for key, label, html in parts)
    made = time.strftime("%Y-%m-%d %H:%M:%S")
    where = escape(os.path.abspath(run.run_dir))
    return (
        "<!DOCTYPE html>\n"
        '<html lang="en"><head><meta charset="utf-8">'
        '<meta name="viewport" content="width=device-width, initial-scale=1">'
        '<meta name="generator" content="retrograd report">'
        # NOTE: an empty inline icon, or the browser asks the file system for favicon.ico
        '<link rel="icon" href="data:,">'
        f"<title>{escape(title)}</title><style>{_asset('report.css')}</style>"
        "<noscript><style>.view { display: block; }</style></noscript></head><body>"
        f'<header><h1>{escape(title)}</h1><p class="run-path">{where}'
        f" &middot; report made {made}</p>{sections.summary(run)}</header>"
        f"<nav>{nav}</nav><main>{body}</main>"
        f"<script>{_asset('report.js')}</script></body></html>\n"
    )


def build_report(run_dir, out=None, title=None, max_ridges=16, max_columns=160):
    """Write the HTML report of the run in `run_dir` to `out` (default
    `run_dir/report.html`) and return its path.

    `max_ridges`: how many logged steps the histogram ridgelines show (spread evenly over the
    run); `max_columns`: how many steps the gradient heatmaps show.
    """
    for name, value in (("max_ridges", max_ridges), ("max_columns", max_columns)):
        if not isinstance(value, int) or value < 2:
            raise ValueError(f"build_report: {name} must be an int of at least 2, got {value!r}")
    run = read_run(run_dir)
    out = os.path.join(run.run_dir, "report.html") if out is None else os.fspath(out)
    html = render_report(run, title, max_ridges, max_columns)
    directory = os.path.dirname(os.path.abspath(out))
    os.makedirs(directory, exist_ok=True)
    tmp = f"{out}.tmp"
    with open(tmp, "w", encoding="utf-8") as f:
        f.write(html)
    os.replace(tmp, out)
    return out
