"""draw_graph: the recorded computational graph as Graphviz DOT text.

    with rg.nn.record_module_paths(model):     # optional: lets large graphs collapse per module
        loss = loss_fn(model(x), y)
    loss.backward()
    g = rg.viz.draw_graph(loss, params=dict(model.named_parameters()))
    g.source                      # the DOT text
    g.save("graph.dot")
    g.render("graph", format="svg")   # needs Graphviz's `dot` program

Boxes are ops (name, output shape, module path when recorded); parameters are blue, other
leaves grey; arrows follow the data from inputs to outputs. After backward, leaves (and tensors
that called `retain_grad()`, or are named in `tensors=`) show their gradient norm. Inputs that
need no gradient (constants, data) are not part of the graph and are not drawn.
"""

import operator
import os
import shutil
import subprocess
import weakref

import numpy as np

from ..autograd.graph import Node
from ..autograd.tensor import Tensor

__all__ = ["Digraph", "draw_graph"]

_by_seq = operator.attrgetter("seq")

_PARAM_COLOR = "lightblue"
_LEAF_COLOR = "lightgrey"
_OUTPUT_COLOR = "darkolivegreen1"
_MODULE_COLOR = "lightyellow"


class Digraph:
    """DOT text with the graphviz package's basic API: `source`, `save`, `render`, `pipe`.

    `nodes` ({id: {"label", "kind"}}) and `edges` ([(from id, to id)]) hold the same graph as
    data."""

    def __init__(self, nodes, edges, name="retrograd"):
        self.nodes = nodes
        self.edges = edges
        self.name = name

    @property
    def source(self):
        lines = [f"digraph {_quote(self.name)} {{",
                 '  graph [rankdir=TB, fontname="Helvetica"];',
                 '  node [shape=box, style="rounded,filled", fontname="Helvetica", '
                 'fontsize=10, fillcolor=white];',
                 '  edge [arrowsize=0.7];']
        for key, node in self.nodes.items():
            attrs = [f"label={_quote(node['label'])}"]
            color = node.get("color")
            if color:
                attrs.append(f"fillcolor={_quote(color)}")
            if node.get("shape"):
                attrs.append(f"shape={node['shape']}")
            lines.append(f"  {key} [{', '.join(attrs)}];")
        for a, b in self.edges:
            lines.append(f"  {a} -> {b};")
        lines.append("}")
        return "\n".join(lines) + "\n"

    def __str__(self):
        return self.source

    def __repr__(self):
        return f"<Digraph: {len(self.nodes)} nodes, {len(self.edges)} edges>"

    def save(self, path):
        """Write the DOT source to `path`; returns the path."""
        path = os.fspath(path)
        with open(path, "w", encoding="utf-8") as f:
            f.write(self.source)
        return path

    def pipe(self, format="svg"):  # noqa: A002 - graphviz's keyword
        """The rendered image as bytes (needs Graphviz's `dot`)."""
        dot = _dot_program()
        result = subprocess.run([dot, f"-T{format}"], input=self.source.encode("utf-8"),
                                capture_output=True, check=False)
        if result.returncode != 0:
            raise RuntimeError(f"render: dot failed: {result.stderr.decode(errors='replace')}")
        return result.stdout

    def render(self, path, format="svg"):  # noqa: A002 - graphviz's keyword
        """Render to `path` (given the suffix `.{format}` when it has none) with Graphviz's
        `dot`; returns the image's path."""
        path = os.fspath(path)
        if not path.endswith("." + format):
            path = f"{path}.{format}"
        data = self.pipe(format)
        with open(path, "wb") as f:
            f.write(data)
        return path

    def _repr_svg_(self):  # Jupyter shows the graph when dot is installed
        if shutil.which("dot") is None:
            return None
        return self.pipe("svg").decode("utf-8")


def draw_graph(output, params=None, tensors=None, collapse_modules=None, max_nodes=300):
    """The graph that computed `output` (a Tensor or a list of them) as a `Digraph`.

    - `params`: names for leaves, `dict(model.named_parameters())` (or the model itself).
    - `tensors`: names for other tensors, e.g. `{"hidden": h}`; their gradient norm is shown
      when they have a `.grad` (retain_grad()).
    - `collapse_modules`: None (every op), True (one box per module path recorded by
      `rg.nn.record_module_paths`), or 'auto' (collapse only when there are more than
      `max_nodes` boxes, coarser and coarser until they fit).
    - `max_nodes`: past this, only the boxes nearest the output are drawn, and one box says
      how many were left out.
    """
    outputs = [output] if isinstance(output, Tensor) else list(output)
    for t in outputs:
        if not isinstance(t, Tensor):
            raise TypeError(f"draw_graph: expected Tensors, got {type(t).__name__}")
    if collapse_modules not in (None, False, True, "auto"):
        raise ValueError(
            f"draw_graph: collapse_modules must be None, True or 'auto', got {collapse_modules!r}"
        )
    names = _names(params, tensors)
    nodes, leaves = _walk(outputs)
    items, edges = _items(outputs, nodes, leaves, names)
    if collapse_modules is True or (collapse_modules == "auto" and len(items) > max_nodes):
        items, edges = _collapse(items, edges, max_nodes)
    if len(items) > max_nodes:
        items, edges = _truncate(items, edges, max_nodes)
    return _digraph(items, edges)


# ---------------------------------------------------------------------------------- walking
def _walk(outputs):
    """(nodes, leaves) reachable from the outputs, iteratively."""
    nodes, leaves = {}, {}
    stack = [t._node for t in outputs if t._node is not None]
    for t in outputs:
        if t._node is None:
            leaves[id(t)] = t
    while stack:
        node = stack.pop()
        if node in nodes:
            continue
        nodes[node] = None
        for edge in node.edges:
            if type(edge) is Node:
                if edge not in nodes:
                    stack.append(edge)
            elif edge is not None:
                leaves[id(edge)] = edge
    return list(nodes), list(leaves.values())


def _items(outputs, nodes, leaves, names):
    """Boxes as dicts (key, label lines, kind, module, order) and edges between keys."""
    items = {}
    retained = {}
    for t in names["tensors"].values():
        if t._node is not None:
            retained[t._node] = t
    # ids count nodes in creation order within this graph (n1 is the first op), so the text
    # does not depend on how many graphs the process made before
    keys = {node: f"n{i + 1}" for i, node in enumerate(sorted(nodes, key=_by_seq))}
    for node in nodes:
        t = retained.get(node)
        if t is None:
            t = _retained_tensor(node)
        lines = [node.op.name, _shape(node.shape)]
        if node.module_path:
            lines.append(f"[{node.module_path}]")
        name = names["by_id"].get(id(t)) if t is not None else None
        if name:
            lines.insert(0, name)
        if t is not None and t.grad is not None:
            lines.append(f"grad norm {_norm(t.grad)}")
        items[keys[node]] = {"label": lines, "kind": "op", "module": node.module_path,
                             "order": node.seq, "op": node.op.name, "shape": _shape(node.shape)}
    order = min((node.seq for node in nodes), default=0)
    for i, t in enumerate(leaves):
        name = names["by_id"].get(id(t))
        is_param = name is not None and id(t) in names["params"]
        lines = [name or "leaf", _shape(t.data.shape)]
        if t.grad is not None:
            lines.append(f"grad norm {_norm(t.grad)}")
        module = name.rpartition(".")[0] if is_param else None
        items[f"t{i}"] = {"label": lines, "kind": "param" if is_param else "leaf",
                          "module": module, "order": order - 1 - i, "tensor": id(t)}
    keys.update({id(t): f"t{i}" for i, t in enumerate(leaves)})
    edges = []
    for node in nodes:
        for edge in node.edges:
            if edge is None:
                continue
            source = keys[edge] if type(edge) is Node else keys[id(edge)]
            edges.append((source, keys[node]))
    for j, t in enumerate(outputs):
        key = f"out{j}"
        items[key] = {"label": [names["by_id"].get(id(t)) or "output", _shape(t.data.shape)],
                      "kind": "output", "module": None, "order": float("inf")}
        edges.append((keys[t._node] if t._node is not None else keys[id(t)], key))
    return items, edges


def _retained_tensor(node):
    """The tensor that called retain_grad() on this node's output, if it is still alive.

    NOTE: the retain_grad hook (autograd/hooks.py) holds its tensor through a weakref in its
    closure; that is the only way back from a node to its output tensor."""
    for hook in node.hooks or ():
        if getattr(hook, "__name__", "") == "retain_grad" and hook.__closure__:
            for cell in hook.__closure__:
                ref = cell.cell_contents
                if isinstance(ref, weakref.ref) and isinstance(ref(), Tensor):
                    return ref()
    return None


def _names(params, tensors):
    if params is not None and hasattr(params, "named_parameters"):
        params = dict(params.named_parameters())
    params = dict(params or {})
    tensors = dict(tensors or {})
    by_id = {id(t): name for name, t in tensors.items()}
    by_id.update({id(p): name for name, p in params.items()})
    return {"by_id": by_id, "params": {id(p) for p in params.values()}, "tensors": tensors}


# ---------------------------------------------------------------------------------- shrinking
def _collapse(items, edges, max_nodes):
    """One box per module path; coarser paths (fewer dotted parts) until the boxes fit."""
    depths = [len(i["module"].split(".")) for i in items.values() if i["module"]]
    if not depths:
        return items, edges
    depth = max(depths)
    merged, new_edges = _merge(items, edges, depth)
    while len(merged) > max_nodes and depth > 1:
        depth -= 1
        merged, new_edges = _merge(items, edges, depth)
    return merged, new_edges


def _merge(items, edges, depth):
    """Items of one module path (cut to `depth` parts) become one box; edges between boxes."""
    group_of, groups = {}, {}
    for key, item in items.items():
        module = item["module"]
        if not module or item["kind"] == "output":  # the root model's own ops are the glue
            group_of[key] = key
            groups[key] = item
            continue
        path = ".".join(module.split(".")[:depth])
        gkey = "m_" + "".join(c if c.isalnum() else "_" for c in path) + f"_{len(path)}"
        group_of[key] = gkey
        group = groups.get(gkey)
        if group is None:
            group = groups[gkey] = {"kind": "module", "module": path, "ops": {}, "params": 0,
                                    "order": item["order"], "shape": None}
        if item["kind"] == "op":
            group["ops"][item["op"]] = group["ops"].get(item["op"], 0) + 1
            if item["order"] >= group["order"]:
                group["shape"] = item["shape"]  # the module's last op: its output
        else:
            group["params"] += 1
        group["order"] = max(group["order"], item["order"])
    for group in groups.values():
        if group["kind"] == "module":
            ops = ", ".join(f"{op} x{n}" if n > 1 else op for op, n in group["ops"].items())
            group["label"] = [group["module"] or "(model)", ops or "parameters"]
            if group["params"]:
                group["label"].append(f"{group['params']} parameter tensors")
            if group["shape"]:
                group["label"].append(f"out {group['shape']}")
    new_edges, seen = [], set()
    for a, b in edges:
        ga, gb = group_of[a], group_of[b]
        if ga != gb and (ga, gb) not in seen:
            seen.add((ga, gb))
            new_edges.append((ga, gb))
    return groups, new_edges


def _truncate(items, edges, max_nodes):
    """Keep the boxes nearest the output (latest first); one box stands for the rest."""
    keep = sorted(items, key=lambda k: items[k]["order"], reverse=True)[: max_nodes - 1]
    kept = set(keep)
    dropped = len(items) - len(kept)
    out = {k: items[k] for k in keep}
    out["more"] = {"label": [f"... {dropped} more nodes", "(raise max_nodes or collapse)"],
                   "kind": "more", "module": None, "order": -float("inf")}
    new_edges, seen = [], set()
    for a, b in edges:
        if b not in kept:
            continue
        a = a if a in kept else "more"
        if (a, b) not in seen:
            seen.add((a, b))
            new_edges.append((a, b))
    return out, new_edges


def _digraph(items, edges):
    colors = {"param": _PARAM_COLOR, "leaf": _LEAF_COLOR, "output": _OUTPUT_COLOR,
              "module": _MODULE_COLOR, "more": "white"}
    nodes = {}
    for key, item in items.items():
        node = {"label": "\n".join(str(line) for line in item["label"]), "kind": item["kind"]}
        if item["kind"] in colors:
            node["color"] = colors[item["kind"]]
        if item["kind"] == "output":
            node["shape"] = "ellipse"
        nodes[key] = node
    return Digraph(nodes, edges)


# ---------------------------------------------------------------------------------- text
def _quote(text):
    """A DOT double-quoted string: backslashes and quotes escaped, newlines as \\n."""
    text = str(text).replace("\\", "\\\\").replace('"', '\\"')
    return '"' + text.replace("\r", "").replace("\n", "\\n") + '"'


def _shape(shape):
    return "(" + ", ".join(str(n) for n in shape) + ")"


def _norm(t):
    data = np.asarray(t.data, dtype=np.float64)
    return f"{float(np.sqrt(np.sum(data * data))):.3g}"


def _dot_program():
    dot = shutil.which("dot")
    if dot is None:
        raise RuntimeError(
            "render: Graphviz's 'dot' program is not installed (Debian/Ubuntu: apt-get install "
            "graphviz); .source and .save(path) give the DOT text without it"
        )
    return dot
