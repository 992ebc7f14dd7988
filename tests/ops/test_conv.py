"""Convolution ops: specs (forward against a direct NumPy reference, gradients against finite
differences, forward mode, second order), torch parity over a grid of settings, errors."""

import itertools

import numpy as np
import pytest

import retrograd as rg
from retrograd.ops.conv import conv2d_weight

from .harness import OpSpec, parametrize


# ------------------------------------------------------------------------- NumPy references
def _pair(v):
    return (v, v) if isinstance(v, int) else tuple(v)


def ref_conv2d(x, w, b=None, stride=1, padding=0, dilation=1, groups=1):
    """Direct definition: out[n, o, h, w] = sum over (c, i, j) of the padded input under each
    dilated tap times the weight; one loop iteration per output pixel and group."""
    (sh, sw), (ph, pw), (dh, dw) = _pair(stride), _pair(padding), _pair(dilation)
    n, c, height, width = x.shape
    o, cg, kh, kw = w.shape
    xp = np.pad(x, ((0, 0), (0, 0), (ph, ph), (pw, pw)))
    oh = (height + 2 * ph - dh * (kh - 1) - 1) // sh + 1
    ow = (width + 2 * pw - dw * (kw - 1) - 1) // sw + 1
    og = o // groups
    out = np.zeros((n, o, oh, ow))
    for g, r, s in itertools.product(range(groups), range(oh), range(ow)):
        patch = xp[:, g * cg : (g + 1) * cg, r * sh : r * sh + dh * (kh - 1) + 1 : dh,
                   s * sw : s * sw + dw * (kw - 1) + 1 : dw]
        out[:, g * og : (g + 1) * og, r, s] = np.einsum("ncij,ocij->no", patch,
                                                         w[g * og : (g + 1) * og])
    if b is not None:
        out += b.reshape(-1, 1, 1)
    return out


def ref_conv_transpose2d(x, w, b=None, stride=1, padding=0, output_padding=0, groups=1,
                         dilation=1):
    """Direct definition: each input pixel scatters its weighted kernel into the output."""
    (sh, sw), (ph, pw) = _pair(stride), _pair(padding)
    (oph, opw), (dh, dw) = _pair(output_padding), _pair(dilation)
    n, c, height, width = x.shape
    _, og, kh, kw = w.shape
    cg = c // groups
    full_h = (height - 1) * sh + dh * (kh - 1) + 1 + oph
    full_w = (width - 1) * sw + dw * (kw - 1) + 1 + opw
    out = np.zeros((n, og * groups, full_h, full_w))
    for g, r, s in itertools.product(range(groups), range(height), range(width)):
        contrib = np.einsum("nc,coij->noij", x[:, g * cg : (g + 1) * cg, r, s],
                            w[g * cg : (g + 1) * cg])
        out[:, g * og : (g + 1) * og, r * sh : r * sh + dh * (kh - 1) + 1 : dh,
            s * sw : s * sw + dw * (kw - 1) + 1 : dw] += contrib
    out = out[:, :, ph : full_h - ph, pw : full_w - pw]
    if b is not None:
        out += b.reshape(-1, 1, 1)
    return out


def ref_conv2d_weight(x, g, weight_size, stride=1, padding=0, dilation=1, groups=1):
    """d<conv2d(x, w), g>/dw, by linearity: the weight gradient is <conv2d(x, e_k), g> for each
    unit weight e_k."""
    out = np.zeros(weight_size)
    for k in np.ndindex(*weight_size):
        e = np.zeros(weight_size)
        e[k] = 1.0
        y = ref_conv2d(x, e, None, stride, padding, dilation, groups)
        out[k] = np.sum(y[:, :, : g.shape[2], : g.shape[3]] * g)
    return out


def _conv_spec(shapes, name, **kw):
    bias = len(shapes) == 3
    if bias:
        def fn(x, w, b):
            return rg.conv2d(x, w, b, **kw)
    else:
        def fn(x, w):
            return rg.conv2d(x, w, **kw)

    def ref(*arrays):
        return ref_conv2d(*arrays, **kw)

    return OpSpec("conv2d", fn, ref, [shapes], name=name)


def _transpose_spec(shapes, name, **kw):
    def fn(*tensors):
        return rg.conv_transpose2d(*tensors, **kw)

    def ref(*arrays):
        return ref_conv_transpose2d(*arrays, **kw)

    return OpSpec("conv_transpose2d", fn, ref, [shapes], name=name)


def _weight_spec(x_shape, g_shape, weight_size, name, **kw):
    def fn(x, g):
        return conv2d_weight(x, weight_size, g, **kw)

    def ref(x, g):
        return ref_conv2d_weight(x, g, weight_size, **kw)

    return OpSpec("conv2d_weight", fn, ref, [(x_shape, g_shape)], name=name)


def _conv1d(x, w, b):
    return rg.conv1d(x, w, b, stride=2, padding=1)


def _conv1d_ref(x, w, b):
    return ref_conv2d(x[:, :, None], w[:, :, None], b, (1, 2), (0, 1))[:, :, 0]


SPECS = [
    _conv_spec(((2, 2, 5, 5), (3, 2, 3, 3), (3,)), "conv2d"),
    _conv_spec(((2, 2, 5, 5), (3, 2, 3, 3)), "conv2d_no_bias"),
    _conv_spec(((2, 2, 5, 6), (3, 2, 2, 3), (3,)), "conv2d_stride_padding", stride=2,
               padding=(1, 2)),
    _conv_spec(((1, 2, 6, 5), (2, 2, 2, 2)), "conv2d_dilation", dilation=(2, 1), padding=1),
    _conv_spec(((2, 4, 5, 5), (4, 2, 3, 3)), "conv2d_groups", groups=2, stride=(1, 2)),
    OpSpec("conv2d", lambda x, w: rg.conv2d(x, w, padding="same"),
           lambda x, w: ref_conv2d(np.pad(x, ((0, 0), (0, 0), (0, 1), (0, 1))), w),
           [((1, 2, 4, 5), (2, 2, 2, 2))], name="conv2d_same_even_kernel"),
    _conv_spec(((2, 3, 3, 3), (2, 3, 1, 1), (2,)), "conv2d_1x1"),
    OpSpec("conv2d", _conv1d, _conv1d_ref, [((2, 2, 7), (3, 2, 3), (3,))], name="conv1d"),
    _transpose_spec(((2, 2, 3, 3), (2, 3, 3, 3), (3,)), "conv_transpose2d"),
    _transpose_spec(((2, 2, 3, 4), (2, 2, 2, 3)), "conv_transpose2d_stride_output_padding",
                    stride=2, padding=1, output_padding=1),
    _transpose_spec(((1, 4, 3, 3), (4, 1, 2, 2)), "conv_transpose2d_groups_dilation",
                    groups=2, dilation=2),
    _transpose_spec(((1, 2, 3, 3), (2, 2, 2, 2)), "conv_transpose2d_output_padding_dilation",
                    stride=(1, 2), dilation=3, output_padding=(2, 1)),
    _weight_spec((2, 2, 5, 5), (2, 3, 3, 3), (3, 2, 3, 3), "conv2d_weight"),
    _weight_spec((2, 4, 5, 6), (2, 2, 3, 3), (2, 2, 2, 2), "conv2d_weight_groups_stride",
                 stride=2, padding=1, groups=2),
    _weight_spec((1, 2, 6, 6), (1, 2, 2, 3), (2, 2, 3, 2), "conv2d_weight_dilation_short_grad",
                 dilation=2),
]

PARAMS, IDS = parametrize(SPECS)


@pytest.mark.parametrize("spec,shapes,check", PARAMS, ids=IDS)
def test_spec(spec, shapes, check):
    check(spec, shapes)


# ------------------------------------------------------------------------- torch parity
torch = pytest.importorskip("torch")
F = torch.nn.functional

CONV_SETTINGS = [
    {},
    {"stride": 2},
    {"padding": 1},
    {"stride": (2, 3), "padding": (2, 1)},
    {"dilation": 2},
    {"dilation": (2, 1), "padding": 1, "stride": 2},
    {"padding": "same"},
    {"padding": "same", "dilation": 2},
    {"padding": "valid"},
]
KERNELS = [(3, 3), (2, 4), (1, 1), (4, 2)]


def _torch_pair(arrays):
    return ([torch.tensor(a, requires_grad=True) for a in arrays],
            [rg.tensor(a, requires_grad=True) for a in arrays])


def _compare(t_out, r_out, t_inputs, r_inputs, seed=0):
    """Forward values and the gradient of every input for a random output gradient."""
    assert tuple(r_out.shape) == tuple(t_out.shape)
    np.testing.assert_allclose(r_out.data, t_out.detach().numpy(), rtol=1e-10, atol=1e-10)
    g = np.random.default_rng(seed).standard_normal(tuple(t_out.shape))
    t_out.backward(torch.tensor(g))
    r_out.backward(rg.tensor(g))
    for i, (t, r) in enumerate(zip(t_inputs, r_inputs)):
        np.testing.assert_allclose(r.grad.data, t.grad.numpy(), rtol=1e-10, atol=1e-10,
                                   err_msg=f"gradient of input {i}")


@pytest.mark.filterwarnings("ignore:Using padding='same'")  # torch's note on a padded copy
@pytest.mark.parametrize("settings", CONV_SETTINGS, ids=str)
@pytest.mark.parametrize("kernel", KERNELS, ids=str)
@pytest.mark.parametrize("groups", [1, 2])
def test_conv2d_matches_torch(settings, kernel, groups):
    rng = np.random.default_rng(0)
    arrays = [rng.standard_normal((2, 4, 7, 8)), rng.standard_normal((6, 4 // groups) + kernel),
              rng.standard_normal(6)]
    t, r = _torch_pair(arrays)
    _compare(F.conv2d(*t, groups=groups, **settings), rg.conv2d(*r, groups=groups, **settings),
             t, r)


@pytest.mark.parametrize("settings", [{}, {"stride": 2, "padding": 1}, {"dilation": 2},
                                      {"padding": "same"}, {"padding": "same", "dilation": 3}],
                         ids=str)
@pytest.mark.parametrize("kernel", [1, 2, 3])
def test_conv1d_matches_torch(settings, kernel):
    rng = np.random.default_rng(1)
    arrays = [rng.standard_normal((2, 3, 9)), rng.standard_normal((4, 3, kernel)),
              rng.standard_normal(4)]
    t, r = _torch_pair(arrays)
    _compare(F.conv1d(*t, **settings), rg.conv1d(*r, **settings), t, r)


TRANSPOSE_SETTINGS = [
    {},
    {"stride": 2},
    {"padding": 1},
    {"stride": 2, "output_padding": 1},
    {"stride": (3, 2), "padding": (2, 1), "output_padding": (2, 1)},
    {"dilation": 2, "padding": 1},
    {"dilation": 3, "stride": 2, "output_padding": 2},  # output_padding >= stride
    {"groups": 2, "stride": 2},
]


@pytest.mark.parametrize("settings", TRANSPOSE_SETTINGS, ids=str)
@pytest.mark.parametrize("kernel", [(3, 3), (2, 3), (1, 1)], ids=str)
def test_conv_transpose2d_matches_torch(settings, kernel):
    rng = np.random.default_rng(2)
    groups = settings.get("groups", 1)
    arrays = [rng.standard_normal((2, 4, 5, 6)), rng.standard_normal((4, 6 // groups) + kernel),
              rng.standard_normal(6)]
    t, r = _torch_pair(arrays)
    _compare(F.conv_transpose2d(*t, **settings), rg.conv_transpose2d(*r, **settings), t, r)


@pytest.mark.parametrize("settings", [{}, {"stride": 3, "padding": 1, "output_padding": 2},
                                      {"dilation": 2, "groups": 2}], ids=str)
def test_conv_transpose1d_matches_torch(settings):
    rng = np.random.default_rng(3)
    arrays = [rng.standard_normal((2, 4, 6)), rng.standard_normal((4, 3, 3)),
              rng.standard_normal(3 * settings.get("groups", 1))]
    t, r = _torch_pair(arrays)
    _compare(F.conv_transpose1d(*t, **settings), rg.conv_transpose1d(*r, **settings), t, r)


def test_unbatched_input_matches_torch():
    rng = np.random.default_rng(4)
    arrays = [rng.standard_normal((3, 6, 6)), rng.standard_normal((2, 3, 3, 3))]
    t, r = _torch_pair(arrays)
    _compare(F.conv2d(*t, padding=1), rg.conv2d(*r, padding=1), t, r)
    t, r = _torch_pair([rng.standard_normal((3, 6)), rng.standard_normal((3, 2, 2))])
    _compare(F.conv_transpose1d(*t, stride=2), rg.conv_transpose1d(*r, stride=2), t, r)


def test_second_order_matches_torch():
    """d/dx of |dL/dw|^2 through conv2d: the double backward of every conv primitive."""
    rng = np.random.default_rng(5)
    arrays = [rng.standard_normal((2, 2, 6, 5)), rng.standard_normal((3, 2, 3, 2))]
    results = []
    for lib, conv in ((torch, F.conv2d), (rg, rg.conv2d)):
        x, w = (lib.tensor(a, requires_grad=True) for a in arrays)
        y = conv(x, w, stride=2, padding=1)
        gx, gw = lib.autograd.grad((y * y).sum(), (x, w), create_graph=True)
        ((gw * gw).sum() + (gx * gx).sum()).backward()
        results.append((x.grad, w.grad))
    for t, r in zip(*results):
        np.testing.assert_allclose(r.data, t.numpy(), rtol=1e-9)


@pytest.mark.parametrize("settings", [{}, {"stride": 2, "padding": 1}, {"groups": 2}], ids=str)
def test_batch_chunks_match_torch(monkeypatch, settings):
    """The kernels split the batch into chunks of ~CHUNK_BYTES of columns: one sample each here."""
    from retrograd.autograd import _array_conv

    monkeypatch.setattr(_array_conv, "CHUNK_BYTES", 1)
    rng = np.random.default_rng(6)
    arrays = [rng.standard_normal((5, 4, 7, 6)), rng.standard_normal((6, 2, 3, 3)),
              rng.standard_normal(6)]
    groups = settings.get("groups", 1)
    if groups == 1:
        arrays[1] = rng.standard_normal((6, 4, 3, 3))
    t, r = _torch_pair(arrays)
    _compare(F.conv2d(*t, **settings), rg.conv2d(*r, **settings), t, r)
    t, r = _torch_pair([arrays[0], rng.standard_normal((4, 6 // groups, 3, 3)), arrays[2]])
    _compare(F.conv_transpose2d(*t, **settings), rg.conv_transpose2d(*r, **settings), t, r)


def test_results_own_their_memory():
    """The kernels reuse scratch buffers for temporaries: no result may be one of them."""
    rng = np.random.default_rng(7)
    x = rg.tensor(rng.standard_normal((2, 3, 6, 6)))
    w = rg.tensor(rng.standard_normal((4, 3, 3, 3)))
    results = [rg.conv2d(x, w, padding=1), rg.conv_transpose2d(x, w.transpose(0, 1)),
               *rg.max_pool2d(x, 2, padding=1, return_indices=True),
               *rg.adaptive_max_pool2d(x, 4, return_indices=True)]
    snapshots = [r.numpy().copy() for r in results]
    for _ in range(2):  # the same shapes again, other values: the same scratch buffers
        y = rg.tensor(rng.standard_normal((2, 3, 6, 6)), requires_grad=True)
        out = rg.conv2d(y, w, padding=1).sum() + rg.max_pool2d(y, 2, padding=1).sum()
        out = out + rg.conv_transpose2d(y, w.transpose(0, 1)).sum()
        (out + rg.adaptive_max_pool2d(y, 4).sum()).backward()
    for r, snapshot in zip(results, snapshots):
        np.testing.assert_array_equal(r.numpy(), snapshot)


def test_float32_stays_float32():
    x = rg.randn(2, 3, 8, 8, requires_grad=True)
    w = rg.randn(4, 3, 3, 3, requires_grad=True)
    y = rg.conv2d(x, w, padding=1)
    y.sum().backward()
    assert y.dtype == rg.float32 and x.grad.dtype == rg.float32 and w.grad.dtype == rg.float32


def test_empty_batch():
    x = rg.zeros(0, 2, 5, 5, requires_grad=True)
    w = rg.randn(3, 2, 3, 3, requires_grad=True)
    y = rg.conv2d(x, w)
    y.sum().backward()
    assert y.shape == (0, 3, 3, 3) and w.grad.shape == (3, 2, 3, 3)
    assert not w.grad.data.any()


# ------------------------------------------------------------------------- errors
@pytest.mark.parametrize("call,message", [
    (lambda: rg.conv2d(rg.ones(8, 1, 28, 28), rg.ones(6, 3, 5, 5)),
     r"conv2d: weight of shape \(6, 3, 5, 5\) with groups=1 expects input with 3 channels.*"
     r"\(8, 1, 28, 28\)"),
    (lambda: rg.conv2d(rg.ones(1, 3, 4, 4), rg.ones(2, 3, 5, 5)),
     r"conv2d: the \(dilated\) kernel \(5, 5\) is larger than the padded input \(4, 4\)"),
    (lambda: rg.conv2d(rg.ones(3, 4), rg.ones(2, 3, 1, 1)),
     r"conv2d: expected input of shape \(N, C, H, W\) or \(C, H, W\), got shape \(3, 4\)"),
    (lambda: rg.conv2d(rg.ones(1, 4, 5, 5), rg.ones(3, 2, 1, 1), groups=2),
     r"conv2d: in_channels \(4\) and out_channels \(3\) must both be divisible by groups"),
    (lambda: rg.conv2d(rg.ones(1, 2, 5, 5), rg.ones(3, 2, 1, 1), stride=2, padding="same"),
     r"conv2d: padding='same' is not supported for strided convolutions"),
    (lambda: rg.conv2d(rg.ones(1, 2, 5, 5), rg.ones(3, 2, 1, 1), padding="full"),
     r"conv2d: padding must be 'valid', 'same' or ints"),
    (lambda: rg.conv2d(rg.ones(1, 2, 5, 5), rg.ones(3, 2, 1, 1), rg.ones(2)),
     r"conv2d: expected a bias of shape \(3,\), got \(2,\)"),
    (lambda: rg.conv2d(rg.ones(1, 2, 5, 5), rg.ones(3, 2, 1, 1), stride=0),
     r"conv2d: stride must be positive"),
    (lambda: rg.conv1d(rg.ones(1, 2, 5), rg.ones(3, 2, 1, 1)),
     r"conv1d: expected a 3-D weight"),
    (lambda: rg.conv_transpose2d(rg.ones(1, 2, 3, 3), rg.ones(2, 1, 3, 3), stride=2,
                                 output_padding=2),
     r"conv_transpose2d: output_padding \(2, 2\) must be smaller than either stride"),
    (lambda: rg.conv_transpose2d(rg.ones(1, 3, 3, 3), rg.ones(2, 1, 3, 3)),
     r"conv_transpose2d: weight of shape \(2, 1, 3, 3\) with groups=1 expects input with 2 "
     r"channels"),
])
def test_errors_name_the_op_and_shapes(call, message):
    with pytest.raises(ValueError, match=message):
        call()


def test_dtype_errors():
    with pytest.raises(TypeError, match=r"conv2d: input \(float64\) and weight \(float32\)"):
        rg.conv2d(rg.ones(1, 2, 3, 3, dtype=rg.float64), rg.ones(1, 2, 1, 1))
    with pytest.raises(TypeError, match="conv2d: expected a floating point input"):
        rg.conv2d(rg.ones(1, 2, 3, 3, dtype=rg.int64), rg.ones(1, 2, 1, 1))
