"""Optimizers and learning-rate schedulers, matching torch.optim.

opt = rg.optim.Adam(model.parameters(), lr=1e-3)
opt.zero_grad()
loss.backward()
opt.step()
"""

from . import lr_scheduler
from .adagrad import Adagrad
from .adam import Adam
from .adam_variants import Adamax, NAdam, RAdam
from .adamw import AdamW
from .lbfgs import LBFGS
from .optimizer import Optimizer
from .rmsprop import RMSprop
from .rprop_adadelta import Adadelta, Rprop
from .sgd import SGD

__all__ = ["SGD", "Adagrad", "Adam", "AdamW", "Optimizer", "RMSprop", "lr_scheduler", "Adamax",
           "NAdam", "RAdam", "Adadelta", "Rprop", "LBFGS"]
