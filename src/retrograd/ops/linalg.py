"""Linear algebra: matmul (and `@`), mm, bmm, mv, dot, outer, inner, addmm/addmv/baddbmm,
tensordot and einsum.

Two primitives carry everything: `matmul` (NumPy's matmul, BLAS on float32/float64) and
`einsum` (one or two operands; more operands are contracted pairwise along NumPy's greedy
path). The rest are checked wrappers or composites of these two.
"""

import math as _math

import numpy as np

from ..autograd import graph as _graph
from ..autograd.graph import Op
from ._einsum import contraction_path, einsum_vjp, parse_einsum
from ._util import Tensor, apply, operand

__all__ = [
    "linear",
    "matmul",
    "mm",
    "bmm",
    "mv",
    "dot",
    "outer",
    "ger",
    "inner",
    "addmm",
    "addmv",
    "baddbmm",
    "tensordot",
    "einsum",
]


# ----------------------------------------------------------------------------------- matmul
class Matmul(Op):
    """PyTorch's matmul: 1-D operands are promoted to matrices (a row on the left, a column on
    the right) and the added dimension removed again; batch dimensions broadcast."""

    name = "matmul"
    input_names = ("x", "y")
    save = (0, 1)

    @staticmethod
    def forward(x, y):
        try:
            return np.matmul(x, y)
        except ValueError:
            raise ValueError(_matmul_error(x.shape, y.shape)) from None

    @staticmethod
    def vjp(ns, g, saved, params, needs):
        x, y = saved
        if x.ndim >= 2 and y.ndim >= 2:
            return _matmul_vjp_matrices(ns, g, x, y, needs)
        if x.ndim == 1 and y.ndim == 1:  # dot product: g is 0-d
            return (g * y if needs[0] else None), (g * x if needs[1] else None)
        if x.ndim == 1:  # (k,) @ (..., k, n) -> (..., n): undo the row promotion of x
            gx = None
            if needs[0]:
                if g.ndim == 1:
                    gx = ns.matmul(y, g)
                else:  # the engine sums the batch dimensions
                    gx = ns.squeeze(ns.matmul(y, ns.unsqueeze(g, -1)), -1)
            gy = ns.unsqueeze(x, -1) * ns.unsqueeze(g, -2) if needs[1] else None
            return gx, gy
        # (..., m, k) @ (k,) -> (..., m): undo the column promotion of y
        gx = ns.unsqueeze(g, -1) * y if needs[0] else None
        gy = None
        if needs[1]:
            rows = _math.prod(x.shape[:-1])
            gy = ns.matmul(ns.reshape(g, (rows,)), ns.reshape(x, (rows, x.shape[-1])))
        return gx, gy

    @staticmethod
    def jvp(ns, ts, xs, out, params):
        x, y = xs
        return np.matmul(ts[0], y) + np.matmul(x, ts[1])


def _matmul_vjp_matrices(ns, g, x, y, needs):
    gx = ns.matmul(g, ns.mT(y)) if needs[0] else None
    gy = None
    if needs[1]:
        if y.ndim == 2 and x.ndim > 2:
            # NOTE: a batch of inputs times one weight matrix (every Linear layer on a sequence):
            # one GEMM over the flattened batch instead of a batched product summed afterwards.
            k, n = x.shape[-1], g.shape[-1]
            rows = _math.prod(x.shape[:-1])
            gy = ns.matmul(ns.mT(ns.reshape(x, (rows, k))), ns.reshape(g, (rows, n)))
        else:
            gy = ns.matmul(ns.mT(x), g)  # the engine sums broadcast batch dimensions
    return gx, gy


# ----------------------------------------------------------------------------------- linear
class Linear(Op):
    """input @ weight.T (+ bias) for input (*, in), weight (out, in), bias (out,).

    NOTE: a primitive rather than matmul(input, weight.T) + bias, for speed (it is the layer
    of every MLP): one node instead of three, the weight gradient comes out of one GEMM in the
    weight's own (out, in) layout (no transposed view to copy into `.grad`), and the bias
    gradient is the engine's sum over the rows.
    """

    name = "linear"
    input_names = ("input", "weight", "bias")
    save = (0, 1)

    @staticmethod
    def forward(x, w, b=None):
        try:
            out = np.matmul(x, w.T)
        except ValueError:
            raise ValueError(
                _matmul_error(x.shape, w.T.shape, "linear").replace(
                    f"by {tuple(w.T.shape)}", f"by the transpose of weight {tuple(w.shape)}"
                )
            ) from None
        if b is not None:
            out += b  # out is a fresh array
        return out

    @staticmethod
    def vjp(ns, g, saved, params, needs):
        x, w = saved
        gx = ns.matmul(g, w) if needs[0] else None
        gw = None
        if needs[1]:
            if x.ndim == 1:
                gw = ns.unsqueeze(g, -1) * ns.unsqueeze(x, 0)
            else:  # every leading dimension is a row of one GEMM: (out, rows) @ (rows, in)
                rows = _math.prod(x.shape[:-1])
                gw = ns.matmul(
                    ns.mT(ns.reshape(g, (rows, w.shape[0]))), ns.reshape(x, (rows, w.shape[1]))
                )
        if len(needs) == 2:
            return gx, gw
        return gx, gw, (g if needs[2] else None)  # the engine sums g down to the bias shape

    @staticmethod
    def jvp(ns, ts, xs, out, params):
        x, w = xs[0], xs[1]
        t = np.matmul(ts[0], w.T) + np.matmul(x, ts[1].T)
        return t + ts[2] if len(xs) == 3 else t


def linear(input, weight, bias=None):
    """input @ weight.T + bias (torch.nn.functional.linear), as one primitive."""
    if weight.data.ndim != 2:
        raise ValueError(f"linear: weight must be 2-D (out, in), got shape {tuple(weight.shape)}")
    if bias is not None and bias.data.shape != (weight.data.shape[0],):
        raise ValueError(
            f"linear: bias must have shape ({weight.data.shape[0]},) to match weight "
            f"{tuple(weight.shape)}, got {tuple(bias.shape)}"
        )
    if input.data.ndim == 0:
        raise ValueError("linear: input must have at least 1 dimension, got a 0-d tensor")
    dtype = input.data.dtype
    if weight.data.dtype != dtype or (bias is not None and bias.data.dtype != dtype):
        _same_dtype(input, weight, "linear")
        if bias is not None:
            _same_dtype(input, bias, "linear")
    if bias is None:
        return apply(Linear, input, weight)
    return apply(Linear, input, weight, bias)


def _matmul_error(xs, ys, name="matmul"):
    """The reason np.matmul refused shapes `xs` and `ys`, in PyTorch's terms."""
    xs, ys = tuple(xs), tuple(ys)
    if not xs or not ys:
        return (
            f"{name}: both arguments need at least 1 dimension, but they have shapes {xs} "
            f"and {ys}"
        )
    k_x = xs[-1]
    k_y = ys[-2] if len(ys) >= 2 else ys[0]
    if k_x != k_y:
        return f"{name}: cannot multiply {xs} by {ys}: inner dimensions {k_x} and {k_y} differ"
    return (
        f"{name}: cannot multiply {xs} by {ys}: batch dimensions {xs[:-2]} and {ys[:-2]} "
        "cannot be broadcast"
    )


def _same_dtype(x, y, name):
    if x.data.dtype != y.data.dtype and _graph._autocast is None:  # autocast casts them in apply
        raise TypeError(
            f"{name}: expected both operands to have the same dtype, got {x.data.dtype} and "
            f"{y.data.dtype}; cast one of them (for example y.to(x.dtype))"
        )


def matmul(input, other):
    """Matrix product with PyTorch's rules: 1-D x 1-D is a dot product, 1-D operands are
    promoted to a row (left) or a column (right), batch dimensions broadcast."""
    if type(other) is not Tensor:
        other = operand(other, input, "matmul")
    if input.data.dtype != other.data.dtype:
        _same_dtype(input, other, "matmul")
    return apply(Matmul, input, other)


def rmatmul(input, other):
    """other @ input, for `ndarray @ Tensor`."""
    return matmul(operand(other, input, "matmul"), input)


def _check_ndim(name, tensors, ndims):
    for position, (t, ndim) in enumerate(zip(tensors, ndims)):
        if t.data.ndim != ndim:
            shapes = " and ".join(str(tuple(t.shape)) for t in tensors)
            raise ValueError(
                f"{name}: argument {position} must be {ndim}-D, got shapes {shapes}"
            )


def _checked_matmul(name, input, other):
    _same_dtype(input, other, name)
    xs, ys = input.data.shape, other.data.shape
    k_y = ys[-2] if len(ys) >= 2 else ys[0]
    if xs[-1] != k_y:
        raise ValueError(_matmul_error(xs, ys, name))
    return apply(Matmul, input, other)


def mm(input, mat2):
    """(n, m) @ (m, p) -> (n, p); no broadcasting."""
    _check_ndim("mm", (input, mat2), (2, 2))
    return _checked_matmul("mm", input, mat2)


def bmm(input, mat2):
    """(b, n, m) @ (b, m, p) -> (b, n, p); batch sizes must be equal (no broadcasting)."""
    _check_ndim("bmm", (input, mat2), (3, 3))
    if input.data.shape[0] != mat2.data.shape[0]:
        raise ValueError(
            f"bmm: batch sizes differ: {tuple(input.shape)} and {tuple(mat2.shape)}"
        )
    return _checked_matmul("bmm", input, mat2)


def mv(input, vec):
    """(n, m) @ (m,) -> (n,)."""
    _check_ndim("mv", (input, vec), (2, 1))
    return _checked_matmul("mv", input, vec)


def dot(input, other):
    """Inner product of two 1-D tensors of the same size -> 0-d."""
    _check_ndim("dot", (input, other), (1, 1))
    if input.data.shape != other.data.shape:
        raise ValueError(
            f"dot: expected tensors of the same size, got {tuple(input.shape)} and "
            f"{tuple(other.shape)}"
        )
    return _checked_matmul("dot", input, other)


def outer(input, vec2):
    """Outer product of two 1-D tensors: (n,) x (m,) -> (n, m)."""
    _check_ndim("outer", (input, vec2), (1, 1))
    _same_dtype(input, vec2, "outer")
    return input.unsqueeze(1) * vec2.unsqueeze(0)


ger = outer


def inner(input, other):
    """Sum over the last dimension of both: shape input.shape[:-1] + other.shape[:-1]."""
    if input.data.ndim == 0 or other.data.ndim == 0:
        return input * other
    return tensordot(input, other, dims=([-1], [-1]))


def addmm(input, mat1, mat2, *, beta=1, alpha=1):
    """beta * input + alpha * (mat1 @ mat2)."""
    return _scaled_sum(input, mm(mat1, mat2), beta, alpha)


def addmv(input, mat, vec, *, beta=1, alpha=1):
    """beta * input + alpha * (mat @ vec)."""
    return _scaled_sum(input, mv(mat, vec), beta, alpha)


def baddbmm(input, batch1, batch2, *, beta=1, alpha=1):
    """beta * input + alpha * (batch1 @ batch2), batched."""
    return _scaled_sum(input, bmm(batch1, batch2), beta, alpha)


def _scaled_sum(input, product, beta, alpha):
    if alpha != 1:
        product = product * alpha
    if beta == 0:
        return product  # PyTorch: input is ignored, so nan/inf in it do not propagate
    return product + (input if beta == 1 else input * beta)


def tensordot(a, b, dims=2):
    """Contract the last `dims` dimensions of `a` with the first `dims` of `b`, or the listed
    pairs `dims=([a dims], [b dims])`."""
    if isinstance(dims, (int, np.integer)):
        if not 0 <= dims <= min(a.data.ndim, b.data.ndim):
            raise ValueError(
                f"tensordot: dims={dims} does not fit shapes {tuple(a.shape)} and "
                f"{tuple(b.shape)}"
            )
        dims_a = list(range(a.data.ndim - dims, a.data.ndim))
        dims_b = list(range(dims))
    else:
        dims_a, dims_b = ([d] if isinstance(d, (int, np.integer)) else list(d) for d in dims)
        if len(dims_a) != len(dims_b):
            raise ValueError(
                f"tensordot: dims lists {dims_a} and {dims_b} have different lengths"
            )
        dims_a = [_axis(d, a, "tensordot") for d in dims_a]
        dims_b = [_axis(d, b, "tensordot") for d in dims_b]
    for da, db in zip(dims_a, dims_b):
        if a.data.shape[da] != b.data.shape[db]:
            raise ValueError(
                f"tensordot: dimension {da} of {tuple(a.shape)} has size {a.data.shape[da]} "
                f"but dimension {db} of {tuple(b.shape)} has size {b.data.shape[db]}"
            )
    letters = iter("abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ")
    sub_a = [next(letters) for _ in range(a.data.ndim)]
    sub_b = [next(letters) for _ in range(b.data.ndim)]
    for da, db in zip(dims_a, dims_b):
        sub_b[db] = sub_a[da]
    out = [c for i, c in enumerate(sub_a) if i not in dims_a]
    out += [c for i, c in enumerate(sub_b) if i not in dims_b]
    return einsum(f"{''.join(sub_a)},{''.join(sub_b)}->{''.join(out)}", a, b)


def _axis(d, t, name):
    ndim = t.data.ndim
    if not -ndim <= d < ndim:
        raise IndexError(f"{name}: dimension {d} is out of range for shape {tuple(t.shape)}")
    return d % ndim


# ----------------------------------------------------------------------------------- einsum
def _einsum_array(equation, *arrays):
    # NOTE: NumPy's optimize=True routes two-operand contractions through BLAS (tensordot);
    # its planning costs ~15 us, which only pays off for operands of some size.
    optimize = len(arrays) == 2 and arrays[0].size * arrays[1].size > 4096
    return np.einsum(equation, *arrays, optimize=optimize)


class Einsum(Op):
    """Two-operand einsum on an explicit equation (no ellipsis, output given)."""

    name = "einsum"
    input_names = ("x", "y")
    save = (0, 1)

    @staticmethod
    def forward(x, y, equation, **_):
        return _einsum_array(equation, x, y)

    @staticmethod
    def vjp(ns, g, saved, params, needs):
        subs, out_sub = params["subs"], params["out"]
        return tuple(
            einsum_vjp(ns, g, saved, subs, out_sub, k) if needs[k] else None for k in (0, 1)
        )

    @staticmethod
    def jvp(ns, ts, xs, out, params):
        equation = params["equation"]
        return _einsum_array(equation, ts[0], xs[1]) + _einsum_array(equation, xs[0], ts[1])


class EinsumUnary(Op):
    """One-operand einsum: transposes, traces, diagonals, sums."""

    name = "einsum_unary"

    @staticmethod
    def forward(x, equation, **_):
        out = np.einsum(equation, x)
        if np.may_share_memory(out, x):
            out = out.copy()  # NumPy returns views for transposes and diagonals
        return out

    @staticmethod
    def vjp(ns, g, saved, params, needs):
        like = _Shape(params["in_shape"])  # the rule needs the input's shape, not its values
        return einsum_vjp(ns, g, (like,), params["subs"], params["out"], 0)

    @staticmethod
    def jvp(ns, ts, xs, out, params):
        return np.einsum(params["equation"], ts[0])


class _Shape:
    """Stands in for an operand whose values the VJP does not need, only its shape."""

    __slots__ = ("shape", "ndim")

    def __init__(self, shape):
        self.shape = shape
        self.ndim = len(shape)


def einsum(equation, *operands):
    """Einstein summation, as torch.einsum: `einsum("bij,bjk->bik", x, y)`; the operands may
    also be given as one list. Ellipsis broadcasting, implicit output (the letters used once,
    sorted), repeated letters (traces `ii->`, diagonals `ii->i`) and size-1 broadcasting of a
    letter are supported."""
    if len(operands) == 1 and isinstance(operands[0], (list, tuple)):
        operands = tuple(operands[0])
    if not operands:
        raise ValueError("einsum: expected at least one operand")
    for i, t in enumerate(operands):
        if not isinstance(t, Tensor):
            raise TypeError(f"einsum: operand {i} is a {type(t).__name__}, not a Tensor")
    dtype = operands[0].data.dtype
    for t in operands[1:]:
        if t.data.dtype != dtype:
            raise TypeError(
                f"einsum: expected operands of one dtype, got "
                f"{', '.join(str(t.data.dtype) for t in operands)}"
            )
    subs, out_sub = parse_einsum(equation, tuple(t.data.ndim for t in operands))
    return _contract(list(operands), list(subs), out_sub)


def _contract(operands, subs, out_sub):
    """Contract the operands pairwise along NumPy's greedy path, keeping at each step only the
    letters a later operand or the output still needs."""
    if len(operands) > 2:
        for group in contraction_path(subs, out_sub, [t.data for t in operands]):
            picked = sorted(group, reverse=True)
            pairs = [(operands.pop(i), subs.pop(i)) for i in picked][::-1]
            needed = set(out_sub).union(*subs)
            x, sx = pairs[0]
            # a step may contract more than two operands: fold them in one at a time
            for j, (y, sy) in enumerate(pairs[1:], start=2):
                keep = needed.union(*(s for _, s in pairs[j:]))
                letters = "".join(dict.fromkeys(c for c in sx + sy if c in keep))
                x, sx = _einsum2(x, y, sx, sy, letters), letters
            if len(pairs) == 1:
                letters = "".join(dict.fromkeys(c for c in sx if c in needed))
                x, sx = _einsum1(x, sx, letters), letters
            operands.append(x)
            subs.append(sx)
    if len(operands) == 2:
        return _einsum2(operands[0], operands[1], subs[0], subs[1], out_sub)
    if subs[0] == out_sub:
        return operands[0]
    return _einsum1(operands[0], subs[0], out_sub)


def _einsum1(x, sub, out_sub):
    return apply(
        EinsumUnary,
        x,
        equation=f"{sub}->{out_sub}",
        subs=(sub,),
        out=out_sub,
        in_shape=x.data.shape,
    )


def _einsum2(x, y, sx, sy, out_sub):
    return apply(Einsum, x, y, equation=f"{sx},{sy}->{out_sub}", subs=(sx, sy), out=out_sub)


TENSOR_METHODS = {
    "matmul": matmul,
    "__matmul__": matmul,
    "__rmatmul__": rmatmul,
    "mm": mm,
    "bmm": bmm,
    "mv": mv,
    "dot": dot,
    "outer": outer,
    "ger": ger,
    "inner": inner,
    "addmm": addmm,
    "addmv": addmv,
    "baddbmm": baddbmm,
}
