"""CTCLoss (more in tests/ops/test_ctc.py), MultiMarginLoss and MultiLabelMarginLoss against
torch: values and gradients."""

import numpy as np
import pytest

import retrograd as rg
from retrograd import nn
from tests.nn.helpers import check_parity

RNG = np.random.default_rng(10)
X = RNG.standard_normal((4, 5))
Y = np.array([1, 0, 4, 4])
MULTI = np.array([[3, 0, -1, 1, 2], [1, 2, 3, 4, 0], [-1, 1, 1, 1, 1], [2, 2, -1, 0, 0]])


@pytest.mark.parametrize("kwargs", [{}, {"p": 2}, {"margin": 0.5, "reduction": "sum"},
                                    {"reduction": "none"}])
def test_multi_margin_loss(torch, kwargs):
    layer, tlayer = nn.MultiMarginLoss(**kwargs), torch.nn.MultiMarginLoss(**kwargs)
    check_parity(torch, layer, tlayer, X, Y)
    assert repr(layer) == repr(tlayer)


def test_multi_margin_loss_weight_and_unbatched(torch):
    w = RNG.uniform(0.5, 2.0, 5)
    for args in ((X, Y), (X[0], Y[:1])):
        ours = rg.tensor(args[0], requires_grad=True)
        theirs = torch.tensor(args[0], requires_grad=True)
        a = rg.nn.functional.multi_margin_loss(ours, rg.tensor(args[1][0] if args[0].ndim == 1
                                                               else args[1]),
                                               weight=rg.tensor(w))
        b = torch.nn.functional.multi_margin_loss(theirs, torch.tensor(
            args[1][0] if args[0].ndim == 1 else args[1]), weight=torch.tensor(w))
        np.testing.assert_allclose(a.data, b.detach().numpy(), rtol=1e-12)
        a.backward()
        b.backward()
        np.testing.assert_allclose(ours.grad.data, theirs.grad.numpy(), rtol=1e-12)


@pytest.mark.parametrize("reduction", ["mean", "sum", "none"])
def test_multilabel_margin_loss(torch, reduction):
    layer = nn.MultiLabelMarginLoss(reduction=reduction)
    tlayer = torch.nn.MultiLabelMarginLoss(reduction=reduction)
    check_parity(torch, layer, tlayer, X, MULTI)


def test_multilabel_margin_loss_unbatched(torch):
    a = rg.nn.functional.multilabel_margin_loss(rg.tensor(X[0]), rg.tensor(MULTI[0]))
    b = torch.nn.functional.multilabel_margin_loss(torch.tensor(X[0]), torch.tensor(MULTI[0]))
    np.testing.assert_allclose(a.data, b.numpy(), rtol=1e-12)


def test_ctc_loss_module(torch):
    logits = RNG.standard_normal((6, 2, 4))
    targets, in_len, tgt_len = np.array([[1, 2], [3, 0]]), np.array([6, 5]), np.array([2, 1])
    layer, tlayer = nn.CTCLoss(blank=0, zero_infinity=True), torch.nn.CTCLoss(zero_infinity=True)
    a = layer(rg.tensor(logits).log_softmax(2), rg.tensor(targets), rg.tensor(in_len),
              rg.tensor(tgt_len))
    b = tlayer(torch.tensor(logits).log_softmax(2), torch.tensor(targets), torch.tensor(in_len),
               torch.tensor(tgt_len))
    np.testing.assert_allclose(a.data, b.numpy(), rtol=1e-12)
    assert repr(layer) == repr(tlayer)


def test_errors():
    with pytest.raises(ValueError, match="p = 1"):
        nn.MultiMarginLoss(p=3)
    with pytest.raises(ValueError, match="target"):
        rg.nn.functional.multi_margin_loss(rg.tensor(X), rg.tensor([7, 0, 0, 0]))
