"""Reverse mode: walk the recorded graph from the outputs back to the leaves.

The walk is iterative. Every node's `seq` is larger than the seq of every node it depends on,
so visiting the reachable nodes in decreasing seq is a topological order: each node runs once,
after all its consumers have added their contributions. The order is deterministic.

Gradients flow through one table keyed by node (or by leaf tensor); an entry is popped when its
node runs, so memory for gradients is released as the walk goes. After the walk the graph's saved
arrays are released unless `retain_graph=True`.
"""

import gc
import heapq
import operator
import os

import numpy as np

from . import array_ns, backward_checks, graph, hooks, leaf_grads
from .graph import Node
from .tensor import Tensor, new_tensor

_by_seq = operator.attrgetter("seq")
_compiled = None  # the compiled hot paths (csrc/accel/) when built and on; see use_accelerator
queue_callback = hooks.queue_callback  # also here, where PyTorch users look for it


def backward(tensors, grad_tensors=None, retain_graph=None, create_graph=False, inputs=None):
    """Accumulate the gradients of `tensors` into `.grad` of the leaves (all, or `inputs`)."""
    tensors = backward_checks.as_tensor_list(tensors, "backward")
    if retain_graph is None:
        retain_graph = create_graph
    only = None
    if inputs is not None:
        only = backward_checks.as_tensor_list(inputs, "backward(inputs=...)")
        if not only:
            raise ValueError("backward(): 'inputs' must not be empty")
    roots, grads = backward_checks.root_gradients(tensors, grad_tensors, create_graph, "backward")
    run(roots, grads, retain_graph, create_graph, targets=only, accumulate=True)


def grad(
    outputs,
    inputs,
    grad_outputs=None,
    retain_graph=None,
    create_graph=False,
    allow_unused=False,
    materialize_grads=False,
):
    """Return d(outputs)/d(inputs) as a tuple, without touching any `.grad`."""
    outputs = backward_checks.as_tensor_list(outputs, "grad")
    single = isinstance(inputs, Tensor)
    inputs = backward_checks.as_tensor_list(inputs, "grad(inputs=...)")
    for i, x in enumerate(inputs):
        if not x._requires_grad:
            raise RuntimeError(f"grad(): input {i} does not require grad")
    if retain_graph is None:
        retain_graph = create_graph
    roots, grads = backward_checks.root_gradients(outputs, grad_outputs, create_graph, "grad")
    found = run(roots, grads, retain_graph, create_graph, targets=inputs, accumulate=False)
    results = []
    for i, x in enumerate(inputs):
        g = found.get(backward_checks.graph_key(x))
        if g is None:
            if materialize_grads:
                g = np.zeros_like(x.data)
            elif not allow_unused:
                raise RuntimeError(
                    f"grad(): input {i} (shape {x.shape}) was not used to compute the outputs; "
                    "pass allow_unused=True to get None for it"
                )
        results.append(None if g is None else leaf_grads.as_grad_tensor(g, copy=True))
    return tuple(results) if not single else (results[0],)


def run(roots, root_grads, retain_graph, create_graph, targets=None, accumulate=True):
    """The walk, then the callbacks queued during it (`hooks.queue_callback`), in order."""
    callbacks = []
    hooks.CALLBACKS.append(callbacks)
    # NOTE: the walk makes no reference cycles, but its many small allocations would trigger
    # Python's cyclic GC, whose full collections scan the whole (large, alive) graph: a third
    # of the walk's time on a 20,000-node graph. Collection resumes when the walk ends.
    collecting = gc.isenabled()
    gc.disable()
    try:
        found = _walk(roots, root_grads, retain_graph, create_graph, targets, accumulate)
        i = 0
        while i < len(callbacks):  # a callback may queue another
            callbacks[i]()
            i += 1
    finally:
        hooks.CALLBACKS.pop()
        if collecting:
            gc.enable()
    return found


class _Walk:
    """What one backward walk shares between its steps."""

    __slots__ = ("table", "ns", "create_graph", "retain_graph", "anomaly", "target_keys",
                 "found", "accumulate", "finish")


def _walk(roots, root_grads, retain_graph, create_graph, targets, accumulate):
    """`roots` are graph keys (Node or leaf Tensor) paired with their gradients.

    With `accumulate`, leaf gradients go into `.grad` (only for `targets` when given) and into
    retained non-leaf tensors; otherwise the gradients of `targets` are returned by key.

    Nodes run in decreasing seq, taken from a heap of the nodes a gradient has reached. A node
    whose consumers have all run cannot be waiting behind one of higher seq, so the order is
    topological, and nodes no gradient reaches are never visited.
    """
    w = _Walk()
    w.table = table = {}
    for key, g in zip(roots, root_grads):
        _add(table, key, g)
    w.ns = graph.TENSOR_NS if create_graph else array_ns
    w.create_graph = create_graph
    w.retain_graph = retain_graph
    w.anomaly = graph.get_anomaly()
    w.target_keys = None if targets is None else {backward_checks.graph_key(t): t for t in targets}
    w.found = {}
    w.accumulate = accumulate
    w.finish = None
    if Tensor._post_hooks_used and accumulate and targets is None:
        nodes = _reachable_nodes(roots)
        nodes.sort(key=_by_seq, reverse=True)
        w.finish = hooks.finish_plan(nodes) or None  # an empty plan keeps the walk plain
    starts = [r for r in set(roots) if type(r) is Node]
    plain = not create_graph and w.anomaly is None and w.target_keys is None and w.finish is None
    previous_mode = graph.set_grad_enabled_flag(create_graph)
    try:
        if _compiled is not None:
            _compiled.walk(w, starts, plain, _step)
        else:
            heap = [(-r.seq, r) for r in starts]
            heapq.heapify(heap)
            while heap:
                node = heapq.heappop(heap)[1]
                for reached in _step(w, node, table.pop(node)):
                    heapq.heappush(heap, (-reached.seq, reached))
    finally:
        graph.set_grad_enabled_flag(previous_mode)
    _finish_leaves(w)
    return w.found


def _step(w, node, g):
    """Run one node: its hooks, its VJP, and each input's gradient into the table. Returns the
    nodes this step reached first (they join the walk's queue).

    The accelerator (`csrc/accel/`) runs plain nodes itself and calls this for the others; keep
    the two in step.
    """
    table = w.table
    ns = w.ns
    create_graph = w.create_graph
    if node.hooks:
        g = leaf_grads.run_hooks(node.hooks, g, create_graph)
    if w.target_keys is not None and node in w.target_keys:
        w.found[node] = g
        if w.accumulate:
            leaf_grads.store_nonleaf_grad(w.target_keys[node], g)
    op = node.op
    values = _saved_values(node, op, create_graph)
    if op.vjp is None:
        raise NotImplementedError(f"op '{op.name}' has no VJP rule, so it cannot be backpropagated")
    try:
        gxs = op.vjp(ns, g, values, node.params, node.needs)
    except Exception as err:
        _note_vjp_failure(node, err)
        raise
    edges = node.edges
    if len(edges) == 1:
        gxs = (gxs,)
    reached = []
    for edge, gx in zip(edges, gxs):
        if edge is None or gx is None:
            continue  # no gradient wanted, or the rule says it is zero
        if type(edge) is Node:
            gx = _conform(ns, gx, edge.shape, edge.dtype, node, gxs, g, w.anomaly)
            previous = table.get(edge)
            if previous is not None:
                table[edge] = previous + gx
            else:
                table[edge] = gx
                reached.append(edge)
        else:
            data = edge.data
            gx = _conform(ns, gx, data.shape, data.dtype, node, gxs, g, w.anomaly)
            leaf_grads.add_to_leaf(table, edge, gx, not create_graph)
    gxs = gx = g = None  # hold no reference: a leaf may adopt its gradient uncopied
    if not w.retain_graph:  # release what backward kept
        node.saved = None
        node.out_data = None
        if op.has_aux:
            node.aux = None
    if w.finish is not None and node in w.finish:
        for leaf in w.finish[node]:
            if leaf in table:
                # NOTE: the total passed straight on, held by no local: it may be adopted
                leaf_grads.finish_leaf_early(
                    leaf, leaf_grads.leaf_total(table.pop(leaf)), create_graph
                )
    return reached


def _note_vjp_failure(node, err):
    """Name the node whose rule raised `err` (the compiled loop calls this too)."""
    err.add_note(backward_checks.where(node, "while computing the gradient of"))


def _finish_leaves(w):
    """What is left in the table are the leaves. Popping them leaves each gradient array with no
    reference but ours when nothing else holds it, so accumulate_leaf can adopt it uncopied."""
    table = w.table
    for leaf in list(table):
        g = leaf_grads.leaf_total(table.pop(leaf))
        if leaf._hooks:
            g = leaf_grads.run_hooks(leaf._hooks, g, w.create_graph)
        if w.target_keys is not None:
            if leaf in w.target_keys:
                w.found[leaf] = g
            else:
                continue
        if w.accumulate:
            leaf_grads.accumulate_leaf(leaf, g, w.create_graph)
            if leaf._post_hooks:
                hooks.run_post_hooks(leaf)


def _conform(ns, gx, shape, dtype, node, gxs, g, anomaly):
    """Bring an input's gradient to the input's shape and dtype, and check it in anomaly mode."""
    if gx.shape == shape and gx.dtype is dtype and anomaly is None:
        return gx
    i = 0
    while gxs[i] is not gx:  # which input, for the messages
        i += 1
    if gx.shape != shape:
        gx = _fit_shape(ns, gx, shape, node, i)
    if gx.dtype != dtype:
        gx = ns.cast(gx, dtype)
    if anomaly is not None:
        anomaly.check_backward(node, i, gx, g)
    return gx


def _saved_values(node, op, create_graph):
    """What the node's VJP reads: its saved inputs, then its output, then aux (arrays on the
    plain path, Tensors under create_graph), after checking none was changed in place."""
    saved = node.saved
    if saved is None:
        if op.save or op.save_out or op.has_aux:
            raise RuntimeError(
                f"backward through '{op.name}' a second time: its saved values were already "
                "freed; pass retain_graph=True to the first backward() to keep them"
            )
        saved = ()
    for x in saved:
        if x._version is not None:  # only tensors ever changed in place have a counter
            backward_checks.check_versions(node, saved)
            break
    if node.out_version is not None and node.out_version[0]:
        backward_checks.check_versions(node, saved)
    if create_graph:
        values = list(saved)
        if op.save_out:
            values.append(_saved_output(node))
    else:
        values = [x.data for x in saved]
        if op.save_out:
            values.append(node.out_data)
    if op.has_aux:
        values.append(node.aux)
    return values


def _fit_shape(ns, gx, shape, node, i):
    """The one place broadcasting is undone: sum a broadcast gradient down to the input's shape,
    or expand a reduced one (from sum/mean rules) back up to it."""
    gx_shape = gx.shape
    lead = len(gx_shape) - len(shape)
    try:
        if lead > 0 or any(
            n == 1 and m != 1 for n, m in zip(shape, gx_shape[max(lead, 0) :])
        ):
            return ns.sum_to(gx, shape)
        return ns.expand(gx, shape)
    except ValueError as err:
        raise RuntimeError(
            f"op '{node.op.name}': its VJP returned a gradient of shape {tuple(gx.shape)} for "
            f"input {i}, which has shape {shape}"
        ) from err


def _saved_output(node):
    """The saved output as a Tensor attached to its node, for rules recorded by create_graph.

    The node keeps the output's array, not the output tensor (which would be a reference
    cycle); the tensor is rebuilt here around the same array and node.
    """
    t = new_tensor(node.out_data)
    t._requires_grad = True
    t._node = node
    return t


def _add(table, key, g):
    previous = table.get(key)
    table[key] = g if previous is None else previous + g


def _reachable_nodes(roots):
    nodes = []
    seen = set()
    stack = [r for r in roots if type(r) is Node]
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


# ---------------------------------------------------------------------------- the accelerator
def use_accelerator(flag=True):
    """Run backward walks with the compiled loop and record ops with the compiled recorder
    (`csrc/accel/`, the default when it was built) or, with False, the pure-Python ones. Both give
    the same results; returns the previous setting. RETROGRAD_PURE_PYTHON=1 in the environment
    turns it off at import."""
    global _compiled
    previous = _compiled is not None
    _compiled = graph._record = None
    if not flag:
        return previous
    try:
        from . import _accel  # noqa: PLC0415 - optional: built where a C compiler was found
    except ImportError:
        return previous
    _accel.setup(Node, Tensor, leaf_grads.add_to_leaf, _conform, _note_vjp_failure,
                 leaf_grads.DEFER_MAX_COUNT)
    _accel.setup_record(vars(graph), graph._ONE, graph._BOTH, graph._FIRST, graph._SECOND,
                        graph._NO_PARAMS, np.ndarray, np.asarray)
    _accel.setup_primitives(tuple(np.dtype(t) for t in (np.float16, np.float32, np.float64)))
    _compiled = _accel
    graph._record = _accel.record
    return previous


def accelerated():
    """True when the compiled walk and recorder are on."""
    return _compiled is not None


use_accelerator(os.environ.get("RETROGRAD_PURE_PYTHON", "") in ("", "0"))
