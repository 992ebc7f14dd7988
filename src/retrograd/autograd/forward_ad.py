"""Forward mode: push tangents through a function alongside its values (first order).

While a `dual_level` is active, `apply` asks each op's JVP rule for the output tangent of any op
whose inputs carry tangents. Tangents are plain arrays; forward mode here is first order
(reverse-over-forward is not recorded).
"""

import numpy as np

from . import graph
from .tensor import Tensor, new_tensor


class dual_level:  # noqa: N801 - PyTorch's name
    """Context manager that turns tangent tracing on."""

    def __enter__(self):
        graph.change_forward_ad_depth(1)
        return self

    def __exit__(self, *exc_info):
        graph.change_forward_ad_depth(-1)
        return False


def make_dual(primal, tangent):
    """A tensor with `primal`'s values that carries `tangent` through forward mode."""
    if not isinstance(primal, Tensor) or not isinstance(tangent, Tensor):
        raise TypeError("make_dual: expected two Tensors")
    if primal.shape != tangent.shape:
        raise ValueError(
            f"make_dual: the tangent has shape {tangent.shape} but the primal has shape "
            f"{primal.shape}"
        )
    t = new_tensor(primal.data)
    t._requires_grad = primal._requires_grad
    t._node = primal._node
    t._tangent = np.asarray(tangent.data, dtype=primal.data.dtype)
    return t


def unpack_dual(tensor):
    """(primal, tangent); tangent is None when nothing flowed into `tensor`."""
    tangent = tensor._tangent
    return tensor, (None if tangent is None else new_tensor(tangent))
