"""ctc_loss: the forward against a brute-force sum over every alignment, the gradient against
finite differences (spec), and against torch in float64 through a log_softmax (values and
gradients), with impossible alignments, empty targets, repeats and every layout."""

import itertools

import numpy as np
import pytest

import retrograd as rg

from .harness import OpSpec, parametrize

TARGETS = np.array([[1, 2, 2], [3, 0, 0]])  # the second is [3], padded
IN_LEN, TGT_LEN = np.array([5, 4]), np.array([3, 1])


def _collapse(path, blank=0):
    out = []
    for k, label in enumerate(path):
        if label != blank and (k == 0 or label != path[k - 1]):
            out.append(label)
    return out


def _brute_force(lp, targets, in_len, tgt_len, blank=0):
    """-log of the summed probability of every path that collapses to each target."""
    steps, batch, classes = lp.shape
    losses = []
    for n in range(batch):
        want = list(targets[n, :tgt_len[n]])
        total = 0.0
        for path in itertools.product(range(classes), repeat=int(in_len[n])):
            if _collapse(path, blank) == want:
                total += np.exp(sum(lp[t, n, c] for t, c in enumerate(path)))
        losses.append(-np.log(total))
    return np.array(losses)


def _log_probs(rng, shape):
    x = rng.standard_normal(shape)
    return x - np.log(np.exp(x).sum(-1, keepdims=True))


SPECS = [
    OpSpec("ctc_loss", lambda lp: rg.ctc_loss(lp, rg.tensor(TARGETS), rg.tensor(IN_LEN),
                                              rg.tensor(TGT_LEN), reduction="none"),
           lambda lp: _brute_force(lp, TARGETS, IN_LEN, TGT_LEN), [((5, 2, 4),)],
           domain=_log_probs, second_order=False),
    OpSpec("ctc_loss", lambda lp: rg.ctc_loss(lp, rg.tensor([2, 2]), rg.tensor([4]),
                                              rg.tensor([2]), blank=1, reduction="sum"),
           lambda lp: _brute_force(lp, np.array([[2, 2]]), [4], [2], blank=1).sum(),
           [((4, 1, 3),)], domain=_log_probs, second_order=False, name="ctc_loss_repeat"),
]

PARAMS, IDS = parametrize(SPECS)


@pytest.mark.parametrize("spec,shapes,check", PARAMS, ids=IDS)
def test_spec(spec, shapes, check):
    check(spec, shapes)


torch = pytest.importorskip("torch")

RNG = np.random.default_rng(0)
LOGITS = RNG.standard_normal((12, 4, 6))
PADDED = np.array([[1, 2, 2, 5, 3], [3, 3, 0, 0, 0], [4, 1, 2, 3, 0], [1, 0, 0, 0, 0]])
IN_LENS = np.array([12, 9, 12, 3])
TGT_LENS = np.array([5, 2, 4, 0])  # the last target is empty
IMPOSSIBLE = (np.array([[2, 2, 2], [1, 2, 3]]), np.array([4, 3]), np.array([3, 3]))


def _both(fn, logits, dtype="float64"):
    results = []
    for lib in (rg, torch):
        x = lib.tensor(logits.astype(dtype), requires_grad=True)
        out = fn(lib, x.log_softmax(-1))
        w = np.random.default_rng(1).standard_normal(tuple(out.shape)).astype(dtype)
        (out * lib.tensor(w)).sum().backward()
        results.append((out, x.grad))
    return results


CASES = {
    "none": lambda L, lp: L.nn.functional.ctc_loss(lp, L.tensor(PADDED), L.tensor(IN_LENS),
                                                   L.tensor(TGT_LENS), reduction="none"),
    "mean": lambda L, lp: L.nn.functional.ctc_loss(lp, L.tensor(PADDED), L.tensor(IN_LENS),
                                                   L.tensor(TGT_LENS)),
    "sum_blank_last": lambda L, lp: L.nn.functional.ctc_loss(
        lp, L.tensor(PADDED % 5), L.tensor(IN_LENS), L.tensor(TGT_LENS), blank=5,
        reduction="sum"),
    "concatenated_targets": lambda L, lp: L.nn.functional.ctc_loss(
        lp, L.tensor(np.concatenate([PADDED[n, :k] for n, k in enumerate(TGT_LENS)])),
        tuple(IN_LENS.tolist()), tuple(TGT_LENS.tolist()), reduction="none"),
    "module": lambda L, lp: L.nn.CTCLoss(reduction="mean")(lp, L.tensor(PADDED),
                                                           L.tensor(IN_LENS),
                                                           L.tensor(TGT_LENS)),
    "unbatched": lambda L, lp: L.nn.functional.ctc_loss(lp[:, 0], L.tensor(PADDED[0]),
                                                        L.tensor(12), L.tensor(5)),
    "zero_infinity": lambda L, lp: L.nn.functional.ctc_loss(
        lp[:4, :2], L.tensor(IMPOSSIBLE[0]), L.tensor(IMPOSSIBLE[1]), L.tensor(IMPOSSIBLE[2]),
        reduction="sum", zero_infinity=True),
}


@pytest.mark.parametrize("case", list(CASES), ids=list(CASES))
def test_matches_torch(case):
    (ours, g_ours), (theirs, g_theirs) = _both(CASES[case], LOGITS)
    np.testing.assert_allclose(ours.data, theirs.detach().numpy(), rtol=1e-10)
    np.testing.assert_allclose(g_ours.data, g_theirs.numpy(), rtol=1e-9, atol=1e-12)


def test_float32_matches_torch():
    (ours, g_ours), (theirs, g_theirs) = _both(CASES["mean"], LOGITS, "float32")
    assert ours.dtype == rg.float32
    np.testing.assert_allclose(ours.data, theirs.detach().numpy(), rtol=1e-5)
    np.testing.assert_allclose(g_ours.data, g_theirs.numpy(), rtol=1e-4, atol=1e-6)


def test_impossible_alignment_is_infinite():
    lp = rg.tensor(LOGITS[:4, :2]).log_softmax(-1)
    loss = rg.nn.functional.ctc_loss(lp, rg.tensor(IMPOSSIBLE[0]), rg.tensor(IMPOSSIBLE[1]),
                                     rg.tensor(IMPOSSIBLE[2]), reduction="none")
    assert np.isinf(loss.data[0]) and np.isfinite(loss.data[1])


def test_gradient_is_minus_the_posterior():
    """The derivative with respect to log_probs itself (PyTorch adds exp(log_probs) to it, which
    cancels in its log_softmax): each step's posteriors sum to 1."""
    lp = rg.tensor(LOGITS[:, :1]).log_softmax(-1).detach().requires_grad_()
    rg.nn.functional.ctc_loss(lp, rg.tensor(PADDED[:1]), rg.tensor([12]), rg.tensor([5]),
                              reduction="sum").backward()
    np.testing.assert_allclose(lp.grad.data.sum(-1), -1.0)


def test_errors():
    lp = rg.zeros(5, 2, 4)
    with pytest.raises(ValueError, match="reduction"):
        rg.ctc_loss(lp, rg.tensor(TARGETS), rg.tensor(IN_LEN), rg.tensor(TGT_LEN), reduction="x")
    with pytest.raises(ValueError, match="blank"):
        rg.ctc_loss(lp, rg.tensor([[0, 1, 1], [1, 1, 1]]), rg.tensor(IN_LEN), rg.tensor(TGT_LEN))
    with pytest.raises(ValueError, match="input_lengths"):
        rg.ctc_loss(lp, rg.tensor(TARGETS), rg.tensor([6, 5]), rg.tensor(TGT_LEN))
    with pytest.raises(NotImplementedError, match="gradient of the gradient"):
        x = rg.zeros(5, 2, 4, dtype=rg.float64, requires_grad=True)
        loss = rg.ctc_loss(x.log_softmax(-1), rg.tensor(TARGETS), rg.tensor(IN_LEN),
                           rg.tensor(TGT_LEN))
        rg.autograd.grad(loss, [x], create_graph=True)
