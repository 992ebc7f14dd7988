"""Normalization layers: BatchNorm1d/2d/3d, InstanceNorm1d/2d/3d, LayerNorm, GroupNorm, RMSNorm
and LocalResponseNorm, with PyTorch's arguments, defaults, parameter and buffer names (so state
dicts match) and train/eval behaviour."""

import numbers

from ..autograd import dtypes
from ..autograd.grad_mode import no_grad
from ..ops.creation import ones, tensor, zeros
from .functional import _normalization as F
from .module import Module, check_input
from .parameter import Parameter

__all__ = [
    "BatchNorm1d",
    "BatchNorm2d",
    "BatchNorm3d",
    "InstanceNorm1d",
    "InstanceNorm2d",
    "InstanceNorm3d",
    "LayerNorm",
    "GroupNorm",
    "RMSNorm",
    "LocalResponseNorm",
]


def _dtype(device, dtype):
    if device is not None and str(device).split(":")[0] != "cpu":
        raise RuntimeError(f"device '{device}' is not available; retrograd runs on cpu")
    return dtypes.as_dtype(dtype) or dtypes.get_default_dtype()


class _NormBase(Module):
    """Per-channel affine parameters (weight 1, bias 0) and the running statistics buffers
    running_mean (0), running_var (1) and num_batches_tracked (0, int64)."""

    _input_ndim = ()  # accepted numbers of dims, batched first

    def __init__(self, num_features, eps=1e-5, momentum=0.1, affine=True,
                 track_running_stats=True, device=None, dtype=None, *, bias=True):
        super().__init__()
        dtype = _dtype(device, dtype)
        self.num_features = num_features
        self.eps = eps
        self.momentum = momentum
        self.affine = affine
        self.track_running_stats = track_running_stats
        self.weight = Parameter(ones(num_features, dtype=dtype)) if affine else None
        self.bias = Parameter(zeros(num_features, dtype=dtype)) if affine and bias else None
        if track_running_stats:
            self.register_buffer("running_mean", zeros(num_features, dtype=dtype))
            self.register_buffer("running_var", ones(num_features, dtype=dtype))
            self.register_buffer("num_batches_tracked", tensor(0, dtype=dtypes.int64))
        else:
            self.register_buffer("running_mean", None)
            self.register_buffer("running_var", None)
            self.register_buffer("num_batches_tracked", None)

    def reset_running_stats(self):
        if self.track_running_stats:
            with no_grad():
                self.running_mean.zero_()
                self.running_var.fill_(1)
                self.num_batches_tracked.zero_()

    def reset_parameters(self):
        self.reset_running_stats()
        with no_grad():
            if self.weight is not None:
                self.weight.fill_(1)
            if self.bias is not None:
                self.bias.zero_()

    def _check_input(self, input):
        check_input(input, ndim=self._input_ndim)
        check_input(input, dim=1 if input.ndim == self._input_ndim[0] else 0,
                    size=self.num_features, what="num_features")

    def extra_repr(self):
        return (
            f"{self.num_features}, eps={self.eps}, momentum={self.momentum}, "
            f"affine={self.affine}, bias={self.bias is not None}, "
            f"track_running_stats={self.track_running_stats}"
        )


class _BatchNorm(_NormBase):
    """Training: normalize with the batch's statistics and update the running ones (momentum
    None: their cumulative average). Evaluation: normalize with the running statistics, or
    with the batch's when the layer does not track them."""

    def forward(self, input):
        self._check_input(input)
        factor = 0.0 if self.momentum is None else self.momentum
        if self.training and self.track_running_stats:
            with no_grad():
                self.num_batches_tracked.add_(1)
            if self.momentum is None:
                factor = 1.0 / float(self.num_batches_tracked.item())
        use_batch = self.training or (self.running_mean is None and self.running_var is None)
        keep = not self.training or self.track_running_stats
        return F.batch_norm(
            input,
            self.running_mean if keep else None,
            self.running_var if keep else None,
            self.weight,
            self.bias,
            use_batch,
            factor,
            self.eps,
        )


class BatchNorm1d(_BatchNorm):
    """Batch normalization over (N, C) or (N, C, L) inputs, per channel C = num_features."""

    _input_ndim = (2, 3)

    def _check_input(self, input):
        check_input(input, ndim=self._input_ndim)
        check_input(input, dim=1, size=self.num_features, what="num_features")


class BatchNorm2d(BatchNorm1d):
    """Batch normalization over (N, C, H, W) inputs, per channel C = num_features."""

    _input_ndim = (4,)


class BatchNorm3d(BatchNorm1d):
    """Batch normalization over (N, C, D, H, W) inputs, per channel C = num_features."""

    _input_ndim = (5,)


class _InstanceNorm(_NormBase):
    """Each sample's channels normalized over their own spatial dims; unbatched inputs
    (one dim fewer) are accepted. No affine parameters or running statistics by default."""

    def __init__(self, num_features, eps=1e-5, momentum=0.1, affine=False,
                 track_running_stats=False, device=None, dtype=None, *, bias=True):
        super().__init__(num_features, eps, momentum, affine, track_running_stats, device,
                         dtype, bias=bias)

    def forward(self, input):
        self._check_input(input)
        unbatched = input.ndim == self._input_ndim[1]
        if unbatched:
            input = input.unsqueeze(0)
        out = F.instance_norm(
            input,
            self.running_mean,
            self.running_var,
            self.weight,
            self.bias,
            self.training or not self.track_running_stats,
            0.1 if self.momentum is None else self.momentum,
            self.eps,
        )
        return out.squeeze(0) if unbatched else out


class InstanceNorm1d(_InstanceNorm):
    """Instance normalization over (N, C, L) or (C, L) inputs."""

    _input_ndim = (3, 2)


class InstanceNorm2d(_InstanceNorm):
    """Instance normalization over (N, C, H, W) or (C, H, W) inputs."""

    _input_ndim = (4, 3)


class InstanceNorm3d(_InstanceNorm):
    """Instance normalization over (N, C, D, H, W) or (C, D, H, W) inputs."""

    _input_ndim = (5, 4)


def _shape(normalized_shape):
    if isinstance(normalized_shape, numbers.Integral):
        return (int(normalized_shape),)
    return tuple(int(n) for n in normalized_shape)


def _check_trailing(input, shape):
    """The input's last dims must be `shape` (the layer's normalized_shape)."""
    got = tuple(getattr(input, "shape", ()))
    if len(got) < len(shape) or got[len(got) - len(shape):] != shape:
        check_input(input)  # a TypeError for a non-Tensor
        raise ValueError(
            f"expected input with shape (*, {', '.join(map(str, shape))}) (normalized_shape), "
            f"got shape {got}"
        )


class LayerNorm(Module):
    """Normalize over the last dims given by `normalized_shape`, then apply an elementwise
    weight (1) and bias (0) of that shape when `elementwise_affine`."""

    def __init__(self, normalized_shape, eps=1e-5, elementwise_affine=True, bias=True,
                 device=None, dtype=None):
        super().__init__()
        dtype = _dtype(device, dtype)
        self.normalized_shape = _shape(normalized_shape)
        self.eps = eps
        self.elementwise_affine = elementwise_affine
        affine = elementwise_affine
        self.weight = Parameter(ones(*self.normalized_shape, dtype=dtype)) if affine else None
        self.bias = (
            Parameter(zeros(*self.normalized_shape, dtype=dtype)) if affine and bias else None
        )

    def reset_parameters(self):
        with no_grad():
            if self.weight is not None:
                self.weight.fill_(1)
            if self.bias is not None:
                self.bias.zero_()

    def forward(self, input):
        _check_trailing(input, self.normalized_shape)
        return F.layer_norm(input, self.normalized_shape, self.weight, self.bias, self.eps)

    def extra_repr(self):
        return (
            f"{self.normalized_shape}, eps={self.eps}, "
            f"elementwise_affine={self.elementwise_affine}, bias={self.bias is not None}"
        )


class GroupNorm(Module):
    """Split the channels of an (N, C, *) input into `num_groups` groups and normalize each
    over its channels and spatial dims; per-channel weight (1) and bias (0) when `affine`."""

    def __init__(self, num_groups, num_channels, eps=1e-5, affine=True, device=None,
                 dtype=None, *, bias=True):
        super().__init__()
        if num_groups <= 0 or num_channels % num_groups:
            raise ValueError(
                f"GroupNorm: num_channels ({num_channels}) must be divisible by num_groups "
                f"({num_groups})"
            )
        dtype = _dtype(device, dtype)
        self.num_groups = num_groups
        self.num_channels = num_channels
        self.eps = eps
        self.affine = affine
        self.weight = Parameter(ones(num_channels, dtype=dtype)) if affine else None
        self.bias = Parameter(zeros(num_channels, dtype=dtype)) if affine and bias else None

    def reset_parameters(self):
        with no_grad():
            if self.weight is not None:
                self.weight.fill_(1)
            if self.bias is not None:
                self.bias.zero_()

    def forward(self, input):
        check_input(input)
        if input.ndim < 2:
            raise ValueError(f"expected an (N, C, *) input, got shape {tuple(input.shape)}")
        check_input(input, dim=1, size=self.num_channels, what="num_channels")
        return F.group_norm(input, self.num_groups, self.weight, self.bias, self.eps)

    def extra_repr(self):
        return (
            f"{self.num_groups}, {self.num_channels}, eps={self.eps}, affine={self.affine}, "
            f"bias={self.bias is not None}"
        )


class RMSNorm(Module):
    """x / sqrt(mean(x^2) + eps) over the last dims given by `normalized_shape`, times an
    elementwise weight (1); `eps` None is the machine epsilon of the input's dtype."""

    def __init__(self, normalized_shape, eps=None, elementwise_affine=True, device=None,
                 dtype=None):
        super().__init__()
        dtype = _dtype(device, dtype)
        self.normalized_shape = _shape(normalized_shape)
        self.eps = eps
        self.elementwise_affine = elementwise_affine
        self.weight = (
            Parameter(ones(*self.normalized_shape, dtype=dtype)) if elementwise_affine else None
        )

    def reset_parameters(self):
        if self.weight is not None:
            with no_grad():
                self.weight.fill_(1)

    def forward(self, input):
        _check_trailing(input, self.normalized_shape)
        return F.rms_norm(input, self.normalized_shape, self.weight, self.eps)

    def extra_repr(self):
        return (
            f"{self.normalized_shape}, eps={self.eps}, "
            f"elementwise_affine={self.elementwise_affine}"
        )


class LocalResponseNorm(Module):
    """Local response normalization across channels (see F.local_response_norm)."""

    def __init__(self, size, alpha=1e-4, beta=0.75, k=1.0):
        super().__init__()
        self.size = size
        self.alpha = alpha
        self.beta = beta
        self.k = k

    def forward(self, input):
        return F.local_response_norm(input, self.size, self.alpha, self.beta, self.k)

    def extra_repr(self):
        return f"{self.size}, alpha={self.alpha}, beta={self.beta}, k={self.k}"
