"""PNG plots of a run with matplotlib (the 'plots' extra): learning curves and the per-layer
gradient norms and update ratios over time."""

import math
import os

from .sections import evenly, layer_label

__all__ = ["write_pngs"]


def _pyplot():
    try:
        import matplotlib
    except ImportError as err:
        raise ImportError("PNG plots need matplotlib: pip install 'retrograd[plots]'") from err
    matplotlib.use("Agg")  # files only; never open a window
    import matplotlib.pyplot as plt

    return plt


def write_pngs(run, out_dir, dpi=110):
    """Write `learning_curves.png` and (when the run was monitored) `gradient_norms.png` for
    `run` (a RunLog) into `out_dir`; returns their paths."""
    plt = _pyplot()
    os.makedirs(out_dir, exist_ok=True)
    paths = []
    path = os.path.join(out_dir, "learning_curves.png")
    if _learning_curves(plt, run, path, dpi):
        paths.append(path)
    path = os.path.join(out_dir, "gradient_norms.png")
    if _gradient_norms(plt, run, path, dpi):
        paths.append(path)
    return paths


def _learning_curves(plt, run, path, dpi):
    epochs = run.epoch_records()
    by_step = all("step" in r for r in epochs)
    x_of = (lambda r: r["step"]) if by_step else (lambda r: r.get("epoch"))
    fig, (ax_loss, ax_acc) = plt.subplots(1, 2, figsize=(11, 4))
    drawn = False
    if run.steps and by_step:
        xs, ys = _pairs((s["step"], s.get("loss_avg")) for s in run.steps)
        if xs:
            ax_loss.plot(xs, ys, color="#9ab7d3", lw=1, label="train loss (logged steps)")
            drawn = True
    for key in sorted({k for r in epochs for k in r}):
        if not (key.startswith("train_") or key.startswith("val_")):
            continue
        xs, ys = _pairs((x_of(r), r.get(key)) for r in epochs)
        if not xs:
            continue
        ax = ax_loss if key.endswith("loss") else ax_acc
        ax.plot(xs, ys, "o--" if key.startswith("val") else "o-", ms=3,
                color="#ff7f0e" if key.startswith("val") else "#1f77b4",
                label=key.replace("_", " "))
        drawn = True
    if not drawn:
        plt.close(fig)
        return False
    for ax, title in ((ax_loss, "loss"), (ax_acc, "accuracy and metrics")):
        ax.set_title(title)
        ax.set_xlabel("step" if by_step else "epoch")
        ax.grid(alpha=0.3)
        if ax.lines:
            ax.legend(fontsize=8)
    fig.tight_layout()
    fig.savefig(path, dpi=dpi)
    plt.close(fig)
    return True


def _gradient_norms(plt, run, path, dpi):
    if not run.steps:
        return False
    names = run.layer_names()
    types = {}
    for s in run.steps:
        for name, numbers in s.get("layers", {}).items():
            types.setdefault(name, numbers.get("type"))
    steps = evenly(run.steps, 200)
    fig, axes = plt.subplots(1, 2, figsize=(12, 0.9 + 0.35 * max(len(names), 3)))
    for ax, key, title in ((axes[0], "grad_norm", "log10 gradient norm"),
                           (axes[1], "update_ratio", "log10 update ratio")):
        grid = [[_log10(s.get("layers", {}).get(n, {}).get(key)) for s in steps] for n in names]
        image = ax.imshow(grid, aspect="auto", interpolation="nearest", cmap="viridis")
        ax.set_yticks(range(len(names)), [layer_label(n, types.get(n)) for n in names],
                      fontsize=8)
        ticks = evenly(range(len(steps)), 6)
        ax.set_xticks(ticks, [steps[i]["step"] for i in ticks])
        ax.set_xlabel("step")
        ax.set_title(title)
        fig.colorbar(image, ax=ax)
    fig.tight_layout()
    fig.savefig(path, dpi=dpi)
    plt.close(fig)
    return True


def _pairs(points):
    xs, ys = [], []
    for x, y in points:
        if isinstance(y, (int, float)) and math.isfinite(y) and x is not None:
            xs.append(x)
            ys.append(y)
    return xs, ys


def _log10(v):
    if isinstance(v, (int, float)) and math.isfinite(v) and v > 0:
        return math.log10(v)
    return float("nan")
