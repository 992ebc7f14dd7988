"""The differentiable twin of `autograd/array_ns.py`: the same names, built from retrograd ops.

With `create_graph=True` the engine runs the VJP rules on this namespace, so the backward pass is
recorded like any other computation and can be differentiated again. A test keeps the names of
the two namespaces identical.
"""

from ._reduction_scan import cumsum_ns as cumsum
from ._reduction_scan import softmax
from .activation import sigmoid
from .arithmetic import pow  # noqa: A004
from .arrange import flip, roll, tril, triu
from .cast import to as cast
from .comparison import maximum, minimum, where
from .conv import conv2d, conv2d_weight
from .conv import conv_transpose2d_ns as conv_transpose2d
from .creation import eye, ones_like, zeros_like
from .gamma import digamma, lgamma, polygamma
from .indexing import index_backward
from .indexing import index_normalized as index
from .indexing import index_put_normalized as index_put
from .joining import cat, stack
from .linalg import einsum, matmul
from .linalg_decomp import inverse, solve
from .math import abs, cos, cosh, erf, erfc, erfinv, exp, log, sign, sin, sinh, sqrt, tanh  # noqa: A004
from .pooling import adaptive_max_pool2d_backward, max_pool2d_with_indices_backward
from .reduction import cumprod, prod, sum  # noqa: A004
from .reduction_extra import logcumsumexp_ns as logcumsumexp
from .rounding import floor, trunc
from .scatter_gather import gather, index_select, scatter_add
from .shape import expand, mT, permute, reshape, squeeze, sum_to, transpose, unsqueeze

__all__ = [
    "cumprod",
    "cumsum",
    "prod",
    "einsum",
    "eye",
    "matmul",
    "cast",
    "exp",
    "expand",
    "log",
    "mT",
    "permute",
    "pow",
    "reshape",
    "squeeze",
    "sum",
    "sum_to",
    "tanh",
    "transpose",
    "unsqueeze",
    "abs",
    "cos",
    "cosh",
    "erf",
    "erfc",
    "erfinv",
    "floor",
    "maximum",
    "minimum",
    "ones_like",
    "sigmoid",
    "sign",
    "sin",
    "sinh",
    "sqrt",
    "trunc",
    "where",
    "zeros_like",
    "cat",
    "flip",
    "gather",
    "index",
    "index_backward",
    "index_put",
    "index_select",
    "roll",
    "scatter_add",
    "stack",
    "tril",
    "triu",
    "softmax",
    "conv2d",
    "conv2d_weight",
    "conv_transpose2d",
    "max_pool2d_with_indices_backward",
    "adaptive_max_pool2d_backward",
    "inverse",
    "solve",
    "logcumsumexp",
    "lgamma",
    "digamma",
    "polygamma",
]
