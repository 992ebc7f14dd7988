"""Loss functions and modules against PyTorch in float64 (every reduction, class weights,
ignore_index, label smoothing, probability targets, K-dimensional inputs; values and gradients
with respect to input and, where PyTorch differentiates it, target); gradient checks to second
order for every loss; errors. The fused primitives' specs are in tests/ops/test_loss.py."""

import warnings

import numpy as np
import pytest

import retrograd as rg
from retrograd import nn
from retrograd.autograd.gradcheck import gradcheck, gradgradcheck
from retrograd.nn import functional as F

RNG = np.random.default_rng(3)
REDUCTIONS = ["mean", "sum", "none"]


def _normal(*shape):
    return RNG.standard_normal(shape)


def _sign(*shape):
    return RNG.choice([-1.0, 1.0], shape)


def _probs(*shape, dim=1):
    p = RNG.dirichlet(np.ones(shape[dim]), size=shape[:dim] + shape[dim + 1:])
    return np.ascontiguousarray(np.moveaxis(p, -1, dim))


def _classes(*shape, c=4, ignore=None):
    t = RNG.integers(0, c, shape)
    if ignore is not None:
        t.flat[0] = ignore
    return t


W4 = np.array([0.5, 2.0, 1.0, 1.5])

# (function name, input arrays, keyword arguments, positions with no gradient in PyTorch).
# A keyword named weight/pos_weight is passed as a tensor (never differentiated).
CASES = [
    ("mse_loss", lambda: [_normal(3, 4), _normal(3, 4)], {}, ()),
    ("mse_loss", lambda: [_normal(3, 4), _normal(3, 4)], {"weight": RNG.uniform(0.5, 2, (3, 4))},
     ()),
    ("l1_loss", lambda: [_normal(3, 4), _normal(3, 4)], {}, ()),
    ("l1_loss", lambda: [_normal(3, 4), _normal(3, 4)], {"weight": RNG.uniform(0.5, 2, (3, 4))},
     ()),
    ("smooth_l1_loss", lambda: [_normal(3, 4), _normal(3, 4)], {"beta": 0.7}, ()),
    ("smooth_l1_loss", lambda: [_normal(3, 4), _normal(3, 4)], {"beta": 0.0}, ()),
    ("huber_loss", lambda: [_normal(3, 4) * 2, _normal(3, 4)], {"delta": 0.8}, ()),
    ("huber_loss", lambda: [_normal(3, 4) * 2, _normal(3, 4)],
     {"weight": RNG.uniform(0.5, 2, (3, 4))}, ()),
    ("cross_entropy", lambda: [_normal(6, 4), _classes(6)], {}, ()),
    ("cross_entropy", lambda: [_normal(6, 4), _classes(6, ignore=-100)],
     {"weight": W4, "label_smoothing": 0.2}, ()),
    ("cross_entropy", lambda: [_normal(6, 4), _classes(6, ignore=3)],
     {"weight": W4, "ignore_index": 3}, ()),
    ("cross_entropy", lambda: [_normal(2, 4, 3, 2), _classes(2, 3, 2, ignore=-100)],
     {"weight": W4, "label_smoothing": 0.1}, ()),
    ("cross_entropy", lambda: [_normal(4), _classes()], {"label_smoothing": 0.3}, ()),
    ("cross_entropy", lambda: [_normal(5, 4), _probs(5, 4)], {}, ()),
    ("cross_entropy", lambda: [_normal(5, 4), _probs(5, 4)],
     {"weight": W4, "label_smoothing": 0.25}, ()),
    ("cross_entropy", lambda: [_normal(2, 4, 3), _probs(2, 4, 3)], {"weight": W4}, ()),
    ("cross_entropy", lambda: [_normal(4), _probs(4, dim=0)], {}, ()),
    ("nll_loss", lambda: [np.log(_probs(6, 4)), _classes(6, ignore=-100)], {"weight": W4}, ()),
    ("nll_loss", lambda: [np.log(_probs(2, 4, 3)), _classes(2, 3, ignore=1)],
     {"ignore_index": 1}, ()),
    ("nll_loss", lambda: [np.log(_probs(4, dim=0)), _classes()], {}, ()),
    ("binary_cross_entropy", lambda: [RNG.uniform(0.02, 0.98, (3, 4)), RNG.uniform(0, 1, (3, 4))],
     {}, ()),
    ("binary_cross_entropy", lambda: [RNG.uniform(0.02, 0.98, (3, 4)),
                                      RNG.integers(0, 2, (3, 4)).astype(float)],
     {"weight": RNG.uniform(0.5, 2, 4)}, ()),
    ("binary_cross_entropy_with_logits", lambda: [_normal(3, 4) * 4, RNG.uniform(0, 1, (3, 4))],
     {}, ()),
    ("binary_cross_entropy_with_logits", lambda: [_normal(3, 4) * 4, RNG.uniform(0, 1, (3, 4))],
     {"weight": RNG.uniform(0.5, 2, (3, 1)), "pos_weight": RNG.uniform(0.5, 3, 4)}, ()),
    ("kl_div", lambda: [np.log(_probs(3, 5)), _probs(3, 5)], {}, ()),
    ("kl_div", lambda: [np.log(_probs(3, 5)), np.log(_probs(3, 5))], {"log_target": True}, ()),
    ("margin_ranking_loss", lambda: [_normal(6), _normal(6), _sign(6)], {"margin": 0.3}, (2,)),
    ("soft_margin_loss", lambda: [_normal(3, 4), _sign(3, 4)], {}, (1,)),
    ("hinge_embedding_loss", lambda: [_normal(3, 4), _sign(3, 4)], {"margin": 0.5}, (1,)),
    ("cosine_embedding_loss", lambda: [_normal(5, 3), _normal(5, 3), _sign(5)],
     {"margin": -0.2}, (2,)),
    ("cosine_embedding_loss", lambda: [_normal(3), _normal(3), _sign()], {}, (2,)),
    ("triplet_margin_loss", lambda: [_normal(4, 3), _normal(4, 3), _normal(4, 3)],
     {"margin": 2.0}, ()),
    ("triplet_margin_loss", lambda: [_normal(4, 3), _normal(4, 3), _normal(4, 3)],
     {"margin": 2.0, "p": 1, "swap": True}, ()),
    # targets >= 1: at 0 PyTorch's gradient with respect to the target is nan with full=True
    ("poisson_nll_loss", lambda: [_normal(3, 4), RNG.poisson(2.0, (3, 4)) + 1.0],
     {"full": True}, ()),
    ("poisson_nll_loss", lambda: [RNG.uniform(0.5, 2, (3, 4)),
                                  RNG.poisson(2.0, (3, 4)).astype(float)],
     {"log_input": False}, ()),
    ("gaussian_nll_loss", lambda: [_normal(3, 4), _normal(3, 4), RNG.uniform(0.5, 2, (3, 4))],
     {"full": True}, ()),
    ("gaussian_nll_loss", lambda: [_normal(3, 4), _normal(3, 4), RNG.uniform(0.5, 2, 3)], {}, ()),
    ("gaussian_nll_loss", lambda: [_normal(3, 4), _normal(3, 4),
                                   np.array([1e-9, 0.5, 1.0, 2.0])[None].repeat(3, 0)],
     {"eps": 1e-3}, ()),
    ("multilabel_soft_margin_loss", lambda: [_normal(3, 4), RNG.integers(0, 2, (3, 4)) * 1.0],
     {"weight": RNG.uniform(0.5, 2, 4)}, ()),
]
_TENSOR_KWARGS = ("weight", "pos_weight")


def _case_id(case):
    name, _, kwargs, _ = case
    return name + ("[" + ",".join(sorted(kwargs)) + "]" if kwargs else "")


def _kwargs(kwargs, lib):
    return {k: lib.tensor(v) if k in _TENSOR_KWARGS else v for k, v in kwargs.items()}


def _reductions(name):
    return REDUCTIONS + (["batchmean"] if name == "kl_div" else [])


@pytest.mark.parametrize("case", CASES, ids=[_case_id(c) for c in CASES])
def test_loss_matches_torch(torch, case):
    name, make, kwargs, nograd = case
    arrays = make()
    for reduction in _reductions(name):
        rg_in, t_in = [], []
        for i, a in enumerate(arrays):
            needs = i not in nograd and np.asarray(a).dtype.kind == "f"
            rg_in.append(rg.tensor(a, requires_grad=needs))
            t_in.append(torch.tensor(a, requires_grad=needs))
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")  # kl_div's 'mean' warns in both libraries
            out = getattr(F, name)(*rg_in, reduction=reduction, **_kwargs(kwargs, rg))
            expected = getattr(torch.nn.functional, name)(*t_in, reduction=reduction,
                                                          **_kwargs(kwargs, torch))
        assert out.shape == tuple(expected.shape), (name, reduction)
        np.testing.assert_allclose(out.data, expected.detach().numpy(), rtol=1e-10, atol=1e-12,
                                   err_msg=f"{name} {reduction}")
        g = RNG.standard_normal(out.shape)
        (out * rg.tensor(g)).sum().backward()
        (expected * torch.tensor(g)).sum().backward()
        for i, (x, tx) in enumerate(zip(rg_in, t_in)):
            if tx.requires_grad:
                np.testing.assert_allclose(x.grad.data, tx.grad.numpy(), rtol=1e-9, atol=1e-10,
                                           err_msg=f"{name} {reduction}: gradient of input {i}")


# Inputs sitting on a kink, which finite differences cannot check: poisson's integer targets
# at the t > 1 switch of Stirling's term, and a variance below eps (clamped, with PyTorch's
# pass-through gradient).
_KINKED = {"poisson_nll_loss[full]": (1,), "gaussian_nll_loss[eps]": (2,)}


@pytest.mark.parametrize("case", CASES, ids=[_case_id(c) for c in CASES])
def test_loss_gradients_to_second_order(case):
    name, make, kwargs, nograd = case
    arrays = make()
    nograd = nograd + _KINKED.get(_case_id(case), ())
    tensors = [rg.tensor(a, requires_grad=i not in nograd and np.asarray(a).dtype.kind == "f")
               for i, a in enumerate(arrays)]
    kw = _kwargs(kwargs, rg)
    for reduction in ("none", "mean"):
        def fn(*xs, reduction=reduction):
            with warnings.catch_warnings():
                warnings.simplefilter("ignore")
                return getattr(F, name)(*xs, reduction=reduction, **kw)

        gradcheck(fn, tensors, atol=1e-5, rtol=1e-4)
        gradgradcheck(fn, tensors, atol=1e-5, rtol=1e-4)


# ----------------------------------------------------------------- modules
MODULES = [
    ("MSELoss", {}, lambda: [_normal(3, 4), _normal(3, 4)]),
    ("L1Loss", {"reduction": "sum"}, lambda: [_normal(3, 4), _normal(3, 4)]),
    ("SmoothL1Loss", {"beta": 0.5}, lambda: [_normal(3, 4), _normal(3, 4)]),
    ("HuberLoss", {"delta": 0.5, "reduction": "none"}, lambda: [_normal(3, 4), _normal(3, 4)]),
    ("CrossEntropyLoss", {"weight": W4, "ignore_index": 2, "label_smoothing": 0.1},
     lambda: [_normal(5, 4), _classes(5)]),
    ("CrossEntropyLoss", {}, lambda: [_normal(5, 4), _probs(5, 4)]),
    ("NLLLoss", {"weight": W4, "reduction": "sum"}, lambda: [np.log(_probs(5, 4)), _classes(5)]),
    ("BCELoss", {"weight": RNG.uniform(0.5, 2, 4)},
     lambda: [RNG.uniform(0.05, 0.95, (3, 4)), RNG.uniform(0, 1, (3, 4))]),
    ("BCEWithLogitsLoss", {"pos_weight": RNG.uniform(0.5, 2, 4)},
     lambda: [_normal(3, 4), RNG.uniform(0, 1, (3, 4))]),
    ("KLDivLoss", {"reduction": "batchmean", "log_target": True},
     lambda: [np.log(_probs(3, 5)), np.log(_probs(3, 5))]),
    ("MarginRankingLoss", {"margin": 0.1}, lambda: [_normal(4), _normal(4), _sign(4)]),
    ("SoftMarginLoss", {}, lambda: [_normal(3, 4), _sign(3, 4)]),
    ("HingeEmbeddingLoss", {"margin": 2.0}, lambda: [_normal(3, 4), _sign(3, 4)]),
    ("CosineEmbeddingLoss", {"margin": 0.1}, lambda: [_normal(4, 3), _normal(4, 3), _sign(4)]),
    ("TripletMarginLoss", {"margin": 1.5, "swap": True},
     lambda: [_normal(4, 3), _normal(4, 3), _normal(4, 3)]),
    ("PoissonNLLLoss", {"full": True}, lambda: [_normal(3, 4), RNG.poisson(3.0, (3, 4)) + 1.0]),
    ("GaussianNLLLoss", {"full": True},
     lambda: [_normal(3, 4), _normal(3, 4), RNG.uniform(0.5, 2, (3, 4))]),
    ("MultiLabelSoftMarginLoss", {"weight": RNG.uniform(0.5, 2, 4)},
     lambda: [_normal(3, 4), RNG.integers(0, 2, (3, 4)) * 1.0]),
]


@pytest.mark.parametrize("case", MODULES, ids=[c[0] + str(i) for i, c in enumerate(MODULES)])
def test_loss_module_matches_torch(torch, case):
    name, kwargs, make = case
    arrays = make()
    module = getattr(nn, name)(**_kwargs(kwargs, rg))
    tmodule = getattr(torch.nn, name)(**_kwargs(kwargs, torch))
    assert list(module.state_dict()) == list(tmodule.state_dict())
    assert repr(module) == repr(tmodule)
    first_float = [rg.tensor(arrays[0], requires_grad=True)]
    t_first = [torch.tensor(arrays[0], requires_grad=True)]
    out = module(*first_float, *[rg.tensor(a) for a in arrays[1:]])
    expected = tmodule(*t_first, *[torch.tensor(a) for a in arrays[1:]])
    np.testing.assert_allclose(out.data, expected.detach().numpy(), rtol=1e-10, atol=1e-12)
    out.sum().backward()
    expected.sum().backward()
    np.testing.assert_allclose(first_float[0].grad.data, t_first[0].grad.numpy(), rtol=1e-9,
                               atol=1e-12)


def test_any_function_of_tensors_is_a_loss():
    """A hand-written loss trains a layer like a built-in one (here: log-cosh)."""
    rg.manual_seed(0)
    layer = nn.Linear(3, 1)
    x, y = rg.randn(16, 3), rg.randn(16, 1)
    opt = rg.optim.SGD(layer.parameters(), lr=0.1)

    def log_cosh(pred, target):
        return rg.log(rg.cosh(pred - target)).mean()

    losses = []
    for _ in range(10):
        opt.zero_grad()
        loss = log_cosh(layer(x), y)
        loss.backward()
        opt.step()
        losses.append(loss.item())
    assert losses[-1] < losses[0]


# ----------------------------------------------------------------- errors
def test_bad_reduction_is_named():
    with pytest.raises(ValueError, match="mse_loss: reduction must be one of .* got 'avg'"):
        F.mse_loss(rg.randn(3), rg.randn(3), reduction="avg")
    with pytest.raises(ValueError, match="CrossEntropyLoss: reduction must be one of"):
        nn.CrossEntropyLoss(reduction="batchmean")
    assert nn.KLDivLoss(reduction="batchmean").reduction == "batchmean"


def test_shape_mismatch_names_both_shapes():
    with pytest.raises(ValueError, match=r"target of shape \(2, 4\) does not broadcast with "
                                         r"input of shape \(3, 4\)"):
        F.mse_loss(rg.randn(3, 4), rg.randn(2, 4))
    with pytest.warns(UserWarning, match=r"target of shape \(3, 1\) with an input of shape"):
        F.l1_loss(rg.randn(3, 4), rg.randn(3, 1))
    with pytest.raises(ValueError, match=r"target of shape \(3, 1\) must have the input's "
                                         r"shape \(3, 4\)"):
        F.binary_cross_entropy_with_logits(rg.randn(3, 4), rg.rand(3, 1))
    with pytest.raises(ValueError, match=r"expected target of shape \(3,\) for an input of "
                                         r"shape \(3, 4\) \(N, C, \.\.\.\), got shape \(2,\)"):
        F.cross_entropy(rg.randn(3, 4), rg.tensor([0, 1]))
    with pytest.raises(ValueError, match=r"expected target of shape \(2, 5\)"):
        F.nll_loss(rg.randn(2, 4, 5), rg.tensor([0, 1]))
    with pytest.raises(TypeError, match=r"got dtype float32 and shape \(3, 5\) \(probability "
                                        r"targets must have the input's shape \(3, 4\)\)"):
        F.cross_entropy(rg.randn(3, 4), rg.rand(3, 5))


def test_class_index_errors():
    with pytest.raises(IndexError, match="cross_entropy: target 4 is out of bounds for 4 classes"):
        F.cross_entropy(rg.randn(3, 4), rg.tensor([0, 4, 1]))
    with pytest.raises(IndexError, match="nll_loss: target -1 is out of bounds for 4 classes"):
        F.nll_loss(rg.randn(3, 4), rg.tensor([0, -1, 1]))
    with pytest.raises(TypeError, match="cross_entropy: expected class indices of an integer "
                                        "dtype as target, got dtype float32"):
        F.cross_entropy(rg.randn(3, 4), rg.tensor([0.0, 1.0, 1.0]))
    with pytest.raises(TypeError, match="nll_loss: expected class indices"):
        F.nll_loss(rg.randn(3, 4), rg.rand(3, 4))
    with pytest.raises(ValueError, match=r"weight must be a 1-D tensor with one entry per class "
                                         r"\(4\), got shape \(3,\)"):
        F.cross_entropy(rg.randn(3, 4), rg.tensor([0, 1, 2]), weight=rg.ones(3))
    with pytest.raises(ValueError, match="label_smoothing must be in"):
        F.cross_entropy(rg.randn(3, 4), rg.tensor([0, 1, 2]), label_smoothing=1.5)
    # ignore_index itself may lie outside [0, C)
    F.cross_entropy(rg.randn(3, 4), rg.tensor([0, -7, 1]), ignore_index=-7)


def test_binary_cross_entropy_errors():
    with pytest.raises(ValueError, match="must be a probability in"):
        F.binary_cross_entropy(rg.tensor([0.5, 1.5]), rg.tensor([0.0, 1.0]))
    with pytest.raises(TypeError, match="floating-point target"):
        F.binary_cross_entropy(rg.tensor([0.5, 0.5]), rg.tensor([0, 1]))


def test_legacy_size_average_and_reduce(torch):
    x, y = _normal(3, 4), _normal(3, 4)
    for size_average, reduce in [(False, None), (None, False), (True, True)]:
        with pytest.warns(DeprecationWarning):
            out = F.mse_loss(rg.tensor(x), rg.tensor(y), size_average, reduce)
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            expected = torch.nn.functional.mse_loss(torch.tensor(x), torch.tensor(y),
                                                    size_average, reduce)
        np.testing.assert_allclose(out.data, expected.numpy(), rtol=1e-12)


def test_kl_div_mean_warns_like_torch():
    with pytest.warns(UserWarning, match="batchmean"):
        F.kl_div(rg.randn(2, 3), rg.rand(2, 3))
