"""Parameter: a leaf Tensor that a Module registers as trainable."""

import numpy as np

from ..autograd import dtypes
from ..autograd.tensor import Tensor, as_array


class Parameter(Tensor):
    """A Tensor that is a module parameter: a leaf that requires grad by default."""

    __slots__ = ()

    def __init__(self, data=None, requires_grad=True):
        if data is None:
            data = np.empty((0,), dtype=dtypes.get_default_dtype())
        array = data.data if isinstance(data, Tensor) else as_array(data)
        super().__init__(array)
        if requires_grad:
            self.requires_grad_(True)

    def __repr__(self):
        return "Parameter containing:\n" + super().__repr__()

    def __reduce_ex__(self, protocol):
        return (Parameter, (self.data, self._requires_grad))
