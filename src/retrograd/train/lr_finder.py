"""The learning-rate range test (Smith, "Cyclical Learning Rates", 2017): train for a few
steps while the learning rate grows exponentially, watch the loss, put everything back.

    result = rg.train.lr_find(model, rg.nn.CrossEntropyLoss(), optimizer, train_loader)
    result.suggestion          # a learning rate to start from
    result.plot("lr_find.png")
"""

import copy
import math

import numpy as np

from ..autograd.grad_mode import no_grad
from ..ops.random import fork_rng

__all__ = ["lr_find", "LRFinderResult"]


class LRFinderResult:
    """What `lr_find` saw: `lrs` and `losses` (the raw batch losses, one per step taken),
    `smoothed` (their exponential moving average) and `suggestion`."""

    def __init__(self, lrs, losses, smoothed, diverged):
        self.lrs = lrs
        self.losses = losses
        self.smoothed = smoothed
        self.diverged = diverged
        self.suggestion = _suggest(lrs, smoothed)

    def __repr__(self):
        return (f"LRFinderResult({len(self.lrs)} steps, lr {self.lrs[0]:.3g} to "
                f"{self.lrs[-1]:.3g}, suggestion {self.suggestion:.3g})")

    def plot(self, path):
        """Plot the smoothed loss against the learning rate (log scale), the suggestion
        marked: a PNG with matplotlib, else an SVG (`path`'s extension becomes .svg). Returns
        the path written."""
        try:
            import matplotlib
        except ImportError:
            root, _ = _split_ext(path)
            path = root + ".svg"
            with open(path, "w", encoding="utf-8") as f:
                f.write(_svg(self))
            return path
        matplotlib.use("Agg")
        import matplotlib.pyplot as plt

        fig, ax = plt.subplots(figsize=(6, 4))
        ax.plot(self.lrs, self.smoothed, label="smoothed loss")
        ax.plot(self.lrs, self.losses, alpha=0.3, label="batch loss")
        ax.axvline(self.suggestion, color="tab:red", linestyle="--",
                   label=f"suggestion {self.suggestion:.2g}")
        ax.set_xscale("log")
        ax.set_xlabel("learning rate")
        ax.set_ylabel("loss")
        ax.legend()
        fig.tight_layout()
        fig.savefig(path)
        plt.close(fig)
        return str(path)


def lr_find(model, loss_fn, optimizer, train_loader, start_lr=1e-7, end_lr=10, num_iter=100,
            smooth=0.05, diverge_threshold=5):
    """Run the learning-rate range test: `num_iter` training steps on batches `(x, y)` of
    `train_loader` (cycled if shorter), the learning rate of every parameter group growing
    exponentially from `start_lr` to `end_lr`; stop early once the smoothed loss exceeds
    `diverge_threshold` times its best. `smooth` weights each new loss in the moving average.

    The model's parameters and buffers, the optimizer's state and learning rates, the default
    random generator and the loader's generator are restored afterwards, so training starts
    from where it was. Returns an `LRFinderResult`."""
    if not 0 < start_lr < end_lr:
        raise ValueError(f"lr_find: need 0 < start_lr < end_lr, got {start_lr} and {end_lr}")
    if not isinstance(num_iter, int) or num_iter < 2:
        raise ValueError(f"lr_find: num_iter must be an int of at least 2, got {num_iter!r}")
    if not 0 < smooth <= 1:
        raise ValueError(f"lr_find: smooth must lie in (0, 1], got {smooth}")
    if not diverge_threshold > 1:
        raise ValueError(f"lr_find: diverge_threshold must exceed 1, got {diverge_threshold}")

    model_state = {k: v.detach().numpy().copy() for k, v in model.state_dict().items()}
    optim_state = copy.deepcopy(optimizer.state_dict())
    generator = getattr(train_loader, "generator", None)
    loader_state = generator.get_state() if generator is not None else None
    was_training = model.training
    lrs, losses, smoothed = [], [], []
    diverged = False
    try:
        with fork_rng():
            model.train()
            ratio = end_lr / start_lr
            batches = iter(train_loader)
            best = math.inf
            for i in range(num_iter):
                lr = start_lr * ratio ** (i / (num_iter - 1))
                for group in optimizer.param_groups:
                    group["lr"] = lr
                try:
                    x, y = next(batches)
                except StopIteration:
                    batches = iter(train_loader)
                    x, y = next(batches)
                optimizer.zero_grad()
                loss = loss_fn(model(x), y)
                loss.backward()
                optimizer.step()
                value = float(loss.item())
                avg = value if not smoothed else smooth * value + (1 - smooth) * smoothed[-1]
                lrs.append(lr)
                losses.append(value)
                smoothed.append(avg)
                best = min(best, avg)
                if not math.isfinite(avg) or avg > diverge_threshold * best:
                    diverged = True
                    break
    finally:
        with no_grad():
            state = model.state_dict()
            for key, array in model_state.items():
                state[key].data[...] = array  # in place: references to the tensors stay valid
        optimizer.load_state_dict(optim_state)
        if loader_state is not None:
            generator.set_state(loader_state)
        model.train(was_training)
    return LRFinderResult(lrs, losses, smoothed, diverged)


def _suggest(lrs, smoothed):
    """The lr where the smoothed loss falls fastest (per log-lr), looked for before its
    minimum; min-loss lr / 10 (at least the first lr) when too few steps come before it."""
    losses = np.asarray(smoothed, dtype=np.float64)
    finite = np.isfinite(losses)
    if not finite.any():
        return float(lrs[0])
    lowest = int(np.nanargmin(np.where(finite, losses, np.nan)))
    if lowest < 2:
        return max(float(lrs[lowest]) / 10, float(lrs[0]))
    slopes = np.gradient(losses[:lowest + 1], np.log(lrs[:lowest + 1]))
    return float(lrs[int(np.argmin(slopes))])


def _split_ext(path):
    path = str(path)
    dot = path.rfind(".")
    return (path[:dot], path[dot:]) if dot > max(path.rfind("/"), 0) else (path, "")


def _svg(result, width=600, height=360, pad=50):
    """A dependency-free line plot of the smoothed loss against log10(lr)."""
    xs = np.log10(result.lrs)
    ys = np.asarray(result.smoothed, dtype=np.float64)
    keep = np.isfinite(ys)
    xs, ys = xs[keep], ys[keep]
    if not xs.size:
        xs, ys = np.log10(result.lrs[:1]), np.zeros(1)
    x0, x1 = float(xs.min()), float(xs.max())
    y0, y1 = float(ys.min()), float(ys.max())
    x1 = x1 if x1 > x0 else x0 + 1
    y1 = y1 if y1 > y0 else y0 + 1

    def sx(x):
        return pad + (x - x0) / (x1 - x0) * (width - 2 * pad)

    def sy(y):
        return height - pad - (y - y0) / (y1 - y0) * (height - 2 * pad)

    points = " ".join(f"{sx(x):.1f},{sy(y):.1f}" for x, y in zip(xs, ys))
    mark = sx(math.log10(result.suggestion))
    return (
        f'<svg xmlns="http://www.w3.org/2000/svg" width="{width}" height="{height}" '
        f'font-family="sans-serif" font-size="12">\n'
        f'<rect width="{width}" height="{height}" fill="white"/>\n'
        f'<polyline fill="none" stroke="#1f77b4" stroke-width="2" points="{points}"/>\n'
        f'<line x1="{mark:.1f}" x2="{mark:.1f}" y1="{pad}" y2="{height - pad}" '
        f'stroke="#d62728" stroke-dasharray="4 3"/>\n'
        f'<text x="{mark + 4:.1f}" y="{pad + 12}">suggestion {result.suggestion:.2g}</text>\n'
        f'<text x="{pad}" y="{height - 15}">lr 10^{x0:.1f}</text>\n'
        f'<text x="{width - pad}" y="{height - 15}" text-anchor="end">lr 10^{x1:.1f}</text>\n'
        f'<text x="{pad}" y="{pad - 10}">loss {y0:.3g} to {y1:.3g}</text>\n'
        "</svg>\n")
