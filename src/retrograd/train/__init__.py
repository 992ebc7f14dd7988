"""Training: the fit loop, callbacks, history and checkpoints that resume exactly.

    history = rg.train.fit(model, rg.nn.CrossEntropyLoss(), optimizer, train_loader,
                           val_loader, epochs=10,
                           callbacks=[rg.train.EarlyStopping(patience=3),
                                      rg.train.ModelCheckpoint("runs/demo")])

`Trainer` is the same loop as an object (state for callbacks, `evaluate`, checkpoints).
`rg.train.models` holds the reference MLP and CNN of the `retrograd train` command.
"""

from . import models
from .callbacks import Callback, EarlyStopping, LambdaCallback, MetricsLogger, TerminateOnNaN
from .checkpoint import ModelCheckpoint
from .history import History
from .lr_finder import LRFinderResult, lr_find
from .metrics import accuracy
from .progress import EpochPrinter, ProgressBar
from .trainer import Trainer, fit, read_checkpoint

__all__ = [
    "fit",
    "Trainer",
    "History",
    "Callback",
    "LambdaCallback",
    "EarlyStopping",
    "ModelCheckpoint",
    "MetricsLogger",
    "TerminateOnNaN",
    "ProgressBar",
    "EpochPrinter",
    "accuracy",
    "read_checkpoint",
    "lr_find",
    "LRFinderResult",
    "models",
]
