"""More activation layers: Softmax2d and RReLU."""

from .functional import _activation as F
from .functional import _misc
from .module import Module

__all__ = ["Softmax2d", "RReLU"]


class Softmax2d(Module):
    """Softmax over the channels at every location of a (N, C, H, W) or (C, H, W) input."""

    def forward(self, input):
        if input.ndim not in (3, 4):
            raise ValueError(
                f"Softmax2d: expected a 3-D or 4-D input, got shape {tuple(input.shape)}"
            )
        return F.softmax(input, -3)


class RReLU(Module):
    """Randomized leaky ReLU: in training each negative element gets a slope drawn from
    U(lower, upper); in evaluation the slope is (lower + upper) / 2."""

    def __init__(self, lower=1.0 / 8, upper=1.0 / 3, inplace=False):
        super().__init__()
        if not 0 <= lower <= upper:
            raise ValueError(f"RReLU: expected 0 <= lower <= upper, got {lower} and {upper}")
        self.lower = lower
        self.upper = upper
        self.inplace = inplace

    def forward(self, input):
        return _misc.rrelu(input, self.lower, self.upper, self.training)

    def extra_repr(self):
        inplace = ", inplace=True" if self.inplace else ""
        return f"lower={self.lower}, upper={self.upper}{inplace}"
