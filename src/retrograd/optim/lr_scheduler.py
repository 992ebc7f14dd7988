"""Learning-rate schedulers, matching torch.optim.lr_scheduler.

opt = rg.optim.SGD(params, lr=0.1, momentum=0.9)
sched = rg.optim.lr_scheduler.CosineAnnealingLR(opt, T_max=100)
for epoch in range(100):
    train_one_epoch(opt)
    sched.step()          # after opt.step(), once per epoch
"""

from ._lr_base import LRScheduler
from ._lr_simple import (
    ConstantLR,
    CosineAnnealingLR,
    CosineAnnealingWarmRestarts,
    ExponentialLR,
    LambdaLR,
    LinearLR,
    MultiplicativeLR,
    MultiStepLR,
    PolynomialLR,
    StepLR,
)
from ._lr_special import (
    ChainedScheduler,
    OneCycleLR,
    ReduceLROnPlateau,
    SequentialLR,
)

__all__ = [
    "ChainedScheduler",
    "ConstantLR",
    "CosineAnnealingLR",
    "CosineAnnealingWarmRestarts",
    "ExponentialLR",
    "LRScheduler",
    "LambdaLR",
    "LinearLR",
    "MultiStepLR",
    "MultiplicativeLR",
    "OneCycleLR",
    "PolynomialLR",
    "ReduceLROnPlateau",
    "SequentialLR",
    "StepLR",
]
