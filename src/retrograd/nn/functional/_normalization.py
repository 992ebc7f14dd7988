"""Normalization functions: batch_norm, instance_norm, layer_norm, group_norm, rms_norm and
local_response_norm, with PyTorch's signatures and semantics.

The normalizing itself is one fused primitive (`ops.normalization.standardize`); these
functions check shapes, pick the dims to normalize over and keep the running statistics.
Running statistics follow PyTorch: ``running = (1 - momentum) * running + momentum * batch``,
with the batch variance unbiased (n / (n - 1)) in the running estimate while the output is
normalized with the biased one; they are updated in place and never recorded for autograd.
"""

from ...autograd import dtypes
from ...autograd.grad_mode import no_grad
from ...autograd.tensor import Tensor, new_tensor
from ...ops.arrange import pad
from ...ops.math import rsqrt
from ...ops.normalization import standardize
from ...ops.shape import narrow

__all__ = [
    "batch_norm",
    "instance_norm",
    "layer_norm",
    "group_norm",
    "rms_norm",
    "local_response_norm",
]


def _check_input(input, name, min_dim=2):
    if not isinstance(input, Tensor):
        raise TypeError(f"{name}: expected a Tensor input, got {type(input).__name__}")
    if not dtypes.is_floating(input.data.dtype):
        raise TypeError(
            f"{name}: expected a floating-point input, got dtype {input.dtype}; cast it first "
            "(x.float())"
        )
    if input.data.ndim < min_dim:
        raise ValueError(
            f"{name}: expected an input with at least {min_dim} dimensions, got shape "
            f"{tuple(input.shape)}"
        )


def _check_param(t, what, shape, name, input, cast=True):
    """`t` (a weight, bias or running statistic) must be None or a Tensor of `shape`; cast to
    the input's dtype (differentiably) when it differs, unless `cast` is False (running
    statistics, which are updated in place)."""
    if t is None:
        return None
    if not isinstance(t, Tensor):
        raise TypeError(f"{name}: {what} must be a Tensor or None, got {type(t).__name__}")
    if tuple(t.shape) != tuple(shape):
        raise ValueError(
            f"{name}: expected {what} of shape {tuple(shape)} for an input of shape "
            f"{tuple(input.shape)}, got shape {tuple(t.shape)}"
        )
    if cast and t.data.dtype != input.data.dtype:
        t = t.to(input.dtype)
    return t


def _check_stats(running_mean, running_var, name, input):
    shape = (input.shape[1],)
    return (_check_param(running_mean, "running_mean", shape, name, input, cast=False),
            _check_param(running_var, "running_var", shape, name, input, cast=False))


def _check_momentum(momentum, name):
    if momentum is None or isinstance(momentum, bool) or not isinstance(momentum, (int, float)):
        raise TypeError(
            f"{name}: momentum must be a number, got {momentum!r} (momentum=None, a cumulative "
            "average, is an option of the BatchNorm modules, which pass 1 / num_batches_tracked)"
        )


def _update_running(running_mean, running_var, mean, var, count, momentum, batch_dims):
    """running = (1 - momentum) * running + momentum * batch statistic, in place; the variance
    is unbiased. `batch_dims` are dims of the statistics to average over first (instance norm
    keeps one statistic per sample and channel), or None."""
    with no_grad():
        if running_mean is not None:
            m = new_tensor(mean)
            m = m if batch_dims is None else m.mean(batch_dims)
            m = m.reshape(running_mean.shape).mul(momentum).to(running_mean.dtype)
            running_mean.mul_(1 - momentum).add_(m)
        if running_var is not None:
            unbiased = new_tensor(var) * (count / max(count - 1, 1) if count > 1 else float("nan"))
            v = unbiased if batch_dims is None else unbiased.mean(batch_dims)
            v = v.reshape(running_var.shape).mul(momentum).to(running_var.dtype)
            running_var.mul_(1 - momentum).add_(v)


def _affine_with_stats(input, running_mean, running_var, weight, bias, eps):
    """Normalize with given statistics (evaluation mode): input * scale + shift, with scale and
    shift computed per channel, so only two ops touch the full input."""
    channels = input.shape[1]
    scale = rsqrt(running_var + eps)
    if weight is not None:
        scale = scale * weight
    shift = -running_mean * scale
    if bias is not None:
        shift = shift + bias
    pshape = (channels,) + (1,) * (input.ndim - 2)
    return input * scale.reshape(pshape) + shift.reshape(pshape)


def batch_norm(input, running_mean, running_var, weight=None, bias=None, training=False,
               momentum=0.1, eps=1e-5):
    """Batch normalization over an input of shape (N, C) or (N, C, *): each channel is normalized
    with the mean and (biased) variance over the batch and spatial dims when `training`, else
    with `running_mean` and `running_var`. In training, given running statistics are updated in
    place with `momentum` (the variance unbiased)."""
    _check_input(input, "batch_norm")
    channels = input.shape[1]
    running_mean, running_var = _check_stats(running_mean, running_var, "batch_norm", input)
    weight = _check_param(weight, "weight", (channels,), "batch_norm", input)
    bias = _check_param(bias, "bias", (channels,), "batch_norm", input)
    if not training:
        if running_mean is None or running_var is None:
            raise ValueError(
                "batch_norm: running_mean and running_var must be given when training=False "
                "(pass training=True to normalize with the batch statistics)"
            )
        return _affine_with_stats(input, running_mean, running_var, weight, bias, eps)
    _check_momentum(momentum, "batch_norm")
    count = input.numel() // max(channels, 1)
    if count <= 1:
        raise ValueError(
            f"batch_norm: expected more than 1 value per channel when training, got input of "
            f"shape {tuple(input.shape)}"
        )
    dims = (0,) + tuple(range(2, input.ndim))
    stats = []
    out = standardize(input, dims, weight, bias, eps, pshape=(channels,) + (1,) * (input.ndim - 2),
                      moments_out=stats)
    if running_mean is not None or running_var is not None:
        _update_running(running_mean, running_var, *stats, count, momentum, None)
    return out


def instance_norm(input, running_mean=None, running_var=None, weight=None, bias=None,
                  use_input_stats=True, momentum=0.1, eps=1e-5):
    """Instance normalization: each channel of each sample (N, C, *) normalized over its own
    spatial dims. With `use_input_stats=False` the running statistics are used instead; with it,
    given running statistics are updated with the batch average of the per-instance ones."""
    _check_input(input, "instance_norm", 3)
    channels = input.shape[1]
    running_mean, running_var = _check_stats(running_mean, running_var, "instance_norm", input)
    weight = _check_param(weight, "weight", (channels,), "instance_norm", input)
    bias = _check_param(bias, "bias", (channels,), "instance_norm", input)
    if not use_input_stats:
        if running_mean is None or running_var is None:
            raise ValueError(
                "instance_norm: running_mean and running_var must be given when "
                "use_input_stats=False"
            )
        return _affine_with_stats(input, running_mean, running_var, weight, bias, eps)
    _check_momentum(momentum, "instance_norm")
    count = input.numel() // max(input.shape[0] * channels, 1)
    if count <= 1:
        raise ValueError(
            f"instance_norm: expected more than 1 spatial element when training, got input of "
            f"shape {tuple(input.shape)}"
        )
    stats = []
    out = standardize(input, tuple(range(2, input.ndim)), weight, bias, eps,
                      pshape=(channels,) + (1,) * (input.ndim - 2), moments_out=stats)
    if running_mean is not None or running_var is not None:
        _update_running(running_mean, running_var, *stats, count, momentum, 0)
    return out


def _normalized_shape(normalized_shape, input, name):
    if isinstance(normalized_shape, int):
        normalized_shape = (normalized_shape,)
    normalized_shape = tuple(int(n) for n in normalized_shape)
    k = len(normalized_shape)
    if k == 0 or k > input.ndim or tuple(input.shape[input.ndim - k:]) != normalized_shape:
        raise ValueError(
            f"{name}: given normalized_shape={list(normalized_shape)}, expected input with shape "
            f"(*, {', '.join(map(str, normalized_shape))}), got input of shape "
            f"{tuple(input.shape)}"
        )
    return normalized_shape


def layer_norm(input, normalized_shape, weight=None, bias=None, eps=1e-5):
    """Normalize over the last ``len(normalized_shape)`` dims (which must equal
    `normalized_shape`), then scale by `weight` and shift by `bias` (both of that shape)."""
    _check_input(input, "layer_norm", 1)
    shape = _normalized_shape(normalized_shape, input, "layer_norm")
    weight = _check_param(weight, "weight", shape, "layer_norm", input)
    bias = _check_param(bias, "bias", shape, "layer_norm", input)
    dims = tuple(range(input.ndim - len(shape), input.ndim))
    return standardize(input, dims, weight, bias, eps)


def group_norm(input, num_groups, weight=None, bias=None, eps=1e-5):
    """Group normalization: the C channels of an (N, C, *) input split into `num_groups` groups,
    each normalized over its channels and the spatial dims; `weight` and `bias` are per
    channel (C,)."""
    _check_input(input, "group_norm")
    n, channels = input.shape[0], input.shape[1]
    if num_groups <= 0 or channels % num_groups:
        raise ValueError(
            f"group_norm: the number of channels ({channels}) of an input of shape "
            f"{tuple(input.shape)} must be divisible by num_groups ({num_groups})"
        )
    weight = _check_param(weight, "weight", (channels,), "group_norm", input)
    bias = _check_param(bias, "bias", (channels,), "group_norm", input)
    spatial = input.numel() // max(n * channels, 1)
    per_group = channels // num_groups
    grouped = input.reshape(n, num_groups, per_group, spatial)
    out = standardize(grouped, (2, 3), weight, bias, eps, pshape=(num_groups, per_group, 1))
    return out.reshape(input.shape)


def rms_norm(input, normalized_shape, weight=None, eps=None):
    """Root-mean-square normalization over the last ``len(normalized_shape)`` dims:
    ``x / sqrt(mean(x^2) + eps) * weight``; `eps` None is the machine epsilon of the input's
    dtype (PyTorch's default)."""
    _check_input(input, "rms_norm", 1)
    shape = _normalized_shape(normalized_shape, input, "rms_norm")
    weight = _check_param(weight, "weight", shape, "rms_norm", input)
    dims = tuple(range(input.ndim - len(shape), input.ndim))
    return standardize(input, dims, weight, None, eps, center=False)


def local_response_norm(input, size, alpha=1e-4, beta=0.75, k=1.0):
    """Local response normalization across channels (dim 1) of an (N, C, *) input:
    ``x / (k + alpha * mean of x^2 over `size` neighbouring channels) ** beta``, the window
    zero-padded at the ends as in PyTorch."""
    _check_input(input, "local_response_norm", 3)
    if size < 1:
        raise ValueError(f"local_response_norm: size must be positive, got {size}")
    channels = input.shape[1]
    square = (input * input).movedim(1, -1)
    square = pad(square, (size // 2, (size - 1) // 2))
    window = narrow(square, -1, 0, channels)
    for offset in range(1, size):
        window = window + narrow(square, -1, offset, channels)
    div = (window.movedim(-1, 1) * (alpha / size) + k) ** beta
    return input / div
