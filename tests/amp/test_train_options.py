"""Mixed precision and checkpointing in the training loop and `retrograd train`: `--amp` and
`--checkpoint-segments` (the run directory records them; checkpointing changes nothing but
memory; an fp16 run keeps its GradScaler state across a resume)."""

import json

import numpy as np
import pytest

import retrograd as rg
from retrograd.cli import main
from retrograd.train import Trainer
from retrograd.train.models import build_model
from retrograd.utils.data import DataLoader, TensorDataset

TINY = ["--no-progress", "--model", "mlp", "--scheduler", "none", "--epochs", "1"]


def results(out):
    return json.loads((out / "results.json").read_text())


def test_checkpoint_segments_change_nothing_but_memory(tmp_path, capsys):
    pytest.importorskip("sklearn")
    assert main(["train", "--out", str(tmp_path / "plain"), *TINY]) == 0
    assert main(["train", "--out", str(tmp_path / "ckpt"), "--checkpoint-segments", "3",
                 *TINY]) == 0
    plain, ckpt = results(tmp_path / "plain"), results(tmp_path / "ckpt")
    assert plain["test_loss"] == ckpt["test_loss"]
    config = json.loads((tmp_path / "ckpt" / "config.json").read_text())
    assert config["checkpoint_segments"] == 3 and config["amp"] is None


def test_cnn_with_checkpoint_segments_matches_plain():
    x = rg.randn(4, 1, 8, 8)
    plain = build_model("cnn", (1, 8, 8), 10)
    ckpt = build_model("cnn", (1, 8, 8), 10, checkpoint_segments=4)
    ckpt.load_state_dict(plain.state_dict())
    rg.manual_seed(3)
    plain(x).sum().backward()
    rg.manual_seed(3)
    ckpt(x).sum().backward()
    for p, q in zip(plain.parameters(), ckpt.parameters()):
        np.testing.assert_array_equal(p.grad.numpy(), q.grad.numpy())


def test_fp16_run_and_resume_keep_the_scaler_state(tmp_path, capsys):
    pytest.importorskip("sklearn")
    out = tmp_path / "fp16"
    assert main(["train", "--out", str(out), "--amp", "fp16", *TINY]) == 0
    assert results(out)["test_accuracy"] > 0.7
    saved = rg.load(out / "last.safetensors")
    assert saved["config"]["amp"] == "fp16"
    assert saved["grad_scaler"]["scale"] > 0
    assert main(["train", "--resume", str(out), "--epochs", "2", "--no-progress"]) == 0
    assert rg.load(out / "last.safetensors")["epoch"] == 2
    assert main(["train", "--resume", str(out), "--amp", "bf16", "--no-progress"]) == 2
    assert "--amp" in capsys.readouterr().err


@pytest.mark.skipif(rg.bfloat16 is None, reason="bfloat16 needs ml_dtypes")
def test_bf16_run(tmp_path, capsys):
    pytest.importorskip("sklearn")
    out = tmp_path / "bf16"
    assert main(["train", "--out", str(out), "--amp", "bf16", *TINY]) == 0
    assert results(out)["test_accuracy"] > 0.7
    assert rg.load(out / "last.safetensors")["grad_scaler"] is None


def test_trainer_with_autocast_and_a_scaler_that_must_skip():
    rg.manual_seed(0)
    rng = np.random.default_rng(0)
    x = rng.normal(size=(64, 4)).astype(np.float32)
    y = (x[:, 0] > 0).astype(np.int64)
    loader = DataLoader(TensorDataset(rg.tensor(x), rg.tensor(y)), batch_size=16)
    model = rg.nn.Sequential(rg.nn.Linear(4, 16), rg.nn.Tanh(), rg.nn.Linear(16, 2))
    scaler = rg.amp.GradScaler(init_scale=2.0**24)  # overflows float16 at first
    trainer = Trainer(model, rg.nn.functional.cross_entropy,
                      rg.optim.SGD(model.parameters(), lr=0.5), progress=False, verbose=False,
                      autocast=rg.float16, grad_scaler=scaler, grad_clip=10.0)
    with np.errstate(all="ignore"):  # float16 overflows until the scale backs off
        history = trainer.fit(loader, epochs=8)
    assert scaler.skipped_steps > 0
    assert history.records[-1]["train_loss"] < 0.5 * history.records[0]["train_loss"]
    assert all(p.dtype == rg.float32 for p in model.parameters())
