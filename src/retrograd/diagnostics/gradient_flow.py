"""Gradient flow: how large the gradients, weights and updates of every layer are, and what
that says (vanishing or exploding gradients, dead ReLUs, saturated sigmoid/tanh units).

One-off, after a backward pass (gradient and weight norms only):

    loss.backward()
    print(rg.diagnostics.gradient_flow(model))

With a tracker, which also watches the activations during forward and the optimizer step:

    tracker = rg.diagnostics.GradientFlowTracker(model).attach()
    loss = loss_fn(model(x), y)
    loss.backward()
    with tracker.step():          # gradients and weights before, the update after
        optimizer.step()
    report = tracker.report()     # report.findings, report.to_dict()

In a fit loop: `rg.train.fit(..., callbacks=[rg.diagnostics.GradientFlowCallback(every=100)])`
(see `_flow_callback.py`).

Parameters are grouped by the module that owns them (its dotted name). Activation statistics
come from the graph's relu/sigmoid/tanh ops (so `nn.ReLU` modules and `F.relu` calls inside a
module's forward both count), recorded while the tracker is attached and grad mode is on; each
is charged to the layer whose output feeds it (the Linear before a ReLU).
"""

import contextlib
import math
import weakref

import numpy as np

from ..autograd import graph
from ..autograd.graph import Node
from ._flow_report import Finding, GradientFlowReport, LayerFlow, Thresholds
from ._paths import ModulePaths

__all__ = ["Finding", "GradientFlowReport", "GradientFlowTracker", "LayerFlow", "Thresholds",
           "gradient_flow"]

_ACTIVATION_OPS = ("relu", "sigmoid", "tanh")
_SATURATING_MODULES = {"Sigmoid": "sigmoid", "Tanh": "tanh"}
_NORM_MODULES = ("BatchNorm", "LayerNorm", "GroupNorm", "RMSNorm", "InstanceNorm")
_TRACKERS = weakref.WeakKeyDictionary()  # model -> its attached tracker
_WALK_BACK = 8  # how many parameter-free ops an activation may sit behind its layer


def gradient_flow(model, tracker=None, thresholds=None, step=None):
    """The gradient-flow report of `model` from the gradients now in `.grad` (after backward).

    When a `GradientFlowTracker` is attached to the model (or passed), its activation
    statistics and last optimizer step are included. `thresholds`: a `Thresholds` or a dict of
    overrides (see `Thresholds`)."""
    tracker = tracker if tracker is not None else _TRACKERS.get(model)
    if tracker is not None:
        return tracker.report(step=step, thresholds=thresholds)
    layers = []
    for path, module, params in _owners(model):
        layer = _layer(path, module, params)
        _set_grads(layer, [_grad_record(p.grad) for p in params])
        layers.append(layer)
    return GradientFlowReport(layers, Thresholds.of(thresholds), step, _context(model, ()))


class GradientFlowTracker:
    """Collects what a gradient-flow report needs around one training step of `model`.

    `attach()` (or `with tracker:`) starts watching forward passes (module paths and
    activation statistics); `detach()` stops. Call `before_step()` and `after_step()` around
    `optimizer.step()` (or use `with tracker.step():`) to measure the update; `report()` builds
    the report. Activation statistics cover the forward passes since the last step.
    """

    def __init__(self, model, thresholds=None):
        self.model = model
        self.thresholds = Thresholds.of(thresholds)
        self._paths = ModulePaths(model)
        self._owner_paths = frozenset()
        self._acts = {}  # (layer, op) -> _Activation
        self._grads = None  # id(param) -> (sum of squares, finite), when recorded
        self._before = None  # id(param) -> weights before the step
        self._updates = None  # id(param) -> (|update|^2, |weights before|^2)
        self._watched = None  # id(param) -> summed gradient, while watching gradients
        self._scale = 1.0
        self._hooks = []
        self._new_window = False
        self._attached = False

    # ------------------------------------------------------------------ attaching
    def attach(self):
        if self._attached:
            return self
        self._owner_paths = frozenset(path for path, _, _ in _owners(self.model))
        self._paths.attach()
        graph.add_node_observer(self._observe)
        _TRACKERS[self.model] = self
        self._attached = True
        return self

    def detach(self):
        if not self._attached:
            return
        graph.remove_node_observer(self._observe)
        self._paths.detach()
        self._stop_watching()
        if _TRACKERS.get(self.model) is self:
            del _TRACKERS[self.model]
        self._attached = False

    def __enter__(self):
        return self.attach()

    def __exit__(self, *exc_info):
        self.detach()
        return False

    def reset(self):
        """Forget activation statistics, recorded gradients and the last update."""
        self._acts.clear()
        self._grads = self._before = self._updates = None
        self._new_window = False

    # ------------------------------------------------------------------ activations
    def _observe(self, node, xs, out):
        op = node.op.name
        if op not in _ACTIVATION_OPS:
            return
        if self._new_window:  # the first forward after a step starts new statistics
            self._acts.clear()
            self._new_window = False
        key = (self._layer_feeding(node), op)
        stats = self._acts.get(key)
        if stats is None:
            stats = self._acts[key] = _Activation(op)
        stats.add(out.data, self.thresholds.saturation_margin)

    def _layer_feeding(self, node):
        """The module whose output the activation reads: its input's producer, followed back
        through parameter-free single-input ops (dropout, reshapes) to a parameterised layer."""
        current = node.edges[0]
        first = None
        for _ in range(_WALK_BACK):
            if type(current) is not Node:
                break
            path = current.module_path
            if first is None:
                first = path
            if path in self._owner_paths:
                return path
            parents = [e for e in current.edges if type(e) is Node]
            if len(parents) != 1:
                break
            current = parents[0]
        if first is not None:
            return first
        return node.module_path if node.module_path is not None else ""

    # ------------------------------------------------------------------ the step
    def before_step(self):
        """Record the gradients (from `.grad`) and the weights before `optimizer.step()`."""
        params = [p for _, _, ps in _owners(self.model) for p in ps]
        if self._watched is None:
            self._grads = {id(p): _grad_record(p.grad) for p in params if p.grad is not None}
        self._before = {id(p): p.data.copy() for p in params}

    def after_step(self):
        """Measure the update against the weights recorded by `before_step()`."""
        if self._before is None:
            raise RuntimeError("GradientFlowTracker.after_step: call before_step() first")
        updates = {}
        for _, _, params in _owners(self.model):
            for p in params:
                before = self._before.get(id(p))
                if before is not None and before.shape == p.data.shape:
                    updates[id(p)] = (_sumsq(p.data - before), _sumsq(before))
        self._updates = updates
        self._before = None
        self._new_window = True

    @contextlib.contextmanager
    def step(self):
        """`with tracker.step(): optimizer.step()`."""
        self.before_step()
        yield self
        self.after_step()

    def watch_gradients(self, scale=1.0):
        """Sum the gradients of the coming backward passes as they reach the parameters
        (divided by `scale`, a loss scale), for loops that clear `.grad` before you can read
        it; they replace `.grad` in the report until `reset()`."""
        self._stop_watching()
        self._watched, self._scale = {}, float(scale)
        for _, _, params in _owners(self.model):
            for p in params:
                self._hooks.append(p.register_hook(self._grad_hook(id(p))))

    def _grad_hook(self, key):
        watched = self._watched

        def record_gradient(grad):
            g = np.asarray(grad.data, dtype=np.float64)
            previous = watched.get(key)
            watched[key] = g.copy() if previous is None else previous + g

        return record_gradient

    def _stop_watching(self):
        for handle in self._hooks:
            handle.remove()
        self._hooks = []
        if self._watched is not None:
            scale = self._scale
            self._grads = {k: _array_record(g / scale if scale != 1.0 else g)
                           for k, g in self._watched.items()}
            self._watched = None

    # ------------------------------------------------------------------ the report
    def report(self, step=None, thresholds=None):
        """The gradient-flow report from what was collected (gradients from `.grad` when none
        were recorded)."""
        if self._watched is not None:
            self._stop_watching()
        th = self.thresholds if thresholds is None else Thresholds.of(thresholds)
        rank = self._paths.order
        layers = {}
        for path, module, params in _owners(self.model):
            layer = _layer(path, module, params)
            if self._grads is not None:
                _set_grads(layer, [self._grads.get(id(p)) for p in params])
            else:
                _set_grads(layer, [_grad_record(p.grad) for p in params])
            if self._updates is not None:
                records = [self._updates[id(p)] for p in params if id(p) in self._updates]
                before = sum(r[1] for r in records)
                if records and before > 0:
                    layer.update_ratio = float(np.sqrt(sum(r[0] for r in records) / before))
            layers[path] = layer
        modules = dict(self.model.named_modules())
        for (path, op), stats in self._acts.items():
            layer = layers.get(path)
            if layer is None:
                module = modules.get(path)
                layer = layers[path] = LayerFlow(path, type(module).__name__ if module else op)
            stats.fill(layer)
        named = {path: i for i, path in enumerate(modules)}
        ordered = sorted(layers.values(), key=lambda x: (
            rank.get(x.name, len(rank) + named.get(x.name, len(named))), named.get(x.name, 0)))
        seen_ops = tuple(sorted({op for _, op in self._acts}))
        return GradientFlowReport(ordered, th, step, _context(self.model, seen_ops))


# ---------------------------------------------------------------------------------- helpers
class _Activation:
    """Statistics of one activation op fed by one layer, over the forwards of a step."""

    __slots__ = ("op", "alive", "zeros", "saturated", "total")

    def __init__(self, op):
        self.op = op
        self.alive = {}  # unit shape -> units that were positive for some sample
        self.zeros = 0
        self.saturated = 0
        self.total = 0

    def add(self, data, margin):
        flat = data.reshape(data.shape[0] if data.ndim > 1 else 1, -1)
        self.total += flat.size
        if self.op == "relu":
            active = (flat > 0).any(axis=0)
            previous = self.alive.get(active.shape)
            self.alive[active.shape] = active if previous is None else previous | active
            self.zeros += int(flat.size - np.count_nonzero(flat))
        elif self.op == "sigmoid":
            self.saturated += int(np.count_nonzero((flat < margin) | (flat > 1 - margin)))
        else:
            self.saturated += int(np.count_nonzero(np.abs(flat) > 1 - margin))

    def fill(self, layer):
        layer.activations = tuple(sorted({*layer.activations, self.op}))
        if not self.total:
            return
        if self.op == "relu":
            units = sum(a.size for a in self.alive.values())
            dead = sum(a.size - int(np.count_nonzero(a)) for a in self.alive.values())
            layer.dead_fraction = dead / units if units else None
            layer.zero_fraction = self.zeros / self.total
        else:
            fraction = self.saturated / self.total
            if layer.saturated_fraction is not None:  # sigmoid and tanh after one layer
                fraction = max(fraction, layer.saturated_fraction)
            layer.saturated_fraction = fraction


def _owners(model):
    """[(path, module, params)]: modules owning trainable parameters, each parameter once."""
    seen, out = set(), []
    for path, module in model.named_modules():
        params = []
        for _, p in module.named_parameters(recurse=False):
            if id(p) not in seen:
                seen.add(id(p))
                if p.requires_grad:
                    params.append(p)
        if params:
            out.append((path, module, params))
    return out


def _layer(path, module, params):
    layer = LayerFlow(path, type(module).__name__, n_params=sum(p.data.size for p in params))
    layer.weight_norm = float(np.sqrt(sum(_sumsq(p.data) for p in params)))
    weight = getattr(module, "weight", None)
    if weight is not None and any(weight is p for p in params) and weight.data.ndim >= 2:
        fan_in = int(np.prod(weight.data.shape[1:]))
        layer.weight_scale = float(np.std(weight.data, dtype=np.float64) * np.sqrt(fan_in))
    return layer


def _set_grads(layer, records):
    records = [r for r in records if r is not None]
    if not records:
        return
    layer.grad_finite = all(finite for _, finite in records)
    total = sum(s for s, finite in records if finite)
    layer.grad_norm = float(np.sqrt(total)) if layer.grad_finite else float("nan")


def _grad_record(grad):
    return None if grad is None else _array_record(grad.data)


def _array_record(a):
    """(sum of squares, all finite) in one pass over `a` in the common case."""
    total = _sumsq(a)
    return (total, True) if math.isfinite(total) else (0.0, False)


def _sumsq(a):
    """Sum of squares: a BLAS dot in the array's own float type, redone in float64 only when
    that overflows (float32 squares pass 3.4e38 above about 1.8e19); NaN/Inf give NaN/Inf."""
    a = np.asarray(a)
    if a.dtype != np.float32 and a.dtype != np.float64:
        a = a.astype(np.float64)
    flat = a.ravel(order="K")  # a view for any contiguous layout
    with np.errstate(over="ignore", invalid="ignore"):
        total = float(np.dot(flat, flat))
        if not math.isfinite(total) and a.dtype != np.float64:
            flat = flat.astype(np.float64)
            total = float(np.dot(flat, flat))
    return total


def _context(model, seen_ops):
    """What the remedies depend on: saturating activations in use, normalisation present."""
    types = {type(m).__name__ for m in model.modules()}
    saturating = {op for op in seen_ops if op in ("sigmoid", "tanh")}
    saturating |= {op for name, op in _SATURATING_MODULES.items() if name in types}
    normalised = any(name.startswith(_NORM_MODULES) for name in types)
    return {"saturating": tuple(sorted(saturating)), "normalised": normalised}
