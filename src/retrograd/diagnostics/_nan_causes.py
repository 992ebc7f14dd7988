"""Why an op made NaN or Inf: statistics of arrays, and the usual causes recognised from the op's
name and its inputs (log or sqrt of a non-positive number, division by zero, exp overflow,
0 * inf, inf - inf, a fully masked softmax row, the `where` gradient trap), each with a hint."""

import dataclasses

import numpy as np

_LOGS = {"log": 0.0, "log2": 0.0, "log10": 0.0, "log1p": -1.0}
_EXPS = {"exp", "exp2", "expm1", "cosh", "sinh", "pow", "pow_scalar"}
_DIVS = {"div", "reciprocal", "rsqrt", "trunc_divide", "floor_divide", "fmod", "remainder"}
_SOFTMAXES = {"softmax", "log_softmax", "logsumexp", "cross_entropy"}
_DOMAINS = {"acos": (-1, 1), "asin": (-1, 1), "atanh": (-1, 1), "acosh": (1, np.inf)}
# ops that can discard a value in forward, passing it a zero gradient
_MASKING = {"where", "mul", "index_put", "clamp", "clamp_tensor", "maximum", "minimum", "fmax",
            "fmin", "relu"}

_SAFE_INPUT = (
    " If the bad values sit in a branch that a later where()/masked_fill discards, the gradient "
    "is still NaN (the `where` trap): make the input safe before the op, e.g. "
    "x = rg.where(ok, x, 1.0) or x.clamp(min=eps)."
)

HINTS = {
    "log_nonpositive": "log of a number <= 0 (log(0) = -inf, log(negative) = NaN): add a small "
                       "eps (log(x + 1e-8), or x.clamp(min=eps)), or use a stable fused op "
                       "(log_softmax, logsigmoid, F.cross_entropy, "
                       "F.binary_cross_entropy_with_logits)." + _SAFE_INPUT,
    "sqrt_negative": "sqrt of a negative number: clamp the input (x.clamp(min=0)) or find why it "
                     "is negative (a variance computed as E[x^2] - E[x]^2 can dip below 0)."
                     + _SAFE_INPUT,
    "pow_negative_base": "a negative number to a fractional power is NaN: use abs() or clamp the "
                         "base." + _SAFE_INPUT,
    "division_by_zero": "division by zero (x/0 = inf, 0/0 = NaN): add eps to the divisor "
                        "(x / (y + 1e-8)), or clamp it away from zero." + _SAFE_INPUT,
    "exp_overflow": "exp overflowed (exp(x) is inf above about 88.7 in float32, 709.8 in "
                    "float64, 11.1 in float16): subtract the maximum first (logsumexp, softmax "
                    "and log_softmax do), or use softplus/logsigmoid instead of log(1 + exp(x)).",
    "zero_times_inf": "0 * inf = NaN: an infinite value was multiplied by zero (often a mask "
                      "multiplying a value that overflowed); mask with where() on finite values.",
    "inf_minus_inf": "inf - inf = NaN: two infinities of opposite sign met (an overflowed value "
                     "minus itself, or -inf masks added to +inf): find where the infinity came "
                     "from and keep values finite (a large negative number such as -1e9 is "
                     "enough for masks).",
    "fully_masked_row": "a softmax over a row that is entirely -inf (every position masked) is "
                        "0/0 = NaN: make sure every query can attend to at least one key, or "
                        "use a large finite negative mask value.",
    "domain": "the input is outside the function's domain (acos/asin need [-1, 1], atanh "
              "(-1, 1), acosh >= 1): clamp it slightly inside." + _SAFE_INPUT,
    "overflow": "values grew past the largest number of the dtype (float16 overflows at 65504, "
                "float32 at 3.4e38): exploding activations or gradients; lower the learning "
                "rate, clip gradients, normalise, or compute in float32.",
    "where_trap": "the `where` gradient trap: where()/masked_fill/clamp discarded this op's "
                  "NaN/Inf values in forward, but backward multiplies the zero gradient of the "
                  "untaken branch by the op's infinite derivative there (0 * inf = NaN). Make "
                  "the input safe before the op (rg.where(ok, x, 1.0)), not only the output.",
    "infinite_derivative": "the op's derivative is infinite at this input (sqrt or a norm at 0, "
                           "log at 0, x ** p with p < 1 at 0, acos/asin at +-1): add eps "
                           "(sqrt(x + 1e-12)), or avoid evaluating exactly at the point.",
    "nonfinite_forward_value": "the op's forward value was already NaN/Inf (it came in, or was "
                               "allowed): its derivative there is not finite either.",
    "nonfinite_input": "the batch itself contains NaN or Inf: clean the data (rg.nan_to_num, or "
                       "drop the samples) before training.",
    "nonfinite_parameter": "the parameters are already NaN/Inf (an earlier step diverged): "
                           "restart from a checkpoint with a lower learning rate or gradient "
                           "clipping.",
    "unknown": "no usual cause recognised: look at the input statistics.",
}


@dataclasses.dataclass
class TensorStats:
    """min, max (ignoring NaN), NaN/Inf counts and what log/sqrt/division care about."""

    name: str
    shape: tuple
    dtype: str
    min: float = None
    max: float = None
    n_nan: int = 0
    n_inf: int = 0
    n_zero: int = 0
    n_negative: int = 0

    @property
    def has_nan(self):
        return self.n_nan > 0

    @property
    def has_inf(self):
        return self.n_inf > 0

    @classmethod
    def of(cls, array, name):
        a = np.asarray(array)
        stats = cls(name, tuple(a.shape), str(a.dtype))
        if a.size == 0 or a.dtype.kind not in "biufc":
            return stats
        if a.dtype.kind == "c":
            a = np.abs(a)
        nan = np.isnan(a) if a.dtype.kind == "f" else np.zeros(a.shape, bool)
        stats.n_nan = int(nan.sum())
        stats.n_inf = int(np.isinf(a).sum()) if a.dtype.kind == "f" else 0
        stats.n_zero = int((a == 0).sum())
        stats.n_negative = int((a < 0).sum())
        if stats.n_nan < a.size:
            valid = a[~nan] if stats.n_nan else a
            stats.min, stats.max = float(valid.min()), float(valid.max())
        return stats

    def to_dict(self):
        out = dataclasses.asdict(self)
        out["has_nan"], out["has_inf"] = self.has_nan, self.has_inf
        return out

    def __str__(self):
        flags = []
        if self.n_nan:
            flags.append(f"{self.n_nan} NaN")
        if self.n_inf:
            flags.append(f"{self.n_inf} Inf")
        if self.n_zero:
            flags.append(f"{self.n_zero} zeros")
        if self.n_negative:
            flags.append(f"{self.n_negative} negative")
        span = "" if self.min is None else f", min {self.min:.4g}, max {self.max:.4g}"
        extra = f" ({', '.join(flags)})" if flags else ""
        return f"{self.name}: shape {self.shape} {self.dtype}{span}{extra}"


def forward_cause(op_name, arrays, out):
    """The usual cause of NaN/Inf appearing in `out` (a code of HINTS)."""
    x = arrays[0] if arrays else None
    if op_name in _LOGS and x is not None and _any(x <= _LOGS[op_name]):
        return "log_nonpositive"
    if op_name in ("sqrt", "rsqrt") and x is not None and _any(x < 0):
        return "sqrt_negative"
    if op_name in _DOMAINS and x is not None:
        low, high = _DOMAINS[op_name]
        if _any((x < low) | (x > high)):
            return "domain"
    if op_name in ("pow", "pow_scalar") and x is not None and np.shape(x) == np.shape(out):
        if _any((x < 0) & np.isnan(out)):
            return "pow_negative_base"
        if _any((x == 0) & np.isinf(out)):
            return "division_by_zero"
    if op_name in _DIVS:
        divisor = arrays[-1] if op_name not in ("reciprocal", "rsqrt") else x
        if _any(divisor == 0) or all(_finite(a) for a in arrays):
            return "division_by_zero"  # by 0, or by a number so small the quotient overflows
    if op_name in _SOFTMAXES and x is not None and _fully_masked(x, out):
        return "fully_masked_row"
    if all(_finite(a) for a in arrays):
        return "exp_overflow" if op_name in _EXPS else "overflow"
    if op_name == "mul" and len(arrays) == 2:
        a, b = arrays
        if (_any(np.isinf(a)) and _any(b == 0)) or (_any(np.isinf(b)) and _any(a == 0)):
            return "zero_times_inf"
    if _opposite_infinities(op_name, arrays):
        return "inf_minus_inf"
    if op_name in ("matmul", "einsum", "mul") and any(_any(np.isinf(a)) for a in arrays):
        return "zero_times_inf"
    return "unknown"


def backward_cause(op_name, inputs, out, g, gx, consumers):
    """The usual cause of a NaN/Inf gradient. `inputs`: {position: array} of the inputs the op
    saved; `out`: its saved output or None; `consumers`: names of the ops that read its output.
    """
    if _zero_where_nan(g, gx):
        return "where_trap" if consumers & _MASKING else "zero_times_inf"
    values = [*inputs.values(), *([] if out is None else [out])]
    if not all(_finite(a) for a in values):
        return "nonfinite_forward_value"
    x = inputs.get(0)
    if op_name in ("sqrt", "rsqrt") and out is not None and _any(out == 0):
        return "infinite_derivative"
    if x is not None:
        if op_name in _LOGS and _any(x == _LOGS[op_name]):
            return "infinite_derivative"
        if op_name in ("acos", "asin") and _any(np.abs(x) == 1):
            return "infinite_derivative"
        if op_name in ("pow_scalar", "pow") and _any(x == 0):
            return "infinite_derivative"
    divisor = inputs.get(1) if op_name == "div" else out if op_name == "reciprocal" else None
    if divisor is not None and divisor.dtype.kind == "f":
        if _any(np.abs(divisor) < np.sqrt(np.finfo(divisor.dtype).tiny)):
            return "division_by_zero"  # the derivative -x / y**2 overflows
    if _finite(g):
        return "overflow"
    return "unknown"


def _opposite_infinities(op_name, arrays):
    """+inf and -inf meeting in an addition (or equal infinities in a subtraction)."""
    if op_name in ("add", "sub") and len(arrays) == 2:
        a, b = arrays
        try:
            if op_name == "add":
                clash = (np.isposinf(a) & np.isneginf(b)) | (np.isneginf(a) & np.isposinf(b))
            else:
                clash = (np.isposinf(a) & np.isposinf(b)) | (np.isneginf(a) & np.isneginf(b))
        except (TypeError, ValueError):
            return False
        return _any(clash)
    if op_name in ("sum", "mean", "cumsum", "matmul", "einsum", "logsumexp"):
        return (any(_any(np.isposinf(a)) for a in arrays)
                and any(_any(np.isneginf(a)) for a in arrays))
    return False


def _zero_where_nan(g, gx):
    """NaN in the gradient exactly where the incoming gradient is zero: 0 * inf."""
    if g is None or np.shape(g) != np.shape(gx):
        return False
    g, gx = np.asarray(g), np.asarray(gx)
    return _any(np.isnan(gx) & (g == 0))


def _fully_masked(x, out):
    """NaN exactly where the input is -inf (softmax), or a last-dim row all -inf (reductions)."""
    if x.dtype.kind != "f":
        return False
    if np.shape(x) == np.shape(out):
        nan = np.isnan(out)
        return _any(nan) and bool(np.all(np.isneginf(x)[nan]))
    return x.ndim > 0 and _any(np.all(np.isneginf(x), axis=-1))


def _finite(a):
    a = np.asarray(a)
    return a.dtype.kind not in "fc" or bool(np.isfinite(a).all())


def _any(mask):
    return bool(np.any(mask))
