"""explain_backward: the backward pass of a small graph, one node at a time.

    x = rg.tensor(0.5, requires_grad=True)
    y = rg.tensor(-1.0, requires_grad=True)
    f = (x * y + x).tanh()
    steps = rg.viz.explain_backward(f, names={"x": x, "y": y})
    print(steps)

Nodes are visited in the engine's order (decreasing creation number: every node runs after all
the nodes that read its output). Each step shows the node's op and value, the gradient that
reached it (`grad_output`: the sum of what its consumers sent), and for each input the local
derivative (for elementwise ops), the contribution the op's VJP sends to it (the chain rule:
grad_output times the local derivative) and that input's gradient accumulated so far, which
shows the sum at fan-in. It runs the same VJP rules as the engine on the saved values, so the
real graph is left as it was: no `.grad` changes, nothing is freed, no hooks run.
"""

import numpy as np

from ..autograd import array_ns
from ..autograd.engine import _fit_shape
from ..autograd.graph import Node
from ..autograd.tensor import Tensor
from ..ops._elementwise import Elementwise

__all__ = ["BackwardExplanation", "BackwardStep", "Contribution", "explain_backward"]

# Binary and other elementwise ops whose VJP of ones is their local derivative (unary
# elementwise ops derive from ops._elementwise.Elementwise and are recognised by class).
_ELEMENTWISE = frozenset({
    "add", "sub", "mul", "div", "neg", "pow", "pow_scalar", "maximum", "minimum", "fmax", "fmin",
    "where", "clamp", "clamp_tensor", "leaky_relu", "elu", "gelu", "softplus", "hardtanh",
    "atan2", "hypot", "cast", "clone", "silu", "hardswish", "logsigmoid",
})


class Contribution:
    """What one step sends to one input: `local` (the elementwise local derivative d out /
    d input, or None), `gradient` (the VJP: grad_output times local), `total` (that input's
    gradient after adding it), `count`/`of` (contributions so far / in all)."""

    __slots__ = ("index", "target", "local", "gradient", "total", "count", "of")

    def __init__(self, index, target, local, gradient, total, count, of):
        self.index = index
        self.target = target
        self.local = local
        self.gradient = gradient
        self.total = total
        self.count = count
        self.of = of

    @property
    def complete(self):
        return self.count == self.of

    def __repr__(self):
        return f"<Contribution to {self.target}: {_fmt(self.gradient)}>"


class BackwardStep:
    """One node of the walk: `op`, `label`, `module`, `value` (its forward output, None when it
    cannot be recomputed), `grad_output`, and `contributions` (one per input that gets one)."""

    __slots__ = ("number", "op", "label", "module", "value", "grad_output", "contributions")

    def __init__(self, number, op, label, module, value, grad_output, contributions):
        self.number = number
        self.op = op
        self.label = label
        self.module = module
        self.value = value
        self.grad_output = grad_output
        self.contributions = contributions

    def __repr__(self):
        return f"<BackwardStep {self.number}: {self.label}>"

    def __str__(self):
        value = "?" if self.value is None else _fmt(self.value)
        where = f" [{self.module}]" if self.module else ""
        lines = [f"step {self.number}: {self.label}{where}  value {value}  "
                 f"gradient in {_fmt(self.grad_output)}"]
        for c in self.contributions:
            local = "" if c.local is None else f"local d/d{c.target} = {_fmt(c.local)};  "
            chain = (f"{_fmt(self.grad_output)} * {_fmt(c.local)} = " if c.local is not None
                     and np.size(c.local) == 1 and np.size(self.grad_output) == 1 else "")
            if c.count > 1:
                total = f"sum so far {_fmt(c.total)} ({c.count} of {c.of}: fan-in adds)"
            else:
                total = f"sum so far {_fmt(c.total)} ({c.count} of {c.of})"
            lines.append(f"    -> {c.target}: {local}sends {chain}{_fmt(c.gradient)};  {total}")
        return "\n".join(lines)


class BackwardExplanation(list):
    """The steps in walk order (a list), the final gradients of the leaves by name (`grads`),
    and a readable print-out."""

    def __init__(self, steps, grads, seed):
        super().__init__(steps)
        self.grads = grads
        self.seed = seed

    def __str__(self):
        lines = [f"backward from {self[0].label if self else 'a leaf'}, seed gradient "
                 f"{_fmt(self.seed)}"]
        lines += [str(step) for step in self]
        lines.append("result: " + ", ".join(f"{name}.grad = {_fmt(g)}"
                                            for name, g in self.grads.items()))
        return "\n".join(lines)

    def __repr__(self):
        return f"<BackwardExplanation: {len(self)} steps>"


def explain_backward(output, names=None, gradient=None, max_nodes=100):
    """Step through the backward pass from `output` (see the module docstring).

    `names`: {name: tensor} for leaves and intermediate tensors (unnamed leaves are called
    leaf0, leaf1, ...). `gradient`: the seed, needed when `output` is not a scalar.
    Needs the graph's saved values: call it before `backward()` (or after
    `backward(retain_graph=True)`)."""
    if not isinstance(output, Tensor) or output._node is None:
        raise ValueError("explain_backward: output must be a Tensor computed from tensors that "
                         "require grad")
    seed = _seed(output, gradient)
    nodes = _reachable(output._node)
    if len(nodes) > max_nodes:
        raise ValueError(f"explain_backward: the graph has {len(nodes)} nodes (more than "
                         f"max_nodes={max_nodes}); it is meant for small graphs")
    label = _labeller(nodes, names or {})
    values = _values(nodes)
    pending = _contribution_counts(nodes)
    received = {}
    table = {output._node: seed}
    totals = {}
    steps = []
    for node in nodes:  # decreasing seq, as in the engine
        g = table.pop(node, None)
        if g is None:
            continue
        gxs = _vjp(node, g)
        local = _vjp(node, np.ones_like(g)) if _is_elementwise(node) else None
        contributions = []
        for i, edge in enumerate(node.edges):
            if edge is None or gxs[i] is None:
                continue
            gx = _fit(gxs[i], edge, node, i)
            key = edge if type(edge) is Node else id(edge)
            previous = table.get(key) if type(edge) is Node else totals.get(key)
            total = gx if previous is None else previous + gx
            if type(edge) is Node:
                table[key] = total
            else:
                totals[key] = total
            received[key] = received.get(key, 0) + 1
            li = None
            if local is not None and local[i] is not None and np.shape(local[i]) == np.shape(gx):
                li = np.asarray(local[i])
            contributions.append(Contribution(i, label(edge), li, np.asarray(gx),
                                              np.asarray(total), received[key], pending[key]))
        steps.append(BackwardStep(len(steps) + 1, node.op.name, label(node), node.module_path,
                                  values.get(node), np.asarray(g), contributions))
    leaves = {}
    for node in nodes:
        for edge in node.edges:
            if edge is not None and type(edge) is not Node and id(edge) in totals:
                leaves[label(edge)] = np.asarray(totals[id(edge)])
    return BackwardExplanation(steps, leaves, seed)


# ---------------------------------------------------------------------------------- helpers
def _seed(output, gradient):
    if gradient is None:
        if output.data.size != 1:
            raise ValueError(f"explain_backward: the output has shape {output.shape}; pass "
                             "gradient= a seed of that shape")
        return np.ones_like(output.data)
    g = np.asarray(gradient.data if isinstance(gradient, Tensor) else gradient,
                   dtype=output.data.dtype)
    if g.shape != output.data.shape:
        raise ValueError(f"explain_backward: gradient has shape {g.shape}, output {output.shape}")
    return g


def _reachable(root):
    nodes, seen, stack = [], set(), [root]
    while stack:
        node = stack.pop()
        if node in seen:
            continue
        seen.add(node)
        nodes.append(node)
        stack.extend(e for e in node.edges if type(e) is Node and e not in seen)
    nodes.sort(key=lambda n: n.seq, reverse=True)
    return nodes


def _labeller(nodes, names):
    by_id = {}
    for name, t in names.items():
        by_id[id(t._node) if t._node is not None else id(t)] = name
    leaf_names = {}
    for node in reversed(nodes):  # leaves numbered in creation order of their first use
        for edge in node.edges:
            if edge is not None and type(edge) is not Node and id(edge) not in by_id:
                leaf_names.setdefault(id(edge), f"leaf{len(leaf_names)}")
    step_of = {node: len(nodes) - k for k, node in enumerate(nodes)}

    def label(x):
        if type(x) is Node:
            name = by_id.get(id(x))
            base = f"{x.op.name}#{step_of[x]}"
            return f"{name} ({base})" if name else base
        return by_id.get(id(x)) or leaf_names.get(id(x), "leaf")

    return label


def _values(nodes):
    """Forward values: the saved output, or the op's forward recomputed from known inputs."""
    values = {}
    with np.errstate(all="ignore"):
        for node in reversed(nodes):  # increasing seq: inputs before the nodes that read them
            if node.out_data is not None:
                values[node] = node.out_data
                continue
            inputs = _inputs(node, values)
            if inputs is None:
                continue
            try:
                out = node.op.forward(*inputs, **node.params)
            except Exception:  # noqa: BLE001 - a value we cannot show is only left out
                continue
            values[node] = np.asarray(out[0] if node.op.has_aux else out)
    return values


def _inputs(node, values):
    saved = {}
    if node.saved:
        positions = node.op.save if len(node.op.save) == len(node.saved) else ()
        saved = {i: t.data for i, t in zip(positions, node.saved)}
    inputs = []
    for i, edge in enumerate(node.edges):
        if i in saved:
            inputs.append(saved[i])
        elif type(edge) is Node and edge in values:
            inputs.append(values[edge])
        elif edge is not None and type(edge) is not Node:
            inputs.append(edge.data)
        else:
            return None
    return inputs


def _vjp(node, g):
    op = node.op
    if node.saved is None and (op.save or op.save_out or op.has_aux):
        raise RuntimeError(
            f"explain_backward: the saved values of '{op.name}' were freed by backward(); "
            "call explain_backward before backward(), or pass retain_graph=True to it"
        )
    values = [t.data for t in (node.saved or ())]
    if op.save_out:
        values.append(node.out_data)
    if op.has_aux:
        values.append(node.aux)
    if op.vjp is None:
        raise NotImplementedError(f"explain_backward: op '{op.name}' has no VJP rule")
    with np.errstate(all="ignore"):
        gxs = op.vjp(array_ns, g, values, node.params, node.needs)
    return (gxs,) if len(node.edges) == 1 else tuple(gxs)


def _fit(gx, edge, node, i):
    gx = np.asarray(gx)
    shape, dtype = (edge.shape, edge.dtype) if type(edge) is Node else (edge.data.shape,
                                                                       edge.data.dtype)
    if gx.shape != shape:
        gx = _fit_shape(array_ns, gx, shape, node, i)
    return np.asarray(gx, dtype=dtype)


def _is_elementwise(node):
    return (isinstance(node.op, type) and issubclass(node.op, Elementwise)) or (
        node.op.name in _ELEMENTWISE)


def _contribution_counts(nodes):
    counts = {}
    for node in nodes:
        for edge in node.edges:
            if edge is not None:
                key = edge if type(edge) is Node else id(edge)
                counts[key] = counts.get(key, 0) + 1
    return counts


def _fmt(value):
    a = np.asarray(value)
    if a.size == 1:
        return f"{a.item():.4g}"
    return np.array2string(a, precision=4, suppress_small=True, max_line_width=80,
                           threshold=12).replace("\n", " ")
