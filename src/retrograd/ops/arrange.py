"""Rearranging and masking elements: flip, roll, tril/triu, and pad (PyTorch's F.pad).

All of them return new tensors, as in PyTorch. Constant padding is a primitive whose VJP crops;
reflect, replicate and circular padding are index_select along each padded dim, whose VJP adds
the gradient of every copy back to its source element.
"""

import numpy as np

from ..autograd.graph import Op
from ._util import apply, check_dim, normalize_dims
from .scatter_gather import index_select

__all__ = ["flip", "fliplr", "flipud", "roll", "tril", "triu", "pad"]


class Flip(Op):
    name = "flip"

    @staticmethod
    def forward(x, dims):
        # NOTE: a copy, as in PyTorch: an unmarked NumPy view would let in-place ops on the
        # result change the input behind the version counter's back.
        return np.flip(x, dims).copy()

    @staticmethod
    def vjp(ns, g, saved, params, needs):
        return ns.flip(g, params["dims"])

    @staticmethod
    def jvp(ns, ts, xs, out, params):
        return np.flip(ts[0], params["dims"])


class Roll(Op):
    name = "roll"

    @staticmethod
    def forward(x, shifts, dims):
        return np.roll(x, shifts, dims)

    @staticmethod
    def vjp(ns, g, saved, params, needs):
        shifts = params["shifts"]
        back = -shifts if isinstance(shifts, int) else tuple(-s for s in shifts)
        return ns.roll(g, back, params["dims"])

    @staticmethod
    def jvp(ns, ts, xs, out, params):
        return np.roll(ts[0], params["shifts"], params["dims"])


class Tril(Op):
    name = "tril"

    @staticmethod
    def forward(x, diagonal):
        return np.tril(x, diagonal)

    @staticmethod
    def vjp(ns, g, saved, params, needs):
        return ns.tril(g, params["diagonal"])

    @staticmethod
    def jvp(ns, ts, xs, out, params):
        return np.tril(ts[0], params["diagonal"])


class Triu(Op):
    name = "triu"

    @staticmethod
    def forward(x, diagonal):
        return np.triu(x, diagonal)

    @staticmethod
    def vjp(ns, g, saved, params, needs):
        return ns.triu(g, params["diagonal"])

    @staticmethod
    def jvp(ns, ts, xs, out, params):
        return np.triu(ts[0], params["diagonal"])


class ConstantPad(Op):
    """x with `widths[d] = (before, after)` elements of `value` around each dim."""

    name = "constant_pad"

    @staticmethod
    def forward(x, widths, value, inner):
        shape = tuple(n + a + b for n, (a, b) in zip(x.shape, widths))
        out = np.full(shape, value, dtype=x.dtype)
        out[inner] = x
        return out

    @staticmethod
    def vjp(ns, g, saved, params, needs):
        return g[params["inner"]]

    @staticmethod
    def jvp(ns, ts, xs, out, params):
        return ConstantPad.forward(ts[0], params["widths"], 0, params["inner"])


def flip(input, dims):
    """Reverse the order of the elements along `dims` (a copy, as in PyTorch)."""
    return apply(Flip, input, dims=normalize_dims(dims, input.data.ndim, "flip"))


def fliplr(input):
    if input.data.ndim < 2:
        raise ValueError(f"fliplr: expects a tensor with >= 2 dimensions, got {input.shape}")
    return flip(input, 1)


def flipud(input):
    if input.data.ndim < 1:
        raise ValueError("flipud: expects a tensor with >= 1 dimension, got a 0-d tensor")
    return flip(input, 0)


def roll(input, shifts, dims=None):
    """Shift elements along dims (wrapping around); with dims=None, over the flattened input."""
    if dims is None:
        if not isinstance(shifts, (int, np.integer)):
            shifts = tuple(shifts)
            if len(shifts) != 1:
                raise ValueError(f"roll: without dims, shifts must be one int, got {shifts}")
            shifts = shifts[0]
        return apply(Roll, input, shifts=int(shifts), dims=None)
    single = isinstance(dims, (int, np.integer))
    dims = (dims,) if single else tuple(dims)
    shifts = (shifts,) if isinstance(shifts, (int, np.integer)) else tuple(shifts)
    if len(shifts) != len(dims):
        raise ValueError(f"roll: shifts {shifts} and dims {dims} must have the same length")
    dims = tuple(check_dim(d, input.data.ndim, "roll") for d in dims)
    return apply(Roll, input, shifts=tuple(int(s) for s in shifts), dims=dims)


def _triangle(op, input, diagonal):
    if input.data.ndim < 2:
        raise ValueError(
            f"{op.name}: expects a tensor with >= 2 dimensions, got shape {input.shape}"
        )
    return apply(op, input, diagonal=int(diagonal))


def tril(input, diagonal=0):
    """The lower triangle (on and below `diagonal`) of the last two dims; the rest zeroed."""
    return _triangle(Tril, input, diagonal)


def triu(input, diagonal=0):
    """The upper triangle (on and above `diagonal`) of the last two dims; the rest zeroed."""
    return _triangle(Triu, input, diagonal)


_INDEX_MODES = {"reflect": "reflect", "replicate": "edge", "circular": "wrap"}


def pad(input, pad, mode="constant", value=None):
    """Pad the last len(pad) // 2 dims: `pad` is (left, right) for the last dim, then for the
    one before it, and so on (PyTorch's order). mode: 'constant' (with `value`, default 0;
    negative widths crop), 'reflect' (mirror without repeating the edge), 'replicate' (repeat
    the edge) or 'circular' (wrap around)."""
    pad = tuple(int(p) for p in pad)
    shape = input.data.shape
    if len(pad) % 2:
        raise ValueError(f"pad: the padding {pad} must have an even length")
    if len(pad) // 2 > len(shape):
        raise ValueError(
            f"pad: the padding {pad} covers {len(pad) // 2} dims, but the input of shape "
            f"{shape} has {len(shape)}"
        )
    k = len(pad) // 2
    widths = [(0, 0)] * (len(shape) - k) + [(pad[2 * j], pad[2 * j + 1]) for j in range(k)][::-1]
    if mode == "constant":
        return _constant_pad(input, widths, 0 if value is None else value)
    if mode not in _INDEX_MODES:
        raise ValueError(
            f"pad: mode must be 'constant', 'reflect', 'replicate' or 'circular', got {mode!r}"
        )
    if value is not None and value != 0:
        raise ValueError(f"pad: padding mode {mode!r} doesn't take in value argument")
    x = input
    for d, (before, after) in enumerate(widths):
        if before == after == 0:
            continue
        n = shape[d]
        limit = {"reflect": n - 1, "replicate": None, "circular": n}[mode]
        if before < 0 or after < 0 or (limit is not None and max(before, after) > limit):
            raise ValueError(
                f"pad: {mode} padding of ({before}, {after}) is invalid for dimension {d} of "
                f"size {n} (input of shape {shape}): widths must be >= 0"
                + ("" if limit is None else f" and <= {limit}")
            )
        if n == 0:
            raise ValueError(f"pad: {mode} padding of an empty dimension {d} (shape {shape})")
        x = index_select(x, d, np.pad(np.arange(n), (before, after), mode=_INDEX_MODES[mode]))
    return x if x is not input else input.clone()


def _constant_pad(input, widths, value):
    shape = input.data.shape
    for d, ((before, after), n) in enumerate(zip(widths, shape)):
        if n + before + after < 0:
            raise ValueError(
                f"pad: padding ({before}, {after}) of dimension {d} of size {n} leaves a negative "
                f"size (input of shape {shape})"
            )
    if any(a < 0 or b < 0 for a, b in widths):  # negative widths crop first
        input = input[tuple(slice(max(-a, 0), n - max(-b, 0)) for (a, b), n in zip(widths, shape))]
        widths = [(max(a, 0), max(b, 0)) for a, b in widths]
    widths = tuple(widths)
    inner = tuple(slice(a, a + n) for (a, _), n in zip(widths, input.data.shape))
    return apply(ConstantPad, input, widths=widths, value=value, inner=inner)


TENSOR_METHODS = {
    "flip": flip,
    "fliplr": fliplr,
    "flipud": flipud,
    "roll": roll,
    "tril": tril,
    "triu": triu,
}
