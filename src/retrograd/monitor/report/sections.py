"""The sections of the report page, each an HTML string built from a `RunLog`."""

import json
import math
from html import escape

from .svg import PALETTE, fmt, heatmap, legend, line_chart, ridgeline

__all__ = ["summary", "curves", "gradients", "histograms", "findings", "configuration"]

KIND_TITLES = {"weight": "Weights", "grad": "Gradients", "activation": "Activations"}


def evenly(items, limit):
    """At most `limit` items spread evenly over `items`, always with the first and last."""
    items = list(items)
    if len(items) <= limit:
        return items
    picks = sorted({round(i * (len(items) - 1) / (limit - 1)) for i in range(limit)})
    return [items[i] for i in picks]


def layer_label(name, layer_type=None):
    label = name if name else "(model)"
    return f"{label} ({layer_type})" if layer_type else label


# ------------------------------------------------------------------------------- summary
def summary(run):
    cards = []
    epochs = run.epoch_records()
    results = run.results or {}
    config = run.config or {}
    if "test_accuracy" in results:
        cards.append(("test accuracy", f"{100 * results['test_accuracy']:.2f}%"))
    if "test_loss" in results:
        cards.append(("test loss", fmt(results["test_loss"], 4)))
    best = [r for r in epochs if _num(r.get("val_loss"))]
    if best:
        b = min(best, key=lambda r: r["val_loss"])
        cards.append((f"best val loss (epoch {b.get('epoch')})", fmt(b["val_loss"], 4)))
    if epochs:
        cards.append(("epochs", str(epochs[-1].get("epoch", len(epochs)))))
    if run.steps:
        last = run.steps[-1]["step"]
        cards.append(("optimizer steps logged", f"{len(run.steps)} (to step {last})"))
    if "parameters" in config:
        cards.append(("parameters", f"{config['parameters']:,}"))
    flow = run.last_flow()
    if flow is not None:
        n = len(flow["report"]["findings"])
        cards.append(("gradient-flow findings", "none" if n == 0 else str(n)))
    if not cards:
        return '<p class="empty">This run directory holds no metrics yet.</p>'
    return '<div class="cards">' + "".join(
        f'<div class="stat"><div class="label">{escape(k)}</div>'
        f'<div class="value">{escape(v)}</div></div>' for k, v in cards) + "</div>"


# ------------------------------------------------------------------------------- curves
def curves(run):
    epochs = run.epoch_records()
    by_step = all("step" in r for r in epochs)  # epoch records from the monitor
    x_label = "step" if by_step else "epoch"
    ex = (lambda r: r["step"]) if by_step else (lambda r: r.get("epoch"))
    loss, metrics, lrs = [], [], []
    if run.steps and by_step:
        loss.append({"name": "train loss (mean over the steps since the last logged one)",
                     "points": [(s["step"], s.get("loss_avg")) for s in run.steps],
                     "color": "#9ab7d3"})
    keys = []
    for r in epochs:
        keys += [k for k in r if k not in keys]
    for key in keys:
        if key in ("epoch", "step", "time", "type", "lr"):
            continue
        points = [(ex(r), r.get(key)) for r in epochs]
        entry = {"name": f"{key.replace('_', ' ')} (epoch)", "points": points, "markers": True,
                 "dashed": key.startswith("val"), "color": _split_color(key)}
        (loss if key.endswith("loss") else metrics).append(entry)
    scalar_keys = []
    for r in run.scalars:
        scalar_keys += [k for k in r["values"] if k not in scalar_keys]
    for key in scalar_keys:
        points = [(r["step"], r["values"].get(key)) for r in run.scalars if key in r["values"]]
        entry = {"name": key.replace("_", " "), "points": points, "markers": True}
        (loss if "loss" in key else metrics).append(entry)
    if run.steps and by_step and any(_num(s.get("lr")) for s in run.steps):
        lrs.append({"name": "learning rate", "points": [(s["step"], s.get("lr"))
                                                        for s in run.steps]})
    elif any(_num(r.get("lr")) for r in epochs):
        lrs.append({"name": "learning rate (epoch)",
                    "points": [(ex(r), r.get("lr")) for r in epochs], "markers": True})
    panels = []
    for series, title, y_label, chart_id in ((loss, "Loss", "loss", "loss"),
                                             (metrics, "Accuracy and metrics", "value",
                                              "metrics"),
                                             (lrs, "Learning rate", "lr", "lr")):
        svg = line_chart(series, x_label, y_label, title, chart_id=chart_id)
        if svg:
            panels.append(f'<div class="panel" id="chart-{chart_id}">{svg}'
                          f'{legend(series, chart_id)}</div>')
    if not panels:
        return '<p class="empty">No losses or metrics were logged.</p>'
    note = ("Epoch values sit at the step each epoch ended. " if by_step and run.steps else "")
    return (f'<p class="note">{note}Click a legend entry to hide or show its curve.</p>'
            f'<div class="charts">{"".join(panels)}</div>')


# ------------------------------------------------------------------------------- gradients
def _ordered_layers(run):
    flow = run.last_flow()
    names = run.layer_names()
    types = {}
    for s in run.steps:
        for name, numbers in s.get("layers", {}).items():
            types.setdefault(name, numbers.get("type"))
    if flow is not None:
        ranked = [x["name"] for x in flow["report"]["layers"] if x["name"] in names]
        names = ranked + [n for n in names if n not in ranked]
    return names, types


def gradients(run, max_columns=160):
    if not run.steps:
        return '<p class="empty">No per-layer numbers were logged (no monitor in this run).</p>'
    names, types = _ordered_layers(run)
    steps = evenly(run.steps, max_columns)
    columns = [s["step"] for s in steps]
    rows = [layer_label(n, types.get(n)) for n in names]

    def grid(key):
        return [[_log10(s.get("layers", {}).get(n, {}).get(key)) for s in steps] for n in names]

    views = [("grad_norm", "Gradient norm per layer", "log10 |grad|"),
             ("update_ratio", "Update ratio per layer: |w after - w before| / |w before|",
              "log10 ratio")]
    buttons, panels = [], []
    for key, title, label in views:
        svg = heatmap(rows, columns, grid(key), title, label, chart_id=f"heat-{key}")
        if not svg:
            continue
        active = " active" if not panels else ""
        pressed = "true" if active else "false"
        buttons.append(f'<button type="button" class="{active.strip()}" data-view="view-{key}" '
                       f'aria-pressed="{pressed}">{escape(title.split(":")[0])}</button>')
        panels.append(f'<div class="view panel{active}" id="view-{key}">{svg}</div>')
    if not panels:
        return '<p class="empty">No gradient norms were logged.</p>'
    return ('<p class="note">Rows are layers in the order they ran (input at the top), columns '
            'logged steps; colors are log10 of the value (gray: zero or not measured). Healthy '
            'networks show similar gradient norms down the rows and update ratios near 1e-3 '
            '(-3).</p>'
            f'<div class="toggles" role="group">{"".join(buttons)}</div>{"".join(panels)}')


# ------------------------------------------------------------------------------- histograms
def histograms(run, max_ridges=16):
    kinds = [k for k in ("weight", "grad", "activation") if run.histograms.get(k)]
    if not kinds:
        return '<p class="empty">No histograms were logged.</p>'
    all_steps = sorted({r["step"] for k in kinds for rs in run.histograms[k].values()
                        for r in rs})
    steps = evenly(all_steps, max_ridges)
    last = len(steps) - 1
    buttons, views = [], []
    for i, kind in enumerate(kinds):
        cards = []
        for name, records in run.histograms[kind].items():
            at = {r["step"]: r for r in records}
            ridges = [at.get(s) for s in steps]
            svg = ridgeline(name, ridges, steps)
            if not svg:
                continue
            stats = [_caption(s, at.get(s)) for s in steps]
            cards.append(f'<div class="hist-card" data-stats="{escape(json.dumps(stats))}">'
                         f"<h4>{escape(name)}</h4>{svg}"
                         f'<p class="hist-caption">{escape(stats[last])}</p></div>')
        active = " active" if i == 0 else ""
        buttons.append(f'<button type="button" class="{active.strip()}" data-view="hist-{kind}" '
                       f'aria-pressed="{"true" if i == 0 else "false"}">{KIND_TITLES[kind]}'
                       "</button>")
        views.append(f'<div class="view{active}" id="hist-{kind}"><div class="hist-grid">'
                     f'{"".join(cards)}</div></div>')
    slider = (f'<div class="slider"><label for="step-slider">logged step</label>'
              f'<input type="range" id="step-slider" min="0" max="{last}" value="{last}" '
              f'step="1" data-steps="{escape(json.dumps(steps))}">'
              f'<output id="step-value" for="step-slider">step {steps[last]}</output></div>')
    return ('<p class="note">Each plot stacks one tensor\'s histograms over the logged steps '
            '(earliest at the top), each scaled to its own highest bin on an x axis shared by '
            'all steps. Move the slider to pick a step.</p>'
            f'<div class="toggles" role="group">{"".join(buttons)}</div>{slider}'
            f'{"".join(views)}')


def _caption(step, r):
    if r is None:
        return f"step {step}: not logged"
    if not r.get("counts"):
        return f"step {step}: no finite values ({r.get('nonfinite', 0)} NaN/inf)"
    text = (f"step {step}: mean {fmt(r['mean'])}, std {fmt(r['std'])}, "
            f"min {fmt(r['min'])}, max {fmt(r['max'])}, zeros {100 * r['zeros']:.1f}%")
    if r.get("nonfinite"):
        text += f", {r['nonfinite']} NaN/inf"
    return text


# ------------------------------------------------------------------------------- findings
def findings(run):
    flow = run.last_flow()
    if flow is None:
        return '<p class="empty">No gradient-flow report was logged in this run.</p>'
    report, step = flow["report"], flow["step"]
    parts = [f"<h3>At the last logged step (step {step})</h3>"]
    if report["findings"]:
        for f in report["findings"]:
            parts.append(
                f'<div class="finding {escape(f["kind"])}"><div class="kind">'
                f'{escape(f["kind"].replace("_", " "))} &middot; '
                f'{escape(layer_label(f["layer"]))}</div><div>{escape(f["message"])}</div>'
                f'<div class="fix"><b>Fix:</b> {escape(f["remedy"])}</div></div>')
    else:
        parts.append('<div class="ok">No problems found: no vanishing or exploding gradients, '
                     'dead ReLUs, saturated units or oversized updates.</div>')
    parts.append(_history_table(run))
    parts.append(_layer_table(report))
    return "".join(parts)


def _history_table(run):
    seen = {}
    for flow in run.flows:
        for f in flow["report"]["findings"]:
            entry = seen.setdefault((f["kind"], f["layer"]), [flow["step"], flow["step"], 0])
            entry[1] = flow["step"]
            entry[2] += 1
    if not seen:
        return f'<p class="note">No findings at any of the {len(run.flows)} logged steps.</p>'
    rows = "".join(
        f"<tr><td>{escape(kind)}</td><td>{escape(layer_label(layer))}</td>"
        f'<td class="num">{first}</td><td class="num">{last}</td><td class="num">{n} of '
        f"{len(run.flows)}</td></tr>" for (kind, layer), (first, last, n) in seen.items())
    return ("<h3>Over the whole run</h3><table><thead><tr><th>finding</th><th>layer</th>"
            "<th>first step</th><th>last step</th><th>logged steps with it</th></tr></thead>"
            f"<tbody>{rows}</tbody></table>")


def _layer_table(report):
    head = ("layer", "grad norm", "weight norm", "grad / weight", "update ratio", "dead ReLU",
            "saturated")
    rows = []
    for x in report["layers"]:
        pct = lambda v: "-" if v is None else f"{100 * v:.0f}%"
        cells = [fmt(x.get("grad_norm")), fmt(x.get("weight_norm")),
                 fmt(x.get("grad_to_weight")), fmt(x.get("update_ratio")),
                 pct(x.get("dead_fraction")), pct(x.get("saturated_fraction"))]
        rows.append(f"<tr><td>{escape(layer_label(x['name'], x.get('module_type')))}</td>"
                    + "".join(f'<td class="num">{escape(c)}</td>' for c in cells) + "</tr>")
    return ("<h3>Layers at that step</h3><table class=\"layers\"><thead><tr>"
            + "".join(f"<th>{h}</th>" for h in head) + f"</tr></thead><tbody>{''.join(rows)}"
            "</tbody></table>")


# ------------------------------------------------------------------------------- config
def configuration(run):
    tables = []
    for title, data in (("config.json", run.config), ("results.json", run.results),
                        ("monitor", _monitor_settings(run))):
        if not data:
            continue
        rows = "".join(f"<tr><th>{escape(str(k))}</th><td>{escape(_value(v))}</td></tr>"
                       for k, v in data.items())
        tables.append(f'<div><h3>{escape(title)}</h3><table class="kv">{rows}</table></div>')
    if not tables:
        return '<p class="empty">No config.json in this run directory.</p>'
    return f'<div class="config-tables">{"".join(tables)}</div>'


def _monitor_settings(run):
    if not run.starts:
        return None
    start = run.starts[-1]
    keys = ("format", "every", "bins", "histograms", "activations")
    out = {k: start[k] for k in keys if k in start}
    if len(run.starts) > 1:
        out["starts"] = ", ".join(f"step {s.get('start_step')}" for s in run.starts)
    return out


def _value(v):
    if isinstance(v, float):
        return fmt(v, 6)
    if isinstance(v, (list, dict)):
        return json.dumps(v)
    return "-" if v is None else str(v)


def _split_color(key):
    """The same color for a data split in every chart: train blue, validation orange."""
    if key.startswith("train"):
        return PALETTE[0]
    if key.startswith("val"):
        return PALETTE[1]
    return None


def _num(v):
    return isinstance(v, (int, float)) and not isinstance(v, bool) and math.isfinite(v)


def _log10(v):
    return math.log10(v) if _num(v) and v > 0 else None
