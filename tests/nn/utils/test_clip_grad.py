"""clip_grad_norm_ / clip_grad_value_ against torch."""

import numpy as np
import pytest

import retrograd as rg
from retrograd import nn
from retrograd.nn.utils import clip_grad_norm_, clip_grad_value_, get_total_norm


def _pair(torch, scale=1.0):
    rng = np.random.default_rng(0)
    grads = [rng.standard_normal(s) * scale for s in [(3, 4), (4,), (2, 2, 2)]]
    ours, theirs = [], []
    for g in grads:
        p = nn.Parameter(rg.zeros(*g.shape, dtype=rg.float64))
        p.grad = rg.tensor(g.copy())
        ours.append(p)
        tp = torch.nn.Parameter(torch.zeros(*g.shape, dtype=torch.float64))
        tp.grad = torch.tensor(g.copy())
        theirs.append(tp)
    return ours, theirs


@pytest.mark.parametrize("norm_type", [2.0, 1.0, 3.5, float("inf"), "inf"])
@pytest.mark.parametrize("max_norm", [0.5, 1e6])
def test_clip_grad_norm_matches_torch(torch, norm_type, max_norm):
    ours, theirs = _pair(torch)
    total = clip_grad_norm_(ours, max_norm, norm_type)
    t_total = torch.nn.utils.clip_grad_norm_(theirs, max_norm, norm_type)
    assert total.item() == pytest.approx(t_total.item(), rel=1e-12)
    for p, tp in zip(ours, theirs):
        np.testing.assert_allclose(p.grad.data, tp.grad.numpy(), rtol=1e-12)


def test_clip_grad_norm_single_tensor_and_no_grads():
    p = nn.Parameter(rg.zeros(2))
    assert clip_grad_norm_(p, 1.0).item() == 0.0
    p.grad = rg.tensor([3.0, 4.0])
    assert clip_grad_norm_(p, 1.0).item() == pytest.approx(5.0)
    np.testing.assert_allclose(p.grad.data, [0.6, 0.8], rtol=1e-5)


def test_error_if_nonfinite(torch):
    ours, theirs = _pair(torch)
    ours[0].grad.data[0, 0] = np.inf
    theirs[0].grad[0, 0] = float("inf")
    with pytest.raises(RuntimeError, match="non-finite"):
        clip_grad_norm_(ours, 1.0, error_if_nonfinite=True)
    with pytest.raises(RuntimeError, match="non-finite"):
        torch.nn.utils.clip_grad_norm_(theirs, 1.0, error_if_nonfinite=True)
    total = clip_grad_norm_(ours, 1.0)
    t_total = torch.nn.utils.clip_grad_norm_(theirs, 1.0)
    assert total.item() == t_total.item() == float("inf")
    np.testing.assert_array_equal(np.isnan(ours[1].grad.data), np.isnan(theirs[1].grad.numpy()))


def test_get_total_norm_matches_torch(torch):
    ours, theirs = _pair(torch)
    assert get_total_norm([p.grad for p in ours], 2.0).item() == pytest.approx(
        torch.nn.utils.get_total_norm([p.grad for p in theirs], 2.0).item(), rel=1e-12
    )


def test_clip_grad_value_matches_torch(torch):
    ours, theirs = _pair(torch)
    clip_grad_value_(ours, 0.5)
    torch.nn.utils.clip_grad_value_(theirs, 0.5)
    for p, tp in zip(ours, theirs):
        np.testing.assert_array_equal(p.grad.data, tp.grad.numpy())


def test_clipping_a_model_in_a_training_step():
    model = nn.Linear(3, 2)
    model(rg.randn(5, 3) * 100).sum().backward()
    total = clip_grad_norm_(model.parameters(), 1.0)
    assert total.item() > 1.0
    after = get_total_norm([p.grad for p in model.parameters()])
    assert after.item() == pytest.approx(1.0, rel=1e-4)
