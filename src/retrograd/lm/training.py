"""Training a character-level language model with the library's fit loop.

`train_lm(config)` reads the text (or the default corpus), builds the vocabulary and a
held-out split (the end of the text), trains with AdamW and a one-cycle schedule (warm-up, then
cosine decay, per step) and reports bits per character on the held-out text after every epoch
next to the unigram baseline. The run directory gets `config.json`, `metrics.jsonl` and
`last`/`best` checkpoints whose `lm` entry holds the config and vocabulary, which is all
`load_model` needs to sample from them.
"""

import json
import os
import time

from ..nn import functional as F
from ..ops.random import Generator, manual_seed
from ..optim import AdamW
from ..optim.lr_scheduler import OneCycleLR
from ..serialization import load
from ..train import Callback, MetricsLogger, ModelCheckpoint, Trainer
from ..utils.data import DataLoader
from . import data
from .models import MODEL_DEFAULTS, build_model

__all__ = ["train_lm", "load_model", "TRAIN_DEFAULTS", "BitsPerChar"]

# Settings for a run of a few minutes on two CPU cores.
TRAIN_DEFAULTS = {
    "model": "transformer",
    "text": None,  # None: the default corpus (Python standard library sources)
    "max_chars": data.DEFAULT_MAX_CHARS,
    "val_fraction": 0.1,
    "block_size": 128,
    "batch_size": 32,
    "epochs": 3,
    "lr": 3e-3,
    "weight_decay": 0.01,
    "grad_clip": 1.0,
    "seed": 0,
}


def lm_loss(logits, target):
    """Mean cross-entropy of next-character logits (N, T, V) against ids (N, T)."""
    return F.cross_entropy(logits.reshape(-1, logits.shape[-1]), target.reshape(-1))


class BitsPerChar(Callback):
    """Adds `train_bpc` and `val_bpc` (loss in bits per character) to each epoch's record,
    before the epoch line is printed, so the printout reads next to the unigram baseline."""

    order = -15  # before EpochPrinter (-10) and the checkpoints (10)

    def on_epoch_end(self, trainer, logs):
        for prefix in ("train_", "val_"):
            if f"{prefix}loss" in logs:
                logs[f"{prefix}bpc"] = data.bits(logs[f"{prefix}loss"])


def prepare(config):
    """(vocab, train ids, held-out ids) for a config; the text from config['text'] or the
    default corpus."""
    if config.get("text"):
        text = data.read_text(config["text"], config.get("max_chars"))
    else:
        text = data.default_corpus(config.get("max_chars") or data.DEFAULT_MAX_CHARS)
    vocab = data.CharVocab(text)
    train_ids, val_ids = data.split_text(vocab.encode(text), config["val_fraction"])
    return vocab, train_ids, val_ids


def train_lm(config, out=None, progress=True, verbose=True):
    """Train the model `config` describes (TRAIN_DEFAULTS and MODEL_DEFAULTS fill in what it
    lacks); returns (model, vocab, history, baseline bits per character). Checkpoints go to
    `out` when given."""
    config = {**TRAIN_DEFAULTS, **MODEL_DEFAULTS.get(config.get("model", "transformer"), {}),
              **{k: v for k, v in config.items() if v is not None}}
    log = print if verbose else (lambda *a, **k: None)
    manual_seed(config["seed"])
    vocab, train_ids, val_ids = prepare(config)
    config["vocab"] = vocab.chars
    block = config["block_size"]
    train_set, val_set = data.windows(train_ids, block), data.windows(val_ids, block)
    baseline, entropy = data.unigram_bits(train_ids, val_ids, len(vocab))
    log(f"text: {len(train_ids):,} training and {len(val_ids):,} held-out characters, "
        f"{len(vocab)} distinct")
    log(f"unigram baseline: {baseline:.3f} bits/char on the held-out text (training-text "
        f"entropy {entropy:.3f})")

    model = build_model(config)
    n_params = sum(p.numel() for p in model.parameters())
    log(f"model: {config['model']}, {n_params:,} parameters, context {block} characters")
    loader = DataLoader(train_set, batch_size=config["batch_size"], shuffle=True,
                        drop_last=True, generator=Generator().manual_seed(config["seed"]))
    val_loader = DataLoader(val_set, batch_size=2 * config["batch_size"])
    optimizer = AdamW(model.parameters(), lr=config["lr"], betas=(0.9, 0.99),
                      weight_decay=config["weight_decay"])
    scheduler = OneCycleLR(optimizer, max_lr=config["lr"],
                           total_steps=max(1, config["epochs"] * len(loader)), pct_start=0.1,
                           cycle_momentum=False)
    callbacks = [BitsPerChar()]
    if out is not None:
        os.makedirs(out, exist_ok=True)
        with open(os.path.join(out, "config.json"), "w") as f:
            json.dump({k: v for k, v in config.items() if k != "vocab"}, f, indent=2)
        callbacks += [MetricsLogger(os.path.join(out, "metrics.jsonl")),
                      ModelCheckpoint(out, extra={"lm": config})]
    trainer = Trainer(model, lm_loss, optimizer, scheduler=scheduler,
                      scheduler_interval="step", callbacks=callbacks, metrics=(),
                      grad_clip=config["grad_clip"], progress=progress, verbose=verbose)
    started = time.perf_counter()
    history = trainer.fit(loader, val_loader, epochs=config["epochs"])
    final = data.bits(history.records[-1]["val_loss"])
    log(f"held-out: {final:.3f} bits/char vs unigram baseline {baseline:.3f} "
        f"({time.perf_counter() - started:.0f}s)")
    return model, vocab, history, baseline


def load_model(path):
    """(model in eval mode, vocab, config) from a checkpoint written by `train_lm` (a file, or
    a run directory: its best.safetensors)."""
    if os.path.isdir(path):
        path = os.path.join(path, "best.safetensors")
    state = load(path)
    if not isinstance(state, dict) or "lm" not in state:
        raise ValueError(f"load_model: {path} is not a retrograd language-model checkpoint")
    config = state["lm"]
    model = build_model(config)
    model.load_state_dict(state["model"])
    return model.eval(), data.CharVocab(config["vocab"]), config
