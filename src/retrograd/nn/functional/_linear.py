"""linear and bilinear, as torch.nn.functional."""

from ...ops.linalg import einsum
from ...ops.linalg import linear as _linear_op

__all__ = ["linear", "bilinear"]


def linear(input, weight, bias=None):
    """input @ weight.T + bias for input (*, in), weight (out, in), bias (out,): one primitive
    (`rg.linear`, ops/linalg.py)."""
    return _linear_op(input, weight, bias)


def bilinear(input1, input2, weight, bias=None):
    """y_k = x1^T W_k x2 + b_k for inputs (*, in1) and (*, in2), weight (out, in1, in2)."""
    if weight.ndim != 3:
        raise ValueError(f"bilinear: weight must be 3-D (out, in1, in2), got {tuple(weight.shape)}")
    if input1.shape[:-1] != input2.shape[:-1]:
        raise ValueError(
            f"bilinear: input1 and input2 need the same batch dimensions, got shapes "
            f"{tuple(input1.shape)} and {tuple(input2.shape)}"
        )
    if input1.shape[-1] != weight.shape[1] or input2.shape[-1] != weight.shape[2]:
        raise ValueError(
            f"bilinear: inputs of shapes {tuple(input1.shape)} and {tuple(input2.shape)} don't "
            f"match weight {tuple(weight.shape)} (out, in1, in2)"
        )
    out = einsum("...i,oij,...j->...o", input1, weight, input2)
    if bias is not None:
        out = out + bias
    return out
