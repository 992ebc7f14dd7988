"""Imports only point down the layers of STYLE.md ("Layers and the direction of imports").

Every module under src/retrograd is parsed (imports inside functions count too) and each
import of a retrograd module is checked against the table below. A new top-level package must
be added to LAYERS before the test passes, so that its place in the stack is a decision.
"""

import ast
import sys
from pathlib import Path

import pytest

SRC = Path(__file__).resolve().parents[1] / "src" / "retrograd"

# Package path -> layer. The longest matching prefix decides a module's layer.
LAYERS = {
    "retrograd": "top",  # the package __init__ re-exports everything
    "retrograd.__main__": "top",
    "retrograd.autograd": "autograd",
    "retrograd.ops": "ops",
    "retrograd.linalg": "ops",  # rg.linalg: torch.linalg's names over the linalg ops
    "retrograd.special": "ops",  # rg.special: torch.special's names over the ops
    "retrograd.testing": "autograd",  # rg.testing.assert_close (Tensors and NumPy only)
    "retrograd.func": "func",  # function transforms (grad, jvp, jacrev, hessian...)
    "retrograd.autograd.functional": "func",  # torch.autograd.functional over rg.func
    "retrograd.nn": "nn",
    "retrograd.distributions": "nn",  # sampling and likelihoods, built from ops and F
    "retrograd.cuda": "autograd",  # torch.cuda's queries, answering "no GPU" (imports nothing)
    "retrograd.backends": "autograd",  # torch.backends' switches (imports nothing)
    "retrograd.runtime": "runtime",  # thread counts, determinism flags, compile()
    "retrograd.optim": "optim",
    "retrograd.data": "data",
    "retrograd.datasets": "data",
    "retrograd.utils": "data",  # retrograd.utils.data mirrors torch.utils.data
    "retrograd.utils.checkpoint": "checkpoint",  # gradient checkpointing (+ its planner)
    "retrograd.amp": "amp",  # mixed precision: autocast, GradScaler
    "retrograd.serialization": "serialization",  # safetensors save/load
    "retrograd.diagnostics": "diagnostics",
    "retrograd.monitor": "diagnostics",
    "retrograd.viz": "diagnostics",
    "retrograd.distributed": "distributed",
    "retrograd.nn.parallel": "distributed",  # DistributedDataParallel needs the collectives
    "retrograd.train": "train",
    "retrograd.cli": "train",
    "retrograd.lm": "train",  # the train-lm job: char-level data, models, training, sampling
}

# Layer -> what it may import: layer names, or dotted paths for a single module or name.
ALLOWED = {
    "autograd": {"autograd"},
    "ops": {"ops", "autograd"},
    "func": {"func", "ops", "autograd"},
    # nn re-exports nn.parallel (PyTorch's place for DistributedDataParallel), which sits in
    # the distributed layer; nothing else in nn may import it
    "nn": {"nn", "ops", "autograd", "retrograd.nn.parallel"},
    "optim": {"optim", "autograd", "retrograd.nn.parameter", "retrograd.nn.Parameter"},
    "data": {
        "data",
        "retrograd.autograd.tensor",
        "retrograd.autograd.Tensor",
        "retrograd.autograd.dtypes",
        "retrograd.ops.random",  # seeded shuffling draws from rg.Generator streams
        # DistributedSampler's default rank and world size (asked only when not given)
        "retrograd.distributed.process_group",
    },
    "serialization": {"serialization", "autograd"},
    "runtime": {"runtime"},
    "diagnostics": {"diagnostics", "autograd", "ops", "func", "nn"},
    "checkpoint": {"checkpoint", "autograd", "ops", "func", "nn", "diagnostics"},
    "amp": {"amp", "autograd", "ops", "nn", "optim"},
    "distributed": {"distributed", "autograd", "ops", "nn", "optim"},
    "train": {"train", "top", "autograd", "ops", "func", "nn", "optim", "data", "serialization",
              "diagnostics", "distributed", "checkpoint", "amp"},
    "top": set(LAYERS.values()),
}

# The engine and the ops run on NumPy alone (ml_dtypes only adds bfloat16 when installed).
THIRD_PARTY_ALLOWED = {"autograd": {"numpy", "ml_dtypes"}, "ops": {"numpy", "ml_dtypes"}}


def layer_of(name):
    parts = name.split(".")
    for end in range(len(parts), 0, -1):
        layer = LAYERS.get(".".join(parts[:end]))
        if layer is not None:
            return layer
    return None


def module_name(path, root):
    parts = list(path.relative_to(root.parent).with_suffix("").parts)
    if parts[-1] == "__init__":
        parts.pop()
    return ".".join(parts)


def imported_names(tree, name, is_package):
    """(line, dotted target) for every import; `from m import a` gives `m.a`."""
    package = name.split(".") if is_package else name.split(".")[:-1]
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            for alias in node.names:
                yield node.lineno, alias.name
        elif isinstance(node, ast.ImportFrom):
            if node.level:
                base = package[: len(package) - node.level + 1]
                module = ".".join(base + ([node.module] if node.module else []))
            else:
                module = node.module
            for alias in node.names:
                yield node.lineno, module if alias.name == "*" else f"{module}.{alias.name}"


def is_allowed(layer, target):
    allowed = ALLOWED[layer]
    if layer_of(target) in allowed:
        return True
    return any(target == path or target.startswith(path + ".") for path in allowed if "." in path)


def violations(modules):
    """Problems in `modules`, a dict {module name: (source, is_package)}."""
    problems = []
    for name, (source, is_package) in sorted(modules.items()):
        layer = layer_of(name)
        if layer is None or (layer == "top" and name not in ("retrograd", "retrograd.__main__")):
            problems.append(f"{name}: not in the LAYERS table of tests/test_layers.py")
            continue
        for line, target in imported_names(ast.parse(source), name, is_package):
            top = target.split(".")[0]
            if top == "retrograd":
                if not is_allowed(layer, target):
                    problems.append(
                        f"{name}:{line}: layer '{layer}' imports {target} "
                        f"(layer '{layer_of(target)}')"
                    )
            elif top not in sys.stdlib_module_names and layer in THIRD_PARTY_ALLOWED:
                if top not in THIRD_PARTY_ALLOWED[layer]:
                    problems.append(f"{name}:{line}: layer '{layer}' imports {target}")
    return problems


def source_modules():
    return {
        module_name(path, SRC): (path.read_text(encoding="utf-8"), path.name == "__init__.py")
        for path in sorted(SRC.rglob("*.py"))
    }


def test_imports_point_down_the_layers():
    modules = source_modules()
    assert "retrograd.autograd.tensor" in modules
    problems = violations(modules)
    assert not problems, "imports against the layer order:\n" + "\n".join(problems)


def test_every_layer_named_in_the_table_has_rules():
    assert set(LAYERS.values()) <= set(ALLOWED)


@pytest.mark.parametrize(
    "name,source,is_package,expected",
    [
        ("retrograd.ops.x", "from ..autograd import graph\nimport numpy as np", False, []),
        ("retrograd.autograd.x", "from ..ops import add", False,
         ["retrograd.autograd.x:1: layer 'autograd' imports retrograd.ops.add (layer 'ops')"]),
        ("retrograd.autograd.x", "def f():\n    import retrograd.nn", False,
         ["retrograd.autograd.x:2: layer 'autograd' imports retrograd.nn (layer 'nn')"]),
        ("retrograd.autograd", "from . import engine\nfrom .. import ops", True,
         ["retrograd.autograd:2: layer 'autograd' imports retrograd.ops (layer 'ops')"]),
        ("retrograd.optim.sgd", "from ..nn import Parameter\nfrom ..autograd import no_grad",
         False, []),
        ("retrograd.optim.sgd", "from ..nn import Linear", False,
         ["retrograd.optim.sgd:1: layer 'optim' imports retrograd.nn.Linear (layer 'nn')"]),
        ("retrograd.ops.x", "import torch", False,
         ["retrograd.ops.x:1: layer 'ops' imports torch"]),
        ("retrograd.train.fit", "import retrograd as rg\nfrom ..nn import Module", False, []),
        ("retrograd.shiny", "import numpy", False,
         ["retrograd.shiny: not in the LAYERS table of tests/test_layers.py"]),
    ],
)
def test_the_checker_catches_upward_imports(name, source, is_package, expected):
    assert violations({name: (source, is_package)}) == expected
