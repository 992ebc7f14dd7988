"""retrograd: a deep-learning framework on its own backpropagation engine, on NumPy.

    import retrograd as rg
    x = rg.tensor([1.0, 2.0, 3.0], requires_grad=True)
    loss = (x * x).sum()
    loss.backward()
    x.grad  # tensor([2., 4., 6.])
"""

from . import (
    amp,
    autograd,
    backends,
    cuda,
    datasets,
    diagnostics,
    distributions,
    func,
    linalg,
    monitor,
    nn,
    ops,
    optim,
    special,
    testing,
    utils,
    viz,
)
from .autograd import functional as _autograd_functional
from .autograd.dtypes import (
    bfloat16,
    bool,
    double,
    dtype,
    float,
    float16,
    float32,
    float64,
    get_default_dtype,
    half,
    int8,
    int16,
    int32,
    int64,
    long,
    set_default_dtype,
    short,
    uint8,
)
from .autograd.grad_mode import (
    enable_grad,
    inference_mode,
    is_grad_enabled,
    no_grad,
    set_grad_enabled,
)
from .autograd.printing import get_printoptions, set_printoptions
from .autograd.tensor import Tensor, is_tensor
from .autograd.typeinfo import Size, device, finfo, iinfo
from .ops import *  # noqa: F403
from .ops import random
from .runtime import *  # noqa: F403
from .serialization import load, save
from .utils import checkpoint as _checkpoint

del _checkpoint  # imported for rg.utils.checkpoint (the data-layer utils package can't)
del _autograd_functional  # imported for rg.autograd.functional (it needs rg.func)

# After the rest: they build on all of it (distributed imports no MPI until it is used).
from . import distributed, train  # noqa: E402

__version__ = "0.1.0"
