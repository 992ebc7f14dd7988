"""Convolutions and unfold/fold, as torch.nn.functional."""

import numpy as np

from ...ops.conv import conv1d, conv2d, conv_transpose1d, conv_transpose2d, conv_transpose2d_ns
from ...ops.creation import tensor

__all__ = ["conv1d", "conv2d", "conv_transpose1d", "conv_transpose2d", "unfold", "fold"]


def _pair(value, name, what):
    if isinstance(value, (int, np.integer)):
        return (int(value),) * 2
    value = tuple(int(v) for v in value)
    if len(value) != 2:
        raise ValueError(f"{name}: expected {what} as an int or 2 ints, got {value}")
    return value


def _taps(kernel, dtype):
    """(kh*kw, 1, kh, kw) kernel picking one tap per output channel: convolving with it lays
    out the im2col columns, and its transposed convolution adds them back."""
    kh, kw = kernel
    return tensor(np.eye(kh * kw, dtype=dtype).reshape(kh * kw, 1, kh, kw))


def unfold(input, kernel_size, dilation=1, padding=0, stride=1):
    """Sliding local blocks of (N, C, H, W) (or (C, H, W)) `input` as columns:
    (N, C*kh*kw, L), L the number of block positions (im2col)."""
    kernel = _pair(kernel_size, "unfold", "kernel_size")
    x = input.data
    if x.ndim not in (3, 4):
        raise ValueError(f"unfold: expected a 3-D or 4-D input, got shape {x.shape}")
    batched = x.ndim == 4
    if not batched:
        input = input.unsqueeze(0)
    n, c, h, w = input.shape
    # NOTE: a composite (a convolution with one-hot kernels) rather than a primitive: it gets
    # exact gradients of every order from conv2d at the cost of a small matmul.
    out = conv2d(input.reshape(n * c, 1, h, w), _taps(kernel, x.dtype), None, stride, padding,
                 dilation)
    out = out.reshape(n, c * kernel[0] * kernel[1], out.shape[2] * out.shape[3])
    return out if batched else out.squeeze(0)


def fold(input, output_size, kernel_size, dilation=1, padding=0, stride=1):
    """The adjoint of unfold: (N, C*kh*kw, L) columns summed back into (N, C, H, W) images,
    (H, W) = output_size; overlapping blocks add up (col2im)."""
    size = _pair(output_size, "fold", "output_size")
    kernel = _pair(kernel_size, "fold", "kernel_size")
    dilation = _pair(dilation, "fold", "dilation")
    padding = _pair(padding, "fold", "padding")
    stride = _pair(stride, "fold", "stride")
    x = input.data
    if x.ndim not in (2, 3):
        raise ValueError(f"fold: expected a 2-D or 3-D input, got shape {x.shape}")
    batched = x.ndim == 3
    if not batched:
        input = input.unsqueeze(0)
    n, rows, length = input.shape
    taps = kernel[0] * kernel[1]
    blocks = [(s + 2 * p - d * (k - 1) - 1) // st + 1
              for s, p, d, k, st in zip(size, padding, dilation, kernel, stride)]
    if rows % taps or blocks[0] * blocks[1] != length or min(blocks) <= 0:
        expected = max(blocks[0], 0) * max(blocks[1], 0)
        raise ValueError(
            f"fold: input of shape {tuple(x.shape)} does not match output_size {size} with "
            f"kernel_size {kernel}: expected C*{taps} rows and {expected} blocks"
        )
    c = rows // taps
    output_padding = [s + 2 * p - d * (k - 1) - 1 - (b - 1) * st
                      for s, p, d, k, st, b in zip(size, padding, dilation, kernel, stride, blocks)]
    cols = input.reshape(n * c, taps, blocks[0], blocks[1])
    out = conv_transpose2d_ns(cols, _taps(kernel, x.dtype), None, stride, padding,
                              output_padding, 1, dilation)
    out = out.reshape(n, c, size[0], size[1])
    return out if batched else out.squeeze(0)
