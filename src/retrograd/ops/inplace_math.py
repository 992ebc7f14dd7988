"""The in-place forms of the elementwise functions that PyTorch has them for: `x.cos_()`,
`x.floor_()`, `x.atan2_(y)`, `x.eq_(y)`, `x.tril_()`, `x.nan_to_num_()`, ...

Each runs the out-of-place Tensor method and writes the result into the tensor, through the
machinery of inplace.py: one NumPy copy when nothing is recorded, `record_inplace` (the node of
the out-of-place op, the old value kept for its rule) when autograd must see the change. As in
PyTorch, a result of a higher category than the tensor's dtype (a float into an integer tensor)
is refused, except for the comparisons and logical ops, whose True/False are written as 1/0 in
the tensor's own dtype.
"""

import numpy as np

from ._inplace_core import bump_version, check_writable, dtype_category, is_plain, record_inplace
from ._util import Tensor

__all__ = []

_UNARY = (
    "acos", "acosh", "asin", "asinh", "atan", "atanh", "arccos", "arccosh", "arcsin", "arcsinh",
    "arctan", "arctanh", "ceil", "cos", "cosh", "deg2rad", "erf", "erfc", "erfinv", "exp2",
    "expm1", "fix", "floor", "frac", "log10", "log1p", "log2", "logit", "nan_to_num", "rad2deg",
    "reciprocal", "round", "rsqrt", "sgn", "sign", "sin", "sinc", "sinh", "square", "tan",
    "trunc", "absolute", "tril", "triu", "cumsum", "cumprod", "logical_not", "bitwise_not",
)
_BINARY = (
    "atan2", "arctan2", "copysign", "floor_divide", "fmod", "remainder", "hypot", "ldexp",
    "xlogy", "gcd", "lcm", "heaviside", "bitwise_and", "bitwise_or", "bitwise_xor",
)
_CASTING = (  # bool results written into any dtype
    "eq", "ne", "lt", "le", "gt", "ge", "greater", "greater_equal", "less", "less_equal",
    "not_equal", "logical_and", "logical_or", "logical_xor",
)


def _inplace(name, cast=False):
    """`name_` from the Tensor method `name`, looked up at call time (the categories attach it)."""

    def method(self, *args, **kwargs):
        fn = getattr(Tensor, name, None)
        if fn is None:
            raise NotImplementedError(f"{name}_: retrograd has no '{name}' op")
        return write_result(self, name + "_", fn, args, kwargs, cast)

    method.__name__ = method.__qualname__ = name + "_"
    method.__doc__ = f"`{name}` in place."
    return method


def inplace_form(fn, name, cast=False):
    """The in-place form `name` of the out-of-place function `fn(input, *args, **kwargs)`
    (e.g. torch.nn.functional.elu_ from elu)."""

    def inplace(input, *args, **kwargs):
        return write_result(input, name, fn, args, kwargs, cast)

    inplace.__name__ = inplace.__qualname__ = name
    inplace.__doc__ = f"`{fn.__name__}` in place."
    return inplace


def write_result(self, name, fn, args, kwargs, cast=False):
    """self <- fn(self, *args, **kwargs): one NumPy copy, or recorded when autograd must see it."""
    if not is_plain(self, *args):
        return record_inplace(self, name, _call, args, saves_input=True, cast=cast, fn=fn,
                              kwargs=kwargs)
    check_writable(self, name)
    result = fn(self, *args, **kwargs).data
    if result.shape != self.data.shape:
        raise RuntimeError(
            f"{name}: output with shape {self.shape} doesn't match the broadcast shape "
            f"{result.shape}"
        )
    if not cast and dtype_category(result.dtype) > dtype_category(self.data.dtype):
        raise RuntimeError(
            f"{name}: result type {result.dtype} can't be cast to the desired output type "
            f"{self.dtype}"
        )
    np.copyto(self.data, result, casting="unsafe")
    bump_version(self, name)
    return self


def _call(x, *args, fn, kwargs):
    return fn(x, *args, **kwargs)


def _float_power_(self, exponent):
    """float_power in place: PyTorch requires a float64 tensor (the result's dtype)."""
    if self.data.dtype != np.float64:
        raise RuntimeError(
            f"float_power_: the base must be float64 (the result's dtype), got {self.dtype}"
        )
    return _inplace("float_power")(self, exponent)


TENSOR_METHODS = {name + "_": _inplace(name) for name in _UNARY + _BINARY}
TENSOR_METHODS.update({name + "_": _inplace(name, cast=True) for name in _CASTING})
TENSOR_METHODS["float_power_"] = _float_power_
