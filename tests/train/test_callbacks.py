"""Early stopping, the JSON-lines logger, LambdaCallback, TerminateOnNaN."""

import json

import numpy as np
import pytest

import retrograd as rg
import retrograd.nn.functional as F
from retrograd.train import EarlyStopping, LambdaCallback, MetricsLogger, TerminateOnNaN, fit

from .helpers import blobs, loaders, make_model, params


def scripted(values):
    """A callback (run before EarlyStopping) that overwrites the monitored value per epoch."""
    return LambdaCallback(on_epoch_end=lambda t, logs: logs.update(score=values[logs["epoch"] - 1]))


def test_early_stopping_stops_after_patience_and_restores_best(capsys):
    rg.manual_seed(0)
    model = make_model()
    train, _ = loaders(blobs(n=32))
    snapshots = []
    keep = LambdaCallback(on_epoch_end=lambda t, logs: snapshots.append(params(t.model)))
    stopper = EarlyStopping(monitor="score", patience=2, mode="min", restore_best_weights=True)
    history = fit(model, F.cross_entropy, rg.optim.SGD(model.parameters(), lr=0.1), train,
                  epochs=20, callbacks=[scripted([5, 3, 4, 3.5, 2.9, 1, 0]), stopper, keep])
    # best 3 at epoch 2; epochs 3 and 4 don't improve: patience 2 is used up, training stops
    assert len(history) == 4 and stopper.stopped_epoch == 4 and stopper.best_epoch == 2
    for name, value in params(model).items():
        np.testing.assert_array_equal(value, snapshots[1][name])
    out = capsys.readouterr().out
    assert "early stopping: score has not improved for 2 epochs" in out
    assert "restored the weights of epoch 2" in out


def test_early_stopping_min_delta_and_max_mode():
    model = make_model()
    train, _ = loaders(blobs(n=16))
    stopper = EarlyStopping(monitor="val_accuracy", patience=0, min_delta=0.05)
    assert stopper.mode == "max"
    values = [0.5, 0.54, 0.9]  # +0.04 is not an improvement of more than 0.05
    relabel = LambdaCallback(
        on_epoch_end=lambda t, logs: logs.update(val_accuracy=values[logs["epoch"] - 1]))
    history = fit(model, F.cross_entropy, rg.optim.SGD(model.parameters(), lr=0.1), train,
                  epochs=3, callbacks=[relabel, stopper], verbose=False)
    assert len(history) == 2


def test_early_stopping_names_what_it_can_monitor():
    model = make_model()
    train, _ = loaders(blobs(n=16))
    with pytest.raises(ValueError, match=r"no 'val_loss'.*val_loader.*train_loss"):
        fit(model, F.cross_entropy, rg.optim.SGD(model.parameters(), lr=0.1), train, epochs=2,
            callbacks=[EarlyStopping()], verbose=False)


def test_metrics_logger_writes_one_json_line_per_epoch(tmp_path):
    model = make_model()
    train, val = loaders(blobs(n=32))
    path = tmp_path / "logs" / "metrics.jsonl"
    path.parent.mkdir()
    path.write_text('{"epoch": 9}\n')  # a fresh run starts the file anew
    history = fit(model, F.cross_entropy, rg.optim.SGD(model.parameters(), lr=0.1), train, val,
                  epochs=3, callbacks=[MetricsLogger(path)], verbose=False)
    lines = [json.loads(line) for line in path.read_text().splitlines()]
    assert lines == history.records
    assert set(lines[0]) >= {"epoch", "train_loss", "val_loss", "val_accuracy", "lr", "time"}


def test_terminate_on_nan():
    model = make_model()
    train, _ = loaders(blobs(n=32), batch_size=8)
    history = fit(model, lambda out, y: F.cross_entropy(out, y) * float("nan"),
                  rg.optim.SGD(model.parameters(), lr=0.1), train, epochs=3,
                  callbacks=[TerminateOnNaN()], verbose=False)
    assert len(history) == 1 and np.isnan(history["train_loss"][0])


def test_lambda_callback_rejects_unknown_hooks():
    with pytest.raises(TypeError, match="on_step_end"):
        LambdaCallback(on_step_end=print)
