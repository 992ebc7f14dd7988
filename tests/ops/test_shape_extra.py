"""The composite shape ops against torch (values, dtypes, gradients). They are built from
primitives that have specs elsewhere, so a few specs here check second order through them."""

import numpy as np
import pytest

import retrograd as rg

from .harness import OpSpec, parametrize


def _windows(x, size, step):
    count = (x.shape[1] - size) // step + 1
    return np.stack([x[:, i * step:i * step + size] for i in range(count)], axis=1)


SPECS = [
    OpSpec("index", lambda x: x.unfold(1, 3, 2), lambda x: _windows(x, 3, 2), [((2, 7),)],
           name="unfold"),
    OpSpec("mul", lambda a, b: rg.kron(a, b), np.kron, [((2, 3), (3, 2)), ((2,), (2, 1, 2))],
           name="kron"),
    OpSpec("cumprod", lambda x: rg.vander(x, 4), lambda x: np.vander(x, 4), [((3,),)],
           name="vander"),
]

PARAMS, IDS = parametrize(SPECS)


@pytest.mark.parametrize("spec,shapes,check", PARAMS, ids=IDS)
def test_spec(spec, shapes, check):
    check(spec, shapes)


torch = pytest.importorskip("torch")

RNG = np.random.default_rng(4)
A = RNG.standard_normal((3, 4))
B = RNG.standard_normal((2, 3, 4))
V = RNG.standard_normal(5)
S = np.array(2.5)

CASES = {  # id: (function of (L, *tensors), inputs, differentiable)
    "unfold": (lambda L, x: x.unfold(0, 2, 1), [V], True),
    "unfold_step": (lambda L, x: x.unfold(2, 2, 2), [B], True),
    "unfold_middle": (lambda L, x: x.unfold(1, 3, 1), [B], True),
    "unfold_full": (lambda L, x: x.unfold(-1, 4, 3), [B], True),
    "unfold_0d": (lambda L, x: x.unfold(0, 1, 1), [S], True),
    "unfold_twice": (lambda L, x: x.unfold(1, 2, 1).unfold(2, 2, 2), [B], True),
    "ravel": (lambda L, x: L.ravel(x.transpose(1, 2)) + x.ravel(), [B], True),
    "t": (lambda L, x, v: L.t(x) * 2 + L.t(v).sum(), [A, V], True),
    "swapdims": (lambda L, x: L.swapdims(x, 0, 2) + x.swapdims(2, 0), [B], True),
    "adjoint_mH": (lambda L, x: x.adjoint() + x.mH + L.adjoint(x), [B], True),
    "H": (lambda L, x: x.H * 3, [A], True),
    "broadcast_tensors": (lambda L, x, v: L.stack(L.broadcast_tensors(
        x, v[:4], L.tensor(1.0, dtype=x.dtype))), [B, V], True),
    "broadcast_shapes": (lambda L: L.tensor(list(L.broadcast_shapes((2, 1, 3), (4, 1), 3))), [],
                         False),
    "atleast": (lambda L, s, v, x: [L.atleast_1d(s), L.atleast_2d(v), L.atleast_3d(x),
                                    *L.atleast_3d(s, v), *L.atleast_2d([s, x])], [S, V, A],
                True),
    "column_stack": (lambda L, v, x: L.column_stack([v[:3], x, v[1:4]]), [V, A], True),
    "column_stack_0d": (lambda L, s, v: L.column_stack((s, s)) + v[0], [S, V], True),
    "dstack": (lambda L, x, v: L.dstack([x, x * 2]).sum() + L.dstack([v, v]), [A, V], True),
    "hsplit": (lambda L, x: L.hsplit(x, 2)[1] + x.hsplit([1, 3])[1][:, :2], [A], True),
    "hsplit_1d": (lambda L, v: L.hsplit(v, [2])[1], [V], True),
    "vsplit_dsplit": (lambda L, x: L.vsplit(x, [1])[1].sum() + x.dsplit(2)[0], [B], True),
    "rot90": (lambda L, x: L.stack([L.rot90(x, k, (1, 2)) for k in range(-1, 4)]
                                   ).sum() + x.rot90(1, [2, 0]).sum(0), [B[:, :3, :3]], True),
    "diff": (lambda L, x: L.diff(x) + x.diff(dim=0).sum(), [A], True),
    "diff_n": (lambda L, x: L.diff(x, n=2, dim=1), [B], True),
    "diff_prepend": (lambda L, x, v: L.diff(x, dim=1, prepend=v[:3].reshape(3, 1),
                                            append=x[:, :2]), [A, V], True),
    "diff_bool": (lambda L, x: L.diff(x > 0), [A], False),
    "kron": (lambda L, x, y: L.kron(x, y), [A[:2, :2], A], True),
    "kron_mixed_rank": (lambda L, v, x: v.kron(x), [V[:2], B], True),
    "block_diag": (lambda L, x, v, s: L.block_diag(x, v[:2], s, x[:1]), [A, V, S], True),
    "block_diag_ints": (lambda L: L.block_diag(L.tensor([[1, 2]]), L.tensor([3])), [], False),
    "combinations": (lambda L, v: L.combinations(v), [V], True),
    "combinations_r3": (lambda L, v: L.combinations(v[:4], r=3, with_replacement=True), [V],
                        True),
    # torch 2.x can't differentiate its own vander (an in-place cumprod); the spec above checks
    # the gradient, test_vander_gradient_at_zero the zeros.
    "vander": (lambda L, v: L.vander(v) + L.vander(v, N=5, increasing=True), [V], False),
    "vander_int": (lambda L: L.vander(L.tensor([1, 2, 3])), [], False),
    "select_scatter": (lambda L, x, v: L.select_scatter(x, v[:3], 1, 2), [A, V], True),
    "slice_scatter": (lambda L, x, y: L.slice_scatter(x, y[:, :2], dim=1, start=1, step=2),
                      [A, A], True),
    "diagonal_scatter": (lambda L, x, v: L.diagonal_scatter(x, v[:3], 1), [A, V], True),
    "diagonal_scatter_method": (lambda L, x, v: x.diagonal_scatter(v[:3], -1, 1, 0), [A, V],
                                True),
    "diagonal_scatter_3d": (lambda L, x, v: L.diagonal_scatter(x, v[:4].reshape(2, 2), -1, 1,
                                                               2), [B[:, :3, :3], V], True),
}


@pytest.mark.parametrize("case", list(CASES), ids=list(CASES))
def test_matches_torch(case):
    from .torch_parity import check_against_torch

    fn, inputs, differentiable = CASES[case]
    check_against_torch(torch, fn, *inputs, grad=differentiable, name=case)


def test_vander_gradient_at_zero():
    x = rg.tensor([0.0, 2.0], requires_grad=True)
    rg.vander(x, 4).sum().backward()  # d/dx (x^3 + x^2 + x + 1) = 3x^2 + 2x + 1
    assert x.grad.tolist() == [1.0, 17.0]


def test_errors():
    with pytest.raises(RuntimeError, match="unfold"):
        rg.ones(3).unfold(0, 4, 1)
    with pytest.raises(RuntimeError, match="hsplit"):
        rg.ones(2, 5).hsplit(2)
    with pytest.raises(RuntimeError, match="broadcast_shapes"):
        rg.broadcast_shapes((2, 3), (4,))
    with pytest.raises(RuntimeError, match="rot90"):
        rg.rot90(rg.ones(2, 2), 1, (0, 0))
    with pytest.raises(RuntimeError, match="H"):
        _ = rg.ones(2, 2, 2).H
