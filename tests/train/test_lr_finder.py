"""rg.train.lr_find: the learning-rate range test."""

import sys

import numpy as np
import pytest

import retrograd as rg

from .helpers import blobs, loaders, make_model, params


def _setup(momentum=0.9):
    rg.manual_seed(0)
    model = make_model()
    optimizer = rg.optim.SGD(model.parameters(), lr=0.01, momentum=momentum)
    train, _ = loaders(blobs())
    return model, optimizer, train


def test_suggestion_inside_the_range_and_everything_restored():
    model, optimizer, train = _setup()
    # one real step first, so the optimizer has momentum buffers to restore
    x, y = next(iter(train))
    rg.nn.functional.cross_entropy(model(x), y).backward()
    optimizer.step()
    before, opt_before = params(model), optimizer.state_dict()
    buffers = {k: v["momentum_buffer"].numpy().copy() for k, v in opt_before["state"].items()}
    loader_state = train.generator.get_state()
    next_epoch = np.concatenate([y.numpy() for _, y in train])  # the order the loader would draw
    train.generator.set_state(loader_state)
    rg.manual_seed(5)
    next_draw = rg.randn(3).numpy()
    rg.manual_seed(5)
    result = rg.train.lr_find(model, rg.nn.CrossEntropyLoss(), optimizer, train,
                              start_lr=1e-4, end_lr=10, num_iter=60)
    assert 1e-4 <= result.suggestion <= 10
    assert len(result.lrs) == len(result.losses) == len(result.smoothed) <= 60
    assert result.lrs[0] == pytest.approx(1e-4)
    assert np.all(np.diff(np.log(result.lrs)) > 0)
    # the sweep moves the weights; lr_find puts them back exactly, and the random streams
    after = params(model)
    assert all(np.array_equal(before[k], after[k]) for k in before)
    assert np.array_equal(rg.randn(3).numpy(), next_draw)
    assert np.array_equal(np.concatenate([y.numpy() for _, y in train]), next_epoch)
    state = optimizer.state_dict()
    assert all(np.array_equal(buffers[k], v["momentum_buffer"].numpy())
               for k, v in state["state"].items())
    assert [g["lr"] for g in optimizer.param_groups] == [0.01]
    assert model.training


def test_loss_falls_then_the_sweep_stops_when_it_diverges():
    model, optimizer, train = _setup(momentum=0.0)
    result = rg.train.lr_find(model, rg.nn.CrossEntropyLoss(), optimizer, train,
                              start_lr=1e-3, end_lr=1e4, num_iter=100)
    assert result.diverged and len(result.lrs) < 100
    assert min(result.smoothed) < result.smoothed[0]
    # the suggestion lies before the smoothed minimum, where the loss falls
    lowest = result.lrs[int(np.argmin(result.smoothed))]
    assert result.suggestion <= lowest


def test_plot_png_or_svg(tmp_path, monkeypatch):
    model, optimizer, train = _setup()
    result = rg.train.lr_find(model, rg.nn.CrossEntropyLoss(), optimizer, train,
                              num_iter=20)
    monkeypatch.setitem(sys.modules, "matplotlib", None)
    svg = result.plot(tmp_path / "lr.png")
    assert svg.endswith("lr.svg") and open(svg).read().startswith("<svg")
    monkeypatch.undo()
    pytest.importorskip("matplotlib")
    png = result.plot(tmp_path / "lr.png")
    assert open(png, "rb").read(8) == b"\x89PNG\r\n\x1a\n"


def test_invalid_arguments():
    model, optimizer, train = _setup()
    with pytest.raises(ValueError, match="lr_find: need 0 < start_lr < end_lr"):
        rg.train.lr_find(model, rg.nn.CrossEntropyLoss(), optimizer, train, start_lr=1, end_lr=1)
    with pytest.raises(ValueError, match="num_iter"):
        rg.train.lr_find(model, rg.nn.CrossEntropyLoss(), optimizer, train, num_iter=1)
