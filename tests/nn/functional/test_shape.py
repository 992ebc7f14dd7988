"""nn.functional resampling and reshaping (src/retrograd/nn/functional/_shape.py): values and
gradients against PyTorch for every interpolate mode, size/scale_factor/align_corners variant;
pad modes; pixel_shuffle; errors."""

import numpy as np
import pytest

import retrograd as rg

F = rg.nn.functional

# (mode, input rank, align_corners options)
MODES = [
    ("nearest", 3, [None]), ("nearest", 4, [None]), ("nearest", 5, [None]),
    ("nearest-exact", 3, [None]), ("nearest-exact", 4, [None]),
    ("area", 3, [None]), ("area", 4, [None]),
    ("linear", 3, [None, True]), ("bilinear", 4, [None, True]),
    ("bicubic", 4, [None, True]), ("trilinear", 5, [None, True]),
]
SIZES = [
    {"size": 7}, {"size": 2}, {"scale_factor": 2.0}, {"scale_factor": 1.7},
    {"scale_factor": 0.5}, {"scale_factor": 1.7, "recompute_scale_factor": True},
]


def _compare(torch, fn, data, rtol=1e-12):
    rng = np.random.default_rng(1)
    x, tx = rg.tensor(data, requires_grad=True), torch.tensor(data, requires_grad=True)
    out, expected = fn(rg, x), fn(torch, tx)
    assert out.shape == tuple(expected.shape)
    np.testing.assert_allclose(out.data, expected.detach().numpy(), rtol=rtol, atol=1e-12)
    w = rng.standard_normal(out.shape)
    (out * rg.tensor(w)).sum().backward()
    (expected * torch.tensor(w)).sum().backward()
    np.testing.assert_allclose(x.grad.data, tx.grad.numpy(), rtol=rtol, atol=1e-12)


@pytest.mark.parametrize("mode,rank,corners", MODES, ids=[f"{m}-{r}d" for m, r, _ in MODES])
def test_interpolate_matches_torch(torch, mode, rank, corners):
    data = np.random.default_rng(0).standard_normal((2, 2) + (5,) * (rank - 2))
    for kwargs in SIZES:
        for align_corners in corners:
            def fn(lib, x, kwargs=kwargs, align_corners=align_corners):
                functional = lib.nn.functional
                return functional.interpolate(x, mode=mode, align_corners=align_corners,
                                              **kwargs)

            _compare(torch, fn, data)


@pytest.mark.filterwarnings("ignore:`nn.functional.upsample_bilinear` is deprecated")
def test_interpolate_per_dim_sizes_and_float32(torch):
    data = np.random.default_rng(0).standard_normal((1, 2, 4, 6)).astype(np.float32)
    for kwargs in [{"size": (3, 9)}, {"scale_factor": (1.5, 0.5)}]:
        for mode in ["nearest", "bilinear"]:
            out = F.interpolate(rg.tensor(data), mode=mode, **kwargs)
            expected = torch.nn.functional.interpolate(torch.tensor(data), mode=mode, **kwargs)
            assert out.dtype == rg.float32
            np.testing.assert_allclose(out.data, expected.numpy(), rtol=1e-6, atol=1e-6)
    out = F.upsample_bilinear(rg.tensor(data), scale_factor=2)
    expected = torch.nn.functional.upsample_bilinear(torch.tensor(data), scale_factor=2)
    np.testing.assert_allclose(out.data, expected.numpy(), rtol=1e-6, atol=1e-6)


def test_interpolate_errors():
    x = rg.ones(1, 1, 4, 4)
    with pytest.raises(NotImplementedError, match="interpolate: got a 4D input .* 'linear'"):
        F.interpolate(x, size=2, mode="linear")
    with pytest.raises(ValueError, match="align_corners can only be set"):
        F.interpolate(x, size=2, mode="nearest", align_corners=True)
    with pytest.raises(ValueError, match="exactly one of size and scale_factor"):
        F.interpolate(x)
    with pytest.raises(ValueError, match=r"interpolate: size \(2, 3, 4\) must have one entry"):
        F.interpolate(x, size=(2, 3, 4))
    with pytest.raises(ValueError, match="unknown mode 'cubic'"):
        F.interpolate(x, size=2, mode="cubic")


@pytest.mark.parametrize("mode", ["constant", "reflect", "replicate", "circular"])
def test_pad_matches_torch(torch, mode):
    data = np.random.default_rng(0).standard_normal((2, 3, 4, 5))
    # PyTorch takes non-constant padding of the last 1 dim of 2-3D inputs, 2 dims of 3-4D ...
    for widths, x in [((1, 2), data[0]), ((2, 1, 0, 3), data)]:
        _compare(torch, lambda lib, x, w=widths: lib.nn.functional.pad(x, w, mode=mode), x)
    if mode == "constant":
        _compare(torch, lambda lib, x: lib.nn.functional.pad(x, (1, -1, 2, 0), value=-1.5),
                 data)


def test_pixel_shuffle_round_trip_matches_torch(torch):
    data = np.random.default_rng(0).standard_normal((2, 8, 3, 5))
    _compare(torch, lambda lib, x: lib.nn.functional.pixel_shuffle(x, 2), data)
    _compare(torch, lambda lib, x: lib.nn.functional.pixel_unshuffle(x, 1), data)
    wide = np.random.default_rng(0).standard_normal((3, 2, 4, 6))
    _compare(torch, lambda lib, x: lib.nn.functional.pixel_unshuffle(x, 2), wide)
    x = rg.tensor(data)
    np.testing.assert_array_equal(F.pixel_unshuffle(F.pixel_shuffle(x, 2), 2).data, data)
    with pytest.raises(RuntimeError, match=r"pixel_shuffle: expected an input of shape"):
        F.pixel_shuffle(rg.ones(1, 3, 2, 2), 2)


def test_distance_functions_are_reexported(torch):
    a, b = np.random.default_rng(0).standard_normal((2, 3, 4))
    _compare(torch, lambda lib, x: lib.nn.functional.cosine_similarity(x, x.flip(0) + 1), a)
    _compare(torch, lambda lib, x: lib.nn.functional.pairwise_distance(x, x * 2, p=3), b)
    _compare(torch, lambda lib, x: lib.nn.functional.pdist(x), b)


@pytest.mark.parametrize("align_corners", [False, True])
def test_affine_grid_matches_torch(torch, align_corners):
    rng = np.random.default_rng(0)
    for theta_shape, size in [((2, 2, 3), (2, 3, 4, 5)), ((2, 3, 4), (2, 1, 3, 4, 5))]:
        _compare(torch, lambda lib, t, size=size: lib.nn.functional.affine_grid(
            t, size, align_corners=align_corners), rng.standard_normal(theta_shape))


@pytest.mark.parametrize("padding_mode", ["zeros", "border", "reflection"])
@pytest.mark.parametrize("mode", ["bilinear", "nearest"])
@pytest.mark.parametrize("align_corners", [False, True])
def test_grid_sample_matches_torch_in_input_and_grid(torch, mode, padding_mode, align_corners):
    rng = np.random.default_rng(1)
    image = rng.standard_normal((2, 3, 4, 5))
    grid = rng.uniform(-1.3, 1.3, (2, 3, 6, 2))  # some positions fall outside
    x, tx = rg.tensor(image, requires_grad=True), torch.tensor(image, requires_grad=True)
    g, tg = rg.tensor(grid, requires_grad=True), torch.tensor(grid, requires_grad=True)
    kwargs = {"mode": mode, "padding_mode": padding_mode, "align_corners": align_corners}
    out = F.grid_sample(x, g, **kwargs)
    expected = torch.nn.functional.grid_sample(tx, tg, **kwargs)
    np.testing.assert_allclose(out.data, expected.detach().numpy(), rtol=1e-12, atol=1e-12)
    w = rng.standard_normal(out.shape)
    (out * rg.tensor(w)).sum().backward()
    (expected * torch.tensor(w)).sum().backward()
    np.testing.assert_allclose(x.grad.data, tx.grad.numpy(), rtol=1e-12, atol=1e-12)
    if mode == "bilinear":
        np.testing.assert_allclose(g.grad.data, tg.grad.numpy(), rtol=1e-10, atol=1e-12)
    else:
        assert g.grad is None and not tg.grad.any()


def test_spatial_transformer_identity_round_trip():
    image = rg.tensor(np.random.default_rng(0).standard_normal((1, 2, 3, 4)))
    identity = rg.tensor([[[1.0, 0.0, 0.0], [0.0, 1.0, 0.0]]], dtype=rg.float64)
    grid = F.affine_grid(identity, (1, 2, 3, 4), align_corners=False)
    np.testing.assert_allclose(F.grid_sample(image, grid, align_corners=False).data, image.data,
                               atol=1e-12)
    with pytest.raises(NotImplementedError, match="grid_sample: mode 'bicubic'"):
        F.grid_sample(image, grid, mode="bicubic")
    with pytest.raises(ValueError, match=r"affine_grid: expected theta of shape \(N, 3, 4\)"):
        F.affine_grid(identity, (1, 2, 3, 4, 5))
