"""The activation-memory ledger: what a recorded graph keeps alive for its backward pass.

    with rg.nn.record_module_paths(model):      # optional: attribute memory to layers
        loss = loss_fn(model(x), y)
    ledger = rg.diagnostics.memory_ledger(loss)  # before backward, which frees it all
    print(ledger)
    ledger.total_bytes, ledger.by_module(), ledger.by_op()

Every node reachable from the outputs keeps what its op declared: saved input tensors, the output
array (`save_out`) and non-differentiable by-products (`aux`). The ledger lists each distinct
block of memory once: several nodes often keep the same tensor (a ReLU's output is also the next
matmul's input), and a view keeps its whole base alive, so memory is keyed by the base array.
Each block is charged to the node that was created first among those holding it, with that
node's op, module path (from `rg.nn.record_module_paths`) and, in anomaly mode, source line.

Parameters (leaves that require grad) are listed but not counted: the model holds them anyway.
Copies made from parameters alone (an autocast cast of a weight, its transpose) are counted, as
"parameter copy", apart from the activations that scale with the batch.
"""

import numpy as np

from ..autograd.graph import Node
from ..autograd.tensor import Tensor

ACTIVATION = "activation"
PARAMETER = "parameter"
PARAMETER_COPY = "parameter copy"

# Ops that only re-view or re-type their one input: what they make from a parameter is a copy
# of the parameter, not an activation.
_PARAMETER_PRESERVING = frozenset(
    {"cast", "permute", "reshape", "expand", "clone"}
)


class LedgerRow:
    """One distinct block of memory kept for backward."""

    __slots__ = ("op", "module", "holds", "shape", "dtype", "nbytes", "kind", "holders",
                 "held_by", "source", "seq")

    def __init__(self, op, module, holds, shape, dtype, nbytes, kind, source, seq):
        self.op = op  # the op of the first node that keeps it
        self.module = module  # that node's module path, or None
        self.holds = holds  # 'input 0', 'output', 'aux'
        self.shape = shape
        self.dtype = dtype
        self.nbytes = nbytes  # bytes of the base array (what stays allocated)
        self.kind = kind  # ACTIVATION, PARAMETER or PARAMETER_COPY
        self.holders = 1  # how many (node, slot) pairs keep this memory
        self.held_by = (module,)  # the module path of each of them, in creation order
        self.source = source  # the user's line (anomaly mode), or None
        self.seq = seq

    def as_dict(self):
        return {name: getattr(self, name) for name in self.__slots__}

    def __repr__(self):
        return (f"LedgerRow({self.op} {self.holds} {self.shape} {self.dtype} {self.nbytes} B, "
                f"{self.kind}, module={self.module!r})")


class MemoryLedger:
    """What a graph keeps for backward: `rows` (one per distinct block of memory), totals, and
    the same bytes grouped by op or module."""

    def __init__(self, rows, n_nodes):
        self.rows = rows
        self.n_nodes = n_nodes

    def _bytes(self, kinds):
        return sum(r.nbytes for r in self.rows if r.kind in kinds)

    @property
    def total_bytes(self):
        """Bytes the graph keeps alive for backward: activations and parameter copies
        (parameters themselves are not counted)."""
        return self._bytes((ACTIVATION, PARAMETER_COPY))

    @property
    def activation_bytes(self):
        return self._bytes((ACTIVATION,))

    @property
    def parameter_copy_bytes(self):
        return self._bytes((PARAMETER_COPY,))

    @property
    def parameter_bytes(self):
        """Bytes of the parameters the graph refers to (held by the model; not in the total)."""
        return self._bytes((PARAMETER,))

    def _group(self, key):
        groups = {}
        for r in self.rows:
            if r.kind != PARAMETER:
                name = key(r)
                groups[name] = groups.get(name, 0) + r.nbytes
        return dict(sorted(groups.items(), key=lambda item: -item[1]))

    def by_op(self):
        """{op name: bytes}, largest first (parameters not counted)."""
        return self._group(lambda r: r.op)

    def by_module(self):
        """{module path: bytes}, largest first; '-' for nodes made outside any recorded module
        ('' is the model itself)."""
        return self._group(lambda r: "-" if r.module is None else r.module)

    def table(self, max_rows=40):
        """The ledger as text: one line per block of memory (the largest `max_rows`), then the
        totals by module and by op."""
        rows = sorted(self.rows, key=lambda r: (-r.nbytes, r.seq))
        shown = rows if max_rows is None else rows[:max_rows]
        header = ("op", "module", "holds", "shape", "dtype", "bytes", "kind", "x", "source")
        lines = [
            (r.op, "-" if r.module is None else r.module or "(model)", r.holds, str(r.shape),
             str(r.dtype), format_bytes(r.nbytes), r.kind, str(r.holders), r.source or "")
            for r in shown
        ]
        out = [f"activation-memory ledger: {self.n_nodes} nodes, {len(self.rows)} blocks"]
        out += _columns(header, lines)
        if len(rows) > len(shown):
            out.append(f"... {len(rows) - len(shown)} smaller blocks not shown")
        out.append(
            f"total kept for backward: {format_bytes(self.total_bytes)} "
            f"(activations {format_bytes(self.activation_bytes)}, parameter copies "
            f"{format_bytes(self.parameter_copy_bytes)}); parameters referenced, not counted: "
            f"{format_bytes(self.parameter_bytes)}"
        )
        for title, groups in (("by module", self.by_module()), ("by op", self.by_op())):
            out.append(f"{title}: " + ", ".join(
                f"{name or '(model)'} {format_bytes(n)}" for name, n in groups.items()))
        return "\n".join(out)

    def __str__(self):
        return self.table()

    def __repr__(self):
        return (f"<MemoryLedger {self.n_nodes} nodes, {len(self.rows)} blocks, "
                f"{format_bytes(self.total_bytes)}>")


def memory_ledger(outputs):
    """The ledger of everything the graph behind `outputs` (a Tensor or a sequence of Tensors)
    keeps for backward. Call it before backward: backward releases what it lists."""
    blocks, n_nodes = ledger_blocks(outputs)
    return MemoryLedger([row for _, row in blocks], n_nodes)


def ledger_blocks(outputs):
    """([(base array, LedgerRow)], number of nodes): the ledger's rows with the memory each one
    stands for (for tools that must match blocks to tensors, such as the checkpoint planner)."""
    roots = [outputs] if isinstance(outputs, Tensor) else list(outputs)
    for t in roots:
        if not isinstance(t, Tensor):
            raise TypeError(f"memory_ledger: expected Tensors, got {type(t).__name__}")
    nodes = _reachable([t._node for t in roots if t._node is not None])
    nodes.sort(key=lambda node: node.seq)  # creation order: memory goes to its first holder
    blocks = {}  # id(base array) -> (base, row); the base is kept so ids stay unique
    for node in nodes:
        for holds, value, kind in _held(node):
            array = value.data if isinstance(value, Tensor) else value
            if not isinstance(array, np.ndarray):
                continue  # a shell of a checkpointed segment, or a released value
            base = base_array(array)
            entry = blocks.get(id(base))
            if entry is not None:
                entry[1].holders += 1
                entry[1].held_by += (node.module_path,)
                continue
            row = LedgerRow(node.op.name, node.module_path, holds, tuple(array.shape),
                            array.dtype, int(base.nbytes), kind, node.source, node.seq)
            blocks[id(base)] = (base, row)
    return list(blocks.values()), len(nodes)


class BackwardMemory:
    """What the graph keeps while backward runs: `timeline` holds (op name, bytes kept) just
    before each node's rule runs; `peak_bytes` is the largest of those and of the bytes kept
    when backward starts (`start_bytes`). A checkpointed segment shows up with its recomputed
    activations."""

    def __init__(self, start_bytes):
        self.start_bytes = start_bytes
        self.timeline = []

    @property
    def peak_bytes(self):
        return max([self.start_bytes, *(n for _, n in self.timeline)])

    def __repr__(self):
        return (f"<BackwardMemory start {format_bytes(self.start_bytes)}, peak "
                f"{format_bytes(self.peak_bytes)} over {len(self.timeline)} nodes>")


def watch_backward(outputs):
    """Call before backward: record the ledger's total (activations and parameter copies)
    before each node of the graph behind `outputs` runs, as a `BackwardMemory`. Each sample
    walks the graph, so this is for diagnosing graphs of up to a few thousand nodes."""
    roots = [outputs] if isinstance(outputs, Tensor) else list(outputs)
    record = BackwardMemory(memory_ledger(roots).total_bytes)
    nodes = _reachable([t._node for t in roots if t._node is not None])
    for node in nodes:
        if node.hooks is None:
            node.hooks = []
        node.hooks.append(_Sampler(record, roots, node.op.name))
    return record


class _Sampler:
    """A node hook that samples the memory kept (and leaves the gradient alone)."""

    __slots__ = ("record", "roots", "name")

    def __init__(self, record, roots, name):
        self.record, self.roots, self.name = record, roots, name

    def __call__(self, grad):
        self.record.timeline.append((self.name, memory_ledger(self.roots).total_bytes))


def _reachable(roots):
    nodes, seen, stack = [], set(), list(roots)
    while stack:
        node = stack.pop()
        if node in seen:
            continue
        seen.add(node)
        nodes.append(node)
        for edge in node.edges:
            if type(edge) is Node and edge not in seen:
                stack.append(edge)
    return nodes


def _held(node):
    """(holds, tensor or array, kind) for everything `node` keeps."""
    saved = node.saved or ()
    for i, x in enumerate(saved):
        if x._node is None:
            yield f"input {i}", x, PARAMETER if x._requires_grad else ACTIVATION
        else:
            yield f"input {i}", x, _kind(x._node, x.data)
    if node.op.save_out and node.out_data is not None:
        yield "output", node.out_data, _kind(node, node.out_data)
    aux = node.aux
    if aux is not None:
        stack = [aux]
        while stack:  # aux may be an array or a (nested) tuple of them
            item = stack.pop()
            if isinstance(item, (tuple, list)):
                stack.extend(reversed(item))
            elif isinstance(item, (np.ndarray, Tensor)):
                yield "aux", item, ACTIVATION


def _kind(node, array):
    """A parameter's view is the parameter's memory; a cast or copy of it is a parameter copy;
    anything else is an activation."""
    parameter = _parameter_root(node)
    if parameter is None:
        return ACTIVATION
    if isinstance(array, np.ndarray) and base_array(array) is base_array(parameter.data):
        return PARAMETER
    return PARAMETER_COPY


def _parameter_root(node):
    """The parameter `node` only re-views or re-types (through a chain of such ops), or None."""
    while node.op.name in _PARAMETER_PRESERVING and len(node.edges) == 1:
        edge = node.edges[0]
        if type(edge) is not Node:
            return edge if edge is not None and edge._requires_grad else None
        node = edge
    return None


def base_array(array):
    """The array that owns the memory `array` views (itself when it owns it)."""
    while isinstance(array.base, np.ndarray):
        array = array.base
    return array


def format_bytes(n):
    """1536 -> '1.5 KiB'."""
    if abs(n) < 1024:
        return f"{n:.0f} B"
    for unit in ("KiB", "MiB", "GiB"):
        n /= 1024
        if abs(n) < 1024 or unit == "GiB":
            return f"{n:.1f} {unit}"


def _columns(header, lines):
    widths = [max(len(c) for c in column) for column in zip(header, *lines)]
    right = {5, 7}  # numbers
    out = []
    for k, line in enumerate([header, *lines]):
        cells = [c.rjust(w) if i in right else c.ljust(w)
                 for i, (c, w) in enumerate(zip(line, widths))]
        out.append("  ".join(cells).rstrip())
        if k == 0:
            out.append("  ".join("-" * w for w in widths))
    return out
