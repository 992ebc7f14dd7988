"""Convolution: conv1d, conv2d, conv_transpose1d, conv_transpose2d (PyTorch's semantics: stride,
padding including 'same' and 'valid', dilation, groups, bias; unbatched inputs too).

Three primitives carry everything, each one's gradient written with the others, so gradients
of any order exist:

- `conv2d(x, w)`: its input gradient is `conv_transpose2d(g, w)`, its weight gradient
  `conv2d_weight(x, g)`;
- `conv_transpose2d(x, w)`: input gradient `conv2d(g, w)`, weight gradient
  `conv2d_weight(g, x)`;
- `conv2d_weight(x, g)` (torch.nn.grad.conv2d_weight), bilinear: `conv_transpose2d(g, gw)`
  for x and `conv2d(x, gw)` for g.

The 1-D forms run the 2-D ones on a height-1 image. The NumPy kernels (im2col and one batched
matrix product per call) are in autograd/_array_conv.py.
"""

import numpy as np

from ..autograd import array_ns, dtypes, graph
from ..autograd._array_conv import conv_output_size, pair
from ..autograd.graph import Op
from ._util import apply

__all__ = ["conv1d", "conv2d", "conv_transpose1d", "conv_transpose2d"]

_ALL = (slice(None), slice(None))


# ------------------------------------------------------------------------------ primitives
class Conv2d(Op):
    name = "conv2d"
    input_names = ("input", "weight", "bias")
    save = (0, 1)

    @staticmethod
    def forward(x, w, b=None, *, stride, padding, dilation, groups, **_):
        return array_ns.conv2d(x, w, b, stride, padding, dilation, groups)

    @staticmethod
    def vjp(ns, g, saved, params, needs):
        x, w = saved
        stride, padding, dilation, groups = _settings(params)
        gx = gw = gb = None
        if needs[0]:
            gx = ns.conv_transpose2d(g, w, None, stride, padding, params["input_padding"],
                                     groups, dilation)
        if needs[1]:
            gw = ns.conv2d_weight(x, w.shape, g, stride, padding, dilation, groups)
        if len(needs) == 2:
            return gx, gw
        if needs[2]:
            gb = ns.sum(g, dim=(0, 2, 3))
        return gx, gw, gb

    @staticmethod
    def jvp(ns, ts, xs, out, params):
        stride, padding, dilation, groups = _settings(params)
        t = ns.conv2d(ts[0], xs[1], None, stride, padding, dilation, groups)
        t += ns.conv2d(xs[0], ts[1], None, stride, padding, dilation, groups)
        if len(xs) == 3:
            t += ts[2].reshape(-1, 1, 1)
        return t


class ConvTranspose2d(Op):
    name = "conv_transpose2d"
    input_names = ("input", "weight", "bias")
    save = (0, 1)

    @staticmethod
    def forward(x, w, b=None, *, stride, padding, output_padding, groups, dilation, **_):
        return array_ns.conv_transpose2d(x, w, b, stride, padding, output_padding, groups,
                                         dilation)

    @staticmethod
    def vjp(ns, g, saved, params, needs):
        x, w = saved
        stride, padding, dilation, groups = _settings(params)
        gx = gw = gb = None
        if needs[0]:
            gx = _crop(ns, ns.conv2d(g, w, None, stride, padding, dilation, groups), x.shape)
        if needs[1]:
            gw = ns.conv2d_weight(g, w.shape, x, stride, padding, dilation, groups)
        if len(needs) == 2:
            return gx, gw
        if needs[2]:
            gb = ns.sum(g, dim=(0, 2, 3))
        return gx, gw, gb

    @staticmethod
    def jvp(ns, ts, xs, out, params):
        stride, padding, dilation, groups = _settings(params)
        output_padding = params["output_padding"]
        t = ns.conv_transpose2d(ts[0], xs[1], None, stride, padding, output_padding, groups,
                                dilation)
        t += ns.conv_transpose2d(xs[0], ts[1], None, stride, padding, output_padding, groups,
                                 dilation)
        if len(xs) == 3:
            t += ts[2].reshape(-1, 1, 1)
        return t


class Conv2dWeight(Op):
    """The weight gradient of conv2d, `conv2d_weight(x, g)`: bilinear in the input x and the
    output gradient g. A primitive so that second derivatives through conv2d exist."""

    name = "conv2d_weight"
    input_names = ("input", "grad_output")
    save = (0, 1)

    @staticmethod
    def forward(x, g, *, weight_size, stride, padding, dilation, groups, **_):
        return array_ns.conv2d_weight(x, weight_size, g, stride, padding, dilation, groups)

    @staticmethod
    def vjp(ns, gw, saved, params, needs):
        x, g = saved
        stride, padding, dilation, groups = _settings(params)
        gx = gg = None
        if needs[0]:
            gx = ns.conv_transpose2d(g, gw, None, stride, padding, params["input_padding"],
                                     groups, dilation)
        if needs[1]:
            gg = _crop(ns, ns.conv2d(x, gw, None, stride, padding, dilation, groups), g.shape)
        return gx, gg

    @staticmethod
    def jvp(ns, ts, xs, out, params):
        stride, padding, dilation, groups = _settings(params)
        size = params["weight_size"]
        return (ns.conv2d_weight(ts[0], size, xs[1], stride, padding, dilation, groups)
                + ns.conv2d_weight(xs[0], size, ts[1], stride, padding, dilation, groups))


def _settings(params):
    return params["stride"], params["padding"], params["dilation"], params["groups"]


def _crop(ns, y, shape):
    """y cut down to `shape` in its spatial dims (a conv2d of a gradient can be a little
    larger than the input it belongs to, where output_padding >= stride)."""
    if tuple(y.shape) == tuple(shape):
        return y
    return ns.index(y, (_ALL + (slice(0, shape[2]), slice(0, shape[3])), None))


def _input_padding(size, kernel, stride, padding, dilation, out_size):
    """The output_padding that makes a transposed convolution of `out_size` come out `size`."""
    return tuple(
        n + 2 * p - d * (k - 1) - 1 - (o - 1) * s
        for n, k, s, p, d, o in zip(size, kernel, stride, padding, dilation, out_size)
    )


# ------------------------------------------------------------------------------ checks
def _positive(values, what, name):
    if any(v <= 0 for v in values):
        raise ValueError(f"{name}: {what} must be positive, got {values}")


def _check_tensors(name, input, weight, bias, dims):
    """Shapes and dtypes of a convolution's operands; returns whether the input is batched."""
    x, w = input.data, weight.data
    if w.ndim != dims + 2:
        raise ValueError(
            f"{name}: expected a {dims + 2}-D weight (out_channels, in_channels/groups, "
            f"{'kernel' if dims == 1 else 'kh, kw'}), got shape {w.shape}"
        )
    if x.ndim not in (dims + 1, dims + 2):
        layout = "(N, C, L) or (C, L)" if dims == 1 else "(N, C, H, W) or (C, H, W)"
        raise ValueError(f"{name}: expected input of shape {layout}, got shape {x.shape}")
    for t, role in ((input, "input"), (weight, "weight"), (bias, "bias")):
        if t is not None and not dtypes.is_floating(t.data.dtype):
            raise TypeError(f"{name}: expected a floating point {role}, got {t.data.dtype}")
    for t, role in ((weight, "weight"), (bias, "bias")):
        if t is not None and t.data.dtype != x.dtype and graph._autocast is None:
            raise TypeError(
                f"{name}: input ({x.dtype}) and {role} ({t.data.dtype}) must have the same "
                "dtype; cast one of them (for example input.to(weight.dtype))"
            )
    return x.ndim == dims + 2


def _check_groups(name, groups, in_channels, out_channels, x_shape, w_shape, transposed):
    if groups <= 0:
        raise ValueError(f"{name}: groups must be positive, got {groups}")
    if in_channels % groups or out_channels % groups:
        raise ValueError(
            f"{name}: in_channels ({in_channels}) and out_channels ({out_channels}) must both "
            f"be divisible by groups ({groups}) (input {x_shape}, weight {w_shape})"
        )
    expected = w_shape[0] if transposed else w_shape[1] * groups
    if x_shape[1] != expected:
        role = "weight.shape[0]" if transposed else "weight.shape[1] * groups"
        raise ValueError(
            f"{name}: weight of shape {w_shape} with groups={groups} expects input with "
            f"{expected} channels ({role}), got input of shape {x_shape}"
        )


def _check_bias(name, bias, channels):
    if bias is not None and tuple(bias.data.shape) != (channels,):
        raise ValueError(
            f"{name}: expected a bias of shape ({channels},), got {tuple(bias.data.shape)}"
        )


def _as_2d(input, weight, batched, dims):
    """Batched 2-D views of 1-D or unbatched operands."""
    if not batched:
        input = input.unsqueeze(0)
    if dims == 1:
        input, weight = input.unsqueeze(2), weight.unsqueeze(2)
    return input, weight


def _from_2d(out, batched, dims):
    if dims == 1:
        out = out.squeeze(2)
    return out if batched else out.squeeze(0)


def _params(value, dims, what, name):
    """An int or a tuple of `dims` ints as a 2-D pair (height 1 first for 1-D)."""
    if isinstance(value, (int, np.integer)):
        values = (int(value),) * dims
    else:
        values = tuple(int(v) for v in value)
        if len(values) != dims:
            raise ValueError(f"{name}: expected {what} as an int or {dims} ints, got {value}")
    if dims == 1:  # the height-1 dim: no padding, unit stride and dilation
        return ((0 if "padding" in what else 1),) + values
    return values


# ------------------------------------------------------------------------------ public
def _conv(name, dims, input, weight, bias, stride, padding, dilation, groups):
    batched = _check_tensors(name, input, weight, bias, dims)
    x_shape, w_shape = tuple(input.data.shape), tuple(weight.data.shape)
    if not batched:
        x_shape = (1,) + x_shape
    _check_groups(name, groups, x_shape[1], w_shape[0], x_shape, w_shape, False)
    _check_bias(name, bias, w_shape[0])
    stride = _params(stride, dims, "stride", name)
    dilation = _params(dilation, dims, "dilation", name)
    _positive(stride[-dims:], "stride", name)
    _positive(dilation[-dims:], "dilation", name)
    input, weight = _as_2d(input, weight, batched, dims)
    kernel = weight.data.shape[2:]
    if isinstance(padding, str):
        padding, extra = _string_padding(name, padding, stride, kernel, dilation)
        if any(extra):  # 'same' with an even dilated kernel: the odd pixel goes on the right
            from .arrange import pad  # noqa: PLC0415 - arrange imports this package's peers

            input = pad(input, (0, extra[1], 0, extra[0]))
    else:
        padding = _params(padding, dims, "padding", name)
        if any(p < 0 for p in padding):
            raise ValueError(f"{name}: padding must be non-negative, got {padding[-dims:]}")
    size = input.data.shape[2:]
    out_size = tuple(
        conv_output_size(n, k, s, p, d)
        for n, k, s, p, d in zip(size, kernel, stride, padding, dilation)
    )
    if any(o <= 0 for o in out_size):
        padded = tuple(n + 2 * p for n, p in zip(size, padding))
        dilated = tuple(d * (k - 1) + 1 for k, d in zip(kernel, dilation))
        raise ValueError(
            f"{name}: the (dilated) kernel {dilated[-dims:]} is larger than the padded input "
            f"{padded[-dims:]} (input of shape {x_shape if batched else x_shape[1:]}, weight "
            f"{w_shape})"
        )
    input_padding = _input_padding(size, kernel, stride, padding, dilation, out_size)
    tensors = (input, weight) if bias is None else (input, weight, bias)
    out = apply(Conv2d, *tensors, stride=stride, padding=padding, dilation=dilation,
                groups=groups, input_padding=input_padding)
    return _from_2d(out, batched, dims)


def _string_padding(name, padding, stride, kernel, dilation):
    """'valid' or 'same' as (symmetric padding, extra right padding) per dim."""
    if padding == "valid":
        return (0, 0), (0, 0)
    if padding != "same":
        raise ValueError(f"{name}: padding must be 'valid', 'same' or ints, got {padding!r}")
    if any(s != 1 for s in stride):
        raise ValueError(f"{name}: padding='same' is not supported for strided convolutions")
    total = [d * (k - 1) for k, d in zip(kernel, dilation)]
    return tuple(t // 2 for t in total), tuple(t % 2 for t in total)


def conv2d(input, weight, bias=None, stride=1, padding=0, dilation=1, groups=1):
    """2-D cross-correlation of (N, C_in, H, W) (or unbatched (C_in, H, W)) `input` with
    (C_out, C_in/groups, kh, kw) `weight`, plus an optional (C_out,) `bias`. `padding` is an
    int, a pair, 'valid' (none) or 'same' (output size = input size; stride 1 only)."""
    return _conv("conv2d", 2, input, weight, bias, stride, padding, dilation, groups)


def conv1d(input, weight, bias=None, stride=1, padding=0, dilation=1, groups=1):
    """1-D cross-correlation of (N, C_in, L) (or (C_in, L)) `input` with
    (C_out, C_in/groups, k) `weight`; arguments as conv2d's, one int each."""
    return _conv("conv1d", 1, input, weight, bias, stride, padding, dilation, groups)


def _conv_transpose(name, dims, input, weight, bias, stride, padding, output_padding, groups,
                    dilation, check_output_padding=True):
    batched = _check_tensors(name, input, weight, bias, dims)
    x_shape, w_shape = tuple(input.data.shape), tuple(weight.data.shape)
    if not batched:
        x_shape = (1,) + x_shape
    _check_groups(name, groups, w_shape[0], w_shape[1] * groups, x_shape, w_shape, True)
    _check_bias(name, bias, w_shape[1] * groups)
    stride = _params(stride, dims, "stride", name)
    dilation = _params(dilation, dims, "dilation", name)
    padding = _params(padding, dims, "padding", name)
    output_padding = _params(output_padding, dims, "output_padding", name)
    _positive(stride[-dims:], "stride", name)
    _positive(dilation[-dims:], "dilation", name)
    if any(p < 0 for p in padding + output_padding):
        raise ValueError(f"{name}: padding and output_padding must be non-negative, got "
                         f"{padding[-dims:]} and {output_padding[-dims:]}")
    if check_output_padding and any(
        op >= max(s, d) for op, s, d in zip(output_padding, stride, dilation)
    ):
        raise ValueError(
            f"{name}: output_padding {output_padding[-dims:]} must be smaller than either "
            f"stride {stride[-dims:]} or dilation {dilation[-dims:]}"
        )
    kernel = w_shape[2:] if dims == 2 else (1,) + w_shape[2:]
    size = x_shape[2:] if dims == 2 else (1,) + x_shape[2:]
    out_size = tuple(
        (n - 1) * s - 2 * p + d * (k - 1) + op + 1
        for n, s, p, d, k, op in zip(size, stride, padding, dilation, kernel, output_padding)
    )
    if any(o <= 0 for o in out_size):
        raise ValueError(
            f"{name}: the output size {out_size[-dims:]} is not positive (input of shape "
            f"{x_shape if batched else x_shape[1:]}, weight {w_shape}, padding "
            f"{padding[-dims:]})"
        )
    input, weight = _as_2d(input, weight, batched, dims)
    tensors = (input, weight) if bias is None else (input, weight, bias)
    out = apply(ConvTranspose2d, *tensors, stride=stride, padding=padding,
                output_padding=output_padding, groups=groups, dilation=dilation)
    return _from_2d(out, batched, dims)


def conv_transpose2d(input, weight, bias=None, stride=1, padding=0, output_padding=0, groups=1,
                     dilation=1):
    """2-D transposed convolution (the adjoint of conv2d, sometimes called deconvolution) of
    (N, C_in, H, W) `input` with (C_in, C_out/groups, kh, kw) `weight`. The output has
    size (H - 1)*stride - 2*padding + dilation*(kh - 1) + output_padding + 1."""
    return _conv_transpose("conv_transpose2d", 2, input, weight, bias, stride, padding,
                           output_padding, groups, dilation)


def conv_transpose1d(input, weight, bias=None, stride=1, padding=0, output_padding=0, groups=1,
                     dilation=1):
    """1-D transposed convolution of (N, C_in, L) `input` with (C_in, C_out/groups, k)
    `weight`; arguments as conv_transpose2d's, one int each."""
    return _conv_transpose("conv_transpose1d", 1, input, weight, bias, stride, padding,
                           output_padding, groups, dilation)


# ------------------------------------------------------------------------------ for tensor_ns
def conv_transpose2d_ns(input, weight, bias=None, stride=1, padding=0, output_padding=0,
                        groups=1, dilation=1):
    """`ns.conv_transpose2d` on Tensors. A rule may need an output_padding of stride or more
    (the input gradient of conv2d_weight where the gradient was cut short), which the public
    function refuses as PyTorch does."""
    return _conv_transpose("conv_transpose2d", 2, input, weight, bias, stride, padding,
                           output_padding, groups, dilation, check_output_padding=False)


def conv2d_weight(input, weight_size, grad_output, stride=1, padding=0, dilation=1, groups=1):
    """`ns.conv2d_weight` on Tensors: the gradient of conv2d with respect to its weight, given
    the (N, C_in, H, W) input and the output gradient (torch.nn.grad.conv2d_weight)."""
    stride, padding, dilation = pair(stride), pair(padding), pair(dilation)
    weight_size = tuple(int(n) for n in weight_size)
    input_padding = _input_padding(input.data.shape[2:], weight_size[2:], stride, padding,
                                   dilation, grad_output.data.shape[2:])
    return apply(Conv2dWeight, input, grad_output, weight_size=weight_size, stride=stride,
                 padding=padding, dilation=dilation, groups=groups, input_padding=input_padding)


TENSOR_METHODS = {}
