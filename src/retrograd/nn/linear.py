"""Identity, Linear and Bilinear layers."""

import math

from ..autograd import dtypes
from ..ops.creation import empty
from . import init
from .functional import _linear as F
from .module import Module, check_input
from .parameter import Parameter

__all__ = ["Identity", "Linear", "Bilinear"]


class Identity(Module):
    """Returns its input; any constructor arguments are ignored (as in PyTorch)."""

    def __init__(self, *args, **kwargs):
        super().__init__()

    def forward(self, input):
        return input


def _factory_dtype(device, dtype):
    if device is not None and str(device).split(":")[0] != "cpu":
        raise RuntimeError(f"device '{device}' is not available; retrograd runs on cpu")
    return dtypes.as_dtype(dtype) or dtypes.get_default_dtype()


class Linear(Module):
    """y = x @ weight.T + bias, for input (*, in_features) and output (*, out_features).

    weight (out_features, in_features) is initialised as PyTorch does: kaiming_uniform_ with
    a = sqrt(5), i.e. U(-1/sqrt(in_features), 1/sqrt(in_features)), and so is the bias.
    """

    def __init__(self, in_features, out_features, bias=True, device=None, dtype=None):
        super().__init__()
        dtype = _factory_dtype(device, dtype)
        self.in_features = in_features
        self.out_features = out_features
        self.weight = Parameter(empty(out_features, in_features, dtype=dtype))
        self.bias = Parameter(empty(out_features, dtype=dtype)) if bias else None
        self.reset_parameters()

    def reset_parameters(self):
        init.kaiming_uniform_(self.weight, a=math.sqrt(5))
        if self.bias is not None:
            fan_in = self.in_features
            bound = 1 / math.sqrt(fan_in) if fan_in > 0 else 0
            init.uniform_(self.bias, -bound, bound)

    def forward(self, input):
        try:
            return F.linear(input, self.weight, self.bias)
        except (ValueError, TypeError, IndexError):
            # Only on the error path: replace the matmul's message with the layer's own.
            check_input(input, dim=-1, size=self.in_features, what="in_features")
            raise

    def extra_repr(self):
        return (
            f"in_features={self.in_features}, out_features={self.out_features}, "
            f"bias={self.bias is not None}"
        )


class Bilinear(Module):
    """y = x1^T A x2 + b for inputs (*, in1_features) and (*, in2_features); weight
    (out_features, in1_features, in2_features) and bias U(-1/sqrt(in1), 1/sqrt(in1))."""

    def __init__(self, in1_features, in2_features, out_features, bias=True, device=None,
                 dtype=None):
        super().__init__()
        dtype = _factory_dtype(device, dtype)
        self.in1_features = in1_features
        self.in2_features = in2_features
        self.out_features = out_features
        self.weight = Parameter(empty(out_features, in1_features, in2_features, dtype=dtype))
        self.bias = Parameter(empty(out_features, dtype=dtype)) if bias else None
        self.reset_parameters()

    def reset_parameters(self):
        bound = 1 / math.sqrt(self.weight.shape[1]) if self.weight.shape[1] else 0
        init.uniform_(self.weight, -bound, bound)
        if self.bias is not None:
            init.uniform_(self.bias, -bound, bound)

    def forward(self, input1, input2):
        check_input(input1, dim=-1, size=self.in1_features, what="in1_features")
        check_input(input2, dim=-1, size=self.in2_features, what="in2_features")
        return F.bilinear(input1, input2, self.weight, self.bias)

    def extra_repr(self):
        return (
            f"in1_features={self.in1_features}, in2_features={self.in2_features}, "
            f"out_features={self.out_features}, bias={self.bias is not None}"
        )
