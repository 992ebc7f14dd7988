"""Resampling and reshaping (torch.nn.functional): pad, interpolate (upsample), affine_grid,
grid_sample, pixel_shuffle, pixel_unshuffle; and the distance functions cosine_similarity,
pairwise_distance, pdist.

`interpolate` resamples one spatial dim at a time (every mode here is separable): index_select
for the nearest modes, weighted sums of index_selects for linear/bilinear/trilinear/bicubic,
a constant averaging matrix for 'area'. All of it is differentiable through existing ops, and
the source positions follow PyTorch's kernels (float32 arithmetic for the nearest modes), so
the results match PyTorch's.
"""

import math

import numpy as np

from ...autograd.tensor import Tensor, new_tensor
from ...ops import comparison, rounding
from ...ops.arrange import pad
from ...ops.distance import cosine_similarity, pairwise_distance, pdist

__all__ = [
    "pad",
    "interpolate",
    "upsample",
    "upsample_nearest",
    "upsample_bilinear",
    "affine_grid",
    "grid_sample",
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


# ----------------------------------------------------------------- spatial transformers


def _base_coordinates(n, align_corners):
    """Normalized pixel centres in [-1, 1] along a dim of size n, as PyTorch's affine_grid."""
    if n <= 1:
        return np.zeros(max(n, 0))
    steps = np.linspace(-1.0, 1.0, n)
    return steps if align_corners else steps * (n - 1) / n


def affine_grid(theta, size, align_corners=None):
    """The sampling grid of the affine maps `theta` (N, 2, 3) for an output of `size` (N, C, H,
    W): shape (N, H, W, 2) of (x, y) in [-1, 1]; (N, 3, 4) and (N, C, D, H, W) in 3-D."""
    spatial = tuple(size[2:])
    k = len(spatial)
    if k not in (2, 3) or tuple(theta.shape[1:]) != (k, k + 1) or theta.shape[0] != size[0]:
        raise ValueError(
            f"affine_grid: expected theta of shape (N, {k}, {k + 1}) for size {tuple(size)}, got "
            f"{theta.shape}"
        )
    axes = [_base_coordinates(n, bool(align_corners)) for n in spatial]
    mesh = np.meshgrid(*axes, indexing="ij")  # (D,) H, W
    base = np.stack([*reversed(mesh), np.ones(spatial)], axis=-1)  # x first, then y (and z)
    base = new_tensor(base.reshape(-1, k + 1).astype(theta.dtype))
    grid = base @ theta.mT  # (N, points, k)
    return grid.reshape((size[0],) + spatial + (k,))


def _unnormalize(coord, size, align_corners):
    if align_corners:
        return (coord + 1) / 2 * (size - 1)
    return ((coord + 1) * size - 1) / 2


def _reflect(coord, twice_low, twice_high):
    if twice_low == twice_high:
        return coord * 0
    low, span = twice_low / 2, (twice_high - twice_low) / 2
    coord = (coord - low).abs()
    extra = rounding.fmod(coord, span)
    flips = np.floor(coord.data / span)
    return comparison.where(new_tensor(flips % 2 == 0), extra + low, span - extra + low)


def _source_coordinates(coord, size, padding_mode, align_corners):
    coord = _unnormalize(coord, size, align_corners)
    if padding_mode == "reflection":
        if align_corners:
            coord = _reflect(coord, 0, 2 * (size - 1))
        else:
            coord = _reflect(coord, -1, 2 * size - 1)
    if padding_mode in ("border", "reflection"):
        coord = coord.clamp(0, size - 1)
    return coord


def grid_sample(input, grid, mode="bilinear", padding_mode="zeros", align_corners=None):
    """Sample the (N, C, H, W) input at the (N, Ho, Wo, 2) grid of normalized (x, y) positions
    in [-1, 1]: output (N, C, Ho, Wo). mode 'bilinear' or 'nearest'; padding_mode 'zeros',
    'border' or 'reflection'. Differentiable in input and (bilinear) grid."""
    if mode not in ("bilinear", "nearest"):
        raise NotImplementedError(f"grid_sample: mode {mode!r} is not supported")
    if padding_mode not in ("zeros", "border", "reflection"):
        raise ValueError(f"grid_sample: unknown padding_mode {padding_mode!r}")
    if input.data.ndim != 4 or grid.data.ndim != 4 or grid.shape[-1] != 2:
        raise NotImplementedError(
            f"grid_sample: expected a 4-D input and an (N, Ho, Wo, 2) grid, got {input.shape} and "
            f"{grid.shape}"
        )
    n, _, h, w = input.data.shape
    if grid.shape[0] != n:
        raise ValueError(f"grid_sample: grid {grid.shape} and input {input.shape} differ in N")
    ix = _source_coordinates(grid[..., 0], w, padding_mode, bool(align_corners))
    iy = _source_coordinates(grid[..., 1], h, padding_mode, bool(align_corners))
    batch = np.arange(n).reshape(n, 1, 1)

    def corner(x, y):
        """input at integer positions (N, Ho, Wo) as (N, Ho, Wo, C); 0 outside."""
        inside = (x >= 0) & (x < w) & (y >= 0) & (y < h)
        picked = input[batch, :, np.clip(y, 0, h - 1), np.clip(x, 0, w - 1)]
        return picked * new_tensor(inside[..., None].astype(input.data.dtype))

    if mode == "nearest":
        out = corner(np.rint(ix.data).astype(np.int64), np.rint(iy.data).astype(np.int64))
        return out.permute(0, 3, 1, 2)
    x0 = np.floor(ix.data).astype(np.int64)
    y0 = np.floor(iy.data).astype(np.int64)
    wx1, wy1 = ix - new_tensor(x0.astype(ix.dtype)), iy - new_tensor(y0.astype(iy.dtype))
    wx0, wy0 = 1 - wx1, 1 - wy1
    out = (corner(x0, y0) * (wx0 * wy0).unsqueeze(-1)
           + corner(x0 + 1, y0) * (wx1 * wy0).unsqueeze(-1)
           + corner(x0, y0 + 1) * (wx0 * wy1).unsqueeze(-1)
           + corner(x0 + 1, y0 + 1) * (wx1 * wy1).unsqueeze(-1))
    return out.permute(0, 3, 1, 2)


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
