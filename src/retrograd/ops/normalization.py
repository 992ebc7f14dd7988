"""The fused normalization primitive behind batch, layer, group, instance and RMS norm.

`standardize(x, dims, weight, bias, eps)` is ``(x - mean) / sqrt(var + eps) * weight + bias``
with the (biased) moments taken over `dims`; with ``center=False`` it is RMS normalization,
``x / sqrt(mean(x^2) + eps) * weight``. The layers in `nn.functional` call it with their own
`dims` and the shape that weight and bias broadcast as (``(C, 1, 1)`` for BatchNorm2d,
``normalized_shape`` for LayerNorm).

NOTE: one primitive instead of a composite of mean, var, rsqrt, mul and add (nine nodes that
keep several input-sized temporaries for backward). Measured forward + backward, float32, one
thread, each variant interleaved with the others: BatchNorm2d(64) over (32, 64, 16, 16) takes
2.2 ms against 2.9 ms composed (PyTorch: 2.5 ms); LayerNorm(256) over (32, 64, 256) 2.0 ms
against 2.7 ms (PyTorch's fused kernel: 0.8 ms). Each timed in a loop of its own instead, the
composite batch norm took 10 ms to the fused op's 3 ms (fresh pages for its many temporaries,
we believe). The VJP is the classic closed form (g - mean(g) - x_hat mean(g x_hat)) / std,
written against `ns`: with create_graph=True it recomputes the moments from the saved input,
so it is recorded like any other computation and second-order gradients are exact; on the
first-order path it reuses the forward's moments and works in place on two temporaries.
"""

import numpy as np

from ..autograd import array_ns
from ..autograd.graph import Op
from ._util import apply

__all__ = []

TENSOR_METHODS = {}


_BLAS_DTYPES = (np.dtype(np.float32), np.dtype(np.float64))


def _mean(a, dims):
    """a.mean(dims, keepdims=True). NOTE: over the trailing dims of a contiguous array this is
    a matrix-vector product, which NumPy hands to BLAS: about 3x faster than its own reduction
    on rows of a few hundred float32 (layer norm's case)."""
    n = a.ndim
    if (dims and dims[0] > 0 and dims == tuple(range(dims[0], n)) and a.flags.c_contiguous
            and a.dtype in _BLAS_DTYPES):
        count = a.size // max(1, int(np.prod(a.shape[: dims[0]])))
        if count:
            rows = a.reshape(-1, count) @ np.full(count, 1.0 / count, a.dtype)
            return rows.reshape(a.shape[: dims[0]] + (1,) * len(dims))
    return a.mean(axis=dims, keepdims=True)


def _sum_leading(a, dims, shape):
    """a summed over `dims` and reshaped to `shape` (a weight's), as a vector-matrix product
    when `dims` are the leading dims of a contiguous array (see _mean)."""
    k = len(dims)
    contiguous = a.flags.c_contiguous and a.size and a.dtype in _BLAS_DTYPES
    if k and dims == tuple(range(k)) and contiguous:
        rows = int(np.prod(a.shape[:k]))
        return (np.ones(rows, a.dtype) @ a.reshape(rows, -1)).reshape(shape)
    return (a.sum(axis=dims, keepdims=True) if dims else a).reshape(shape)


def moments(x, dims, center):
    """Mean (None when not centering) and biased variance (mean square) of array `x` over
    `dims`, kept as size-1 dims so they broadcast against `x`."""
    if not center:
        return None, _mean(np.square(x), dims)
    mean = _mean(x, dims)
    xc = x - mean
    return mean, _mean(np.square(xc, out=xc), dims)


def _machine_eps(dtype):
    try:
        return float(np.finfo(dtype).eps)
    except ValueError:  # bfloat16 (ml_dtypes): 8 significand bits
        return 2.0**-7


def _xhat_recorded(ns, x, params):
    """The normalized input and 1/std from `x` alone, with `ns` ops: for create_graph the
    moments must be functions of x too, and forward mode (which gets no aux) needs them."""
    dims, scale = params["dims"], 1.0 / params["count"]
    xc = x - ns.sum(x, dims, keepdim=True) * scale if params["center"] else x
    invstd = ns.pow(ns.sum(xc * xc, dims, keepdim=True) * scale + params["eps"], -0.5)
    return xc * invstd, invstd


def _param_grad(ns, gp, params, keep_dims, shape):
    """Sum a gradient of the input's shape down to a weight or bias of `shape` that broadcasts
    as `params["pshape"]`; `keep_dims` are dims `gp` was already summed over (kept as 1)."""
    rest = tuple(d for d in params["param_dims"] if d not in keep_dims)
    if rest:
        gp = ns.sum(gp, rest, keepdim=True)
    return ns.reshape(gp, shape)


class Standardize(Op):
    """(x - mean) / sqrt(var + eps) [* weight] [+ bias] over `dims` (see the module docstring).

    Inputs: x, then weight and bias when `has_weight`/`has_bias`; params: dims, count (elements
    per moment), eps, center, pshape (the broadcast shape of weight and bias), param_dims (the
    dims of x that weight and bias do not span), fold (weight and bias are constant over
    `dims`, as in batch norm), and mean/var (the moments when the caller computed them, else
    None). aux: the mean and 1/std, for the first-order VJP."""

    name = "standardize"
    input_names = ("x", "weight", "bias")
    save = (0,)  # the bias is never needed; a weight is (see StandardizeAffine)
    has_aux = True

    @staticmethod
    def forward(x, *affine, has_weight, has_bias, pshape, dims, eps, center, fold, mean, var,
                **_):
        # NOTE: in place on one temporary: large temporaries are what this op costs (fresh
        # pages for each), more than the arithmetic.
        if var is None:
            if center:
                mean = _mean(x, dims)
                out = x - mean
                var = _mean(np.square(out), dims)
            else:
                var = _mean(np.square(x), dims)
                out = x.copy()
        else:
            out = x - mean if center else x.copy()
        invstd = (1.0 / np.sqrt(var + eps)).astype(x.dtype, copy=False)
        if has_weight:
            w = affine[0].reshape(pshape)
            if fold:
                out *= invstd * w  # one pass: 1/std and weight are both per channel
            else:
                out *= invstd
                out *= w
        else:
            out *= invstd
        if has_bias:
            out += affine[-1].reshape(pshape)
        return out, (mean, invstd)

    @staticmethod
    def vjp(ns, g, saved, params, needs):
        if ns is array_ns:
            return _vjp_arrays(g, saved, params, needs)
        x = saved[0]
        has_weight, has_bias, dims = params["has_weight"], params["has_bias"], params["dims"]
        xhat, invstd = _xhat_recorded(ns, x, params)
        w = ns.reshape(saved[1], params["pshape"]) if has_weight else None
        gw = gb = None
        if has_weight and needs[1]:
            gw = _param_grad(ns, g * xhat, params, (), saved[1].shape)
        if has_bias and needs[-1]:
            gb = _param_grad(ns, g, params, (), params["bias_shape"])
        gx = None
        if needs[0]:
            gh = g if w is None else g * w
            scale = 1.0 / params["count"]
            gx = gh - xhat * (ns.sum(gh * xhat, dims, keepdim=True) * scale)
            if params["center"]:
                gx = gx - ns.sum(gh, dims, keepdim=True) * scale
            gx = gx * invstd
        return _pack(gx, gw, gb, params)

    @staticmethod
    def jvp(ns, ts, xs, out, params):
        dims = params["dims"]
        xhat, invstd = _xhat_recorded(ns, xs[0], params)
        t = ts[0]
        t_xhat = t - xhat * np.mean(t * xhat, axis=dims, keepdims=True)
        if params["center"]:
            t_xhat = t_xhat - np.mean(t, axis=dims, keepdims=True)
        t_out = t_xhat * invstd
        pshape = params["pshape"]
        if params["has_weight"]:
            t_out = t_out * xs[1].reshape(pshape) + xhat * ts[1].reshape(pshape)
        if params["has_bias"]:
            t_out = t_out + ts[-1].reshape(pshape)
        return t_out


def _pack(gx, gw, gb, params):
    if not (params["has_weight"] or params["has_bias"]):
        return gx
    return (gx,) + ((gw,) if params["has_weight"] else ()) + ((gb,) if params["has_bias"] else ())


def _vjp_arrays(g, saved, params, needs):
    """The first-order VJP on NumPy arrays, from the forward's moments, in place on two
    temporaries of the input's size (the closed form: (g' - mean(g') - x_hat mean(g' x_hat))
    / std with g' = g * weight)."""
    x, (mean, invstd) = saved[0], saved[-1]
    has_weight, has_bias, dims = params["has_weight"], params["has_bias"], params["dims"]
    count = params["count"]
    xhat = x - mean if params["center"] else x.copy()
    xhat *= invstd
    w = saved[1].reshape(params["pshape"]) if has_weight else None
    tmp = g * xhat
    gw = gb = None
    if params["fold"]:
        # weight and 1/std are constant over dims: the sums the weight and bias gradients
        # need are the ones the input gradient needs.
        gx_sum = tmp.sum(axis=dims, keepdims=True)
        g_sum = g.sum(axis=dims, keepdims=True)
        if has_weight and needs[1]:
            gw = _param_grad(array_ns, gx_sum, params, dims, saved[1].shape)
        if has_bias and needs[-1]:
            gb = _param_grad(array_ns, g_sum, params, dims, params["bias_shape"])
        if not needs[0]:
            return _pack(None, gw, gb, params)
        k = invstd * (1.0 / count) if w is None else invstd * w * (1.0 / count)
        xhat *= gx_sum
        np.multiply(g, count, out=tmp)
        tmp -= xhat
        if params["center"]:
            tmp -= g_sum
        tmp *= k
        return _pack(tmp, gw, gb, params)
    param_dims = params["param_dims"]
    if has_weight and needs[1]:
        gw = _sum_leading(tmp, param_dims, saved[1].shape)
        if np.may_share_memory(gw, tmp):  # no dims to sum over: gw is tmp, reused below
            gw = gw.copy()
    if has_bias and needs[-1]:
        gb = _sum_leading(g, param_dims, params["bias_shape"])
    if not needs[0]:
        return _pack(None, gw, gb, params)
    gh = g if w is None else g * w
    np.multiply(gh, xhat, out=tmp)
    xhat *= _mean(tmp, dims)
    np.subtract(gh, xhat, out=tmp)
    if params["center"]:
        tmp -= _mean(gh, dims)
    tmp *= invstd
    return _pack(tmp, gw, gb, params)


class StandardizeAffine(Standardize):
    """`standardize` with a weight, which the VJP needs too (a separate op, as `save` names
    fixed input positions)."""

    name = "standardize_affine"
    save = (0, 1)


def standardize(input, dims, weight=None, bias=None, eps=1e-5, *, center=True, pshape=None,
                moments_out=None):
    """Normalize Tensor `input` over `dims` (a sorted tuple of non-negative dims; eps None: the
    machine epsilon of its dtype) and apply the optional affine weight and bias, which broadcast
    against `input` as shape `pshape` (default: their own shape, aligned with the trailing
    dims). The caller has checked shapes and dtypes. When `moments_out` is a list, the batch
    mean (None without centering) and biased variance, as arrays of keepdim shape, are appended
    to it (for running statistics)."""
    x = input.data
    ndim = x.ndim
    if eps is None:
        eps = _machine_eps(x.dtype)
    count = 1
    for d in dims:
        count *= x.shape[d]
    mean = var = None
    if moments_out is not None:  # the caller keeps running statistics
        mean, var = moments(x, dims, center)
        moments_out.extend((mean, var))
    ref = weight if weight is not None else bias
    if ref is not None and pshape is None:
        pshape = ref.data.shape
    pshape = tuple(pshape) if pshape is not None else ()
    padded = (1,) * (ndim - len(pshape)) + pshape
    param_dims = tuple(d for d in range(ndim) if padded[d] == 1)
    fold = all(padded[d] == 1 for d in dims)
    tensors = (input,) + tuple(t for t in (weight, bias) if t is not None)
    return apply(
        Standardize if weight is None else StandardizeAffine,
        *tensors,
        dims=tuple(dims),
        count=count,
        eps=float(eps),
        center=center,
        has_weight=weight is not None,
        has_bias=bias is not None,
        pshape=pshape,
        param_dims=param_dims,
        fold=fold,
        bias_shape=None if bias is None else bias.data.shape,
        mean=mean,
        var=var,
    )
