"""Convolution layers: Conv1d, Conv2d, ConvTranspose1d, ConvTranspose2d."""

import math

from ..autograd import dtypes
from ..ops.arrange import pad
from ..ops.creation import empty
from . import init
from .functional import _conv as F
from .module import Module, check_input
from .parameter import Parameter

__all__ = ["Conv1d", "Conv2d", "ConvTranspose1d", "ConvTranspose2d"]

_PADDING_MODES = ("zeros", "reflect", "replicate", "circular")


def _tuple(value, n, name, what):
    if isinstance(value, int):
        return (value,) * n
    value = tuple(int(v) for v in value)
    if len(value) != n:
        raise ValueError(f"{name}: expected {what} as an int or {n} ints, got {value}")
    return value


def _factory_dtype(device, dtype):
    if device is not None and str(device).split(":")[0] != "cpu":
        raise RuntimeError(f"device '{device}' is not available; retrograd runs on cpu")
    return dtypes.as_dtype(dtype) or dtypes.get_default_dtype()


class _ConvNd(Module):
    """Settings, parameters, initialisation and repr shared by the convolution layers."""

    _dims = 2
    _transposed = False

    def __init__(self, in_channels, out_channels, kernel_size, stride, padding, dilation,
                 groups, bias, padding_mode, output_padding=0, device=None, dtype=None):
        super().__init__()
        name, n = type(self).__name__, self._dims
        dtype = _factory_dtype(device, dtype)
        if groups <= 0:
            raise ValueError(f"{name}: groups must be a positive integer, got {groups}")
        if in_channels % groups:
            raise ValueError(f"{name}: in_channels ({in_channels}) must be divisible by groups "
                             f"({groups})")
        if out_channels % groups:
            raise ValueError(f"{name}: out_channels ({out_channels}) must be divisible by "
                             f"groups ({groups})")
        if padding_mode not in _PADDING_MODES:
            raise ValueError(f"{name}: padding_mode must be one of {_PADDING_MODES}, got "
                             f"{padding_mode!r}")
        self.in_channels = in_channels
        self.out_channels = out_channels
        self.kernel_size = _tuple(kernel_size, n, name, "kernel_size")
        self.stride = _tuple(stride, n, name, "stride")
        self.dilation = _tuple(dilation, n, name, "dilation")
        if isinstance(padding, str):
            if padding not in ("same", "valid"):
                raise ValueError(f"{name}: padding must be 'valid', 'same' or ints, got "
                                 f"{padding!r}")
            if padding == "same" and any(s != 1 for s in self.stride):
                raise ValueError(f"{name}: padding='same' is not supported for strided "
                                 "convolutions")
            self.padding = padding
        else:
            self.padding = _tuple(padding, n, name, "padding")
        self.output_padding = _tuple(output_padding, n, name, "output_padding")
        self.transposed = self._transposed
        self.groups = groups
        self.padding_mode = padding_mode
        # F.pad's (left, right) widths, last dim first, for padding modes other than zeros
        if self.padding == "valid":
            widths = [(0, 0)] * n
        elif self.padding == "same":  # the odd pixel of an even dilated kernel on the right
            widths = [(d * (k - 1) // 2, d * (k - 1) - d * (k - 1) // 2)
                      for k, d in zip(self.kernel_size, self.dilation)]
        else:
            widths = [(p, p) for p in self.padding]
        self._reversed_padding_repeated_twice = tuple(w for pair in reversed(widths) for w in pair)
        if self._transposed:
            shape = (in_channels, out_channels // groups) + self.kernel_size
        else:
            shape = (out_channels, in_channels // groups) + self.kernel_size
        self.weight = Parameter(empty(*shape, dtype=dtype))
        self.bias = Parameter(empty(out_channels, dtype=dtype)) if bias else None
        self.reset_parameters()

    def reset_parameters(self):
        # PyTorch's default: kaiming_uniform with a = sqrt(5), i.e. U(-1/sqrt(fan_in),
        # 1/sqrt(fan_in)) with fan_in = weight.shape[1] * kernel area; the bias alike.
        init.kaiming_uniform_(self.weight, a=math.sqrt(5))
        if self.bias is not None:
            fan_in, _ = init._calculate_fan_in_and_fan_out(self.weight)
            if fan_in != 0:
                bound = 1 / math.sqrt(fan_in)
                init.uniform_(self.bias, -bound, bound)

    def _check(self, input):
        """The layer's own input check: (N, C, *spatial) or (C, *spatial), C = in_channels."""
        n = self._dims
        check_input(input, ndim=(n + 1, n + 2))
        shape = tuple(input.shape)
        if shape[-n - 1] != self.in_channels:
            raise ValueError(f"expected input with {self.in_channels} channels (in_channels), "
                             f"got shape {shape}")

    def extra_repr(self):
        s = (f"{self.in_channels}, {self.out_channels}, kernel_size={self.kernel_size}, "
             f"stride={self.stride}")
        if self.padding != (0,) * len(self.padding):
            s += f", padding={self.padding}"
        if self.dilation != (1,) * len(self.dilation):
            s += f", dilation={self.dilation}"
        if self.output_padding != (0,) * len(self.output_padding):
            s += f", output_padding={self.output_padding}"
        if self.groups != 1:
            s += f", groups={self.groups}"
        if self.bias is None:
            s += ", bias=False"
        if self.padding_mode != "zeros":
            s += f", padding_mode={self.padding_mode}"
        return s


class _Conv(_ConvNd):
    def __init__(self, in_channels, out_channels, kernel_size, stride=1, padding=0, dilation=1,
                 groups=1, bias=True, padding_mode="zeros", device=None, dtype=None):
        super().__init__(in_channels, out_channels, kernel_size, stride, padding, dilation,
                         groups, bias, padding_mode, device=device, dtype=dtype)

    def forward(self, input):
        self._check(input)
        conv = F.conv2d if self._dims == 2 else F.conv1d
        if self.padding_mode != "zeros":
            input = pad(input, self._reversed_padding_repeated_twice, mode=self.padding_mode)
            return conv(input, self.weight, self.bias, self.stride, 0, self.dilation,
                        self.groups)
        return conv(input, self.weight, self.bias, self.stride, self.padding, self.dilation,
                    self.groups)


class Conv2d(_Conv):
    """2-D convolution (cross-correlation) over (N, C_in, H, W) or (C_in, H, W) inputs.

    weight: (out_channels, in_channels / groups, kh, kw); bias: (out_channels,). `padding` is
    an int, a pair, 'valid' or 'same'; `padding_mode` 'zeros', 'reflect', 'replicate' or
    'circular'. Initialised as PyTorch's: U(-1/sqrt(fan_in), 1/sqrt(fan_in)), fan_in =
    in_channels / groups * kh * kw.
    """

    _dims = 2


class Conv1d(_Conv):
    """1-D convolution over (N, C_in, L) or (C_in, L) inputs; weight
    (out_channels, in_channels / groups, k). Arguments as Conv2d's."""

    _dims = 1


class _ConvTranspose(_ConvNd):
    _transposed = True

    def __init__(self, in_channels, out_channels, kernel_size, stride=1, padding=0,
                 output_padding=0, groups=1, bias=True, dilation=1, padding_mode="zeros",
                 device=None, dtype=None):
        name = type(self).__name__
        if padding_mode != "zeros":
            raise ValueError(f"{name}: only 'zeros' padding mode is supported, got "
                             f"{padding_mode!r}")
        if isinstance(padding, str):
            raise ValueError(f"{name}: padding must be ints, got {padding!r}")
        super().__init__(in_channels, out_channels, kernel_size, stride, padding, dilation,
                         groups, bias, padding_mode, output_padding, device=device, dtype=dtype)

    def forward(self, input, output_size=None):
        self._check(input)
        output_padding = self._output_padding(input, output_size)
        conv = F.conv_transpose2d if self._dims == 2 else F.conv_transpose1d
        return conv(input, self.weight, self.bias, self.stride, self.padding, output_padding,
                    self.groups, self.dilation)

    def _output_padding(self, input, output_size):
        """The output_padding that gives `output_size` (spatial, or with leading N, C)."""
        if output_size is None:
            return self.output_padding
        n = self._dims
        size = tuple(int(s) for s in output_size)
        if len(size) in (n + 1, n + 2):
            size = size[-n:]
        if len(size) != n:
            raise ValueError(f"output_size must have {n} or {n + 2} elements, got {output_size}")
        spatial = tuple(input.shape)[-n:]
        padding = []
        for i in range(n):
            s, k, p, d = self.stride[i], self.kernel_size[i], self.padding[i], self.dilation[i]
            smallest = (spatial[i] - 1) * s - 2 * p + d * (k - 1) + 1
            largest = smallest + s - 1
            if not smallest <= size[i] <= largest:
                raise ValueError(
                    f"requested an output size of {size}, but valid sizes range from "
                    f"{smallest} to {largest} (for an input of shape {tuple(input.shape)})"
                )
            padding.append(size[i] - smallest)
        return tuple(padding)


class ConvTranspose2d(_ConvTranspose):
    """2-D transposed convolution over (N, C_in, H, W) or (C_in, H, W) inputs; weight
    (in_channels, out_channels / groups, kh, kw). `forward(input, output_size=None)`: an
    output_size picks the output_padding that produces it."""

    _dims = 2


class ConvTranspose1d(_ConvTranspose):
    """1-D transposed convolution over (N, C_in, L) or (C_in, L) inputs; weight
    (in_channels, out_channels / groups, k)."""

    _dims = 1
