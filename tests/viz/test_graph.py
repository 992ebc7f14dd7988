"""rg.viz.draw_graph: the DOT text of small graphs (ops, shapes, names, gradient norms, edge
directions), escaping, collapsing per module, truncation, deep graphs, rendering with `dot`."""

import shutil
import subprocess

import numpy as np
import pytest

import retrograd as rg
from retrograd import nn
from retrograd.viz import draw_graph
from retrograd.viz import graph as viz_graph

F = nn.functional
HAS_DOT = shutil.which("dot") is not None


def by_label(g):
    """{first label line: [node ids]}."""
    out = {}
    for key, node in g.nodes.items():
        out.setdefault(node["label"].split("\n")[0], []).append(key)
    return out


def test_a_small_graph_before_and_after_backward():
    w = rg.tensor([[1.0, 2.0], [3.0, 4.0]], requires_grad=True)
    b = rg.tensor([0.5, -0.5], requires_grad=True)
    x = rg.tensor([[1.0, -1.0]])  # data: needs no gradient, not drawn
    loss = (x @ w + b).relu().sum()
    g = draw_graph(loss, params={"w": w, "b": b})
    labels = by_label(g)
    assert set(labels) == {"matmul", "add", "relu", "sum", "w", "b", "output"}
    assert g.nodes[labels["matmul"][0]]["label"] == "matmul\n(1, 2)"
    assert g.nodes[labels["w"][0]]["kind"] == "param"
    assert "grad norm" not in g.source
    # data flows from the parameters through the ops to the output
    key = {name: ids[0] for name, ids in labels.items()}
    assert set(g.edges) == {(key["w"], key["matmul"]), (key["matmul"], key["add"]),
                            (key["b"], key["add"]), (key["add"], key["relu"]),
                            (key["relu"], key["sum"]), (key["sum"], key["output"])}
    loss.backward()
    after = draw_graph(loss, params={"w": w, "b": b})
    w_label = after.nodes[by_label(after)["w"][0]]["label"]
    assert w_label == f"w\n(2, 2)\ngrad norm {np.linalg.norm(w.grad.numpy()):.3g}"


def test_unnamed_leaves_retained_and_named_tensors():
    a = rg.tensor([1.0, 2.0], requires_grad=True)
    h = a * 3.0
    h.retain_grad()
    out = (h * h).sum()
    out.backward()
    g = draw_graph(out, tensors={"h": h, "loss": out})
    labels = by_label(g)
    assert g.nodes[labels["leaf"][0]]["kind"] == "leaf"
    h_label = g.nodes[labels["h"][0]]["label"]
    assert h_label.startswith("h\nmul\n(2)") and f"{np.linalg.norm(h.grad.numpy()):.3g}" in h_label
    assert "loss" in labels  # the output tensor by its name
    # retain_grad alone is enough for the norm to show
    unnamed = draw_graph(out)
    assert "grad norm" in unnamed.nodes["n1"]["label"]  # h = a * 3 is the first op


def test_labels_are_escaped():
    p = rg.tensor([1.0], requires_grad=True)
    g = draw_graph((p * 2).sum(), params={'odd "name" \\ here': p})
    assert 'label="odd \\"name\\" \\\\ here\\n(1)"' in g.source
    if HAS_DOT:
        subprocess.run(["dot", "-Tsvg"], input=g.source.encode(), check=True,
                       capture_output=True)


class Block(nn.Module):
    def __init__(self, width=4):
        super().__init__()
        self.fc1 = nn.Linear(width, width)
        self.fc2 = nn.Linear(width, width)

    def forward(self, x):
        return x + self.fc2(F.relu(self.fc1(x)))


class Net(nn.Module):
    def __init__(self, blocks=3):
        super().__init__()
        self.blocks = nn.Sequential(*[Block() for _ in range(blocks)])
        self.head = nn.Linear(4, 2)

    def forward(self, x):
        return self.head(self.blocks(x)).tanh()  # tanh: the model's own op


def recorded_loss(model):
    with nn.record_module_paths(model):
        return F.mse_loss(model(rg.randn(3, 4)), rg.zeros(3, 2))


def test_one_box_per_module_path():
    model = Net()
    loss = recorded_loss(model)
    full = draw_graph(loss, params=model)
    g = draw_graph(loss, params=model, collapse_modules=True)
    modules = {node["label"].split("\n")[0] for node in g.nodes.values()
               if node["kind"] == "module"}
    paths = {f"blocks.{i}{s}" for i in range(3) for s in ("", ".fc1", ".fc2")} | {"head"}
    assert modules == paths
    others = {n["label"].split("\n")[0] for n in g.nodes.values() if n["kind"] != "module"}
    assert others == {"tanh", "sub", "mul", "mean", "output"}  # the model's own op, the loss
    fc1 = next(n["label"] for n in g.nodes.values() if n["label"].startswith("blocks.0.fc1\n"))
    assert "linear" in fc1 and "2 parameter tensors" in fc1 and "out (3, 4)" in fc1
    assert all(a != b for a, b in g.edges)
    assert len(g.nodes) < len(full.nodes)
    assert not any(n["kind"] == "param" for n in g.nodes.values())  # folded into their boxes


def test_auto_collapse_coarsens_until_it_fits():
    model = Net()
    loss = recorded_loss(model)
    n_full = len(draw_graph(loss, params=model).nodes)
    assert len(draw_graph(loss, params=model, collapse_modules="auto").nodes) == n_full
    # 3 blocks of 3 module paths and the head, plus mse_loss's 3 ops, tanh and the output: 15
    g = draw_graph(loss, params=model, collapse_modules="auto", max_nodes=14)
    modules = sorted(n["label"].split("\n")[0] for n in g.nodes.values()
                     if n["kind"] == "module")
    assert modules == ["blocks.0", "blocks.1", "blocks.2", "head"]  # depth 2: whole blocks
    assert len(g.nodes) == 9
    coarsest = draw_graph(loss, params=model, collapse_modules="auto", max_nodes=8)
    assert len(coarsest.nodes) == 7  # blocks, head, sub, mul, mean, tanh, output
    assert "blocks" in {n["label"].split("\n")[0] for n in coarsest.nodes.values()}


def test_truncation_keeps_the_nodes_nearest_the_output():
    x = rg.tensor([1.0], requires_grad=True)
    y = x
    for _ in range(50):
        y = y * 1.01
    g = draw_graph(y, max_nodes=10)
    assert len(g.nodes) == 10
    assert g.nodes["more"]["label"].startswith("... 43 more nodes")  # 50 muls + leaf + output
    assert {"n50", "n43", "out0"} <= set(g.nodes) and "n42" not in g.nodes


def test_a_deep_chain_is_walked_without_recursion():
    x = rg.tensor([1.0], requires_grad=True)
    y = x
    for _ in range(20_000):
        y = y + 1.0
    g = draw_graph(y, max_nodes=50)
    assert len(g.nodes) == 50 and "20000" not in g.nodes["more"]["label"]
    assert g.nodes["more"]["label"].startswith("... 19953 more nodes")


def test_bad_arguments():
    with pytest.raises(TypeError, match="Tensors"):
        draw_graph([1.0])
    with pytest.raises(ValueError, match="collapse_modules"):
        draw_graph(rg.tensor([1.0], requires_grad=True) * 2, collapse_modules="yes")


def test_save_and_render(tmp_path, monkeypatch):
    p = rg.tensor([1.0, 2.0], requires_grad=True)
    g = draw_graph((p.exp() * p).sum(), params={"p": p})
    path = g.save(tmp_path / "graph.dot")
    assert open(path).read() == g.source and g.source.startswith('digraph "retrograd" {')
    if HAS_DOT:
        svg = g.render(tmp_path / "graph", format="svg")
        assert svg.endswith("graph.svg") and "<svg" in open(svg).read()
        png = g.render(tmp_path / "graph.png", format="png")
        assert open(png, "rb").read(8) == b"\x89PNG\r\n\x1a\n"
        assert "<svg" in g._repr_svg_()
    monkeypatch.setattr(viz_graph.shutil, "which", lambda name: None)
    with pytest.raises(RuntimeError, match="apt-get install graphviz"):
        g.render(tmp_path / "nothing", format="svg")
    assert g._repr_svg_() is None
