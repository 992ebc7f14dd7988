"""Training checkpoints: exact resume, atomic writes, all-or-nothing loading."""

import os
import random

import numpy as np
import pytest

import retrograd as rg
import retrograd.nn.functional as F
from retrograd.train import EarlyStopping, ModelCheckpoint, Trainer
from retrograd.utils.data import DataLoader

from .helpers import blobs, params

DATA = blobs(n=40, dtype=np.float64)


class Noisy(rg.nn.Module):
    """Adds noise drawn from NumPy's and Python's global streams while training, so a resume
    that forgot to restore them would drift."""

    def forward(self, x):
        if not self.training:
            return x
        noise = 0.01 * np.random.standard_normal(x.shape) + 0.01 * random.random()
        return x + rg.tensor(noise, dtype=x.dtype)


def make_trainer(run_dir, explicit_generator=True, **options):
    rg.manual_seed(0)  # seeds NumPy's global stream too
    random.seed(0)
    model = rg.nn.Sequential(Noisy(), rg.nn.Linear(4, 16), rg.nn.ReLU(), rg.nn.Dropout(0.3),
                             rg.nn.Linear(16, 3)).to(rg.float64)
    opt = rg.optim.Adam(model.parameters(), lr=0.02)
    sched = rg.optim.lr_scheduler.StepLR(opt, step_size=1, gamma=0.8)
    gen = rg.Generator(seed=3) if explicit_generator else None
    train = DataLoader(DATA, batch_size=8, shuffle=True, generator=gen)
    val = DataLoader(DATA, batch_size=40)
    callbacks = [ModelCheckpoint(run_dir), EarlyStopping(patience=10)]
    trainer = Trainer(model, F.cross_entropy, opt, scheduler=sched, callbacks=callbacks,
                      verbose=False, **options)
    return trainer, train, val


def _value(v):
    return v.numpy() if isinstance(v, rg.Tensor) else v


def scramble_global_rngs():
    rg.manual_seed(12345)
    np.random.seed(7)
    random.seed(7)


@pytest.mark.parametrize("explicit_generator", [True, False])
def test_resume_continues_exactly(tmp_path, explicit_generator):
    straight, train, val = make_trainer(tmp_path / "straight", explicit_generator)
    straight.fit(train, val, epochs=4)

    first, train, val = make_trainer(tmp_path / "run", explicit_generator)
    first.fit(train, val, epochs=2)
    scramble_global_rngs()
    resumed, train, val = make_trainer(tmp_path / "run", explicit_generator)
    scramble_global_rngs()  # and again after the new model drew its initial weights
    history = resumed.fit(train, val, epochs=4, resume=tmp_path / "run" / "last.safetensors")

    for name, value in params(straight.model).items():
        np.testing.assert_array_equal(params(resumed.model)[name], value, err_msg=name)
    assert resumed.epoch == 4 and resumed.global_step == straight.global_step == 20
    assert history["epoch"] == [1, 2, 3, 4]
    for key in ("train_loss", "val_loss", "val_accuracy", "lr"):
        assert history[key] == straight.history[key], key
    a, b = resumed.optimizer.state_dict(), straight.optimizer.state_dict()
    for index in a["state"]:
        for key in a["state"][index]:
            np.testing.assert_array_equal(_value(a["state"][index][key]),
                                          _value(b["state"][index][key]))
    early = [cb for cb in resumed.callbacks if isinstance(cb, EarlyStopping)][0]
    assert early.best == min(history["val_loss"])


def test_checkpoint_contents(tmp_path):
    trainer, train, val = make_trainer(tmp_path)
    trainer.fit(train, val, epochs=2)
    ckpt = rg.load(tmp_path / "last.safetensors")
    assert ckpt["format"] == "retrograd.train/1" and ckpt["epoch"] == 2
    assert set(ckpt["model"]) == set(trainer.model.state_dict())
    assert ckpt["scheduler"]["last_epoch"] == 2
    assert set(ckpt["rng"]) == {"retrograd", "numpy", "python", "loaders"}
    assert len(ckpt["rng"]["loaders"]) == 1
    assert ckpt["history"]["epoch"] == [1, 2]
    assert set(ckpt["callbacks"]) == {"ModelCheckpoint", "EarlyStopping"}
    best = rg.load(tmp_path / "best.safetensors")
    assert best["epoch"] == ckpt["callbacks"]["ModelCheckpoint"]["best_epoch"]


def test_safetensors_readers_see_the_weights(tmp_path):
    from safetensors.numpy import load_file

    trainer, train, val = make_trainer(tmp_path)
    trainer.fit(train, val, epochs=1)
    flat = load_file(tmp_path / "last.safetensors")
    np.testing.assert_array_equal(flat["model.1.weight"], params(trainer.model)["1.weight"])


def test_a_crash_while_saving_keeps_the_previous_checkpoint(tmp_path, monkeypatch):
    import retrograd.serialization as serialization

    trainer, train, val = make_trainer(tmp_path)
    trainer.fit(train, val, epochs=1)
    path = tmp_path / "last.safetensors"
    before = path.read_bytes()

    def crash(out, payload):
        out.write(payload[: len(payload) // 2])
        raise OSError("disk full")

    monkeypatch.setattr(serialization, "_write_payload", crash)
    with pytest.raises(OSError, match="disk full"):
        trainer.fit(train, val, epochs=2)
    assert path.read_bytes() == before
    assert sorted(os.listdir(tmp_path)) == ["best.safetensors", "last.safetensors"]
    assert rg.load(path)["epoch"] == 1


def _state(trainer):
    return (params(trainer.model), trainer.epoch, trainer.optimizer.param_groups[0]["lr"],
            {k: v["exp_avg"].numpy().copy() for k, v in trainer.optimizer.state_dict()["state"]
             .items()})


def _assert_same(a, b):
    np.testing.assert_equal(a, b)


def test_a_truncated_checkpoint_loads_nothing(tmp_path):
    trainer, train, val = make_trainer(tmp_path)
    trainer.fit(train, val, epochs=2)
    path = tmp_path / "last.safetensors"
    raw = path.read_bytes()
    (tmp_path / "cut.safetensors").write_bytes(raw[: len(raw) - 100])

    other, train, val = make_trainer(tmp_path / "other")
    other.fit(train, val, epochs=1)
    before = _state(other)
    with pytest.raises(ValueError, match="corrupt|truncated"):
        other.load_checkpoint(tmp_path / "cut.safetensors")
    _assert_same(_state(other), before)
    with pytest.raises(ValueError, match="not a retrograd training checkpoint"):
        rg.save({"w": rg.zeros(2)}, tmp_path / "plain.safetensors")
        other.load_checkpoint(tmp_path / "plain.safetensors")
    _assert_same(_state(other), before)


def test_a_checkpoint_that_does_not_fit_is_rolled_back(tmp_path):
    trainer, train, val = make_trainer(tmp_path)
    trainer.fit(train, val, epochs=2)

    # same model, but the optimizer has two parameter groups: the model loads, then the
    # optimizer refuses, and the model must get its own weights back
    other, train, val = make_trainer(tmp_path / "other")
    model = other.model
    other.optimizer = rg.optim.Adam([{"params": list(model.parameters())[:2]},
                                     {"params": list(model.parameters())[2:]}], lr=0.01)
    other.scheduler = rg.optim.lr_scheduler.StepLR(other.optimizer, step_size=1)
    other.fit(train, val, epochs=1)
    before = _state(other)
    with pytest.raises(ValueError, match="does not fit .* nothing was loaded.*parameter groups"):
        other.load_checkpoint(tmp_path / "last.safetensors")
    after = _state(other)
    np.testing.assert_equal(after[0], before[0])
    assert after[1:3] == before[1:3]


def test_a_failed_load_leaves_no_loader_state_behind(tmp_path):
    import warnings

    trainer, train, val = make_trainer(tmp_path)
    trainer.fit(train, val, epochs=1)
    fresh, train, val = make_trainer(tmp_path / "fresh")
    fresh.scheduler = None
    with pytest.raises(ValueError, match="saved with a scheduler"):
        fresh.load_checkpoint(tmp_path / "last.safetensors")
    with warnings.catch_warnings():
        warnings.simplefilter("error")  # no generator states to apply, so no warning
        fresh.fit(train, val, epochs=1)


def test_resuming_needs_the_same_kind_of_scheduler(tmp_path):
    trainer, train, val = make_trainer(tmp_path)
    trainer.fit(train, val, epochs=1)
    other, train, val = make_trainer(tmp_path / "other")
    other.scheduler = None
    with pytest.raises(ValueError, match="saved with a scheduler"):
        other.fit(train, val, epochs=2, resume=tmp_path / "last.safetensors")
    assert other.epoch == 0


def test_resume_warns_when_the_loader_has_no_generator(tmp_path):
    trainer, train, val = make_trainer(tmp_path)
    trainer.fit(train, val, epochs=1)
    other, _, val = make_trainer(tmp_path / "other")
    plain = DataLoader(DATA, batch_size=8, shuffle=True)
    with pytest.warns(RuntimeWarning, match="order of the batches will differ"):
        other.fit(plain, val, epochs=2, resume=tmp_path / "last.safetensors")
