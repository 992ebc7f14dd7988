"""In-place ops: add_, mul_, clamp_, fill_, copy_, masked_fill_, t[index] = v, x += y, ...

PyTorch's semantics. The tensor's array is changed in place (the same ndarray, so views and
aliases see the change) and its version counter goes up, so a graph node that saved the old value
refuses to backpropagate with it. When the change must be recorded (grad mode is on and the tensor
or an operand requires grad), the tensor is re-pointed at the node of the out-of-place op, whose
input is the tensor's previous node; an in-place change of a view re-points its base too. Under
no_grad, or when nothing requires grad, an in-place op is one NumPy call writing into the array:
the path optimizers and `nn.init` take. The machinery is in `_inplace_core.py`.
"""

import numpy as np

from ..autograd import dtypes
from . import arithmetic, comparison, indexing
from ._inplace_core import (
    as_data,
    as_value,
    bump_version,
    check_writable,
    dtype_category,
    is_plain,
    overwrite,
    record_inplace,
    ufunc_into,
)
from ._util import Tensor, new_tensor
from .random import _gen

__all__ = []


# ----------------------------------------------------------------- arithmetic


def add_(self, other, *, alpha=1):
    """self += alpha * other, in place."""
    if is_plain(self, other):
        o = as_data(other)
        return ufunc_into(np.add, self, o if alpha == 1 else o * alpha, "add_")
    return record_inplace(self, "add_", arithmetic.add, (other,), alpha=alpha)


def sub_(self, other, *, alpha=1):
    """self -= alpha * other, in place."""
    if is_plain(self, other):
        o = as_data(other)
        return ufunc_into(np.subtract, self, o if alpha == 1 else o * alpha, "sub_")
    return record_inplace(self, "sub_", arithmetic.sub, (other,), alpha=alpha)


def mul_(self, other):
    if is_plain(self, other):
        return ufunc_into(np.multiply, self, as_data(other), "mul_")
    return record_inplace(self, "mul_", arithmetic.mul, (other,), saves_input=True)


def div_(self, other, *, rounding_mode=None):
    if rounding_mode is None and is_plain(self, other):
        return ufunc_into(np.true_divide, self, as_data(other), "div_")
    return record_inplace(
        self, "div_", arithmetic.div, (other,), saves_input=True, rounding_mode=rounding_mode
    )


def pow_(self, exponent):
    if is_plain(self, exponent):
        return ufunc_into(np.power, self, as_data(exponent), "pow_")
    return record_inplace(self, "pow_", arithmetic.pow, (exponent,), saves_input=True)


def addcmul_(self, tensor1, tensor2, *, value=1):
    """self += value * tensor1 * tensor2, in place."""
    if is_plain(self, tensor1, tensor2):
        product = as_data(tensor1) * as_data(tensor2)
        return ufunc_into(np.add, self, product if value == 1 else product * value, "addcmul_")
    return record_inplace(self, "addcmul_", _addcmul, (tensor1, tensor2), value=value)


def _addcmul(x, tensor1, tensor2, value):
    return arithmetic.add(x, arithmetic.mul(tensor1, tensor2), alpha=value)


def addcdiv_(self, tensor1, tensor2, *, value=1):
    """self += value * tensor1 / tensor2, in place."""
    if is_plain(self, tensor1, tensor2):
        quotient = np.true_divide(as_data(tensor1), as_data(tensor2))
        return ufunc_into(np.add, self, quotient if value == 1 else quotient * value, "addcdiv_")
    return record_inplace(self, "addcdiv_", _addcdiv, (tensor1, tensor2), value=value)


def _addcdiv(x, tensor1, tensor2, value):
    return arithmetic.add(x, arithmetic.div(tensor1, tensor2), alpha=value)


def lerp_(self, end, weight):
    """self += weight * (end - self), in place (PyTorch's linear interpolation)."""
    if is_plain(self, end, weight):
        step = as_data(weight) * (as_data(end) - self.data)
        return ufunc_into(np.add, self, step, "lerp_")
    return record_inplace(self, "lerp_", _lerp, (end, weight), saves_input=True)


def _lerp(x, end, weight):
    return arithmetic.add(x, arithmetic.mul(arithmetic.sub(end, x), weight))


def neg_(self):
    if is_plain(self):
        check_writable(self, "neg_")
        np.negative(self.data, out=self.data)
        bump_version(self, "neg_")
        return self
    return record_inplace(self, "neg_", arithmetic.neg)


def _unary_(name):
    """`name_()` from the out-of-place Tensor method `name`, looked up at call time (the math and
    activation modules attach it)."""
    inplace_name = name + "_"

    def unary_(self):
        fn = getattr(Tensor, name, None)
        if fn is None:
            raise NotImplementedError(f"{inplace_name}: retrograd has no '{name}' op")
        if is_plain(self):
            check_writable(self, inplace_name)
            result = fn(self).data
            if dtype_category(result.dtype) > dtype_category(self.dtype):
                raise RuntimeError(
                    f"{inplace_name}: result type {result.dtype} can't be cast to the desired "
                    f"output type {self.dtype}"
                )
            np.copyto(self.data, result, casting="unsafe")
            bump_version(self, inplace_name)
            return self
        # NOTE: always a snapshot of the old value: whether the op's VJP keeps its input or its
        # output is the op's business, and a copy is cheaper than a wrong gradient.
        return record_inplace(self, inplace_name, fn, saves_input=True)

    unary_.__name__ = unary_.__qualname__ = inplace_name
    return unary_


# ----------------------------------------------------------------- clamp, fills, copies


def clamp_(self, min=None, max=None):  # noqa: A002 - PyTorch's names
    if min is None and max is None:
        raise ValueError("clamp_: at least one of 'min' and 'max' must be given")
    if is_plain(self, min, max):
        check_writable(self, "clamp_")
        np.clip(self.data, as_data(min), as_data(max), out=self.data, casting="unsafe")
        bump_version(self, "clamp_")
        return self
    return record_inplace(self, "clamp_", comparison.clamp, (min, max), saves_input=True)


def clamp_min_(self, min):  # noqa: A002
    return clamp_(self, min=min)


def clamp_max_(self, max):  # noqa: A002
    return clamp_(self, max=max)


def fill_(self, value):
    if isinstance(value, Tensor) and value.data.ndim != 0:
        raise RuntimeError(
            f"fill_: only a 0-dimensional value tensor can fill, got shape {value.shape}"
        )
    if is_plain(self, value):
        check_writable(self, "fill_")
        self.data[...] = as_data(value)
        bump_version(self, "fill_")
        return self
    return record_inplace(self, "fill_", overwrite, (as_value(value, self, "fill_"),), cast=True)


def zero_(self):
    return fill_(self, 0)


def copy_(self, src, non_blocking=False):
    """Copy src's values (broadcast to self's shape, cast to self's dtype) into self."""
    if not isinstance(src, Tensor):
        src = new_tensor(np.asarray(src))
    try:
        shape = np.broadcast_shapes(self.shape, src.shape)
    except ValueError:
        shape = None
    if shape != self.shape:
        raise RuntimeError(
            f"copy_: the source of shape {src.shape} can't be broadcast to the destination's "
            f"shape {self.shape}"
        )
    if is_plain(self, src):
        check_writable(self, "copy_")
        np.copyto(self.data, src.data, casting="unsafe")
        bump_version(self, "copy_")
        return self
    return record_inplace(self, "copy_", overwrite, (src,), cast=True)


def masked_fill_(self, mask, value):
    """Write `value` (a number or a 0-d tensor) where the boolean `mask` (broadcast) is True."""
    m = np.asarray(as_data(mask))
    if m.dtype != np.bool_:
        raise TypeError(f"masked_fill_: the mask must be a bool tensor, got dtype {m.dtype}")
    if isinstance(value, Tensor) and value.data.ndim != 0:
        raise RuntimeError(
            "masked_fill_: only a 0-dimensional value tensor is supported, got shape "
            f"{value.shape}"
        )
    if is_plain(self, value):
        check_writable(self, "masked_fill_")
        try:
            np.copyto(self.data, as_data(value), casting="unsafe", where=m)
        except ValueError as err:
            raise RuntimeError(
                f"masked_fill_: the mask of shape {m.shape} can't be broadcast to the tensor's "
                f"shape {self.shape}"
            ) from err
        bump_version(self, "masked_fill_")
        return self
    return record_inplace(self, "masked_fill_", _masked_fill, (value,), cast=True, mask=m)


def _masked_fill(x, value, mask):
    return comparison.masked_fill(x, mask, value)


def _random_fill(self, name, draw):
    """Fill with random numbers: the new values depend on nothing, so no gradient reaches them."""
    if not dtypes.is_floating(self.dtype):
        raise TypeError(f"{name}: expected a floating-point tensor, got dtype {self.dtype}")
    sample_dtype = self.dtype if self.dtype in (dtypes.float32, dtypes.float64) else np.float32
    values = draw(self.shape, sample_dtype)
    if is_plain(self):
        check_writable(self, name)
        np.copyto(self.data, values, casting="unsafe")
        bump_version(self, name)
        return self
    return record_inplace(self, name, overwrite, (new_tensor(values),), cast=True)


def uniform_(self, a=0.0, b=1.0, *, generator=None):
    """Fill with samples from U(a, b)."""
    rng = _gen(generator)
    return _random_fill(
        self, "uniform_", lambda shape, dt: a + (b - a) * rng.random(shape, dtype=dt)
    )


def normal_(self, mean=0.0, std=1.0, *, generator=None):
    """Fill with samples from N(mean, std^2)."""
    if std < 0:
        raise ValueError(f"normal_: std must be non-negative, got {std}")
    rng = _gen(generator)
    return _random_fill(
        self, "normal_", lambda shape, dt: mean + std * rng.standard_normal(shape, dtype=dt)
    )


# ----------------------------------------------------------------- t[index] = value


def setitem(self, index, value):
    """`self[index] = value`: value (a number or a tensor) broadcasts to self[index]'s shape.

    The index means what it means for `self[index]` (ops/indexing.py `normalize_index`). The
    write is differentiable with respect to the old tensor (the kept elements) and value.
    """
    if is_plain(self, value):
        check_writable(self, "setitem")
        basic, advanced = indexing.normalize_index(index, self.data.shape)
        view = self.data if basic is None else self.data[basic]
        try:
            view[... if advanced is None else advanced] = as_data(value)
        except ValueError as err:
            raise ValueError(f"setitem: tensor of shape {self.shape}: {err}") from err
        bump_version(self, "setitem")
        return
    value = as_value(value, self, "setitem")
    record_inplace(self, "setitem", _index_put, (value,), cast=True, index=index)


def _index_put(x, value, index):
    return indexing.index_put(x, index, value)


# ----------------------------------------------------------------- Python's augmented operators


def _iadd(self, other):
    return add_(self, other)


def _isub(self, other):
    return sub_(self, other)


def _imul(self, other):
    return mul_(self, other)


def _itruediv(self, other):
    return div_(self, other)


def _ipow(self, other):
    return pow_(self, other)


TENSOR_METHODS = {
    "add_": add_,
    "sub_": sub_,
    "subtract_": sub_,
    "mul_": mul_,
    "multiply_": mul_,
    "div_": div_,
    "divide_": div_,
    "true_divide_": div_,
    "pow_": pow_,
    "neg_": neg_,
    "addcmul_": addcmul_,
    "addcdiv_": addcdiv_,
    "lerp_": lerp_,
    "negative_": neg_,
    "exp_": _unary_("exp"),
    "log_": _unary_("log"),
    "sqrt_": _unary_("sqrt"),
    "tanh_": _unary_("tanh"),
    "sigmoid_": _unary_("sigmoid"),
    "relu_": _unary_("relu"),
    "abs_": _unary_("abs"),
    "clamp_": clamp_,
    "clip_": clamp_,
    "clamp_min_": clamp_min_,
    "clamp_max_": clamp_max_,
    "fill_": fill_,
    "zero_": zero_,
    "copy_": copy_,
    "masked_fill_": masked_fill_,
    "uniform_": uniform_,
    "normal_": normal_,
    "__setitem__": setitem,
    "__iadd__": _iadd,
    "__isub__": _isub,
    "__imul__": _imul,
    "__itruediv__": _itruediv,
    "__ipow__": _ipow,
}
