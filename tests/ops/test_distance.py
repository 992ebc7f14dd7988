import numpy as np
import pytest

import retrograd as rg

from .harness import OpSpec, parametrize


def _cdist(a, b, p=2.0):
    diff = np.abs(a[..., :, None, :] - b[..., None, :, :])
    if p == np.inf:
        return diff.max(-1)
    return np.sum(diff**p, axis=-1) ** (1.0 / p)


def _cos(a, b, dim=1, eps=1e-8):
    a, b = np.broadcast_arrays(a, b)
    na = np.maximum(np.linalg.norm(a, axis=dim, keepdims=True), eps)
    nb = np.maximum(np.linalg.norm(b, axis=dim, keepdims=True), eps)
    return np.sum(a / na * b / nb, axis=dim)


MM = "use_mm_for_euclid_dist"
NO_MM = "donot_use_mm_for_euclid_dist"

SPECS = [
    OpSpec("cdist", rg.cdist, _cdist, [((4, 3), (5, 3)), ((2, 3, 2), (4, 2)), ((0, 2), (3, 2))]),
    OpSpec("cdist", lambda a, b: rg.cdist(a, b, compute_mode=MM), _cdist, [((4, 3), (2, 3))],
           name="cdist_mm"),
    OpSpec("norm", lambda a, b: rg.cdist(a, b, p=1.5), lambda a, b: _cdist(a, b, 1.5),
           [((3, 2), (4, 2))], name="cdist_p"),
    OpSpec("cdist", rg.pdist,
           lambda x: _cdist(x, x)[np.triu_indices(4, 1)], [((4, 3),)], name="pdist"),
    OpSpec("norm", lambda x: rg.pdist(x, p=1.5),
           lambda x: _cdist(x, x, 1.5)[np.triu_indices(3, 1)], [((3, 2),)], name="pdist_p"),
    OpSpec("norm", rg.pairwise_distance,
           lambda a, b: np.linalg.norm(a - b + 1e-6, axis=-1), [((3, 4), (3, 4)), ((3, 4), (4,))],
           name="pairwise_distance"),
    OpSpec("norm", rg.cosine_similarity, _cos, [((3, 4), (3, 4)), ((2, 3, 2), (3, 1))],
           name="cosine_similarity"),
    OpSpec("norm", lambda a, b: rg.cosine_similarity(a, b, dim=-1),
           lambda a, b: _cos(a, b, -1), [((3, 4), (4,))], name="cosine_similarity_last"),
]

PARAMS, IDS = parametrize(SPECS)


@pytest.mark.parametrize("spec,shapes,check", PARAMS, ids=IDS)
def test_spec(spec, shapes, check):
    check(spec, shapes)


def _torch():
    return pytest.importorskip("torch")


@pytest.mark.parametrize("mode", [None, MM, NO_MM])
@pytest.mark.parametrize("p", [2.0, 1.0, 3.0, 0.0, np.inf])
def test_cdist_matches_torch_with_coinciding_points(p, mode):
    torch = _torch()
    rng = np.random.default_rng(0)
    a, b = rng.standard_normal((30, 3)), rng.standard_normal((2, 6, 3))
    a[4] = b[1, 2]  # a zero distance: PyTorch's gradient there is 0
    kwargs = {} if mode is None else {"compute_mode": mode}
    x, y = rg.tensor(a, requires_grad=True), rg.tensor(b, requires_grad=True)
    tx, ty = torch.tensor(a, requires_grad=True), torch.tensor(b, requires_grad=True)
    out, expected = rg.cdist(x, y, p, **kwargs), torch.cdist(tx, ty, p, **kwargs)
    # the matmul form leaves rounding noise (~1e-8) where PyTorch's does too, not the same noise
    np.testing.assert_allclose(out.data, expected.detach().numpy(), rtol=1e-10, atol=1e-7)
    w = rng.standard_normal(out.shape)
    (expected * torch.tensor(w)).sum().backward()
    (out * rg.tensor(w)).sum().backward()
    if p == 0:  # a count of non-zeros: the gradient is zero (None here, zeros in PyTorch)
        assert x.grad is None and not tx.grad.any() and not ty.grad.any()
        return
    np.testing.assert_allclose(x.grad.data, tx.grad.numpy(), rtol=1e-8, atol=1e-10)
    np.testing.assert_allclose(y.grad.data, ty.grad.numpy(), rtol=1e-8, atol=1e-10)


def test_similarities_match_torch_including_zero_vectors():
    torch = _torch()
    rng = np.random.default_rng(1)
    a, b = rng.standard_normal((4, 5)), rng.standard_normal((4, 5))
    a[2] = 0.0
    for name, kwargs in [("cosine_similarity", {}), ("cosine_similarity", {"dim": 0}),
                         ("pairwise_distance", {}), ("pairwise_distance", {"p": 1.0,
                                                                           "keepdim": True})]:
        x, y = rg.tensor(a, requires_grad=True), rg.tensor(b, requires_grad=True)
        tx, ty = torch.tensor(a, requires_grad=True), torch.tensor(b, requires_grad=True)
        out = getattr(rg, name)(x, y, **kwargs)
        expected = getattr(torch, name)(tx, ty, **kwargs)
        np.testing.assert_allclose(out.data, expected.detach().numpy(), rtol=1e-10)
        out.sum().backward()
        expected.sum().backward()
        np.testing.assert_allclose(x.grad.data, tx.grad.numpy(), rtol=1e-8, atol=1e-12)
        np.testing.assert_allclose(y.grad.data, ty.grad.numpy(), rtol=1e-8, atol=1e-12)
    out = rg.pdist(rg.tensor(a), 2.0)
    np.testing.assert_allclose(out.data, torch.pdist(torch.tensor(a)).numpy(), rtol=1e-10)


def test_cdist_errors():
    with pytest.raises(RuntimeError, match=r"cdist: x1 \(2, 3\) and x2 \(2, 4\) must have"):
        rg.cdist(rg.ones(2, 3), rg.ones(2, 4))
    with pytest.raises(RuntimeError, match="cdist: x1 and x2 must have at least 2 dimensions"):
        rg.cdist(rg.ones(3), rg.ones(2, 3))
    with pytest.raises(ValueError, match="cdist: compute_mode must be one of"):
        rg.cdist(rg.ones(2, 3), rg.ones(2, 3), compute_mode="fast")
