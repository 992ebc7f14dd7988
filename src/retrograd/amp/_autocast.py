"""autocast: run each op in the dtype its policy names (see `_policy.py`).

How it sits on the engine: while an autocast block is active, `graph.apply` hands every op and
its inputs to the block's `_AutocastState` before running it (one global check per op when no
block is active). The state casts the inputs of low-precision ops down and those of float32 ops
up, with the differentiable `cast` op, so master weights stay float32 and their gradients arrive
in float32. Casts of parameters are cached for the block, so a weight used by several ops is
cast once and its gradient flows through one node.

Two things differ from a GPU autocast, both for NumPy's sake:

- NumPy has no fast half-precision matrix product (float16 runs a loop ~35x slower than
  float32's BLAS call). Low-precision ops therefore keep their inputs and outputs in the low
  dtype, which is what decides the memory they keep, and compute in float32, rounding the
  result; this is also what GPU tensor cores do (float16 products accumulated in float32).
- retrograd's `linear` is a matmul and a broadcast add, not one op. So that its bias add does
  not promote the low-precision product back to float32 (PyTorch's fused linear casts the bias
  down), a float32 *parameter* (a leaf that requires grad) meeting a low-precision tensor in a
  binary op is cast down to it. Other float32 tensors promote as usual.
"""

import functools

import numpy as np

from ..autograd import dtypes, graph
from ..autograd.graph import apply
from ..ops.cast import Cast
from ._policy import LOWER, POLICY, TO_FLOAT32

__all__ = ["autocast", "get_autocast_dtype", "is_autocast_enabled"]

_FLOAT32 = dtypes.float32
_FLOAT64 = dtypes.float64


def _low_dtypes():
    return tuple(d for d in (dtypes.float16, dtypes.bfloat16) if d is not None)


_LOW = _low_dtypes()


class autocast:  # noqa: N801 - PyTorch's name
    """Context manager (and decorator) for mixed precision: matrix products and convolutions
    run in `dtype` (float16, or bfloat16 with the optional `ml_dtypes` package), reductions,
    softmax, normalization and losses in float32.

        with rg.amp.autocast(dtype=rg.bfloat16):
            loss = loss_fn(model(x), y)
        loss.backward()          # outside the block, as in PyTorch

    `autocast("cpu", ...)` is accepted as in `torch.autocast(device_type, ...)`; `enabled=False`
    turns a surrounding autocast off inside the block.
    """

    def __init__(self, device_type="cpu", dtype=None, enabled=True, cache_enabled=True):
        if not isinstance(device_type, str):  # autocast(rg.float16)
            device_type, dtype = "cpu", device_type if dtype is None else dtype
        if device_type != "cpu":
            raise RuntimeError(
                f"autocast: device_type '{device_type}' is not available; retrograd runs on cpu")
        if dtype is None:  # PyTorch's default on cpu (rg.bfloat16 is None without ml_dtypes)
            if dtypes.bfloat16 is None and not enabled:
                dtype = dtypes.float16  # never used: the block only switches autocast off
            elif dtypes.bfloat16 is None:
                raise RuntimeError(
                    "autocast: bfloat16 (the default on cpu) needs the ml_dtypes package (pip "
                    "install 'retrograd[amp]'); or pass dtype=rg.float16"
                )
            else:
                dtype = dtypes.bfloat16
        dtype = dtypes.as_dtype(dtype)
        if dtype not in _LOW:
            raise ValueError(f"autocast: dtype must be float16 or bfloat16, got {dtype}")
        self.device_type = device_type
        self.fast_dtype = dtype
        self.enabled = bool(enabled)
        self.cache_enabled = bool(cache_enabled)

    def __enter__(self):
        state = _AutocastState(self.fast_dtype, self.cache_enabled) if self.enabled else None
        self._previous = graph.set_autocast(state)
        return self

    def __exit__(self, *exc_info):
        graph.set_autocast(self._previous)
        return False

    def __call__(self, fn):
        @functools.wraps(fn)
        def with_autocast(*args, **kwargs):
            with autocast(self.device_type, self.fast_dtype, self.enabled, self.cache_enabled):
                return fn(*args, **kwargs)

        return with_autocast


def is_autocast_enabled(device_type="cpu"):
    return graph.get_autocast() is not None


def get_autocast_dtype(device_type="cpu"):
    state = graph.get_autocast()
    return None if state is None else state.dtype


class _AutocastState:
    """The hook `graph.apply` consults: the policy of one autocast block and its cast cache."""

    def __init__(self, dtype, cache_enabled):
        self.dtype = dtype
        self.cache = {} if cache_enabled else None  # id(parameter) -> (parameter, version, cast)

    def fork(self):
        """The same policy with a cache of its own (for a checkpoint's recomputation)."""
        return _AutocastState(self.dtype, self.cache is not None)

    def __call__(self, op, xs):
        policy = POLICY.get(op.name)
        if policy is None:
            return op, xs
        if policy is LOWER:
            xs = tuple([self.cast(x, self.dtype) for x in xs])
            for x in xs:
                dtype = x.data.dtype
                if dtype.kind == "f" or dtype in _LOW:
                    if dtype not in _LOW:
                        return op, xs  # a float64 operand: run the op as it is
            return lowered(op), xs
        if policy is TO_FLOAT32:
            return op, tuple([self.cast(x, _FLOAT32) for x in xs])
        raise AssertionError(f"unknown autocast policy {policy!r}")

    def cast(self, x, dtype):
        """x in `dtype` if it is a float32/float16/bfloat16 tensor (float64 is left alone, as
        PyTorch does); casts of parameters come from the cache."""
        current = x.data.dtype
        if current == dtype or not (current == _FLOAT32 or current in _LOW):
            return x
        cache = self.cache
        if cache is None or x._node is not None or not x._requires_grad or \
                not graph._grad_enabled:
            return apply(Cast, x, dtype=dtype)
        key = (id(x), dtype)
        entry = cache.get(key)
        version = x.version
        if entry is not None and entry[0] is x and entry[1] == version:
            return entry[2]
        cast = apply(Cast, x, dtype=dtype)
        cache[key] = (x, version, cast)
        return cast

    def promote(self, x, y):
        """Where a float32 parameter meets a tensor of the autocast dtype (the bias add of a
        linear layer), the parameter is cast down; None lets the usual promotion decide."""
        low = self.dtype
        if x.data.dtype == low and _is_parameter(y):
            return x, self.cast(y, low)
        if y.data.dtype == low and _is_parameter(x):
            return self.cast(x, low), y
        return None


def _is_parameter(t):
    return t._node is None and t._requires_grad and t.data.dtype == _FLOAT32


# ----------------------------------------------------------------- low-precision ops

_LOWERED = {}  # op class -> its low-precision variant


def lowered(op):
    """`op` taking and returning low-precision arrays but computing in float32 (see the module
    docstring); made once per op, not registered (it shares the op's name)."""
    variant = _LOWERED.get(op)
    if variant is None:
        variant = type(f"{op.__name__}LowPrecision", (op,), {
            "name": None,  # not a new registry entry
            "forward": staticmethod(functools.partial(_forward, op)),
            "vjp": None if op.vjp is None else staticmethod(functools.partial(_vjp, op)),
            "jvp": None if op.jvp is None else staticmethod(functools.partial(_jvp, op)),
        })
        variant.name = op.name
        _LOWERED[op] = variant
    return variant


def _is_low(value):
    dtype = getattr(value, "dtype", None)
    return dtype is not None and dtype in _LOW


def _up(value):
    return value.astype(_FLOAT32) if _is_low(value) else value


def _forward(op, *arrays, **params):
    low = next(a.dtype for a in arrays if _is_low(a))
    out = op.forward(*[_up(a) for a in arrays], **params)
    if op.has_aux:
        out, aux = out
        return np.asarray(out).astype(low), aux
    return np.asarray(out).astype(low)


def _vjp(op, ns, g, saved, params, needs):
    def up(value):
        return ns.cast(value, _FLOAT32) if _is_low(value) else value

    n = len(saved) - (1 if op.has_aux else 0)
    saved = [up(v) for v in saved[:n]] + list(saved[n:])
    return op.vjp(ns, up(g), saved, params, needs)


def _jvp(op, ns, ts, xs, out, params):
    return op.jvp(ns, [None if t is None else _up(t) for t in ts], [_up(x) for x in xs],
                  _up(out), params)

