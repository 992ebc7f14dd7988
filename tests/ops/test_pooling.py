"""Pooling ops: specs for the primitives (max_pool2d, adaptive_max_pool2d) and the composites,
torch parity over a grid of settings (ties and NaNs included), errors."""

import itertools

import numpy as np
import pytest

import retrograd as rg

from .harness import OpSpec, distinct, parametrize


# ------------------------------------------------------------------------- NumPy references
def _pair(v):
    return (v, v) if isinstance(v, int) else tuple(v)


def ref_max_pool2d(x, kernel_size, stride=None, padding=0, dilation=1, ceil_mode=False):
    """Direct definition: one window per output pixel, padding never picked."""
    (kh, kw), (ph, pw), (dh, dw) = _pair(kernel_size), _pair(padding), _pair(dilation)
    sh, sw = _pair(kernel_size if stride is None else stride)
    n, c, h, w = x.shape
    oh, ow = (_out(h, kh, sh, ph, dh, ceil_mode), _out(w, kw, sw, pw, dw, ceil_mode))
    out = np.empty((n, c, oh, ow))
    for r, s in itertools.product(range(oh), range(ow)):
        rows = [r * sh - ph + i * dh for i in range(kh)]
        cols = [s * sw - pw + j * dw for j in range(kw)]
        rows = [i for i in rows if 0 <= i < h]
        cols = [j for j in cols if 0 <= j < w]
        out[:, :, r, s] = x[:, :, rows][:, :, :, cols].max(axis=(2, 3))
    return out


def ref_avg_pool2d(x, kernel_size, stride=None, padding=0, ceil_mode=False,
                   count_include_pad=True, divisor_override=None):
    (kh, kw), (ph, pw) = _pair(kernel_size), _pair(padding)
    sh, sw = _pair(kernel_size if stride is None else stride)
    n, c, h, w = x.shape
    oh, ow = _out(h, kh, sh, ph, 1, ceil_mode), _out(w, kw, sw, pw, 1, ceil_mode)
    out = np.empty((n, c, oh, ow))
    for r, s in itertools.product(range(oh), range(ow)):
        r0, s0 = r * sh - ph, s * sw - pw
        r1, s1 = min(r0 + kh, h + ph), min(s0 + kw, w + pw)
        count = (r1 - r0) * (s1 - s0)
        r0, s0, r1, s1 = max(r0, 0), max(s0, 0), min(r1, h), min(s1, w)
        if not count_include_pad:
            count = (r1 - r0) * (s1 - s0)
        total = x[:, :, r0:r1, s0:s1].sum(axis=(2, 3))
        out[:, :, r, s] = total / (divisor_override or count)
    return out


def ref_adaptive(x, output_size, reduce):
    n, c, h, w = x.shape
    oh, ow = _pair(output_size)
    out = np.empty((n, c, oh, ow))
    for r, s in itertools.product(range(oh), range(ow)):
        r0, r1 = (r * h) // oh, -(-((r + 1) * h) // oh)
        s0, s1 = (s * w) // ow, -(-((s + 1) * w) // ow)
        out[:, :, r, s] = reduce(x[:, :, r0:r1, s0:s1], axis=(2, 3))
    return out


def _out(size, k, s, p, d, ceil_mode):
    span = size + 2 * p - d * (k - 1) - 1
    out = (-(-span // s) if ceil_mode else span // s) + 1
    if ceil_mode and (out - 1) * s >= size + p:
        out -= 1
    return out


def _spec(op, fn, ref, shape, name, domain=distinct):
    return OpSpec(op, fn, ref, [(shape,)], domain=domain, name=name)


SPECS = [
    _spec("max_pool2d", lambda x: rg.max_pool2d(x, 2), lambda x: ref_max_pool2d(x, 2),
          (2, 2, 4, 6), "max_pool2d"),
    _spec("max_pool2d", lambda x: rg.max_pool2d(x, 3, 2, 1),
          lambda x: ref_max_pool2d(x, 3, 2, 1), (2, 2, 5, 5), "max_pool2d_overlap_padding"),
    _spec("max_pool2d", lambda x: rg.max_pool2d(x, (2, 3), (2, 1), dilation=(2, 1),
                                                ceil_mode=True),
          lambda x: ref_max_pool2d(x, (2, 3), (2, 1), 0, (2, 1), True), (1, 2, 6, 5),
          "max_pool2d_dilation_ceil"),
    _spec("max_pool2d", lambda x: rg.max_pool1d(x, 3, 2, 1),
          lambda x: ref_max_pool2d(x[:, :, None], (1, 3), (1, 2), (0, 1))[:, :, 0], (2, 3, 7),
          "max_pool1d"),
    _spec("adaptive_max_pool2d", lambda x: rg.adaptive_max_pool2d(x, (2, 3)),
          lambda x: ref_adaptive(x, (2, 3), np.max), (2, 2, 5, 5), "adaptive_max_pool2d"),
    _spec("adaptive_max_pool2d", lambda x: rg.adaptive_max_pool1d(x, 4),
          lambda x: ref_adaptive(x[:, :, None], (1, 4), np.max)[:, :, 0], (2, 2, 7),
          "adaptive_max_pool1d"),
    # composites: linear, so the checks cover them from any inputs
    _spec("conv2d", lambda x: rg.avg_pool2d(x, 3, 2, 1, ceil_mode=True),
          lambda x: ref_avg_pool2d(x, 3, 2, 1, True), (2, 2, 6, 5), "avg_pool2d"),
    _spec("conv2d", lambda x: rg.avg_pool2d(x, 2, 1, 1, count_include_pad=False),
          lambda x: ref_avg_pool2d(x, 2, 1, 1, count_include_pad=False), (1, 2, 4, 4),
          "avg_pool2d_exclude_pad"),
    _spec("matmul", lambda x: rg.adaptive_avg_pool2d(x, (2, 3)),
          lambda x: ref_adaptive(x, (2, 3), np.mean), (2, 2, 5, 4), "adaptive_avg_pool2d"),
]

PARAMS, IDS = parametrize(SPECS)


@pytest.mark.parametrize("spec,shapes,check", PARAMS, ids=IDS)
def test_spec(spec, shapes, check):
    check(spec, shapes)


# ------------------------------------------------------------------------- torch parity
torch = pytest.importorskip("torch")
F = torch.nn.functional

WINDOWS = [
    {"kernel_size": 2},
    {"kernel_size": 3, "stride": 2},
    {"kernel_size": 3, "stride": 2, "padding": 1},
    {"kernel_size": 3, "stride": 2, "ceil_mode": True},
    {"kernel_size": 2, "stride": 1},
    {"kernel_size": (2, 3), "stride": (1, 2), "padding": (1, 1)},
    {"kernel_size": 3, "stride": 2, "padding": 1, "ceil_mode": True},
    {"kernel_size": 4, "stride": 3, "padding": 2, "ceil_mode": True},
]


def _run(lib_fn, lib, x, kwargs, seed=0):
    """Output (and indices) of a pooling function and the input's gradient."""
    x = lib.tensor(x, requires_grad=True)
    result = lib_fn(x, **kwargs)
    out, indices = result if isinstance(result, tuple) else (result, None)
    g = np.random.default_rng(seed).standard_normal(tuple(out.shape))
    out.backward(lib.tensor(g))
    as_array = (lambda t: t.detach().numpy()) if lib is torch else (lambda t: t.data)
    return as_array(out), None if indices is None else as_array(indices), as_array(x.grad)


def _assert_same(x, torch_fn, rg_fn, kwargs):
    expected = _run(torch_fn, torch, x, kwargs)
    actual = _run(rg_fn, rg, x, kwargs)
    np.testing.assert_allclose(actual[0], expected[0], rtol=1e-12, atol=1e-12)
    if expected[1] is not None:
        np.testing.assert_array_equal(actual[1], expected[1])
        assert actual[1].dtype == np.int64
    np.testing.assert_allclose(actual[2], expected[2], rtol=1e-12, atol=1e-12)


@pytest.mark.parametrize("window", WINDOWS + [{"kernel_size": 3, "dilation": 2, "padding": 1},
                                              {"kernel_size": 2, "dilation": (1, 2)}], ids=str)
@pytest.mark.parametrize("ties", [False, True])
def test_max_pool2d_matches_torch(window, ties):
    rng = np.random.default_rng(0)
    x = rng.standard_normal((2, 3, 7, 8))
    if ties:  # few distinct values: the gradient must go to the first maximum only
        x = np.round(x)
    _assert_same(x, F.max_pool2d, rg.max_pool2d, {**window, "return_indices": True})


@pytest.mark.parametrize("window", [{"kernel_size": 2}, {"kernel_size": 3, "stride": 1},
                                    {"kernel_size": 3, "stride": 2, "padding": 1,
                                     "ceil_mode": True, "dilation": 2}], ids=str)
def test_max_pool1d_matches_torch(window):
    x = np.round(np.random.default_rng(1).standard_normal((2, 3, 11)))
    _assert_same(x, F.max_pool1d, rg.max_pool1d, {**window, "return_indices": True})


def test_max_pool_nan_and_infinity_match_torch():
    x = np.random.default_rng(2).standard_normal((1, 2, 6, 6))
    x[0, 0, 0, 1] = x[0, 0, 1, 0] = np.nan  # two NaNs in one window: torch picks the last
    x[0, 1, :3, :3] = -np.inf  # windows of -inf only: torch points at their first element
    for window in ({"kernel_size": 2}, {"kernel_size": 3, "stride": 2, "padding": 1}):
        expected = _run(F.max_pool2d, torch, x, {**window, "return_indices": True})
        actual = _run(rg.max_pool2d, rg, x, {**window, "return_indices": True})
        for a, e in zip(actual, expected):
            np.testing.assert_array_equal(a, e)


@pytest.mark.parametrize("window", WINDOWS, ids=str)
@pytest.mark.parametrize("count_include_pad", [True, False])
def test_avg_pool2d_matches_torch(window, count_include_pad):
    x = np.random.default_rng(3).standard_normal((2, 3, 7, 8))
    kwargs = {**window, "count_include_pad": count_include_pad}
    _assert_same(x, F.avg_pool2d, rg.avg_pool2d, kwargs)
    _assert_same(x, F.avg_pool2d, rg.avg_pool2d, {**kwargs, "divisor_override": 5})


@pytest.mark.parametrize("window", [{"kernel_size": 2}, {"kernel_size": 3, "stride": 2,
                                                          "padding": 1, "ceil_mode": True}],
                         ids=str)
def test_avg_pool1d_matches_torch(window):
    x = np.random.default_rng(4).standard_normal((2, 3, 10))
    for count_include_pad in (True, False):
        _assert_same(x, F.avg_pool1d, rg.avg_pool1d,
                     {**window, "count_include_pad": count_include_pad})


@pytest.mark.parametrize("output_size", [1, 2, 3, (2, 5), (4, 3), (7, 8), (9, 11), (None, 3)],
                         ids=str)
def test_adaptive_pool2d_matches_torch(output_size):
    x = np.round(np.random.default_rng(5).standard_normal((2, 3, 7, 8)), 1)  # with ties
    _assert_same(x, F.adaptive_avg_pool2d, rg.adaptive_avg_pool2d, {"output_size": output_size})
    _assert_same(x, F.adaptive_max_pool2d, rg.adaptive_max_pool2d,
                 {"output_size": output_size, "return_indices": True})


@pytest.mark.parametrize("output_size", [1, 2, 4, 9, 13])
def test_adaptive_pool1d_matches_torch(output_size):
    x = np.round(np.random.default_rng(6).standard_normal((2, 3, 9)), 1)
    _assert_same(x, F.adaptive_avg_pool1d, rg.adaptive_avg_pool1d, {"output_size": output_size})
    _assert_same(x, F.adaptive_max_pool1d, rg.adaptive_max_pool1d,
                 {"output_size": output_size, "return_indices": True})


@pytest.mark.parametrize("norm_type", [1, 2, 3.5])
def test_lp_pool_matches_torch(norm_type):
    x = np.abs(np.random.default_rng(7).standard_normal((2, 3, 7, 8))) + 0.1
    _assert_same(x, F.lp_pool2d, rg.lp_pool2d,
                 {"norm_type": norm_type, "kernel_size": (2, 3), "stride": 2})
    _assert_same(x[:, :, 0], F.lp_pool1d, rg.lp_pool1d,
                 {"norm_type": norm_type, "kernel_size": 3, "ceil_mode": True})


def test_unbatched_inputs_match_torch():
    x = np.random.default_rng(8).standard_normal((3, 6, 6))
    _assert_same(x, F.max_pool2d, rg.max_pool2d, {"kernel_size": 2, "return_indices": True})
    _assert_same(x, F.avg_pool2d, rg.avg_pool2d, {"kernel_size": 3, "padding": 1})
    _assert_same(x, F.adaptive_max_pool2d, rg.adaptive_max_pool2d,
                 {"output_size": 4, "return_indices": True})
    _assert_same(x[0], F.max_pool1d, rg.max_pool1d, {"kernel_size": 2, "return_indices": True})


def test_max_pool_second_order_matches_torch():
    x = np.random.default_rng(9).standard_normal((1, 2, 5, 5))
    results = []
    for lib in (torch, rg):
        t = lib.tensor(x, requires_grad=True)
        y = lib.nn.functional.max_pool2d(t * t, 3, 1) if lib is torch else \
            rg.max_pool2d(t * t, 3, 1)
        (g,) = lib.autograd.grad((y * y).sum(), t, create_graph=True)
        (g * g).sum().backward()
        results.append(t.grad.detach().numpy() if lib is torch else t.grad.data)
    np.testing.assert_allclose(results[1], results[0], rtol=1e-10)


def test_indices_without_graph():
    x = rg.tensor(np.arange(16.0).reshape(1, 1, 4, 4))
    with rg.no_grad():
        out, indices = rg.max_pool2d(x, 2, return_indices=True)
        _, adaptive = rg.adaptive_max_pool2d(x, 3, return_indices=True)
    assert indices.tolist() == [[[[5, 7], [13, 15]]]]
    assert adaptive.tolist() == [[[[5, 6, 7], [9, 10, 11], [13, 14, 15]]]]


def test_empty_batch():
    x = rg.zeros(0, 3, 8, 8, requires_grad=True)
    for fn in (lambda t: rg.max_pool2d(t, 2), lambda t: rg.max_pool2d(t, 3, 1),
               lambda t: rg.avg_pool2d(t, 2), lambda t: rg.adaptive_avg_pool2d(t, 3),
               lambda t: rg.adaptive_max_pool2d(t, 3)):
        x.grad = None
        y = fn(x)
        y.sum().backward()
        assert y.shape[:2] == (0, 3) and x.grad.shape == (0, 3, 8, 8)


def test_float32_stays_float32():
    x = rg.randn(2, 3, 8, 8, requires_grad=True)
    for y in (rg.max_pool2d(x, 2), rg.avg_pool2d(x, 2), rg.adaptive_avg_pool2d(x, 3),
              rg.adaptive_max_pool2d(x, 3)):
        y.sum().backward()
        assert y.dtype == rg.float32 and x.grad.dtype == rg.float32


# ------------------------------------------------------------------------- errors
@pytest.mark.parametrize("call,message", [
    (lambda: rg.max_pool2d(rg.ones(4, 4), 2),
     r"max_pool2d: expected input of shape \(N, C, H, W\) or \(C, H, W\), got shape \(4, 4\)"),
    (lambda: rg.max_pool2d(rg.ones(1, 1, 4, 4), 2, padding=2),
     r"max_pool2d: padding \(2, 2\) must be non-negative and at most half"),
    (lambda: rg.max_pool2d(rg.ones(1, 1, 2, 2), 3),
     r"max_pool2d: the window \(3, 3\) .* is larger than the input of spatial size \(2, 2\)"),
    (lambda: rg.avg_pool1d(rg.ones(1, 2, 5), 0), r"avg_pool1d: kernel_size must be positive"),
    (lambda: rg.adaptive_avg_pool2d(rg.ones(1, 2, 5, 5), (2, 2, 2)),
     r"adaptive_avg_pool2d: expected output_size as an int or 2 ints"),
    (lambda: rg.adaptive_max_pool1d(rg.ones(1, 2, 5), 0),
     r"adaptive_max_pool1d: output_size must be positive"),
])
def test_errors_name_the_op_and_shapes(call, message):
    with pytest.raises(ValueError, match=message):
        call()
