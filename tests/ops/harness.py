"""The declarative op spec table and the checks it drives.

Each `OpSpec` names the registered primitive it covers, a function that exercises it through the
public API, a NumPy reference, input shapes and the domain inputs are drawn from. `check_spec`
runs, in float64: the forward against the reference; the VJP against central differences
(element by element, via rg.autograd.gradcheck); the JVP against the VJP (<v, J t> must equal
<J^T v, t>); and second order (gradgradcheck).
"""

import dataclasses
from collections.abc import Callable

import numpy as np

import retrograd as rg
from retrograd.autograd.forward_ad import dual_level, make_dual
from retrograd.autograd.gradcheck import gradcheck, gradgradcheck


def real(rng, shape):
    return rng.standard_normal(shape)


def positive(rng, shape):
    return rng.uniform(0.5, 2.0, shape)


def nonzero(rng, shape):
    return rng.uniform(0.5, 2.0, shape) * rng.choice([-1.0, 1.0], shape)


def unit(rng, shape):
    """Strictly inside (-1, 1), away from the ends."""
    return rng.uniform(-0.9, 0.9, shape)


def away_from_zero(rng, shape):
    """Real values at least 0.1 from 0 (for kinks at 0: abs, relu, sign...)."""
    return nonzero(rng, shape)


def distinct(rng, shape):
    """Values with no ties (for max/min/sort-like ops), well separated."""
    n = int(np.prod(shape))
    return (rng.permutation(n).reshape(shape) * 0.37 + rng.uniform(0, 0.1, shape)) - n * 0.18


@dataclasses.dataclass
class OpSpec:
    op: str  # the REGISTRY name this spec covers
    fn: Callable  # Tensors -> Tensor, through the public API
    ref: Callable | None  # float64 arrays -> array; None when the op has no NumPy equivalent
    shapes: list  # list of tuples of input shapes: one test case per entry
    domain: object = real  # one sampler for all inputs, or a tuple with one per input
    nondiff: tuple = ()  # input positions that are never differentiated (indices, masks)
    second_order: bool = True
    forward_mode: bool = True
    atol: float = 1e-5
    rtol: float = 1e-3
    name: str | None = None  # test id; defaults to op

    @property
    def id(self):
        return self.name or self.op

    def cases(self):
        return [(self, shapes) for shapes in self.shapes]


def make_inputs(spec, shapes, seed=0):
    rng = np.random.default_rng(seed)
    domains = spec.domain if isinstance(spec.domain, tuple) else (spec.domain,) * len(shapes)
    arrays = [domain(rng, shape) for domain, shape in zip(domains, shapes)]
    tensors = []
    for i, a in enumerate(arrays):
        a = np.asarray(a)
        if i in spec.nondiff or a.dtype.kind != "f":
            tensors.append(rg.tensor(a))
        else:
            tensors.append(rg.tensor(a.astype(np.float64), requires_grad=True))
    return arrays, tensors


def check_forward(spec, shapes):
    arrays, tensors = make_inputs(spec, shapes)
    out = spec.fn(*tensors)
    if spec.ref is None:
        return
    expected = np.asarray(spec.ref(*arrays))
    np.testing.assert_allclose(out.data, expected, rtol=1e-7, atol=1e-10, err_msg=spec.id)
    assert out.shape == expected.shape, f"{spec.id}: shape {out.shape} != {expected.shape}"


def check_vjp(spec, shapes):
    _, tensors = make_inputs(spec, shapes)
    if not any(t.requires_grad for t in tensors):
        return
    gradcheck(spec.fn, tensors, atol=spec.atol, rtol=spec.rtol)


def check_jvp_against_vjp(spec, shapes):
    """<v, J t> from forward mode must equal <J^T v, t> from reverse mode."""
    if not spec.forward_mode:
        return
    _, tensors = make_inputs(spec, shapes)
    diff = [i for i, t in enumerate(tensors) if t.requires_grad]
    if not diff:
        return
    rng = np.random.default_rng(1)
    tangents = {i: rng.standard_normal(tensors[i].shape) for i in diff}
    with dual_level():
        duals = [
            make_dual(t, rg.tensor(tangents[i])) if i in tangents else t
            for i, t in enumerate(tensors)
        ]
        out = spec.fn(*duals)
    t_out = out._tangent if out._tangent is not None else np.zeros_like(out.data)
    out = spec.fn(*tensors)
    v = rng.standard_normal(out.shape)
    grads = rg.autograd.grad(out, [tensors[i] for i in diff], grad_outputs=rg.tensor(v),
                             allow_unused=True)
    reverse = sum(
        float(np.sum(g.data * tangents[i])) for i, g in zip(diff, grads) if g is not None
    )
    forward = float(np.sum(v * t_out))
    assert np.isclose(forward, reverse, rtol=1e-7, atol=1e-9), (
        f"{spec.id}: forward mode gives <v, Jt> = {forward}, reverse mode <J^T v, t> = {reverse}"
    )


def check_second_order(spec, shapes):
    if not spec.second_order:
        return
    _, tensors = make_inputs(spec, shapes)
    if not any(t.requires_grad for t in tensors):
        return
    gradgradcheck(spec.fn, tensors, atol=spec.atol, rtol=spec.rtol)


CHECKS = {
    "forward": check_forward,
    "vjp": check_vjp,
    "jvp": check_jvp_against_vjp,
    "second_order": check_second_order,
}


def parametrize(specs):
    """(spec, shapes, check) triples with readable ids, for pytest.mark.parametrize."""
    params, ids = [], []
    for spec in specs:
        for k, shapes in enumerate(spec.shapes):
            for check_name, check in CHECKS.items():
                params.append((spec, shapes, check))
                ids.append(f"{spec.id}-{k}-{check_name}")
    return params, ids
