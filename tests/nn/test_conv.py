"""Conv1d, Conv2d, ConvTranspose1d/2d and F.conv*/unfold/fold: torch parity, init, errors."""

import math

import numpy as np
import pytest

import retrograd as rg
from retrograd import nn
from retrograd.nn import functional as F
from tests.nn.helpers import assert_close, check_parity

RNG = np.random.default_rng(0)

CONV2D = [
    ((3, 6, 5), {}),
    ((4, 6, (3, 2)), {"stride": 2, "padding": (1, 2), "bias": False}),
    ((4, 6, 3), {"groups": 2, "dilation": 2, "padding": 2}),
    ((3, 4, 4), {"padding": "same"}),
    ((3, 4, 3), {"padding": "valid"}),
    ((3, 4, 3), {"padding": 1, "padding_mode": "reflect"}),
    ((3, 4, 3), {"padding": (2, 1), "padding_mode": "replicate"}),
    ((3, 4, (4, 3)), {"padding": "same", "dilation": (1, 2), "padding_mode": "circular"}),
]


@pytest.mark.filterwarnings("ignore:Using padding='same'")
@pytest.mark.parametrize("args,kwargs", CONV2D, ids=str)
@pytest.mark.parametrize("batched", [True, False])
def test_conv2d_matches_torch(torch, args, kwargs, batched):
    shape = (2, args[0], 9, 8) if batched else (args[0], 9, 8)
    check_parity(torch, nn.Conv2d(*args, **kwargs, dtype=rg.float64),
                 torch.nn.Conv2d(*args, **kwargs).double(), RNG.standard_normal(shape))


@pytest.mark.filterwarnings("ignore:Using padding='same'")
@pytest.mark.parametrize("args,kwargs", [
    ((3, 4, 3), {}),
    ((4, 6, 2), {"stride": 2, "padding": 1, "groups": 2}),
    ((3, 4, 4), {"padding": "same", "dilation": 2}),
    ((3, 4, 3), {"padding": 2, "padding_mode": "circular"}),
], ids=str)
def test_conv1d_matches_torch(torch, args, kwargs):
    check_parity(torch, nn.Conv1d(*args, **kwargs, dtype=rg.float64),
                 torch.nn.Conv1d(*args, **kwargs).double(), RNG.standard_normal((2, args[0], 11)))


@pytest.mark.parametrize("args,kwargs", [
    ((3, 4, 3), {}),
    ((4, 6, (3, 2)), {"stride": 2, "padding": 1, "output_padding": 1, "groups": 2}),
    ((3, 2, 2), {"stride": (1, 3), "dilation": 2, "bias": False}),
], ids=str)
def test_conv_transpose2d_matches_torch(torch, args, kwargs):
    check_parity(torch, nn.ConvTranspose2d(*args, **kwargs, dtype=rg.float64),
                 torch.nn.ConvTranspose2d(*args, **kwargs).double(),
                 RNG.standard_normal((2, args[0], 4, 5)))


def test_conv_transpose1d_matches_torch(torch):
    check_parity(torch, nn.ConvTranspose1d(3, 4, 3, stride=2, padding=1, dtype=rg.float64),
                 torch.nn.ConvTranspose1d(3, 4, 3, stride=2, padding=1).double(),
                 RNG.standard_normal((2, 3, 6)))


def test_conv_transpose_output_size_matches_torch(torch):
    layer = nn.ConvTranspose2d(2, 3, 3, stride=2, padding=1, dtype=rg.float64)
    t_layer = torch.nn.ConvTranspose2d(2, 3, 3, stride=2, padding=1).double()
    layer.load_state_dict({k: v.detach().numpy() for k, v in t_layer.state_dict().items()})
    x = RNG.standard_normal((1, 2, 4, 4))
    for size in ([7, 8], (1, 3, 8, 7)):
        out = layer(rg.tensor(x), output_size=size)
        expected = t_layer(torch.tensor(x), output_size=size)
        assert out.shape == tuple(expected.shape)
        assert_close(out, expected)
    with pytest.raises(ValueError, match=r"^ConvTranspose2d: requested an output size of "
                                         r"\(9, 9\), but valid sizes range from 7 to 8"):
        layer(rg.tensor(x), output_size=(9, 9))


def test_reprs_match_torch(torch):
    for make in (
        lambda m: m.Conv2d(1, 2, 3, padding="same"),
        lambda m: m.Conv2d(4, 6, (3, 2), stride=2, padding=1, groups=2, bias=False),
        lambda m: m.Conv1d(1, 2, 3, padding=1, dilation=2, bias=False, padding_mode="reflect"),
        lambda m: m.ConvTranspose2d(4, 2, 3, stride=2, output_padding=1, groups=2),
        lambda m: m.ConvTranspose1d(2, 2, 4, padding=1, dilation=3),
    ):
        assert repr(make(nn)) == repr(make(torch.nn))


def test_parameter_names_shapes_and_attributes_match_torch(torch):
    for make in (lambda m: m.Conv2d(4, 6, (3, 2), groups=2, padding="same"),
                 lambda m: m.ConvTranspose2d(4, 6, 3, groups=2),
                 lambda m: m.Conv1d(2, 3, 5, stride=2)):
        ours, theirs = make(nn), make(torch.nn)
        assert [(n, tuple(p.shape)) for n, p in ours.named_parameters()] == \
            [(n, tuple(p.shape)) for n, p in theirs.named_parameters()]
        for attr in ("kernel_size", "stride", "padding", "dilation", "output_padding",
                     "groups", "padding_mode", "transposed", "_reversed_padding_repeated_twice"):
            ours_value, theirs_value = getattr(ours, attr), getattr(theirs, attr)
            if attr.startswith("_reversed"):  # torch keeps a list for 'same', else a tuple
                theirs_value = tuple(theirs_value)
            assert ours_value == theirs_value, attr


def test_default_init_bounds():
    rg.manual_seed(0)
    layer = nn.Conv2d(6, 16, 5)
    bound = 1 / math.sqrt(6 * 5 * 5)
    w, b = layer.weight.data, layer.bias.data
    assert w.dtype == np.float32 and w.shape == (16, 6, 5, 5)
    assert bound * 0.98 < np.abs(w).max() <= bound
    assert abs(w.std() - bound / math.sqrt(3)) < 0.05 * bound
    assert 0 < np.abs(b).max() <= bound
    transposed = nn.ConvTranspose2d(6, 4, 3, groups=2)  # fan_in = weight.shape[1] * 9
    assert np.abs(transposed.weight.data).max() <= 1 / math.sqrt(2 * 9)


def test_input_errors_name_the_layer():
    layer = nn.Conv2d(3, 6, 5)
    with pytest.raises(ValueError, match=r"^Conv2d: expected input with 3 channels "
                                         r"\(in_channels\), got shape \(8, 1, 28, 28\)$"):
        layer(rg.zeros(8, 1, 28, 28))
    with pytest.raises(ValueError, match=r"^Conv2d: expected a 3-D or 4-D input, got shape "
                                         r"\(28, 28\)$"):
        layer(rg.zeros(28, 28))
    model = nn.Sequential(nn.Conv2d(1, 6, 5), nn.ReLU(), nn.Conv1d(6, 2, 3))
    with pytest.raises(ValueError, match=r"^2 \(Conv1d\): expected a 2-D or 3-D input"):
        model(rg.zeros(1, 1, 8, 8))


@pytest.mark.parametrize("make,message", [
    (lambda: nn.Conv2d(3, 6, 3, groups=2), r"Conv2d: in_channels \(3\) must be divisible"),
    (lambda: nn.Conv2d(4, 6, 3, groups=4), r"Conv2d: out_channels \(6\) must be divisible"),
    (lambda: nn.Conv2d(4, 6, 3, groups=0), "Conv2d: groups must be a positive integer"),
    (lambda: nn.Conv2d(1, 1, 3, padding="full"), "Conv2d: padding must be 'valid', 'same'"),
    (lambda: nn.Conv2d(1, 1, 3, stride=2, padding="same"),
     "Conv2d: padding='same' is not supported for strided convolutions"),
    (lambda: nn.Conv2d(1, 1, 3, padding_mode="mirror"), "Conv2d: padding_mode must be one of"),
    (lambda: nn.Conv2d(1, 1, (3, 3, 3)), r"Conv2d: expected kernel_size as an int or 2 ints"),
    (lambda: nn.ConvTranspose2d(1, 1, 3, padding_mode="reflect"),
     "ConvTranspose2d: only 'zeros' padding mode is supported"),
])
def test_constructor_errors(make, message):
    with pytest.raises(ValueError, match=message):
        make()


def test_functional_forms_are_the_ops():
    assert F.conv2d is rg.conv2d and F.conv1d is rg.conv1d
    assert F.conv_transpose2d is rg.conv_transpose2d


@pytest.mark.parametrize("kwargs", [{}, {"stride": 2, "padding": 1},
                                    {"dilation": (2, 1), "padding": (1, 0), "stride": (1, 2)}],
                         ids=str)
def test_unfold_fold_match_torch(torch, kwargs):
    x = RNG.standard_normal((2, 3, 7, 6))
    t_x, r_x = torch.tensor(x, requires_grad=True), rg.tensor(x, requires_grad=True)
    t_cols = torch.nn.functional.unfold(t_x, (3, 2), **kwargs)
    r_cols = F.unfold(r_x, (3, 2), **kwargs)
    assert_close(r_cols, t_cols)
    t_img = torch.nn.functional.fold(t_cols * t_cols, (7, 6), (3, 2), **kwargs)
    r_img = F.fold(r_cols * r_cols, (7, 6), (3, 2), **kwargs)
    assert_close(r_img, t_img)
    g = RNG.standard_normal(tuple(t_img.shape))
    t_img.backward(torch.tensor(g))
    r_img.backward(rg.tensor(g))
    assert_close(r_x.grad, t_x.grad)
    # unbatched
    assert_close(F.unfold(rg.tensor(x[0]), 2), torch.nn.functional.unfold(torch.tensor(x[0]), 2))
    with pytest.raises(ValueError, match=r"fold: input of shape \(2, 18, 5\) does not match"):
        F.fold(rg.zeros(2, 18, 5), (7, 6), (3, 2))


def _lenet(lib, dtype=None):
    m = lib.nn
    kw = {} if dtype is None else {"dtype": dtype}
    return m.Sequential(
        m.Conv2d(1, 6, 5, **kw), m.ReLU(), m.MaxPool2d(2),
        m.Conv2d(6, 16, 5, **kw), m.ReLU(), m.MaxPool2d(2),
        m.Flatten(), m.Linear(256, 120, **kw), m.ReLU(), m.Linear(120, 84, **kw), m.ReLU(),
        m.Linear(84, 10, **kw),
    )


def test_lenet_training_matches_torch(torch):
    """Three SGD steps of a LeNet from the same weights: the same losses and weights."""
    t_model = _lenet(torch).double()
    model = _lenet(rg, rg.float64)
    model.load_state_dict({k: v.detach().numpy() for k, v in t_model.state_dict().items()})
    x, y = RNG.standard_normal((8, 1, 28, 28)), np.arange(8) % 10
    losses = []
    for lib, net in ((torch, t_model), (rg, model)):
        optimizer = lib.optim.SGD(net.parameters(), lr=0.1, momentum=0.9)
        run = []
        for _ in range(3):
            optimizer.zero_grad()
            loss = lib.nn.functional.cross_entropy(net(lib.tensor(x)), lib.tensor(y))
            loss.backward()
            optimizer.step()
            run.append(loss.item())
        losses.append(run)
    np.testing.assert_allclose(losses[1], losses[0], rtol=1e-9)
    for name, p in model.state_dict().items():
        assert_close(p, t_model.state_dict()[name], atol=1e-9, rtol=1e-7)


def test_lenet_trains_in_float32():
    rg.manual_seed(0)
    model = _lenet(rg)
    x = rg.randn(16, 1, 28, 28)
    y = rg.tensor(np.arange(16) % 10)
    optimizer = rg.optim.Adam(model.parameters(), lr=3e-3)
    losses = []
    for _ in range(10):
        optimizer.zero_grad()
        loss = F.cross_entropy(model(x), y)
        loss.backward()
        optimizer.step()
        losses.append(loss.item())
    assert model(x).dtype == rg.float32
    assert losses[-1] < 0.85 * losses[0], losses
