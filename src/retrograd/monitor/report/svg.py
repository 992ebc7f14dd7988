"""Charts as SVG text, drawn on the server side: line charts, heatmaps and ridgelines.

Each function returns a string holding one `<svg>` element. Series, cells and ridges carry
`data-*` attributes and classes that the page's script uses for its toggles and its step
slider; without the script every chart still shows (hover titles come from `<title>`).
"""

import math
from html import escape

__all__ = ["PALETTE", "line_chart", "heatmap", "ridgeline", "nice_ticks", "fmt", "color_scale"]

PALETTE = ("#1f77b4", "#ff7f0e", "#2ca02c", "#d62728", "#9467bd", "#8c564b", "#e377c2",
           "#7f7f7f", "#bcbd22", "#17becf")
# A perceptually even dark-blue -> green -> yellow ramp (viridis' anchors).
_RAMP = ((68, 1, 84), (59, 82, 139), (33, 145, 140), (94, 201, 98), (253, 231, 37))


def fmt(value, digits=3):
    """A short human form of a number: 0.0123, 1.23e-05, 4500, 2.5e+06, nan."""
    if value is None:
        return "-"
    if isinstance(value, float) and not math.isfinite(value):
        return str(value)
    if float(value).is_integer() and abs(value) < 1e6:
        return str(int(value))
    return f"{value:.{digits}g}"


def nice_ticks(lo, hi, count=5):
    """About `count` round tick values covering [lo, hi] (steps of 1, 2 or 5 x 10^k)."""
    if not (math.isfinite(lo) and math.isfinite(hi)):
        return []
    if hi <= lo:
        return [lo]
    raw = (hi - lo) / max(count, 1)
    magnitude = 10 ** math.floor(math.log10(raw))
    step = next(m * magnitude for m in (1, 2, 5, 10) if m * magnitude >= raw)
    first = math.ceil(lo / step - 1e-9) * step
    ticks, value = [], first
    while value <= hi + step * 1e-9:
        ticks.append(0.0 if abs(value) < step * 1e-9 else value)
        value += step
    return ticks


def tick_labels(ticks):
    """Labels for evenly spaced ticks, with enough digits to tell neighbours apart (-100.2 and
    -100.4, not -100 twice)."""
    if len(ticks) < 2:
        return [fmt(t) for t in ticks]
    spacing = abs(ticks[1] - ticks[0])
    largest = max(abs(t) for t in ticks)
    digits = 3
    if spacing > 0 and largest > 0:
        digits = max(3, math.floor(math.log10(largest / spacing)) + 2)
    return [fmt(t, digits) for t in ticks]


def color_scale(t):
    """A color on the ramp for t in [0, 1] ('#rrggbb')."""
    t = min(max(t, 0.0), 1.0) * (len(_RAMP) - 1)
    i = min(int(t), len(_RAMP) - 2)
    f = t - i
    a, b = _RAMP[i], _RAMP[i + 1]
    return "#" + "".join(f"{round(a[k] + (b[k] - a[k]) * f):02x}" for k in range(3))


class _Scale:
    def __init__(self, lo, hi, out_lo, out_hi):
        if hi <= lo:
            pad = abs(lo) * 0.05 or 0.5
            lo, hi = lo - pad, hi + pad
        self.lo, self.hi, self.out_lo, self.out_hi = lo, hi, out_lo, out_hi

    def __call__(self, v):
        return self.out_lo + (v - self.lo) / (self.hi - self.lo) * (self.out_hi - self.out_lo)


def _open(width, height, cls, label):
    return (f'<svg class="chart {cls}" viewBox="0 0 {width} {height}" width="{width}" '
            f'height="{height}" role="img" aria-label="{escape(label)}">')


def _finite(v):
    return isinstance(v, (int, float)) and math.isfinite(v)


def line_chart(series, x_label, y_label, title, width=560, height=300, chart_id="chart"):
    """`series`: [{"name", "points": [(x, y)], "markers": bool, "dashed": bool, "color"}].
    Points whose y is None or not finite leave a gap. Returns '' when no series has a point."""
    series = [s for s in series if any(_finite(y) for _, y in s["points"])]
    if not series:
        return ""
    left, right, top, bottom = 58, 12, 26, 40
    xs = [x for s in series for x, y in s["points"] if _finite(y)]
    ys = [y for s in series for _, y in s["points"] if _finite(y)]
    sx = _Scale(min(xs), max(xs), left, width - right)
    y_lo, y_hi = min(ys), max(ys)
    margin = (y_hi - y_lo) * 0.05
    sy = _Scale(y_lo - margin, y_hi + margin, height - bottom, top)
    out = [_open(width, height, "line-chart", title), f"<title>{escape(title)}</title>",
           f'<text class="chart-title" x="{left}" y="16">{escape(title)}</text>']
    out += _axes(sx, sy, x_label, y_label, width, height, left, right, top, bottom)
    for i, s in enumerate(series):
        color = series_color(s, i)
        dash = ' stroke-dasharray="5 3"' if s.get("dashed") else ""
        group = [f'<g class="series" data-chart="{chart_id}" data-series="{i}" '
                 f'data-name="{escape(s["name"])}">']
        for run in _runs(s["points"]):
            d = " ".join(f"{'M' if k == 0 else 'L'}{sx(x):.1f},{sy(y):.1f}"
                         for k, (x, y) in enumerate(run))
            group.append(f'<path d="{d}" fill="none" stroke="{color}" stroke-width="1.8"{dash}/>')
        if s.get("markers"):
            for x, y in s["points"]:
                if _finite(y):
                    group.append(f'<circle cx="{sx(x):.1f}" cy="{sy(y):.1f}" r="3" '
                                 f'fill="{color}"><title>{escape(s["name"])}: {fmt(y, 4)} at '
                                 f'{escape(x_label)} {fmt(x)}</title></circle>')
        group.append("</g>")
        out += group
    out.append("</svg>")
    return "".join(out)


def legend(series, chart_id):
    """HTML buttons that show or hide each series of a line chart (by the page's script)."""
    items = []
    for i, s in enumerate(x for x in series if any(_finite(y) for _, y in x["points"])):
        color = series_color(s, i)
        items.append(f'<button type="button" class="legend-item" data-chart="{chart_id}" '
                     f'data-series="{i}" aria-pressed="true"><span class="swatch" '
                     f'style="background:{color}"></span>{escape(s["name"])}</button>')
    return f'<div class="legend">{"".join(items)}</div>' if items else ""


def series_color(s, i):
    return s.get("color") or PALETTE[i % len(PALETTE)]


def _runs(points):
    run = []
    for x, y in points:
        if _finite(y):
            run.append((x, y))
        elif run:
            yield run
            run = []
    if run:
        yield run


def _axes(sx, sy, x_label, y_label, width, height, left, right, top, bottom):
    out = ['<g class="axes" font-size="11">']
    ticks = nice_ticks(sy.lo, sy.hi)
    for t, label in zip(ticks, tick_labels(ticks)):
        y = sy(t)
        out.append(f'<line class="grid" x1="{left}" x2="{width - right}" y1="{y:.1f}" '
                   f'y2="{y:.1f}"/><text x="{left - 6}" y="{y + 4:.1f}" '
                   f'text-anchor="end">{label}</text>')
    ticks = nice_ticks(sx.lo, sx.hi, 6)
    for t, label in zip(ticks, tick_labels(ticks)):
        x = sx(t)
        out.append(f'<line class="tick" x1="{x:.1f}" x2="{x:.1f}" y1="{height - bottom}" '
                   f'y2="{height - bottom + 4}"/><text x="{x:.1f}" y="{height - bottom + 16}" '
                   f'text-anchor="middle">{label}</text>')
    out.append(f'<line class="axis" x1="{left}" x2="{width - right}" y1="{height - bottom}" '
               f'y2="{height - bottom}"/><line class="axis" x1="{left}" x2="{left}" '
               f'y1="{top}" y2="{height - bottom}"/>')
    out.append(f'<text x="{(left + width - right) / 2:.0f}" y="{height - 6}" '
               f'text-anchor="middle">{escape(x_label)}</text>')
    out.append(f'<text transform="translate(14 {(top + height - bottom) / 2:.0f}) rotate(-90)" '
               f'text-anchor="middle">{escape(y_label)}</text></g>')
    return out


def heatmap(rows, columns, values, title, value_label, chart_id, cell_w=None, width=760):
    """`values[r][c]` (None: no value) drawn as colored cells, rows labelled with `rows`,
    columns with `columns` (steps). The colors span the finite values' range."""
    finite = [v for row in values for v in row if _finite(v)]
    if not rows or not columns or not finite:
        return ""
    label_w = min(220, 12 + 7 * max(len(r) for r in rows))
    top, bottom, bar_w = 26, 38, 60
    plot_w = width - label_w - bar_w - 20
    cell_w = plot_w / len(columns) if cell_w is None else cell_w
    cell_h = max(10, min(26, 300 / len(rows)))
    height = top + cell_h * len(rows) + bottom
    lo, hi = min(finite), max(finite)
    span = (hi - lo) or 1.0
    out = [_open(width, round(height), "heatmap", title), f"<title>{escape(title)}</title>",
           f'<text class="chart-title" x="{label_w}" y="16">{escape(title)}</text>',
           '<g font-size="11">']
    for r, name in enumerate(rows):
        y = top + r * cell_h
        out.append(f'<text x="{label_w - 6}" y="{y + cell_h / 2 + 4:.1f}" text-anchor="end">'
                   f'{escape(name)}</text>')
        for c, step in enumerate(columns):
            v = values[r][c]
            x = label_w + c * cell_w
            fill = color_scale((v - lo) / span) if _finite(v) else "#eeeeee"
            shown = fmt(v) if _finite(v) else "none (zero or not measured)"
            out.append(f'<rect class="cell" x="{x:.2f}" y="{y:.1f}" width="{cell_w + 0.3:.2f}" '
                       f'height="{cell_h:.1f}" fill="{fill}"><title>{escape(name)}, step '
                       f'{step}: {escape(value_label)} {shown}</title></rect>')
    base = top + cell_h * len(rows)
    for c in sorted({0, len(columns) - 1, *range(0, len(columns), max(1, len(columns) // 6))}):
        x = label_w + (c + 0.5) * cell_w
        out.append(f'<text x="{x:.1f}" y="{base + 14:.1f}" text-anchor="middle">'
                   f'{columns[c]}</text>')
    out.append(f'<text x="{label_w + plot_w / 2:.0f}" y="{base + 30:.1f}" '
               f'text-anchor="middle">step</text>')
    out += _color_bar(width - bar_w + 8, top, cell_h * len(rows), lo, hi, value_label)
    out.append("</g></svg>")
    return "".join(out)


def _color_bar(x, top, h, lo, hi, label):
    out = []
    steps = 24
    for i in range(steps):
        out.append(f'<rect x="{x}" y="{top + h * (1 - (i + 1) / steps):.1f}" width="12" '
                   f'height="{h / steps + 0.5:.1f}" fill="{color_scale(i / (steps - 1))}"/>')
    ticks = nice_ticks(lo, hi, 4)
    for t, text in zip(ticks, tick_labels(ticks)):
        y = top + h * (1 - (t - lo) / ((hi - lo) or 1))
        out.append(f'<text x="{x + 15}" y="{y + 4:.1f}">{text}</text>')
    out.append(f'<text x="{x + 40}" y="{top - 8}" font-size="10" text-anchor="end">'
               f'{escape(label)}</text>')
    return out


def ridgeline(name, ridges, steps, width=300, row_h=14, overlap=2.2):
    """One tensor's histograms over time: `ridges` is a list (one per entry of `steps`, None
    where that step has no histogram) of histogram records; each is drawn as a filled
    outline on its own baseline, scaled to its own highest bin, on one shared x axis."""
    present = [r for r in ridges if r is not None and r.get("counts")]
    if not present:
        return ""
    lo = min(r["edges"][0] for r in present)
    hi = max(r["edges"][-1] for r in present)
    left, right, top, bottom = 44, 10, 8 + row_h * overlap, 30
    height = top + row_h * len(steps) + bottom
    sx = _Scale(lo, hi, left, width - right)
    out = [_open(width, round(height), "ridgeline", f"{name} over time"),
           f"<title>{escape(name)} over time</title>", '<g font-size="10">']
    n = len(steps)
    for i, (step, r) in enumerate(zip(steps, ridges)):
        if r is None or not r.get("counts"):
            continue
        base = top + row_h * (i + 1)
        peak = max(r["counts"]) or 1
        d = [f"M{sx(r['edges'][0]):.1f},{base:.1f}"]
        for k, c in enumerate(r["counts"]):
            y = base - c / peak * row_h * overlap
            d.append(f"L{sx(r['edges'][k]):.1f},{y:.1f}L{sx(r['edges'][k + 1]):.1f},{y:.1f}")
        d.append(f"L{sx(r['edges'][-1]):.1f},{base:.1f}Z")
        shade = color_scale(0.15 + 0.7 * (i / max(n - 1, 1)))
        out.append(f'<path class="ridge" data-step-index="{i}" d="{"".join(d)}" fill="{shade}" '
                   f'fill-opacity="0.55" stroke="#222" stroke-width="0.6"><title>step {step}: '
                   f'mean {fmt(r["mean"])}, std {fmt(r["std"])}, range [{fmt(r["min"])}, '
                   f'{fmt(r["max"])}]</title></path>')
    for i in sorted({0, n - 1, *range(0, n, max(1, n // 4))}):
        out.append(f'<text x="{left - 4}" y="{top + row_h * (i + 1):.1f}" text-anchor="end">'
                   f'{steps[i]}</text>')
    base = top + row_h * n
    ticks = nice_ticks(sx.lo, sx.hi, 4)
    for t, label in zip(ticks, tick_labels(ticks)):
        out.append(f'<text x="{sx(t):.1f}" y="{base + 14:.1f}" text-anchor="middle">'
                   f'{label}</text>')
    out.append(f'<line class="axis" x1="{left}" x2="{width - right}" y1="{base:.1f}" '
               f'y2="{base:.1f}"/></g></svg>')
    return "".join(out)
