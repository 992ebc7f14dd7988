"""Pooling layers: torch parity (values, indices, gradients), reprs, errors."""

import numpy as np
import pytest

import retrograd as rg
from retrograd import nn
from retrograd.nn import functional as F
from tests.nn.helpers import assert_close, check_parity

RNG = np.random.default_rng(0)

LAYERS_2D = [
    ("MaxPool2d", (2,), {}),
    ("MaxPool2d", (3,), {"stride": 2, "padding": 1, "ceil_mode": True}),
    ("MaxPool2d", ((2, 3),), {"stride": 1, "dilation": (2, 1)}),
    ("AvgPool2d", (2,), {}),
    ("AvgPool2d", (3,), {"stride": 2, "padding": 1, "count_include_pad": False}),
    ("AvgPool2d", (3,), {"stride": 2, "ceil_mode": True, "divisor_override": 4}),
    ("AdaptiveAvgPool2d", ((3, 2),), {}),
    ("AdaptiveAvgPool2d", ((None, 5),), {}),
    ("AdaptiveMaxPool2d", (3,), {}),
    ("LPPool2d", (2, 2), {}),
    ("LPPool2d", (3, (3, 2)), {"stride": 1, "ceil_mode": True}),
]

LAYERS_1D = [
    ("MaxPool1d", (3,), {"stride": 2, "padding": 1}),
    ("AvgPool1d", (2,), {"ceil_mode": True}),
    ("AdaptiveAvgPool1d", (4,), {}),
    ("AdaptiveMaxPool1d", (4,), {}),
    ("LPPool1d", (2, 3), {}),
]


def _make(lib, name, args, kwargs):
    return getattr(lib.nn, name)(*args, **kwargs)


def _input(name, shape):
    x = RNG.standard_normal(shape)
    return np.abs(x) + 0.1 if name.startswith("LP") else x


@pytest.mark.parametrize("name,args,kwargs", LAYERS_2D, ids=str)
@pytest.mark.parametrize("batched", [True, False])
def test_2d_layers_match_torch(torch, name, args, kwargs, batched):
    shape = (2, 3, 7, 8) if batched else (3, 7, 8)
    layer = _make(rg, name, args, kwargs)
    check_parity(torch, layer, _make(torch, name, args, kwargs), _input(name, shape))
    assert repr(layer) == repr(_make(torch, name, args, kwargs))


@pytest.mark.parametrize("name,args,kwargs", LAYERS_1D, ids=str)
def test_1d_layers_match_torch(torch, name, args, kwargs):
    layer = _make(rg, name, args, kwargs)
    check_parity(torch, layer, _make(torch, name, args, kwargs), _input(name, (2, 3, 9)))
    assert repr(layer) == repr(_make(torch, name, args, kwargs))


@pytest.mark.parametrize("name,args", [("MaxPool2d", (2,)), ("AdaptiveMaxPool2d", ((3, 2),)),
                                       ("MaxPool1d", (2,)), ("AdaptiveMaxPool1d", (3,))])
def test_return_indices_match_torch(torch, name, args):
    shape = (2, 3, 6, 7) if name.endswith("2d") else (2, 3, 7)
    x = np.round(RNG.standard_normal(shape))  # ties: the first maximum wins
    out, indices = _make(rg, name, args, {"return_indices": True})(rg.tensor(x))
    t_out, t_indices = _make(torch, name, args, {"return_indices": True})(torch.tensor(x))
    assert_close(out, t_out)
    np.testing.assert_array_equal(indices.data, t_indices.numpy())


def test_attributes_match_torch(torch):
    for name, args, kwargs in LAYERS_2D + LAYERS_1D:
        ours, theirs = _make(rg, name, args, kwargs), _make(torch, name, args, kwargs)
        for attr in ("kernel_size", "stride", "padding", "dilation", "ceil_mode",
                     "count_include_pad", "divisor_override", "output_size", "return_indices",
                     "norm_type"):
            if hasattr(theirs, attr):
                assert getattr(ours, attr) == getattr(theirs, attr), (name, attr)


def test_functional_forms_are_the_ops():
    assert F.max_pool2d is rg.max_pool2d and F.avg_pool1d is rg.avg_pool1d
    assert F.adaptive_avg_pool2d is rg.adaptive_avg_pool2d


def test_input_errors_name_the_layer():
    with pytest.raises(ValueError, match=r"^MaxPool2d: expected a 3-D or 4-D input, got shape "
                                         r"\(5, 5\)$"):
        nn.MaxPool2d(2)(rg.zeros(5, 5))
    model = nn.Sequential(nn.Conv2d(1, 2, 3), nn.AvgPool1d(2))
    with pytest.raises(ValueError, match=r"^1 \(AvgPool1d\): expected a 2-D or 3-D input"):
        model(rg.zeros(1, 1, 5, 5))
    with pytest.raises(ValueError, match=r"MaxPool2d: max_pool2d: padding \(2, 2\) must be"):
        nn.MaxPool2d(2, padding=2)(rg.zeros(1, 1, 5, 5))
