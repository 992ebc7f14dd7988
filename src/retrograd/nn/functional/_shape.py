"""Resampling and reshaping (torch.nn.functional): pad, interpolate (upsample), pixel_shuffle,
pixel_unshuffle; and the distance functions cosine_similarity, pairwise_distance, pdist.

`interpolate` resamples one spatial dim at a time (every mode here is separable): index_select
for the nearest modes, weighted sums of index_selects for linear/bilinear/trilinear/bicubic,
a constant averaging matrix for 'area'. All of it is differentiable through existing ops, and
the source positions follow PyTorch's kernels (float32 arithmetic for the nearest modes), so
the results match PyTorch's.
"""

import math

import numpy as np

from ...autograd.tensor import Tensor, new_tensor
from ...ops.arrange import pad
from ...ops.distance import cosine_similarity, pairwise_distance, pdist

__all__ = [
    "pad",
    "interpolate",
    "upsample",
    "upsample_nearest",
    "upsample_bilinear",
    "pixel_shuffle",
    "pixel_unshuffle",
    "cosine_similarity",
    "pairwise_distance",
    "pdist",
]

# mode -> the input ranks it accepts
_MODES = {
    "nearest": (3, 4, 5),
    "nearest-exact": (3, 4, 5),
    "area": (3, 4, 5),
    "linear": (3,),
    "bilinear": (4,),
    "bicubic": (4,),
    "trilinear": (5,),
}
_INTERPOLATING = ("linear", "bilinear", "bicubic", "trilinear")
_CUBIC_A = -0.75  # PyTorch's (and OpenCV's) bicubic coefficient


def _per_dim(value, n, name, what):
    if isinstance(value, (tuple, list)):
        if len(value) != n:
            raise ValueError(
                f"interpolate: {what} {tuple(value)} must have one entry per spatial dim ({n}) "
                f"of the input of shape {name}"
            )
        return list(value)
    return [value] * n


def _output_sizes(x, size, scale_factor, recompute_scale_factor):
    """(output sizes, scales) per spatial dim; a scale is None where the kernels use in/out."""
    spatial = x.data.shape[2:]
    n = len(spatial)
    if (size is None) == (scale_factor is None):
        raise ValueError("interpolate: give exactly one of size and scale_factor")
    if size is not None:
        if recompute_scale_factor:
            raise ValueError("interpolate: recompute_scale_factor needs scale_factor, not size")
        return [int(s) for s in _per_dim(size, n, x.shape, "size")], [None] * n
    scales = [float(s) for s in _per_dim(scale_factor, n, x.shape, "scale_factor")]
    sizes = [int(math.floor(float(i) * s)) for i, s in zip(spatial, scales)]
    if recompute_scale_factor:
        scales = [None] * n
    return sizes, scales


def _scale(in_size, out_size, scale, align_corners):
    """PyTorch's area_pixel_compute_scale: source step per output step."""
    if align_corners:
        return (in_size - 1) / (out_size - 1) if out_size > 1 else 0.0
    return 1.0 / scale if scale is not None and scale > 0 else in_size / out_size


def _source(in_size, out_size, scale, align_corners, cubic=False):
    """PyTorch's area_pixel_compute_source_index for every output position."""
    step = _scale(in_size, out_size, scale, align_corners)
    dst = np.arange(out_size, dtype=np.float64)
    if align_corners:
        return step * dst
    src = step * (dst + 0.5) - 0.5
    return src if cubic else np.maximum(src, 0.0)


def _along(values, d, ndim, dtype):
    """A 1-D array of weights shaped to broadcast along dim d."""
    return new_tensor(values.astype(dtype).reshape((-1,) + (1,) * (ndim - 1 - d)))


def _resample(x, d, out_size, scale, mode, align_corners):
    in_size, ndim, dtype = x.data.shape[d], x.data.ndim, x.data.dtype
    if mode in ("nearest", "nearest-exact"):
        step = np.float32(in_size / out_size if scale is None or scale <= 0 else 1.0 / scale)
        dst = np.arange(out_size, dtype=np.float32)
        if mode == "nearest-exact":
            dst = dst + np.float32(0.5)
        idx = np.minimum(np.floor(dst * step).astype(np.int64), in_size - 1)
        if mode == "nearest" and out_size in (in_size, 2 * in_size):  # PyTorch's shortcuts
            idx = np.arange(out_size) // (out_size // in_size)
        return x.index_select(d, idx)
    if mode == "area":
        starts = (np.arange(out_size) * in_size) // out_size
        ends = ((np.arange(out_size) + 1) * in_size + out_size - 1) // out_size
        columns = np.arange(in_size)
        inside = (columns >= starts[:, None]) & (columns < ends[:, None])
        weights = inside / (ends - starts)[:, None]
        moved = x.movedim(d, -1)
        return (moved @ new_tensor(weights.T.astype(dtype))).movedim(-1, d)
    if mode == "bicubic":
        src = _source(in_size, out_size, scale, align_corners, cubic=True)
        base = np.floor(src)
        t = src - base
        out = None
        for k, w in enumerate(_cubic_weights(t)):
            idx = np.clip(base.astype(np.int64) - 1 + k, 0, in_size - 1)
            term = x.index_select(d, idx) * _along(w, d, ndim, dtype)
            out = term if out is None else out + term
        return out
    src = _source(in_size, out_size, scale, align_corners)
    i0 = src.astype(np.int64)
    i1 = np.minimum(i0 + 1, in_size - 1)
    lam1 = np.clip(src - i0, 0.0, 1.0)
    return (x.index_select(d, i0) * _along(1.0 - lam1, d, ndim, dtype)
            + x.index_select(d, i1) * _along(lam1, d, ndim, dtype))


def _cubic_weights(t):
    a = _CUBIC_A

    def near(s):  # |s| <= 1
        return ((a + 2) * s - (a + 3)) * s * s + 1

    def far(s):  # 1 < |s| < 2
        return ((a * s - 5 * a) * s + 8 * a) * s - 4 * a

    return far(t + 1.0), near(t), near(1.0 - t), far(2.0 - t)


def interpolate(input, size=None, scale_factor=None, mode="nearest", align_corners=None,
                recompute_scale_factor=None, antialias=False):
    """Resize the spatial dims of a (N, C, *spatial) input to `size` or by `scale_factor`.

    mode: 'nearest', 'nearest-exact', 'area' (adaptive average pooling), 'linear' (3-D input),
    'bilinear' or 'bicubic' (4-D), 'trilinear' (5-D); align_corners (interpolating modes only)
    maps the corner pixels' centres onto each other. Differentiable.
    """
    if not isinstance(input, Tensor):
        raise TypeError(f"interpolate: expected a Tensor input, got {type(input).__name__}")
    if mode not in _MODES:
        raise ValueError(f"interpolate: unknown mode {mode!r}; expected one of {list(_MODES)}")
    if input.data.ndim not in _MODES[mode]:
        ranks = " or ".join(f"{n}D" for n in _MODES[mode])
        raise NotImplementedError(
            f"interpolate: got a {input.data.ndim}D input of shape {input.shape}, but mode "
            f"{mode!r} needs a {ranks} input"
        )
    if align_corners is not None and mode not in _INTERPOLATING:
        raise ValueError(
            "interpolate: align_corners can only be set with the interpolating modes: "
            "linear | bilinear | bicubic | trilinear"
        )
    if antialias:
        raise NotImplementedError("interpolate: antialias=True is not supported")
    sizes, scales = _output_sizes(input, size, scale_factor, recompute_scale_factor)
    if any(s <= 0 for s in sizes):
        raise ValueError(
            f"interpolate: output sizes {tuple(sizes)} for an input of shape {input.shape} must "
            "be positive"
        )
    x = input
    for k, (out_size, scale) in enumerate(zip(sizes, scales)):
        x = _resample(x, k + 2, out_size, scale, mode, bool(align_corners))
    return x


def upsample(input, size=None, scale_factor=None, mode="nearest", align_corners=None):
    """The deprecated name of `interpolate`."""
    return interpolate(input, size, scale_factor, mode, align_corners)


def upsample_nearest(input, size=None, scale_factor=None):
    return interpolate(input, size, scale_factor, mode="nearest")


def upsample_bilinear(input, size=None, scale_factor=None):
    """Bilinear upsampling with align_corners=True (what this deprecated function did)."""
    return interpolate(input, size, scale_factor, mode="bilinear", align_corners=True)


# ----------------------------------------------------------------- pixel shuffle


def pixel_shuffle(input, upscale_factor):
    """(*, C r^2, H, W) -> (*, C, H r, W r): sub-pixel rearrangement (r = upscale_factor)."""
    r = int(upscale_factor)
    shape = input.data.shape
    if len(shape) < 3 or shape[-3] % (r * r):
        raise RuntimeError(
            f"pixel_shuffle: expected an input of shape (*, C * {r}^2, H, W), got {input.shape}"
        )
    batch, b = shape[:-3], len(shape) - 3
    c, h, w = shape[-3] // (r * r), shape[-2], shape[-1]
    x = input.reshape(batch + (c, r, r, h, w))
    x = x.permute(*range(b), b, b + 3, b + 1, b + 4, b + 2)
    return x.reshape(batch + (c, h * r, w * r))


def pixel_unshuffle(input, downscale_factor):
    """(*, C, H r, W r) -> (*, C r^2, H, W): the inverse of pixel_shuffle."""
    r = int(downscale_factor)
    shape = input.data.shape
    if len(shape) < 3 or shape[-2] % r or shape[-1] % r:
        raise RuntimeError(
            f"pixel_unshuffle: expected an input of shape (*, C, H * {r}, W * {r}), got "
            f"{input.shape}"
        )
    batch, b = shape[:-3], len(shape) - 3
    c, h, w = shape[-3], shape[-2] // r, shape[-1] // r
    x = input.reshape(batch + (c, h, r, w, r))
    x = x.permute(*range(b), b, b + 2, b + 4, b + 1, b + 3)
    return x.reshape(batch + (c * r * r, h, w))
