"""The fit loop: learning, history, modes, accumulation, clipping, schedulers, errors."""

import numpy as np
import pytest

import retrograd as rg
import retrograd.nn.functional as F
from retrograd.train import Callback, LambdaCallback, Trainer, fit
from retrograd.utils.data import DataLoader, TensorDataset

from .helpers import blobs, loaders, make_model, params


def test_fit_learns_and_records_history(capsys):
    rg.manual_seed(0)
    data = blobs()
    model = make_model()
    train, val = loaders(data)
    history = fit(model, F.cross_entropy, rg.optim.Adam(model.parameters(), lr=0.05), train,
                  val, epochs=6)
    assert history["epoch"] == [1, 2, 3, 4, 5, 6]
    assert history["train_loss"][-1] < 0.5 * history["train_loss"][0]
    assert history["val_loss"][-1] < 0.5 * history["val_loss"][0]
    assert history["val_accuracy"][-1] > 0.9
    assert history["lr"] == [0.05] * 6
    assert all(t > 0 for t in history["time"])
    assert history.best("val_accuracy")["val_accuracy"] == max(history["val_accuracy"])
    lines = [line for line in capsys.readouterr().out.splitlines() if line.startswith("epoch")]
    assert len(lines) == 6 and "val loss" in lines[0] and "acc" in lines[0]

    # the epoch means are per-sample means: the last val loss is the loss over the whole set
    model.eval()
    with rg.no_grad():
        full = F.cross_entropy(model(data.tensors[0]), data.tensors[1]).item()
    assert history["val_loss"][-1] == pytest.approx(full, rel=1e-5)


def test_history_round_trips_through_json():
    history = rg.train.History([{"epoch": 1, "train_loss": 1.0}, {"epoch": 2, "train_loss": 0.5,
                                                                  "val_loss": 0.7}])
    columns = history.to_dict()
    assert columns == {"epoch": [1, 2], "train_loss": [1.0, 0.5], "val_loss": [None, 0.7]}
    import json

    again = rg.train.History.from_dict(json.loads(history.to_json()))
    assert again.records == history.records
    with pytest.raises(KeyError, match="val_accuracy"):
        history["val_accuracy"]


def test_quiet_run_prints_nothing(capsys):
    model = make_model()
    train, _ = loaders(blobs(n=32))
    fit(model, F.cross_entropy, rg.optim.SGD(model.parameters(), lr=0.1), train, epochs=2,
        progress=False, verbose=False)
    captured = capsys.readouterr()
    assert captured.out == "" and captured.err == ""


def test_progress_bar_stays_off_without_a_terminal(capsys):
    model = make_model()
    train, _ = loaders(blobs(n=32))
    fit(model, F.cross_entropy, rg.optim.SGD(model.parameters(), lr=0.1), train, epochs=1,
        progress=True, verbose=False)
    assert capsys.readouterr().err == ""


def test_progress_bar_shows_loss_and_throughput(monkeypatch, capsys):
    import io
    import sys

    stream = io.StringIO()
    monkeypatch.setattr(sys, "stderr", stream)
    model = make_model()
    train, _ = loaders(blobs(n=32))
    fit(model, F.cross_entropy, rg.optim.SGD(model.parameters(), lr=0.1), train, epochs=1,
        progress=False, verbose=False,
        callbacks=[rg.train.ProgressBar(enabled=True, mininterval=0)])
    text = stream.getvalue()
    assert "epoch 1/1" in text and "samples/s" in text and "loss" in text


class Recorder(Callback):
    def __init__(self):
        self.events = []

    def on_train_begin(self, trainer, logs):
        self.events.append(("train_begin", logs["start_epoch"]))

    def on_epoch_begin(self, trainer, logs):
        self.events.append(("epoch_begin", logs["epoch"]))

    def on_batch_begin(self, trainer, logs):
        self.events.append(("batch_begin", logs["batch"]))

    def on_batch_end(self, trainer, logs):
        self.events.append(("batch_end", logs["batch"]))
        assert logs["size"] == 8 and np.isfinite(logs["loss"])

    def on_epoch_end(self, trainer, logs):
        self.events.append(("epoch_end", logs["epoch"]))
        assert trainer.epoch == logs["epoch"] and trainer.history.records[-1] == logs

    def on_train_end(self, trainer, logs):
        self.events.append(("train_end", logs["epochs_run"]))


def test_callback_hooks_run_in_order():
    model = make_model()
    train, _ = loaders(blobs(n=16), batch_size=8)
    recorder = Recorder()
    fit(model, F.cross_entropy, rg.optim.SGD(model.parameters(), lr=0.1), train, epochs=2,
        callbacks=[recorder], verbose=False)
    epoch = [("batch_begin", 0), ("batch_end", 0), ("batch_begin", 1), ("batch_end", 1)]
    assert recorder.events == [
        ("train_begin", 0),
        ("epoch_begin", 1), *epoch, ("epoch_end", 1),
        ("epoch_begin", 2), *epoch, ("epoch_end", 2),
        ("train_end", 2),
    ]


def test_train_mode_for_training_eval_mode_and_no_grad_for_validation():
    model = make_model()
    seen = []

    def spy(module, args, output):
        seen.append((module.training, rg.is_grad_enabled()))

    model.register_forward_hook(spy)
    train, val = loaders(blobs(n=16), batch_size=16)
    model.eval()  # fit switches it to train mode itself
    fit(model, F.cross_entropy, rg.optim.SGD(model.parameters(), lr=0.1), train, val, epochs=1,
        verbose=False)
    assert seen == [(True, True), (False, False)]
    assert model.training  # left in train mode, as after an epoch


def _sgd_run(batch_size, accumulation_steps, n):
    rg.manual_seed(0)
    data = blobs(n=n, dtype=np.float64)
    model = make_model(dropout=0.0, dtype=rg.float64)
    train = DataLoader(data, batch_size=batch_size)
    fit(model, F.cross_entropy, rg.optim.SGD(model.parameters(), lr=0.5), train, epochs=2,
        accumulation_steps=accumulation_steps, verbose=False)
    return params(model)


@pytest.mark.parametrize("n", [24, 20])  # 20: the last group has 2 batches of 4, not 3
def test_accumulation_equals_the_large_batch(n):
    accumulated = _sgd_run(batch_size=4, accumulation_steps=3, n=n)
    large = _sgd_run(batch_size=12, accumulation_steps=1, n=n)
    for name in large:
        np.testing.assert_allclose(accumulated[name], large[name], rtol=0, atol=1e-12)
    small = _sgd_run(batch_size=4, accumulation_steps=1, n=n)
    assert not np.allclose(small["0.weight"], large["0.weight"])


def test_accumulation_steps_every_k_batches():
    model = make_model()
    train, _ = loaders(blobs(n=40), batch_size=8)  # 5 batches
    stepped = []
    trainer = Trainer(model, F.cross_entropy, rg.optim.SGD(model.parameters(), lr=0.1),
                      accumulation_steps=2, verbose=False,
                      callbacks=[LambdaCallback(on_batch_end=lambda t, logs: stepped.append(
                          logs["stepped"]))])
    trainer.fit(train, epochs=1)
    assert stepped == [False, True, False, True, True]
    assert trainer.global_step == 3


def test_gradient_clipping_caps_the_step():
    rg.manual_seed(0)
    model = make_model(dropout=0.0)
    before = params(model)
    train = DataLoader(blobs(n=16), batch_size=16)
    norms = []
    fit(model, lambda out, y: 100.0 * F.cross_entropy(out, y), rg.optim.SGD(model.parameters(),
        lr=1.0), train, epochs=1, grad_clip=0.5, verbose=False,
        callbacks=[LambdaCallback(on_batch_end=lambda t, logs: norms.append(logs["grad_norm"]))])
    after = params(model)
    step = np.sqrt(sum(((after[k] - before[k]) ** 2).sum() for k in before))
    assert norms[0] > 10  # the gradient was far larger than the cap...
    assert step == pytest.approx(0.5, rel=1e-4)  # ...and the step (lr 1) has the capped norm


def test_epoch_scheduler_steps_once_per_epoch():
    model = make_model()
    opt = rg.optim.SGD(model.parameters(), lr=1.0)
    sched = rg.optim.lr_scheduler.StepLR(opt, step_size=1, gamma=0.5)
    train, _ = loaders(blobs(n=32), batch_size=8)
    history = fit(model, F.cross_entropy, opt, train, epochs=3, scheduler=sched, verbose=False)
    assert history["lr"] == [1.0, 0.5, 0.25]
    assert opt.param_groups[0]["lr"] == 0.125


def test_step_scheduler_steps_after_every_optimizer_step():
    model = make_model()
    opt = rg.optim.SGD(model.parameters(), lr=0.1, momentum=0.9)
    train, _ = loaders(blobs(n=32), batch_size=8)  # 4 batches, 2 steps per epoch
    sched = rg.optim.lr_scheduler.OneCycleLR(opt, max_lr=0.1, epochs=3, steps_per_epoch=2)
    trainer = Trainer(model, F.cross_entropy, opt, scheduler=sched, scheduler_interval="step",
                      accumulation_steps=2, verbose=False)
    trainer.fit(train, epochs=3)
    assert sched.last_epoch == 6 == trainer.global_step
    ref_opt = rg.optim.SGD(make_model().parameters(), lr=0.1, momentum=0.9)
    ref = rg.optim.lr_scheduler.OneCycleLR(ref_opt, max_lr=0.1, epochs=3, steps_per_epoch=2)
    for _ in range(6):
        ref_opt.step()
        ref.step()
    assert opt.param_groups[0]["lr"] == ref_opt.param_groups[0]["lr"]
    assert opt.param_groups[0]["momentum"] == ref_opt.param_groups[0]["momentum"]


def test_reduce_on_plateau_gets_the_monitored_value():
    model = make_model()
    opt = rg.optim.SGD(model.parameters(), lr=0.1)
    sched = rg.optim.lr_scheduler.ReduceLROnPlateau(opt, patience=0, factor=0.5)
    seen = []
    original = sched.step
    sched.step = lambda value: (seen.append(value), original(value))[1]
    train, val = loaders(blobs(n=32), batch_size=8)
    history = fit(model, F.cross_entropy, opt, train, val, epochs=2, scheduler=sched,
                  verbose=False)
    assert seen == history["val_loss"]
    with pytest.raises(ValueError, match="ReduceLROnPlateau steps once per epoch"):
        Trainer(model, F.cross_entropy, opt, scheduler=sched, scheduler_interval="step")


def test_custom_metrics_are_sample_weighted():
    model = make_model()
    train = DataLoader(blobs(n=10), batch_size=4)  # batches of 4, 4, 2

    def first_label(output, target):
        return float(target.numpy()[0])

    history = fit(model, F.cross_entropy, rg.optim.SGD(model.parameters(), lr=0.0), train,
                  epochs=1, metrics=["accuracy", first_label], verbose=False)
    labels = train.dataset.tensors[1].numpy()
    expected = (4 * labels[0] + 4 * labels[4] + 2 * labels[8]) / 10
    assert history["train_first_label"] == [pytest.approx(expected)]
    assert 0 <= history["train_accuracy"][0] <= 1


def test_regression_has_no_accuracy_by_default():
    x = np.linspace(-1, 1, 32, dtype=np.float32)[:, None]
    train = DataLoader(TensorDataset(x, 2 * x), batch_size=8)
    model = rg.nn.Linear(1, 1)
    history = fit(model, F.mse_loss, rg.optim.SGD(model.parameters(), lr=0.3), train, epochs=5,
                  verbose=False)
    assert "train_accuracy" not in history.keys()
    assert history["train_loss"][-1] < 0.1 * history["train_loss"][0]


def test_stop_training_ends_after_the_current_batch():
    model = make_model()
    train, _ = loaders(blobs(n=32), batch_size=8)

    def stop(trainer, logs):
        if logs["batch"] == 1:
            trainer.stop_training = True

    trainer = Trainer(model, F.cross_entropy, rg.optim.SGD(model.parameters(), lr=0.1),
                      callbacks=[LambdaCallback(on_batch_end=stop)], verbose=False)
    history = trainer.fit(train, epochs=5)
    assert len(history) == 1 and trainer.global_step == 2


def test_bad_inputs_raise_clear_errors():
    model = make_model()
    opt = rg.optim.SGD(model.parameters(), lr=0.1)
    with pytest.raises(ValueError, match="accumulation_steps"):
        Trainer(model, F.cross_entropy, opt, accumulation_steps=0)
    with pytest.raises(ValueError, match="grad_clip"):
        Trainer(model, F.cross_entropy, opt, grad_clip=0)
    with pytest.raises(ValueError, match="scheduler_interval"):
        Trainer(model, F.cross_entropy, opt, scheduler_interval="batch")
    with pytest.raises(ValueError, match="unknown metric"):
        Trainer(model, F.cross_entropy, opt, metrics=["f2"])
    train, _ = loaders(blobs(n=8))
    with pytest.raises(ValueError, match="one-element Tensor"):
        fit(model, lambda out, y: F.cross_entropy(out, y, reduction="none"), opt, train,
            verbose=False)
    with pytest.raises(TypeError, match=r"tuple \(inputs..., target\)"):
        fit(model, F.cross_entropy, opt, [rg.zeros(2, 4)], verbose=False)
