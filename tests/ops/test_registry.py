"""Meta-tests: every registered primitive has a spec; the two rule namespaces match."""

import importlib
import pathlib

import retrograd  # noqa: F401 - registers every op
from retrograd.autograd import array_ns
from retrograd.autograd.graph import REGISTRY
from retrograd.ops import tensor_ns


def _all_specs():
    specs = []
    for path in sorted(pathlib.Path(__file__).parent.glob("test_*.py")):
        module = importlib.import_module(f"tests.ops.{path.stem}")
        specs.extend(getattr(module, "SPECS", []))
    return specs


def _builtin_ops():
    """The registered ops retrograd itself defines (user code, docs examples may add others)."""
    return {name for name, op in REGISTRY.items() if op.__module__.startswith("retrograd.")}


def test_every_registered_op_has_a_spec():
    covered = {spec.op for spec in _all_specs()}
    missing = sorted(_builtin_ops() - covered)
    assert not missing, f"registered ops without an OpSpec: {missing}"


def test_every_spec_names_a_registered_op():
    unknown = sorted({spec.op for spec in _all_specs()} - set(REGISTRY))
    assert not unknown, f"specs for ops that are not registered: {unknown}"


def test_every_op_has_rules():
    no_vjp = sorted(name for name, op in REGISTRY.items() if op.vjp is None)
    no_jvp = sorted(name for name, op in REGISTRY.items() if op.jvp is None)
    assert not no_vjp, f"ops without a VJP rule: {no_vjp}"
    assert not no_jvp, f"ops without a JVP rule: {no_jvp}"


def _public(module):
    return {n for n in dir(module) if not n.startswith("_") and callable(getattr(module, n))}


def test_rule_namespaces_have_the_same_names():
    numpy_names = _public(array_ns) - {"np"}
    tensor_names = _public(tensor_ns)
    assert numpy_names == tensor_names, (
        f"only in array_ns: {sorted(numpy_names - tensor_names)}; "
        f"only in tensor_ns: {sorted(tensor_names - numpy_names)}"
    )
