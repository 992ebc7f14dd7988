"""gumbel_softmax, rrelu, channel_shuffle, embedding_bag and the in-place functional forms."""

import numpy as np
import pytest

import retrograd as rg
from retrograd.nn import functional as F

RNG = np.random.default_rng(9)
X = RNG.standard_normal((3, 5))


def test_gumbel_softmax_samples_follow_the_softmax():
    rg.manual_seed(0)
    logits = rg.tensor([[1.0, 0.0, -1.0, 2.0]]).expand(20_000, 4)
    hard = F.gumbel_softmax(logits, tau=0.5, hard=True)
    assert set(np.unique(hard.data)) == {0.0, 1.0}
    np.testing.assert_array_equal(hard.data.sum(-1), 1.0)
    expected = np.exp([1.0, 0.0, -1.0, 2.0]) / np.exp([1.0, 0.0, -1.0, 2.0]).sum()
    np.testing.assert_allclose(hard.data.mean(0), expected, atol=0.01)


def test_gumbel_softmax_soft_sample_and_straight_through_gradient():
    rg.manual_seed(1)
    logits = rg.tensor(X, requires_grad=True)
    soft = F.gumbel_softmax(logits, tau=2.0, dim=0)
    np.testing.assert_allclose(soft.data.sum(0), 1.0)
    rg.manual_seed(2)
    hard = F.gumbel_softmax(logits, tau=0.7, hard=True)
    rg.manual_seed(2)
    again = F.gumbel_softmax(logits, tau=0.7)
    np.testing.assert_array_equal(hard.data.argmax(-1), again.data.argmax(-1))
    w = rg.tensor(RNG.standard_normal(X.shape))
    (g_hard,) = rg.autograd.grad((hard * w).sum(), [logits])
    (g_soft,) = rg.autograd.grad((again * w).sum(), [logits])
    np.testing.assert_allclose(g_hard.data, g_soft.data, rtol=1e-6)


def test_gumbel_softmax_matches_torch_given_the_same_noise(torch, monkeypatch):
    """With the exponential draws fixed, the formula (and the gradient) is torch's."""
    draws = RNG.exponential(size=X.shape)

    class Fixed:
        def standard_exponential(self, shape):
            return draws.reshape(shape)

    monkeypatch.setattr(F._misc._random, "_gen", lambda generator: Fixed())
    monkeypatch.setattr(torch.Tensor, "exponential_",
                        lambda self: self.copy_(torch.tensor(draws)))
    for hard in (False, True):
        ours = rg.tensor(X, requires_grad=True)
        theirs = torch.tensor(X, requires_grad=True)
        a = F.gumbel_softmax(ours, tau=0.8, hard=hard)
        b = torch.nn.functional.gumbel_softmax(theirs, tau=0.8, hard=hard)
        np.testing.assert_allclose(a.data, b.detach().numpy(), rtol=1e-12)
        w = RNG.standard_normal(X.shape)
        (a * rg.tensor(w)).sum().backward()
        (b * torch.tensor(w)).sum().backward()
        np.testing.assert_allclose(ours.grad.data, theirs.grad.numpy(), rtol=1e-10, atol=1e-12)


def test_rrelu_eval_and_inplace_forms_match_torch(torch):
    TF = torch.nn.functional
    cases = [
        (lambda L, x: L.rrelu(x, 0.2, 0.4)),
        (lambda L, x: L.rrelu_(x * 1, 0.2, 0.4)),
        (lambda L, x: L.relu_(x * 1)),
        (lambda L, x: L.elu_(x * 1, 0.5)),
        (lambda L, x: L.leaky_relu_(x * 1, 0.3)),
        (lambda L, x: L.hardtanh_(x * 1, -0.5, 0.5)),
        (lambda L, x: L.celu_(x * 1, 1.5)),
        (lambda L, x: L.selu_(x * 1)),
        (lambda L, x: L.threshold_(x * 1, 0.1, -2.0)),
    ]
    for fn in cases:
        ours, theirs = rg.tensor(X, requires_grad=True), torch.tensor(X, requires_grad=True)
        a, b = fn(F, ours), fn(TF, theirs)
        np.testing.assert_allclose(a.data, b.detach().numpy(), rtol=1e-12)
        a.sum().backward()
        b.sum().backward()
        np.testing.assert_allclose(ours.grad.data, theirs.grad.numpy(), rtol=1e-12)


def test_inplace_functional_form_changes_its_argument():
    x = rg.tensor([-1.0, 2.0])
    assert F.relu_(x) is x and x.tolist() == [0.0, 2.0]
    y = rg.tensor([-1.0, 2.0])
    assert F.elu_(y) is y and y.tolist()[1] == 2.0


def test_channel_shuffle_matches_torch(torch):
    x = RNG.standard_normal((2, 6, 2, 3))
    np.testing.assert_array_equal(F.channel_shuffle(rg.tensor(x), 3).data,
                                  torch.nn.functional.channel_shuffle(torch.tensor(x), 3).numpy())
    np.testing.assert_array_equal(F.native_channel_shuffle(rg.tensor(x), 2).data,
                                  torch.native_channel_shuffle(torch.tensor(x), 2).numpy())


def test_embedding_bag_functional_with_offsets(torch):
    weight = RNG.standard_normal((6, 2))
    idx, offsets = np.array([0, 5, 5, 1, 2]), np.array([0, 2])
    for mode in ("sum", "mean", "max"):
        a = F.embedding_bag(rg.tensor(idx), rg.tensor(weight), rg.tensor(offsets), mode=mode)
        b = torch.nn.functional.embedding_bag(torch.tensor(idx), torch.tensor(weight),
                                              torch.tensor(offsets), mode=mode)
        np.testing.assert_allclose(a.data, b.numpy(), rtol=1e-12)
    with pytest.raises(ValueError, match="mode"):
        F.embedding_bag(rg.tensor(idx), rg.tensor(weight), rg.tensor(offsets), mode="min")
