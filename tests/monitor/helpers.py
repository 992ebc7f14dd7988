"""Small monitored training runs for the monitor and report tests."""

import json

import numpy as np

import retrograd as rg
from retrograd.monitor import Monitor
from retrograd.utils.data import DataLoader, TensorDataset

FEATURES, CLASSES, SAMPLES, BATCH = 6, 3, 120, 16
STEPS_PER_EPOCH = -(-SAMPLES // BATCH)  # 8


def dataset(seed=0):
    rng = np.random.default_rng(seed)
    centres = rng.standard_normal((CLASSES, FEATURES)) * 3
    y = rng.integers(0, CLASSES, SAMPLES)
    x = centres[y] + rng.standard_normal((SAMPLES, FEATURES))
    return TensorDataset(x.astype(np.float32), y.astype(np.int64))


def make_model(dead=False):
    model = rg.nn.Sequential(rg.nn.Linear(FEATURES, 16), rg.nn.ReLU(), rg.nn.Linear(16, CLASSES))
    if dead:  # every pre-activation negative: all ReLUs dead, no gradient reaches layer 0
        with rg.no_grad():
            model[0].bias.fill_(-100.0)
    return model


TRAINER_OPTIONS = ("accumulation_steps", "grad_clip", "autocast", "grad_scaler")


def train(run_dir, epochs=2, every=3, dead=False, monitor=True, seed=0, extra_callbacks=(),
          **options):
    """Fit a small MLP with a Monitor into `run_dir`; write config.json and results.json as
    `retrograd train` does. `options`: the Trainer's (accumulation_steps, grad_clip) and the
    Monitor's. Returns (model, trainer, monitor)."""
    trainer_options = {k: options.pop(k) for k in TRAINER_OPTIONS if k in options}
    rg.manual_seed(seed)
    data = dataset(seed)
    train_loader = DataLoader(data, batch_size=BATCH, shuffle=True,
                              generator=rg.Generator(seed=seed))
    val_loader = DataLoader(data, batch_size=64)
    model = make_model(dead)
    optimizer = rg.optim.SGD(model.parameters(), lr=0.1, momentum=0.9)
    mon = Monitor(run_dir, every=every, **options) if monitor else None
    callbacks = ([mon] if mon else []) + list(extra_callbacks)
    trainer = rg.train.Trainer(model, rg.nn.CrossEntropyLoss(), optimizer, callbacks=callbacks,
                               progress=False, verbose=False, **trainer_options)
    trainer.fit(train_loader, val_loader, epochs)
    if monitor:
        config = {"model": "mlp", "dataset": "blobs", "epochs": epochs, "lr": 0.1,
                  "parameters": sum(p.numel() for p in model.parameters())}
        (run_dir / "config.json").write_text(json.dumps(config))
        (run_dir / "results.json").write_text(json.dumps({"test_accuracy": 0.875,
                                                          "test_loss": 0.4321}))
    return model, trainer, mon
