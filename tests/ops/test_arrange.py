import numpy as np
import pytest

import retrograd as rg

from .harness import OpSpec, parametrize

SPECS = [
    OpSpec("flip", lambda x: rg.flip(x, (0, 2)), lambda x: np.flip(x, (0, 2)),
           [((2, 3, 4),), ((0, 2, 1),)]),
    OpSpec("flip", lambda x: x.fliplr(), np.fliplr, [((2, 3),)], name="fliplr"),
    OpSpec("flip", lambda x: x.flipud(), np.flipud, [((2, 3),)], name="flipud"),
    OpSpec("flip", lambda x: rg.flip(x, ()), lambda x: x, [((),)], name="flip_0d"),
    OpSpec("roll", lambda x: rg.roll(x, (1, -5), (0, 1)), lambda x: np.roll(x, (1, -5), (0, 1)),
           [((3, 4),)]),
    OpSpec("roll", lambda x: x.roll(2), lambda x: np.roll(x, 2), [((2, 3),), ((0,),)],
           name="roll_flat"),
    OpSpec("tril", lambda x: rg.tril(x), np.tril, [((3, 4),), ((2, 3, 3),)]),
    OpSpec("tril", lambda x: x.tril(-1), lambda x: np.tril(x, -1), [((3, 4),)],
           name="tril_offset"),
    OpSpec("triu", lambda x: rg.triu(x, 1), lambda x: np.triu(x, 1), [((3, 4),), ((2, 4, 3),)]),
    OpSpec("constant_pad", lambda x: rg.pad(x, (1, 2)),
           lambda x: np.pad(x, ((0, 0), (1, 2))), [((2, 3),), ((2, 0),)]),
    OpSpec("constant_pad", lambda x: rg.pad(x, (0, 1, 2, 0), value=-1.5),
           lambda x: np.pad(x, ((0, 0), (2, 0), (0, 1)), constant_values=-1.5),
           [((2, 2, 3),)], name="pad_value_two_dims"),
    OpSpec("constant_pad", lambda x: rg.pad(x, (-1, 2, 1, -2)),
           lambda x: np.pad(x[:-2, 1:], ((1, 0), (0, 2))), [((4, 3),)], name="pad_negative"),
    OpSpec("index", lambda x: rg.pad(x, (2, 1), mode="reflect"),
           lambda x: np.pad(x, ((0, 0), (2, 1)), mode="reflect"), [((2, 4),)],
           name="pad_reflect"),
    OpSpec("index", lambda x: rg.pad(x, (1, 2, 2, 0), mode="replicate"),
           lambda x: np.pad(x, ((0, 0), (2, 0), (1, 2)), mode="edge"), [((1, 2, 3),)],
           name="pad_replicate"),
    OpSpec("index", lambda x: rg.pad(x, (3, 1), mode="circular"),
           lambda x: np.pad(x, ((0, 0), (3, 1)), mode="wrap"), [((2, 3),)],
           name="pad_circular"),
]

PARAMS, IDS = parametrize(SPECS)


@pytest.mark.parametrize("spec,shapes,check", PARAMS, ids=IDS)
def test_spec(spec, shapes, check):
    check(spec, shapes)


def test_results_are_copies_not_views():
    x = rg.zeros(3, 3)
    for y in (rg.flip(x, 0), rg.roll(x, 1, 0), rg.tril(x), rg.pad(x, (0, 0)),
              rg.pad(x, (0, 0), mode="reflect")):
        assert not np.shares_memory(y.data, x.data)


def test_pad_keeps_integer_dtypes():
    x = rg.tensor([[1, 2], [3, 4]])
    out = rg.pad(x, (1, 0), value=7)
    assert out.dtype == rg.int64
    np.testing.assert_array_equal(out.data, [[7, 1, 2], [7, 3, 4]])
    np.testing.assert_array_equal(rg.pad(x, (0, 1), mode="replicate").data, [[1, 2, 2], [3, 4, 4]])


def test_arrange_errors_name_the_op():
    x = rg.zeros(2, 3)
    with pytest.raises(ValueError, match="pad: the padding .* even length"):
        rg.pad(x, (1,))
    with pytest.raises(ValueError, match=r"pad: the padding .* covers 3 dims"):
        rg.pad(x, (1, 1, 1, 1, 1, 1))
    with pytest.raises(ValueError, match="pad: reflect padding of \\(3, 0\\) is invalid"):
        rg.pad(x, (3, 0), mode="reflect")
    with pytest.raises(ValueError, match="pad: circular padding"):
        rg.pad(x, (4, 0), mode="circular")
    with pytest.raises(ValueError, match="pad: mode must be"):
        rg.pad(x, (1, 1), mode="wrap")
    with pytest.raises(ValueError, match="doesn't take in value"):
        rg.pad(x, (1, 1), mode="reflect", value=1.0)
    with pytest.raises(ValueError, match="pad: padding \\(-2, -2\\)"):
        rg.pad(x, (-2, -2))
    with pytest.raises(ValueError, match="tril: expects a tensor with >= 2 dimensions"):
        rg.tril(rg.zeros(3))
    with pytest.raises(ValueError, match="roll: shifts"):
        rg.roll(x, (1, 2), 0)
    with pytest.raises(ValueError, match="flip: dim"):
        rg.flip(x, (0, 0))


torch = pytest.importorskip("torch")
F = pytest.importorskip("torch.nn.functional")


@pytest.mark.parametrize(
    "fn,shape",
    [
        (lambda m, x: m.flip(x, (0, -1)), (2, 3, 4)),
        (lambda m, x: m.roll(x, (2, -1), (1, 2)), (2, 3, 4)),
        (lambda m, x: m.roll(x, 5), (2, 3)),
        (lambda m, x: m.tril(x, 1), (2, 3, 4)),
        (lambda m, x: m.triu(x, -1), (4, 3)),
    ],
)
def test_matches_torch(fn, shape):
    _parity(lambda x: fn(rg, x), lambda x: fn(torch, x), shape)


@pytest.mark.parametrize(
    "pad,mode,shape",
    [
        ((1, 2), "constant", (2, 3, 4)),
        ((1, -1, 0, 2), "constant", (2, 3, 4)),
        ((2, 3), "reflect", (2, 3, 4)),
        ((1, 2, 2, 1), "reflect", (1, 3, 4)),
        ((2, 3), "replicate", (2, 3, 4)),
        ((1, 0, 2, 3), "replicate", (2, 2, 3, 4)),
        ((4, 2), "circular", (2, 3, 4)),
        ((1, 2, 3, 0), "circular", (1, 2, 3, 4)),
    ],
)
def test_pad_matches_torch(pad, mode, shape):
    _parity(lambda x: rg.pad(x, pad, mode=mode), lambda x: F.pad(x, pad, mode=mode), shape)


def _parity(fn_rg, fn_torch, shape, seed=0):
    rng = np.random.default_rng(seed)
    data = rng.standard_normal(shape)
    x = rg.tensor(data, requires_grad=True)
    xt = torch.tensor(data, requires_grad=True)
    out, out_t = fn_rg(x), fn_torch(xt)
    np.testing.assert_allclose(out.data, out_t.detach().numpy())
    v = rng.standard_normal(out.shape)
    out.backward(rg.tensor(v))
    out_t.backward(torch.tensor(v))
    np.testing.assert_allclose(x.grad.data, xt.grad.numpy())
