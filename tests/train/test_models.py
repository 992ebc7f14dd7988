"""The reference models adapt to every dataset's input shape."""

import pytest

import retrograd as rg
from retrograd.train.models import CNN, MLP, build_model


@pytest.mark.parametrize("shape", [(1, 8, 8), (1, 28, 28), (3, 32, 32), (1, 40)])
@pytest.mark.parametrize("name", ["mlp", "cnn", "gru"])
def test_models_give_class_scores_for_each_input_shape(name, shape):
    model = build_model(name, shape, num_classes=10)
    out = model(rg.randn(2, *shape))
    assert out.shape == (2, 10)
    out.sum().backward()
    assert all(p.grad is not None for p in model.parameters())


def test_cnn_picks_the_convolution_for_the_input():
    assert isinstance(CNN((1, 40), 10).features[0], rg.nn.Conv1d)
    assert isinstance(CNN((3, 32, 32), 10).features[0], rg.nn.Conv2d)
    head = CNN((3, 32, 32), 10, channels=(8, 16, 32), hidden=20).classifier
    linear = [m for m in head.modules() if isinstance(m, rg.nn.Linear)][0]
    assert linear.in_features == 32 * 4 * 4


def test_mlp_widths_and_dropout():
    model = MLP((1, 8, 8), 10, hidden=(32, 16), dropout=0.0)
    sizes = [(m.in_features, m.out_features) for m in model.modules()
             if isinstance(m, rg.nn.Linear)]
    assert sizes == [(64, 32), (32, 16), (16, 10)]
    assert not any(isinstance(m, rg.nn.Dropout) for m in model.modules())


def test_bad_model_requests_raise():
    with pytest.raises(ValueError, match="unknown model 'rnn'"):
        build_model("rnn", (1, 8, 8), 10)
    with pytest.raises(ValueError, match="too small"):
        CNN((1, 2, 2), 10)
    with pytest.raises(ValueError, match=r"\(C, L\) or \(C, H, W\)"):
        CNN((8,), 10)
