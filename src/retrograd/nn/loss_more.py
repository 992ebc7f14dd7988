"""CTCLoss, MultiMarginLoss and MultiLabelMarginLoss: modules around their functions."""

from .functional import _loss_more as F
from .loss import _Loss, _WeightedLoss

__all__ = ["CTCLoss", "MultiMarginLoss", "MultiLabelMarginLoss"]


class CTCLoss(_Loss):
    """Connectionist temporal classification loss; see F.ctc_loss. forward(log_probs, targets,
    input_lengths, target_lengths)."""

    def __init__(self, blank=0, reduction="mean", zero_infinity=False):
        super().__init__(reduction=reduction)
        self.blank = blank
        self.zero_infinity = zero_infinity

    def forward(self, log_probs, targets, input_lengths, target_lengths):
        return F.ctc_loss(log_probs, targets, input_lengths, target_lengths, self.blank,
                          self.reduction, self.zero_infinity)


class MultiMarginLoss(_WeightedLoss):
    """Multi-class hinge loss; see F.multi_margin_loss."""

    def __init__(self, p=1, margin=1.0, weight=None, size_average=None, reduce=None,
                 reduction="mean"):
        super().__init__(weight, size_average, reduce, reduction)
        if p not in (1, 2):
            raise ValueError(f"MultiMarginLoss: only p = 1 and p = 2 are supported, got {p}")
        self.p = p
        self.margin = margin

    def forward(self, input, target):
        return F.multi_margin_loss(input, target, self.p, self.margin, self.weight,
                                   reduction=self.reduction)


class MultiLabelMarginLoss(_Loss):
    """Multi-label hinge loss; see F.multilabel_margin_loss."""

    def forward(self, input, target):
        return F.multilabel_margin_loss(input, target, reduction=self.reduction)
