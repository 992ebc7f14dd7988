"""Every differentiable op, by category. Importing this package attaches the ops to Tensor as
methods and operators and installs the differentiable namespace used by create_graph."""

from ..autograd import graph
from ..autograd.tensor import Tensor
from . import (
    activation,
    arithmetic,
    arrange,
    attention,
    cast,
    comparison,
    conv,
    creation,
    ctc,
    distance,
    gamma,
    indexing,
    inplace,
    inplace_extra,
    inplace_math,
    inplace_scatter,
    joining,
    linalg,
    linalg_decomp,
    linalg_spectral,
    loss,
    math,
    math_extra,
    normalization,
    pooling,
    random,
    recurrent,
    reduction,
    reduction_extra,
    rounding,
    scatter_gather,
    scatter_reduction,
    shape,
    shape_extra,
    sorting,
    straight_through,
    tensor_info,
    tensor_ns,
)
from ._checked import check_tensor_inputs
from .activation import *  # noqa: F403
from .arithmetic import *  # noqa: F403
from .arrange import *  # noqa: F403
from .attention import *  # noqa: F403
from .cast import *  # noqa: F403
from .comparison import *  # noqa: F403
from .conv import *  # noqa: F403
from .creation import *  # noqa: F403
from .ctc import *  # noqa: F403
from .distance import *  # noqa: F403
from .gamma import *  # noqa: F403
from .indexing import *  # noqa: F403
from .inplace import *  # noqa: F403
from .inplace_extra import *  # noqa: F403
from .inplace_scatter import *  # noqa: F403
from .joining import *  # noqa: F403
from .linalg import *  # noqa: F403
from .linalg_decomp import *  # noqa: F403
from .linalg_spectral import *  # noqa: F403
from .loss import *  # noqa: F403
from .math import *  # noqa: F403
from .math_extra import *  # noqa: F403
from .normalization import *  # noqa: F403
from .pooling import *  # noqa: F403
from .random import *  # noqa: F403
from .recurrent import *  # noqa: F403
from .reduction import *  # noqa: F403
from .reduction_extra import *  # noqa: F403
from .rounding import *  # noqa: F403
from .scatter_gather import *  # noqa: F403
from .scatter_reduction import *  # noqa: F403
from .shape import *  # noqa: F403
from .shape_extra import *  # noqa: F403
from .sorting import *  # noqa: F403
from .straight_through import *  # noqa: F403
from .tensor_info import *  # noqa: F403

_CATEGORIES = (
    activation,
    arithmetic,
    arrange,
    attention,
    cast,
    comparison,
    conv,
    creation,
    ctc,
    distance,
    gamma,
    indexing,
    inplace,
    inplace_extra,
    inplace_math,
    inplace_scatter,
    joining,
    linalg,
    linalg_decomp,
    linalg_spectral,
    loss,
    math,
    math_extra,
    normalization,
    pooling,
    random,
    recurrent,
    reduction,
    reduction_extra,
    rounding,
    scatter_gather,
    scatter_reduction,
    shape,
    shape_extra,
    sorting,
    straight_through,
    tensor_info,
)

for _module in _CATEGORIES:
    for _name, _fn in _module.TENSOR_METHODS.items():
        setattr(Tensor, _name, _fn)

graph.install_tensor_namespace(tensor_ns)

__all__ = [name for module in _CATEGORIES for name in module.__all__]



check_tensor_inputs(globals(), __all__, __name__)
