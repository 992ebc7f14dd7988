"""Checkpoint planning: where to cut a chain of modules into checkpointed segments so that the
activation memory fits a budget with the least recomputation.

Measurements (one forward of the sample input, with the ledger): for each module i, `act[i]`,
the bytes of what its nodes keep for backward (each block charged to the last module holding
it, so a layer's input counts for the layer that consumes it), `inp[i]`, the bytes of its
input, and `cost[i]`, its forward time (or its bytes, or costs given by the caller).

The memory model, for segments s = [a, b] in order, each checkpointed or not:

- from its forward until its backward, a segment holds H_s: its input (checkpointed) or its
  activations act[a..b] (not checkpointed);
- backward runs the segments last to first; while it runs segment s, the earlier segments
  still hold their H, and s holds R_s: act[a..b], plus its kept input if module a itself does
  not keep it (checkpointed, the activations come back by recomputation), plus its output if
  module b keeps it too (a ReLU keeps its output, which is charged to the next layer);
- so the peak is max over s of (H_1 + ... + H_{s-1} + R_s), and the recomputation costs the
  sum of cost[a..b] over the checkpointed segments.

`plan_checkpoints` minimises the recomputation under `peak <= budget` by dynamic programming
over segment boundaries, keeping at each boundary the Pareto front of (memory held so far,
recomputation so far).
"""

import math
import time

from ...autograd import graph
from ...autograd.tensor import Tensor
from ...diagnostics.memory import (
    ACTIVATION,
    PARAMETER_COPY,
    base_array,
    format_bytes,
    ledger_blocks,
)
from ...nn.container import Sequential
from ...nn.module import Module, record_module_paths
from . import _state
from ._checkpoint import checkpoint

__all__ = ["CheckpointPlan", "plan_checkpoints", "measure_modules"]


class ModuleCosts:
    """Per-module measurements of a chain: activation bytes, input bytes, recompute cost."""

    def __init__(self, act, inp, input_kept, cost, cost_unit, output_extra=None):
        self.act = act
        self.inp = inp
        self.input_kept = input_kept  # whether module i itself keeps its input
        # bytes of module i's output that module i keeps but a later module is charged for
        self.output_extra = output_extra or [0] * len(act)
        self.cost = cost
        self.cost_unit = cost_unit

    def __len__(self):
        return len(self.act)


def measure_modules(modules, input, cost="time"):
    """Run `modules` once on `input` (buffers and random streams are restored afterwards) and
    measure, per module, the bytes it keeps for backward, the bytes of its input, and its cost:
    forward seconds (`cost="time"`, from a second, timed run), the bytes of its output
    (`cost="bytes"`), or the given sequence of numbers."""
    chain = _as_sequential(modules)
    children = list(chain.children())
    found_modules, generators = _state.reachable(chain, (), {})
    buffers = _state.BufferSnapshot(found_modules)
    rng = _state.rng_states(generators)
    previous = graph.set_grad_enabled_flag(True)
    try:
        with record_module_paths(chain):
            inputs, h = [], input
            for child in children:
                inputs.append(h)
                h = child(h)
        blocks, _ = ledger_blocks(h)
        seconds = _time_children(children, input) if cost == "time" else None
    finally:
        graph.set_grad_enabled_flag(previous)
        buffers.restore()
        _state.set_rng_states(rng)
    n = len(children)
    act = [0] * n
    input_kept = [False] * n
    output_extra = [0] * n
    outputs = [*inputs[1:], h]
    bases = {id(base_array(x.data)): i for i, x in enumerate(inputs) if isinstance(x, Tensor)}
    out_bases = {id(base_array(y.data)): i for i, y in enumerate(outputs)
                 if isinstance(y, Tensor)}
    for base, row in blocks:
        owners = [i for i in map(_top_index, row.held_by) if i is not None]
        if row.kind in (ACTIVATION, PARAMETER_COPY) and owners:
            act[owners[-1]] += row.nbytes
        i = bases.get(id(base))
        if i is not None and i in owners:
            input_kept[i] = True
        i = out_bases.get(id(base))
        if i is not None and i in owners and owners[-1] != i:
            output_extra[i] = row.nbytes
    inp = [_nbytes(x) for x in inputs]
    if cost == "time":
        costs, unit = seconds, "s"
    elif cost == "bytes":  # the bytes each module writes: a proxy for elementwise work
        costs, unit = [float(_nbytes(y)) for y in outputs], "bytes"
    else:
        costs, unit = [float(c) for c in cost], "units"
        if len(costs) != n:
            raise ValueError(f"plan_checkpoints: got {len(costs)} costs for {n} modules")
    return ModuleCosts(act, inp, input_kept, costs, unit, output_extra)


def _as_sequential(modules):
    if isinstance(modules, Sequential):
        return modules
    modules = list(modules)
    for m in modules:
        if not isinstance(m, Module):
            raise TypeError(f"plan_checkpoints: expected Modules, got {type(m).__name__}")
    return Sequential(*modules)


def _time_children(children, input):
    seconds, h = [], input
    for child in children:
        start = time.perf_counter()
        h = child(h)
        seconds.append(time.perf_counter() - start)
    return seconds


def _top_index(path):
    if not path:
        return None
    head = path.split(".", 1)[0]
    return int(head) if head.isdigit() else None


def _nbytes(x):
    return int(base_array(x.data).nbytes) if isinstance(x, Tensor) else 0


class CheckpointPlan:
    """Where to cut a chain of modules: `segments` as (start, end, checkpointed) with `end`
    inclusive, the predicted peak activation bytes, the predicted recomputation (in
    `cost_unit`), and the same for no checkpointing. Calling the plan runs the chain with it."""

    def __init__(self, modules, segments, costs, budget_bytes):
        self.modules = list(modules)
        self.segments = segments
        self.costs = costs
        self.budget_bytes = budget_bytes
        self.predicted_peak_bytes, self.predicted_recompute, self.predicted_held_bytes = (
            evaluate(segments, costs))
        n = len(costs)
        self.baseline_peak_bytes = evaluate([(0, n - 1, False)], costs)[0] if n else 0
        self.forward_cost = sum(costs.cost)

    def __call__(self, input):
        for start, end, checkpointed in self.segments:
            run = _Run(self.modules[start:end + 1])
            input = checkpoint(run, input) if checkpointed else run(input)
        return input

    def __str__(self):
        unit = self.costs.cost_unit
        lines = [f"checkpoint plan for {len(self.costs)} modules, budget "
                 f"{format_bytes(self.budget_bytes)}:"]
        for start, end, checkpointed in self.segments:
            act = sum(self.costs.act[start:end + 1])
            lines.append(f"  modules {start}..{end}: "
                         f"{'checkpointed' if checkpointed else 'kept':12} "
                         f"activations {format_bytes(act)}")
        lines.append(
            f"predicted peak activation memory {format_bytes(self.predicted_peak_bytes)} "
            f"(without checkpointing {format_bytes(self.baseline_peak_bytes)}); recomputation "
            f"{self.predicted_recompute:.4g} {unit} "
            f"({_percent(self.predicted_recompute, self.forward_cost)} of one forward)"
        )
        return "\n".join(lines)

    def __repr__(self):
        return (f"<CheckpointPlan {len(self.segments)} segments, peak "
                f"{format_bytes(self.predicted_peak_bytes)}>")


def _percent(a, b):
    return f"{100 * a / b:.0f}%" if b else "-"


class _Run:
    def __init__(self, modules):
        self.modules = modules

    def __call__(self, input):
        for m in self.modules:
            input = m(input)
        return input


def _held_and_running(costs, start, end, checkpointed, act=None):
    """(H, R) of segment [start, end] (see the module docstring)."""
    act = sum(costs.act[start:end + 1]) if act is None else act
    output = costs.output_extra[end]
    if not checkpointed:
        return act, act + output
    extra = 0 if costs.input_kept[start] else costs.inp[start]
    return costs.inp[start], act + extra + output


def _prefix(values):
    out = [0]
    for v in values:
        out.append(out[-1] + v)
    return out


def evaluate(segments, costs):
    """(predicted peak bytes, recomputation, bytes held when the forward ends) of `segments`
    under the memory model above."""
    held = peak = recompute = 0
    for start, end, checkpointed in segments:
        h, r = _held_and_running(costs, start, end, checkpointed)
        peak = max(peak, held + r)
        held += h
        if checkpointed:
            recompute += sum(costs.cost[start:end + 1])
    return peak, recompute, held


def plan_checkpoints(modules, input, budget_bytes, cost="time", costs=None):
    """The cheapest way (least recomputation) to checkpoint the chain `modules` (a Sequential
    or a list of Modules) so that its predicted peak activation memory on `input` is at most
    `budget_bytes`. `costs` (a `measure_modules` result) skips the measuring run."""
    if costs is None:
        costs = measure_modules(modules, input, cost)
    n = len(costs)
    modules = list(_as_sequential(modules).children())
    if n == 0:
        return CheckpointPlan(modules, [], costs, budget_bytes)
    act_sum, cost_sum = _prefix(costs.act), _prefix(costs.cost)
    # front[i]: the Pareto-optimal (held bytes, recomputation, segments) with modules 0..i-1
    # planned: a state holding more and costing more can never lead to a better plan.
    front = [[] for _ in range(n + 1)]
    front[0] = [(0, 0.0, ())]
    for i in range(n):
        for j in range(i, n):
            act = act_sum[j + 1] - act_sum[i]
            for checkpointed in (False, True):
                h, r = _held_and_running(costs, i, j, checkpointed, act)
                c = cost_sum[j + 1] - cost_sum[i] if checkpointed else 0.0
                for held, recompute, segments in front[i]:
                    if held + r <= budget_bytes:
                        _insert(front[j + 1], (held + h, recompute + c,
                                               (*segments, (i, j, checkpointed))))
    if not front[n]:
        smallest = _smallest_peak(costs)
        raise ValueError(
            f"plan_checkpoints: no plan fits {format_bytes(budget_bytes)}; the smallest "
            f"predicted peak for this chain is {format_bytes(smallest)} (without checkpointing "
            f"{format_bytes(evaluate([(0, n - 1, False)], costs)[0])})"
        )
    best = min(front[n], key=lambda s: (s[1], evaluate(s[2], costs)[0], len(s[2])))
    return CheckpointPlan(modules, list(best[2]), costs, budget_bytes)


def _insert(front, candidate):
    """Add (held, recompute, segments) unless another state is at least as good in both."""
    held, recompute, segments = candidate
    for other in front:
        if other[0] <= held and other[1] <= recompute and (
            other[0] < held or other[1] < recompute or len(other[2]) <= len(segments)
        ):
            return
    front[:] = [o for o in front if not (held <= o[0] and recompute <= o[1])]
    front.append(candidate)


def _smallest_peak(costs):
    """The least predicted peak over all plans (recomputation ignored), by bisection on the
    budget."""
    n = len(costs)
    low, high = 0, evaluate([(0, n - 1, False)], costs)[0]
    best = high
    for _ in range(40):
        if high - low <= max(1, high // 1000):
            break
        mid = (low + high) // 2
        if _feasible(costs, mid):
            best, high = mid, mid
        else:
            low = mid
    return best


def _feasible(costs, budget):
    n = len(costs)
    least = [math.inf] * (n + 1)  # least held bytes with modules 0..i-1 planned
    least[0] = 0
    for i in range(n):
        if least[i] == math.inf:
            continue
        for j in range(i, n):
            for checkpointed in (False, True):
                h, r = _held_and_running(costs, i, j, checkpointed)
                if least[i] + r <= budget:
                    least[j + 1] = min(least[j + 1], least[i] + h)
    return least[n] < math.inf
