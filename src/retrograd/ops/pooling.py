"""Pooling: max_pool1d/2d, avg_pool1d/2d, adaptive_avg_pool1d/2d, adaptive_max_pool1d/2d and
lp_pool1d/2d, with PyTorch's arguments and semantics (unbatched inputs too).

Max pooling is a primitive: the forward finds each window's arg-max (the first maximum in
row-major order, or the last NaN, as PyTorch), keeps the indices as aux data, and the backward
adds each gradient at its arg-max (`max_pool2d_with_indices_backward`, whose own gradient is a
gather at the same indices). Adaptive max pooling is a primitive of the same kind.

Average pooling is a composite: window sums are a convolution with a kernel of ones (one channel
at a time), divided by PyTorch's divisor. Adaptive average pooling is two matrix products with
fixed averaging matrices (`A_h @ x @ A_w.T`), also a composite. Both are linear, so they get
gradients of any order from conv2d and matmul. The 1-D forms run the 2-D ones on a height-1
image.
"""

import numpy as np

from ..autograd import _array_conv as kernels
from ..autograd import dtypes
from ..autograd.graph import Op
from ._util import apply, new_tensor

__all__ = [
    "max_pool1d",
    "max_pool2d",
    "avg_pool1d",
    "avg_pool2d",
    "adaptive_avg_pool1d",
    "adaptive_avg_pool2d",
    "adaptive_max_pool1d",
    "adaptive_max_pool2d",
    "lp_pool1d",
    "lp_pool2d",
]


# ------------------------------------------------------------------------------ primitives
class MaxPool2d(Op):
    name = "max_pool2d"
    save = (0,)
    has_aux = True  # the arg-max of each window

    @staticmethod
    def forward(x, kernel_size, stride, padding, dilation, ceil_mode, with_indices):
        return kernels.max_pool2d_with_indices(x, kernel_size, stride, padding, dilation,
                                               ceil_mode, with_indices)

    @staticmethod
    def vjp(ns, g, saved, params, needs):
        x, indices = saved
        return ns.max_pool2d_with_indices_backward(
            g, x, params["kernel_size"], params["stride"], params["padding"],
            params["dilation"], params["ceil_mode"], indices,
        )

    @staticmethod
    def jvp(ns, ts, xs, out, params):
        _, indices = MaxPool2d.forward(xs[0], **{**params, "with_indices": True})
        return _gather(ts[0], indices)


class AdaptiveMaxPool2d(Op):
    name = "adaptive_max_pool2d"
    save = (0,)
    has_aux = True

    @staticmethod
    def forward(x, output_size):
        return kernels.adaptive_max_pool2d(x, output_size)

    @staticmethod
    def vjp(ns, g, saved, params, needs):
        x, indices = saved
        return ns.adaptive_max_pool2d_backward(g, x, indices)

    @staticmethod
    def jvp(ns, ts, xs, out, params):
        return _gather(ts[0], kernels.adaptive_max_pool2d(xs[0], params["output_size"])[1])


def _gather(x, indices):
    """x (N, C, H, W) at `indices`, positions in each H*W plane."""
    n, c, h, w = x.shape
    outputs = indices.shape[2] * indices.shape[3]
    flat = np.take_along_axis(x.reshape(n, c, h * w), indices.reshape(n, c, outputs), axis=2)
    return flat.reshape(indices.shape)


# ------------------------------------------------------------------------------ for tensor_ns
def max_pool2d_with_indices_backward(grad_output, input, kernel_size, stride, padding, dilation,
                                     ceil_mode, indices):
    """`ns.max_pool2d_with_indices_backward` on Tensors (a scatter-add, differentiable)."""
    return _scatter(grad_output, input.data.shape, indices)


def adaptive_max_pool2d_backward(grad_output, input, indices):
    """`ns.adaptive_max_pool2d_backward` on Tensors."""
    return _scatter(grad_output, input.data.shape, indices)


def _scatter(g, shape, indices):
    from .creation import zeros  # noqa: PLC0415 - only on the create_graph path
    from .scatter_gather import scatter_add  # noqa: PLC0415

    n, c, h, w = shape
    outputs = indices.shape[2] * indices.shape[3]
    index = new_tensor(indices.reshape(n, c, outputs))
    total = scatter_add(zeros((n, c, h * w), dtype=g.dtype), 2, index,
                        g.reshape(n, c, outputs))
    return total.reshape(n, c, h, w)


# ------------------------------------------------------------------------------ checks
def _check_input(name, input, dims):
    """The input as a batched (N, C, H, W) tensor (height 1 for 1-D) and whether it was
    batched."""
    x = input.data
    if x.ndim not in (dims + 1, dims + 2):
        layout = "(N, C, L) or (C, L)" if dims == 1 else "(N, C, H, W) or (C, H, W)"
        raise ValueError(f"{name}: expected input of shape {layout}, got shape {x.shape}")
    if not dtypes.is_floating(x.dtype):
        raise TypeError(f"{name}: expected a floating point input, got {x.dtype}")
    if any(n == 0 for n in x.shape[-dims:]):
        raise ValueError(f"{name}: the input of shape {x.shape} has an empty spatial dim")
    batched = x.ndim == dims + 2
    if not batched:
        input = input.unsqueeze(0)
    if dims == 1:
        input = input.unsqueeze(2)
    return input, batched


def _restore(out, batched, dims):
    if dims == 1:
        out = out.squeeze(2)
    return out if batched else out.squeeze(0)


def _restore_array(a, batched, dims):
    if dims == 1:
        a = a.squeeze(2)
    return a if batched else a.squeeze(0)


def _sizes(value, dims, what, name, fill):
    """An int or `dims` ints as a 2-D pair (`fill` for the height of a 1-D input)."""
    if isinstance(value, (int, np.integer)):
        values = (int(value),) * dims
    else:
        values = tuple(int(v) for v in value)
        if len(values) == 1 and dims == 2:
            values *= 2
        if len(values) != dims:
            raise ValueError(f"{name}: expected {what} as an int or {dims} ints, got {value}")
    return (fill,) + values if dims == 1 else values


def _window(name, dims, input, kernel_size, stride, padding, dilation, ceil_mode):
    """Validated 2-D window settings and the output size."""
    kernel = _sizes(kernel_size, dims, "kernel_size", name, 1)
    if stride is None or (not isinstance(stride, int) and len(stride) == 0):
        stride = kernel  # PyTorch: no stride (None or an empty list) means the kernel size
    else:
        stride = _sizes(stride, dims, "stride", name, 1)
    padding = _sizes(padding, dims, "padding", name, 0)
    dilation = _sizes(dilation, dims, "dilation", name, 1)
    for values, what in ((kernel, "kernel_size"), (stride, "stride"), (dilation, "dilation")):
        if any(v <= 0 for v in values):
            raise ValueError(f"{name}: {what} must be positive, got {values[-dims:]}")
    for p, k in zip(padding, kernel):
        if p < 0 or p > k // 2:
            raise ValueError(
                f"{name}: padding {padding[-dims:]} must be non-negative and at most half of "
                f"the kernel size {kernel[-dims:]}"
            )
    size = input.data.shape[2:]
    out = tuple(
        kernels.pool_output_size(n, k, s, p, d, ceil_mode)
        for n, k, s, p, d in zip(size, kernel, stride, padding, dilation)
    )
    if any(o <= 0 for o in out):
        raise ValueError(
            f"{name}: the window {kernel[-dims:]} (padding {padding[-dims:]}, dilation "
            f"{dilation[-dims:]}) is larger than the input of spatial size {size[-dims:]}"
        )
    return kernel, stride, padding, dilation, out


# ------------------------------------------------------------------------------ max pooling
def _max_pool(name, dims, input, kernel_size, stride, padding, dilation, ceil_mode,
              return_indices):
    x, batched = _check_input(name, input, dims)
    kernel, stride, padding, dilation, _ = _window(name, dims, x, kernel_size, stride, padding,
                                                   dilation, ceil_mode)
    params = dict(kernel_size=kernel, stride=stride, padding=padding, dilation=dilation,
                  ceil_mode=bool(ceil_mode))
    out = apply(MaxPool2d, x, **params,
                with_indices=bool(return_indices or input.requires_grad))
    if not return_indices:
        return _restore(out, batched, dims)
    return _restore(out, batched, dims), _indices(out, x, MaxPool2d, params, batched, dims)


def _indices(out, x, op, params, batched, dims):
    """The arg-max indices of a max-pooling output, as an int64 tensor."""
    node = out._node
    if node is not None and node.op is op:
        indices = node.aux
    elif op is MaxPool2d:  # no graph was recorded (grad mode off)
        indices = op.forward(x.data, **params, with_indices=True)[1]
    else:
        indices = op.forward(x.data, **params)[1]
    return new_tensor(_restore_array(indices, batched, dims))


def max_pool2d(input, kernel_size, stride=None, padding=0, dilation=1, ceil_mode=False,
               return_indices=False):
    """2-D max pooling of (N, C, H, W) or (C, H, W) `input`. Padding is -inf (never picked);
    stride defaults to kernel_size; with ceil_mode the last window may overhang the end. With
    return_indices, also the arg-max of each window as positions in the flattened H*W plane."""
    return _max_pool("max_pool2d", 2, input, kernel_size, stride, padding, dilation, ceil_mode,
                     return_indices)


def max_pool1d(input, kernel_size, stride=None, padding=0, dilation=1, ceil_mode=False,
               return_indices=False):
    """1-D max pooling of (N, C, L) or (C, L) `input`; arguments as max_pool2d's."""
    return _max_pool("max_pool1d", 1, input, kernel_size, stride, padding, dilation, ceil_mode,
                     return_indices)


# ------------------------------------------------------------------------------ average pooling
def _avg_pool(name, dims, input, kernel_size, stride, padding, ceil_mode, count_include_pad,
              divisor_override):
    from .conv import conv2d  # noqa: PLC0415 - a peer category

    x, batched = _check_input(name, input, dims)
    kernel, stride, padding, _, out_size = _window(name, dims, x, kernel_size, stride, padding,
                                                   1, ceil_mode)
    n, c, h, w = x.data.shape
    size = (h, w)
    # ceil-mode windows past the end need zeros beyond the right padding too
    extra = tuple(max(0, (o - 1) * s + k - (m + 2 * p))
                  for o, s, k, m, p in zip(out_size, stride, kernel, size, padding))
    planes = x.reshape(n * c, 1, h, w)
    if any(extra):
        from .arrange import pad  # noqa: PLC0415

        planes = pad(planes, (0, extra[1], 0, extra[0]))
    ones = new_tensor(np.ones((1, 1) + kernel, dtype=x.data.dtype))
    sums = conv2d(planes, ones, None, stride, padding).reshape(n, c, *out_size)
    if divisor_override is not None:
        if divisor_override == 0:
            raise ValueError(f"{name}: divisor_override must not be zero")
        out = sums / divisor_override
    else:
        counts = [
            _window_counts(m, k, s, p, o, count_include_pad)
            for m, k, s, p, o in zip(size, kernel, stride, padding, out_size)
        ]
        divisor = np.multiply.outer(counts[0], counts[1]).astype(x.data.dtype)
        out = sums / new_tensor(divisor)
    return _restore(out, batched, dims)


def _window_counts(size, kernel, stride, padding, out, count_include_pad):
    """PyTorch's divisor along one dim: the window clipped to the padded input (or, without
    count_include_pad, to the input itself)."""
    start = np.arange(out) * stride - padding
    end = np.minimum(start + kernel, size + padding)
    if count_include_pad:
        return end - start
    return np.minimum(end, size) - np.maximum(start, 0)


def avg_pool2d(input, kernel_size, stride=None, padding=0, ceil_mode=False,
               count_include_pad=True, divisor_override=None):
    """2-D average pooling of (N, C, H, W) or (C, H, W) `input`: zero padding, counted in the
    divisor unless count_include_pad=False; divisor_override replaces the divisor."""
    return _avg_pool("avg_pool2d", 2, input, kernel_size, stride, padding, ceil_mode,
                     count_include_pad, divisor_override)


def avg_pool1d(input, kernel_size, stride=None, padding=0, ceil_mode=False,
               count_include_pad=True):
    """1-D average pooling of (N, C, L) or (C, L) `input`; arguments as avg_pool2d's."""
    return _avg_pool("avg_pool1d", 1, input, kernel_size, stride, padding, ceil_mode,
                     count_include_pad, None)


def lp_pool2d(input, norm_type, kernel_size, stride=None, ceil_mode=False):
    """Power-average pooling: (sum over each window of x**p) ** (1/p), as PyTorch computes it
    (an average times the window size; no padding)."""
    return _lp_pool("lp_pool2d", 2, input, norm_type, kernel_size, stride, ceil_mode)


def lp_pool1d(input, norm_type, kernel_size, stride=None, ceil_mode=False):
    """1-D power-average pooling; arguments as lp_pool2d's."""
    return _lp_pool("lp_pool1d", 1, input, norm_type, kernel_size, stride, ceil_mode)


def _lp_pool(name, dims, input, norm_type, kernel_size, stride, ceil_mode):
    kernel = _sizes(kernel_size, dims, "kernel_size", name, 1)
    out = _avg_pool(name, dims, input.pow(norm_type), kernel_size, stride, 0, ceil_mode, True,
                    None)
    out = out.sign() * out.abs().relu()
    return (out * float(kernel[0] * kernel[1])).pow(1.0 / norm_type)


# ------------------------------------------------------------------------------ adaptive
def _output_size(name, dims, output_size, size):
    """PyTorch's output_size: an int or `dims` ints, None keeping the input's size."""
    if isinstance(output_size, (int, np.integer)) or output_size is None:
        values = (output_size,) * dims
    else:
        values = tuple(output_size)
        if len(values) != dims:
            raise ValueError(
                f"{name}: expected output_size as an int or {dims} ints, got {output_size}"
            )
    values = tuple(int(n if v is None else v) for v, n in zip(values, size[-dims:]))
    if any(v <= 0 for v in values):
        raise ValueError(f"{name}: output_size must be positive, got {values}")
    return (1,) + values if dims == 1 else values


def _adaptive_avg(name, dims, input, output_size):
    x, batched = _check_input(name, input, dims)
    h, w = x.data.shape[2:]
    oh, ow = _output_size(name, dims, output_size, (h, w))
    out = x @ new_tensor(_averaging(w, ow, x.data.dtype).T)
    if oh != h:
        out = new_tensor(_averaging(h, oh, x.data.dtype)) @ out
    return _restore(out, batched, dims)


def _averaging(size, out, dtype):
    """The (out, size) matrix averaging each adaptive window."""
    start, end = kernels.adaptive_windows(size, out)
    j = np.arange(size)
    inside = (j >= start.reshape(-1, 1)) & (j < end.reshape(-1, 1))
    return (inside / (end - start).reshape(-1, 1)).astype(dtype)


def adaptive_avg_pool2d(input, output_size):
    """Average pooling to a fixed (oh, ow) output: window i spans [floor(i*H/oh),
    ceil((i+1)*H/oh)), as PyTorch's. An entry None keeps that input size."""
    return _adaptive_avg("adaptive_avg_pool2d", 2, input, output_size)


def adaptive_avg_pool1d(input, output_size):
    """Average pooling of (N, C, L) or (C, L) `input` to a fixed output length."""
    return _adaptive_avg("adaptive_avg_pool1d", 1, input, output_size)


def _adaptive_max(name, dims, input, output_size, return_indices):
    x, batched = _check_input(name, input, dims)
    h, w = x.data.shape[2:]
    oh, ow = _output_size(name, dims, output_size, (h, w))
    if h % oh == 0 and w % ow == 0:  # equal windows: plain max pooling, which is faster
        kernel = (h // oh, w // ow)
        result = max_pool2d(x, kernel, kernel, return_indices=return_indices)
        if not return_indices:
            return _restore(result, batched, dims)
        out, indices = result
        return _restore(out, batched, dims), new_tensor(
            _restore_array(indices.data, batched, dims))
    out = apply(AdaptiveMaxPool2d, x, output_size=(oh, ow))
    if not return_indices:
        return _restore(out, batched, dims)
    indices = _indices(out, x, AdaptiveMaxPool2d, {"output_size": (oh, ow)}, batched, dims)
    return _restore(out, batched, dims), indices


def adaptive_max_pool2d(input, output_size, return_indices=False):
    """Max pooling to a fixed (oh, ow) output, with PyTorch's adaptive windows."""
    return _adaptive_max("adaptive_max_pool2d", 2, input, output_size, return_indices)


def adaptive_max_pool1d(input, output_size, return_indices=False):
    """Max pooling of (N, C, L) or (C, L) `input` to a fixed output length."""
    return _adaptive_max("adaptive_max_pool1d", 1, input, output_size, return_indices)


TENSOR_METHODS = {}
