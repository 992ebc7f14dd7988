"""Selection: where, masked_fill, clamp, maximum/minimum and fmax/fmin (re-exported by
`comparison.py`, whose specs and tests cover them). They are differentiable in the values they
select from, with PyTorch's conventions at ties and boundaries."""

import builtins

import numpy as np

from ..autograd import dtypes
from ..autograd.graph import Op
from ._util import Tensor, apply, as_array, binary, new_tensor, operand, promote

__all__ = ["where", "masked_fill", "clamp", "clip", "clamp_min", "clamp_max",
           "maximum", "minimum", "fmax", "fmin"]


# ------------------------------------------------------------------ where and masked_fill
class Where(Op):
    """where(condition, x, y); the condition is a parameter (a bool array), not an input."""

    name = "where"
    input_names = ("x", "y")

    @staticmethod
    def forward(x, y, condition):
        return np.where(condition, x, y)

    @staticmethod
    def vjp(ns, g, saved, params, needs):
        condition = params["condition"]
        gx = ns.where(condition, g, 0.0) if needs[0] else None
        gy = ns.where(condition, 0.0, g) if needs[1] else None
        return gx, gy

    @staticmethod
    def jvp(ns, ts, xs, out, params):
        return np.where(params["condition"], ts[0], ts[1])


def _condition(condition, name):
    c = condition.data if isinstance(condition, Tensor) else np.asarray(condition)
    if c.dtype != np.bool_:
        raise TypeError(f"{name}: the condition must be a bool tensor, got dtype {c.dtype}")
    return c


def _scalar_pair(x, y):
    """Two Python numbers as tensors of one dtype: PyTorch's (bool < int64 < default float)."""
    values = (x, y)
    if any(isinstance(v, (builtins.float, np.floating)) for v in values):
        dtype = dtypes.default_float()
    elif all(isinstance(v, (builtins.bool, np.bool_)) for v in values):
        dtype = dtypes.bool
    else:
        dtype = dtypes.int64
    return new_tensor(np.asarray(x, dtype)), new_tensor(np.asarray(y, dtype))


def where(condition, input=None, other=None):
    """`input` where `condition` holds, else `other`, broadcasting all three; differentiable in
    input and other (Tensors or numbers). ``where(condition)`` alone is
    ``nonzero(condition, as_tuple=True)``."""
    c = _condition(condition, "where")
    if input is None and other is None:
        return tuple(new_tensor(i) for i in np.nonzero(c))
    if input is None or other is None:
        raise TypeError("where: give both input and other, or neither")
    if isinstance(input, Tensor):
        other = operand(other, input, "where")
    elif isinstance(other, Tensor):
        input = operand(input, other, "where")
    elif isinstance(input, (np.ndarray, list, tuple)) or isinstance(other, (np.ndarray, list)):
        input = new_tensor(as_array(input))
        other = operand(other, input, "where")
    else:
        input, other = _scalar_pair(input, other)
    if input.data.dtype is not other.data.dtype:
        input, other = promote(input, other)
    return apply(Where, input, other, condition=c)


def _where_method(self, condition, y):
    return where(condition, self, y)


def masked_fill(input, mask, value):
    """`input` with `value` (a number or a 0-d tensor) where `mask` is True; the gradient flows
    to input where mask is False and to a tensor value from every filled position."""
    m = _condition(mask, "masked_fill")
    try:
        out_shape = np.broadcast_shapes(m.shape, input.data.shape)
    except ValueError:
        out_shape = None
    if out_shape != input.data.shape:
        raise ValueError(
            f"masked_fill: the mask of shape {m.shape} does not broadcast to the input's shape "
            f"{input.data.shape}"
        )
    if isinstance(value, Tensor):
        if value.data.ndim != 0:
            raise ValueError(
                f"masked_fill: value must be a number or a 0-d tensor, got shape {value.shape}"
            )
        if value.data.dtype != input.data.dtype:
            value = value.to(input.data.dtype)
    else:
        value = new_tensor(np.asarray(value, dtype=input.data.dtype))
    return apply(Where, value, input, condition=m)


# ------------------------------------------------------------------ clamp
class Clamp(Op):
    """clamp to number bounds (None for no bound); the gradient flows where min <= x <= max."""

    name = "clamp"
    save = (0,)

    @staticmethod
    def forward(x, min, max):  # noqa: A002 - PyTorch's keywords
        return np.clip(x, min, max)

    @staticmethod
    def vjp(ns, g, saved, params, needs):
        return ns.where(_inside(saved[0], params["min"], params["max"]), g, 0.0)

    @staticmethod
    def jvp(ns, ts, xs, out, params):
        return np.where(_inside(xs[0], params["min"], params["max"]), ts[0], 0.0)


def _inside(x, lo, hi):
    if lo is None:
        return x <= hi
    if hi is None:
        return x >= lo
    return (x >= lo) & (x <= hi)


class ClampTensor(Op):
    """clamp(x, min, max) with tensor bounds, PyTorch's gradients: x where min <= x <= max,
    min where x < min < max, max where x > max or max < min (max wins when the bounds cross)."""

    name = "clamp_tensor"
    input_names = ("x", "min", "max")
    save = (0, 1, 2)

    @staticmethod
    def forward(x, lo, hi):
        return np.minimum(np.maximum(x, lo), hi)

    @staticmethod
    def vjp(ns, g, saved, params, needs):
        x, lo, hi = saved
        gx = ns.where((x >= lo) & (x <= hi), g, 0.0) if needs[0] else None
        glo = ns.where((x < lo) & (lo < hi), g, 0.0) if needs[1] else None
        ghi = ns.where((x > hi) | (hi < lo), g, 0.0) if needs[2] else None
        return gx, glo, ghi

    @staticmethod
    def jvp(ns, ts, xs, out, params):
        x, lo, hi = xs
        t = np.where((x >= lo) & (x <= hi), ts[0], 0.0)
        t = t + np.where((x < lo) & (lo < hi), ts[1], 0.0)
        return t + np.where((x > hi) | (hi < lo), ts[2], 0.0)


def _is_float(value):
    if isinstance(value, Tensor):
        return dtypes.is_floating(value.data.dtype)
    return isinstance(value, (builtins.float, np.floating))


def clamp(input, min=None, max=None):  # noqa: A002 - PyTorch's keywords
    """Clamp every element into [min, max]; min and max are numbers or tensors (broadcast).
    When min > max the result is max. The gradient flows where min <= x <= max."""
    if min is None and max is None:
        raise ValueError("clamp: at least one of min and max must be given")
    if not dtypes.is_floating(input.data.dtype) and (_is_float(min) or _is_float(max)):
        input = input.to(dtypes.get_default_dtype())  # PyTorch promotes int with float bounds
    if not isinstance(min, Tensor) and not isinstance(max, Tensor):
        return apply(Clamp, input, min=min, max=max)
    if not dtypes.is_floating(input.data.dtype):
        lo = None if min is None else _array(min)
        hi = None if max is None else _array(max)
        return new_tensor(np.asarray(np.clip(input.data, lo, hi)))
    dtype = input.data.dtype
    lo = new_tensor(np.asarray(-np.inf, dtype)) if min is None else operand(min, input, "clamp")
    hi = new_tensor(np.asarray(np.inf, dtype)) if max is None else operand(max, input, "clamp")
    lo = lo if lo.data.dtype == dtype else lo.to(dtype)
    hi = hi if hi.data.dtype == dtype else hi.to(dtype)
    return apply(ClampTensor, input, lo, hi)


def clamp_min(input, min):  # noqa: A002
    return clamp(input, min=min)


def clamp_max(input, max):  # noqa: A002
    return clamp(input, max=max)


# ------------------------------------------------------------------ maximum and minimum
class Maximum(Op):
    """Elementwise max. PyTorch's gradient: to the larger input, half to each on a tie, and
    all of it to both where a NaN makes them incomparable."""

    name = "maximum"
    input_names = ("x", "y")
    save = (0, 1)
    forward = staticmethod(np.maximum)

    @staticmethod
    def vjp(ns, g, saved, params, needs):
        x, y = saved
        return _split_ties(ns, g, x < y, x == y, x > y, needs)

    @staticmethod
    def jvp(ns, ts, xs, out, params):
        x, y = xs
        return _tangent_ties(ts, x < y, x == y, x > y)


class Minimum(Op):
    name = "minimum"
    input_names = ("x", "y")
    save = (0, 1)
    forward = staticmethod(np.minimum)

    @staticmethod
    def vjp(ns, g, saved, params, needs):
        x, y = saved
        return _split_ties(ns, g, x > y, x == y, x < y, needs)

    @staticmethod
    def jvp(ns, ts, xs, out, params):
        x, y = xs
        return _tangent_ties(ts, x > y, x == y, x < y)


def _split_ties(ns, g, x_loses, tie, y_loses, needs):
    half = g * 0.5
    gx = ns.where(x_loses, 0.0, ns.where(tie, half, g)) if needs[0] else None
    gy = ns.where(y_loses, 0.0, ns.where(tie, half, g)) if needs[1] else None
    return gx, gy


def _tangent_ties(ts, x_loses, tie, y_loses):
    tx = np.where(x_loses, 0.0, np.where(tie, ts[0] * 0.5, ts[0]))
    return tx + np.where(y_loses, 0.0, np.where(tie, ts[1] * 0.5, ts[1]))


class Fmax(Op):
    """Elementwise max ignoring NaN; ties and NaN in y send the gradient to x (PyTorch)."""

    name = "fmax"
    input_names = ("x", "y")
    save = (0, 1)
    forward = staticmethod(np.fmax)

    @staticmethod
    def vjp(ns, g, saved, params, needs):
        x, y = saved
        to_x = (x >= y) | (y != y)
        return (ns.where(to_x, g, 0.0) if needs[0] else None,
                ns.where(to_x, 0.0, g) if needs[1] else None)

    @staticmethod
    def jvp(ns, ts, xs, out, params):
        x, y = xs
        return np.where((x >= y) | np.isnan(y), ts[0], ts[1])


class Fmin(Op):
    name = "fmin"
    input_names = ("x", "y")
    save = (0, 1)
    forward = staticmethod(np.fmin)

    @staticmethod
    def vjp(ns, g, saved, params, needs):
        x, y = saved
        to_x = (x <= y) | (y != y)
        return (ns.where(to_x, g, 0.0) if needs[0] else None,
                ns.where(to_x, 0.0, g) if needs[1] else None)

    @staticmethod
    def jvp(ns, ts, xs, out, params):
        x, y = xs
        return np.where((x <= y) | np.isnan(y), ts[0], ts[1])


def maximum(input, other):
    return binary(Maximum, input, other)


def minimum(input, other):
    return binary(Minimum, input, other)


def fmax(input, other):
    return binary(Fmax, input, other)


def fmin(input, other):
    return binary(Fmin, input, other)


clip = clamp


def _array(value):
    return value.data if isinstance(value, Tensor) else np.asarray(value)
