"""The fused normalization primitive behind batch, layer, group, instance and RMS norm.

`standardize(x, dims, weight, bias, eps)` is ``(x - mean) / sqrt(var + eps) * weight + bias``
with the (biased) moments taken over `dims`; with ``center=False`` it is RMS normalization,
``x / sqrt(mean(x^2) + eps) * weight``. The layers in `nn.functional` call it with their own
`dims` and the shape that weight and bias broadcast as (``(C, 1, 1)`` for BatchNorm2d,
``normalized_shape`` for LayerNorm).

NOTE: one primitive instead of a composite of mean, var, rsqrt, mul and add: measured on
BatchNorm2d(64) over (32, 64, 16, 16) float32 (one thread), forward + backward take 3.6 ms
(PyTorch: 4.1 ms) against 10.7 ms for the composite of nine ops, which also keeps several
full-size temporaries for backward. The VJP is the classic closed form
(g - mean(g) - x_hat mean(g x_hat)) / std, written against `ns`: with create_graph=True it
recomputes the moments from the saved input, so it is recorded like any other computation and
second-order gradients are exact; on the first-order path it reuses the forward's moments.
"""

import numpy as np

from ..autograd import array_ns
from ..autograd.graph import Op
from ._util import apply

__all__ = []

TENSOR_METHODS = {}


def moments(x, dims, center):
    """Mean (None when not centering) and biased variance (mean square) of array `x` over
    `dims`, kept as size-1 dims so they broadcast against `x`."""
    if not center:
        return None, np.mean(np.square(x), axis=dims, keepdims=True)
    mean = np.mean(x, axis=dims, keepdims=True)
    xc = x - mean
    return mean, np.mean(np.square(xc, out=xc), axis=dims, keepdims=True)


def _machine_eps(dtype):
    try:
        return float(np.finfo(dtype).eps)
    except ValueError:  # bfloat16 (ml_dtypes): 8 significand bits
        return 2.0**-7


def _xhat(ns, x, params):
    """The normalized input and 1/std. On the NumPy path the moments come from the forward;
    for create_graph they are recomputed from `x` so that they are differentiable too."""
    dims, center = params["dims"], params["center"]
    if ns is array_ns:
        invstd, mean = params["invstd"], params["mean"]
    else:
        scale = 1.0 / params["count"]
        mean = ns.sum(x, dims, keepdim=True) * scale if center else None
        xc = x - mean if center else x
        invstd = ns.pow(ns.sum(xc * xc, dims, keepdim=True) * scale + params["eps"], -0.5)
    return (x - mean if center else x) * invstd, invstd


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
    `dims`, as in batch norm), and
    mean/invstd (the moments the forward uses, arrays)."""

    name = "standardize"
    input_names = ("x", "weight", "bias")
    save = (0,)  # the bias is never needed; a weight is (see StandardizeAffine)

    @staticmethod
    def forward(x, *affine, has_weight, has_bias, pshape, mean, invstd, center, fold, **_):
        out = x - mean if center else x * 1  # a new array, to work in place
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
        return out

    @staticmethod
    def vjp(ns, g, saved, params, needs):
        x = saved[0]
        has_weight, has_bias, dims = params["has_weight"], params["has_bias"], params["dims"]
        xhat, invstd = _xhat(ns, x, params)
        w = ns.reshape(saved[1], params["pshape"]) if has_weight else None
        gw = gb = None
        if params["fold"]:
            # weight and 1/std are constant over dims: the sums the weight and bias gradients
            # need are the same sums the input gradient needs.
            g_sum = ns.sum(g, dims, keepdim=True)
            gx_sum = ns.sum(g * xhat, dims, keepdim=True)
            if has_weight and needs[1]:
                gw = _param_grad(ns, gx_sum, params, dims, saved[1].shape)
            if has_bias and needs[-1]:
                gb = _param_grad(ns, g_sum, params, dims, params["bias_shape"])
            gx = None
            if needs[0]:
                k = invstd * (1.0 / params["count"])
                if w is not None:
                    k = k * w
                gx = g * params["count"] - xhat * gx_sum
                if params["center"]:
                    gx = gx - g_sum
                gx = gx * k
        else:
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
        if not (has_weight or has_bias):
            return gx
        return (gx,) + ((gw,) if has_weight else ()) + ((gb,) if has_bias else ())

    @staticmethod
    def jvp(ns, ts, xs, out, params):
        x, dims = xs[0], params["dims"]
        xhat, invstd = _xhat(ns, x, params)
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
    dims). The caller has checked shapes
    and dtypes. When `moments_out` is a list, the batch mean (None without centering) and biased
    variance, as arrays of keepdim shape, are appended to it (for running statistics)."""
    x = input.data
    ndim = x.ndim
    if eps is None:
        eps = _machine_eps(x.dtype)
    count = 1
    for d in dims:
        count *= x.shape[d]
    mean, var = moments(x, dims, center)
    invstd = 1.0 / np.sqrt(var + eps)
    if moments_out is not None:
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
        invstd=invstd.astype(x.dtype, copy=False),
    )
