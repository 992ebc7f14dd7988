"""Normalization layers and functions against PyTorch in float64: outputs, gradients with
respect to input, weight and bias, running statistics over several training steps, eval mode,
affine on and off, state dict names, reprs; errors that name the layer. Gradient checks of the
functions (first and second order) are in tests/ops/test_normalization.py."""

import numpy as np
import pytest

import retrograd as rg
from retrograd import nn
from retrograd.nn import functional as F

RNG = np.random.default_rng(0)

# (layer name, constructor args, constructor kwargs, input shape)
LAYERS = [
    ("BatchNorm1d", (3,), {}, (5, 3)),
    ("BatchNorm1d", (3,), {}, (4, 3, 6)),
    ("BatchNorm1d", (3,), {"momentum": None}, (5, 3, 2)),
    ("BatchNorm1d", (3,), {"affine": False}, (5, 3)),
    ("BatchNorm2d", (3,), {}, (4, 3, 2, 5)),
    ("BatchNorm2d", (3,), {"momentum": 0.5, "eps": 1e-3}, (4, 3, 2, 2)),
    ("BatchNorm2d", (3,), {"track_running_stats": False}, (4, 3, 2, 2)),
    ("BatchNorm2d", (3,), {"bias": False}, (2, 3, 3, 2)),
    ("BatchNorm3d", (2,), {}, (2, 2, 3, 2, 2)),
    ("InstanceNorm1d", (3,), {}, (4, 3, 5)),
    ("InstanceNorm1d", (3,), {"affine": True, "track_running_stats": True}, (4, 3, 5)),
    ("InstanceNorm2d", (3,), {"affine": True}, (3, 4, 2)),  # unbatched (C, H, W)
    ("LayerNorm", (4,), {}, (3, 4)),
    ("LayerNorm", ((3, 4),), {}, (2, 5, 3, 4)),
    ("LayerNorm", (4,), {"bias": False}, (2, 3, 4)),
    ("LayerNorm", (4,), {"elementwise_affine": False, "eps": 1e-3}, (3, 4)),
    ("GroupNorm", (2, 6), {}, (3, 6, 4)),
    ("GroupNorm", (3, 3), {"affine": False}, (2, 3, 2, 2)),
    ("GroupNorm", (1, 4), {}, (3, 4)),
    ("RMSNorm", (4,), {}, (3, 4)),
    ("RMSNorm", ([2, 4],), {"eps": 1e-3}, (3, 2, 4)),
    ("RMSNorm", (4,), {"elementwise_affine": False}, (2, 3, 4)),
    ("LocalResponseNorm", (3,), {"alpha": 0.5, "k": 2.0}, (2, 5, 4)),
    ("LocalResponseNorm", (2,), {}, (2, 4, 3, 3)),
]


def _ids(case):
    name, args, kwargs, shape = case
    return f"{name}{args}{kwargs or ''}{shape}".replace(" ", "")


def _grads(params):
    return {n: p.grad for n, p in params}


@pytest.mark.parametrize("case", LAYERS, ids=[_ids(c) for c in LAYERS])
def test_layer_matches_torch_over_training_steps_and_eval(torch, case):
    """Three training steps then one in eval mode, all with fresh inputs: outputs, input and
    parameter gradients, and every buffer (running statistics) agree with PyTorch."""
    name, args, kwargs, shape = case
    layer = getattr(nn, name)(*args, **kwargs).double()
    tlayer = getattr(torch.nn, name)(*args, **kwargs).double()
    with torch.no_grad():
        for p in tlayer.parameters():
            p.copy_(torch.tensor(RNG.standard_normal(tuple(p.shape))))
    layer.load_state_dict({k: v.numpy() for k, v in tlayer.state_dict().items()})
    assert list(layer.state_dict()) == list(tlayer.state_dict())
    assert repr(layer) == repr(tlayer)
    for step in range(4):
        if step == 3:
            layer.eval()
            tlayer.eval()
        x = RNG.standard_normal(shape) * 2.0 + 0.5
        xr, xt = rg.tensor(x, requires_grad=True), torch.tensor(x, requires_grad=True)
        y, yt = layer(xr), tlayer(xt)
        np.testing.assert_allclose(y.data, yt.detach().numpy(), rtol=1e-10, atol=1e-12)
        g = RNG.standard_normal(shape)
        (y * rg.tensor(g)).sum().backward()
        (yt * torch.tensor(g)).sum().backward()
        np.testing.assert_allclose(xr.grad.data, xt.grad.numpy(), rtol=1e-9, atol=1e-11)
        t_grads = _grads(tlayer.named_parameters())
        for n, p in layer.named_parameters():
            np.testing.assert_allclose(p.grad.data, t_grads[n].numpy(), rtol=1e-9, atol=1e-11,
                                       err_msg=n)
        t_buffers = dict(tlayer.named_buffers())
        for n, b in layer.named_buffers():
            np.testing.assert_allclose(b.data, t_buffers[n].numpy(), rtol=1e-12, atol=1e-14,
                                       err_msg=n)


def test_batch_norm_functional_matches_torch(torch):
    x = RNG.standard_normal((6, 3, 4))
    w, b = RNG.standard_normal(3), RNG.standard_normal(3)
    for training in (True, False):
        for momentum in (0.1, 0.9):
            rm, rv = RNG.standard_normal(3), RNG.uniform(0.5, 2.0, 3)
            r_stats = [rg.tensor(rm), rg.tensor(rv)]
            t_stats = [torch.tensor(rm), torch.tensor(rv)]
            out = F.batch_norm(rg.tensor(x), *r_stats, rg.tensor(w), rg.tensor(b), training,
                               momentum, 1e-3)
            expected = torch.nn.functional.batch_norm(torch.tensor(x), *t_stats, torch.tensor(w),
                                                      torch.tensor(b), training, momentum, 1e-3)
            np.testing.assert_allclose(out.data, expected.numpy(), rtol=1e-10)
            for r, t in zip(r_stats, t_stats):
                np.testing.assert_allclose(r.data, t.numpy(), rtol=1e-12)


def test_batch_norm_without_running_stats_uses_the_batch(torch):
    x = RNG.standard_normal((5, 2))
    out = F.batch_norm(rg.tensor(x), None, None, training=True)
    expected = torch.nn.functional.batch_norm(torch.tensor(x), None, None, training=True)
    np.testing.assert_allclose(out.data, expected.numpy(), rtol=1e-10)


def test_momentum_none_is_a_cumulative_average():
    bn = nn.BatchNorm1d(2, momentum=None).double()
    batches = [RNG.standard_normal((4, 2)) + k for k in range(5)]
    for x in batches:
        bn(rg.tensor(x))
    np.testing.assert_allclose(bn.running_mean.data, np.mean([x.mean(0) for x in batches], 0),
                               rtol=1e-12)
    np.testing.assert_allclose(bn.running_var.data,
                               np.mean([x.var(0, ddof=1) for x in batches], 0), rtol=1e-12)
    assert bn.num_batches_tracked.item() == 5 and bn.num_batches_tracked.dtype == rg.int64


def test_eval_mode_uses_running_stats_and_updates_nothing():
    bn = nn.BatchNorm2d(3)
    bn(rg.randn(4, 3, 2, 2))
    state = {k: v.numpy().copy() for k, v in bn.state_dict().items()}
    bn.eval()
    x = rg.randn(2, 3, 2, 2)
    out = bn(x)
    expected = (x.data - bn.running_mean.data.reshape(3, 1, 1)) / np.sqrt(
        bn.running_var.data.reshape(3, 1, 1) + bn.eps)
    np.testing.assert_allclose(out.data, expected, rtol=1e-5, atol=1e-6)
    for k, v in bn.state_dict().items():
        np.testing.assert_array_equal(v.numpy(), state[k])


def test_running_stats_are_not_recorded_by_autograd():
    bn = nn.BatchNorm1d(3)
    x = rg.randn(4, 3, requires_grad=True)
    bn(x).sum().backward()
    assert not bn.running_mean.requires_grad and not bn.running_var.requires_grad
    assert bn.running_mean.grad is None


def test_float32_layers_stay_float32():
    for layer, x in [(nn.BatchNorm2d(3), rg.randn(2, 3, 2, 2)), (nn.LayerNorm(4), rg.randn(3, 4)),
                     (nn.GroupNorm(2, 4), rg.randn(2, 4, 3)), (nn.RMSNorm(4), rg.randn(3, 4))]:
        x.requires_grad_(True)
        out = layer(x)
        out.sum().backward()
        assert out.dtype == rg.float32 and x.grad.dtype == rg.float32
        assert all(p.grad.dtype == rg.float32 for p in layer.parameters())


def test_reset_parameters_and_running_stats():
    bn = nn.BatchNorm1d(2)
    with rg.no_grad():
        bn.weight.fill_(3.0)
    bn(rg.randn(4, 2) * 5)
    bn.reset_parameters()
    assert bn.weight.tolist() == [1.0, 1.0] and bn.bias.tolist() == [0.0, 0.0]
    assert bn.running_mean.tolist() == [0.0, 0.0] and bn.running_var.tolist() == [1.0, 1.0]
    assert bn.num_batches_tracked.item() == 0


def test_module_parameters_and_buffers_follow_pytorch_names():
    bn = nn.BatchNorm2d(4)
    assert [n for n, _ in bn.named_parameters()] == ["weight", "bias"]
    assert [n for n, _ in bn.named_buffers()] == ["running_mean", "running_var",
                                                  "num_batches_tracked"]
    assert list(nn.BatchNorm1d(2, affine=False, track_running_stats=False).state_dict()) == []
    assert list(nn.LayerNorm(3, bias=False).state_dict()) == ["weight"]
    assert list(nn.RMSNorm(3).state_dict()) == ["weight"]


@pytest.mark.parametrize("layer, x, message", [
    (nn.BatchNorm1d(3), rg.randn(4, 3, 2, 2), "BatchNorm1d: expected a 2-D or 3-D input"),
    (nn.BatchNorm1d(3), rg.randn(4, 5), "expected input with dimension 1 of size 3 "
                                        "(num_features), got shape (4, 5)"),
    (nn.BatchNorm2d(3), rg.randn(4, 3, 2), "BatchNorm2d: expected a 4-D input, got shape"),
    (nn.BatchNorm2d(3), rg.randn(1, 3, 1, 1), "expected more than 1 value per channel"),
    (nn.LayerNorm(4), rg.randn(3, 5), "LayerNorm: expected input with shape (*, 4)"),
    (nn.RMSNorm((2, 3)), rg.randn(3, 2), "RMSNorm: expected input with shape (*, 2, 3)"),
    (nn.GroupNorm(2, 4), rg.randn(3, 6, 2), "GroupNorm: expected input with dimension 1 of "
                                            "size 4 (num_channels)"),
    (nn.InstanceNorm2d(3), rg.randn(2, 3), "InstanceNorm2d: expected a 4-D or 3-D input"),
])
def test_shape_errors_name_the_layer(layer, x, message):
    with pytest.raises(ValueError) as info:
        layer(x)
    assert message in str(info.value)


def test_errors_of_the_functions():
    with pytest.raises(ValueError, match=r"num_channels \(3\) must be divisible by num_groups"):
        nn.GroupNorm(2, 3)
    with pytest.raises(ValueError, match=r"group_norm: the number of channels \(6\)"):
        F.group_norm(rg.randn(2, 6), 4)
    with pytest.raises(ValueError, match=r"running_mean of shape \(3,\) .* got shape \(2,\)"):
        F.batch_norm(rg.randn(4, 3), rg.zeros(2), rg.ones(3), training=True)
    with pytest.raises(ValueError, match="must be given when training=False"):
        F.batch_norm(rg.randn(4, 3), None, None)
    with pytest.raises(TypeError, match="momentum must be a number"):
        F.batch_norm(rg.randn(4, 3), rg.zeros(3), rg.ones(3), training=True, momentum=None)
    with pytest.raises(TypeError, match="floating-point input"):
        F.layer_norm(rg.tensor([[1, 2]]), 2)
    with pytest.raises(ValueError, match=r"normalized_shape=\[3\]"):
        F.layer_norm(rg.randn(2, 4), [3])
    with pytest.raises(ValueError, match=r"weight of shape \(4,\)"):
        F.layer_norm(rg.randn(2, 4), [4], weight=rg.ones(3))


def test_rms_norm_default_eps_is_the_dtype_epsilon(torch):
    for dtype, tdtype in [(rg.float32, torch.float32), (rg.float64, torch.float64)]:
        x = RNG.standard_normal((3, 4)) * 1e-5
        out = F.rms_norm(rg.tensor(x, dtype=dtype), [4])
        expected = torch.nn.functional.rms_norm(torch.tensor(x, dtype=tdtype), [4])
        np.testing.assert_allclose(out.data, expected.numpy(), rtol=1e-5 if dtype == rg.float32
                                   else 1e-12)


def test_batch_norm_trains_in_a_network():
    """BatchNorm inside Sequential: an SGD step lowers the loss and updates running stats."""
    rg.manual_seed(0)
    model = nn.Sequential(nn.Linear(4, 8), nn.BatchNorm1d(8), nn.ReLU(), nn.Linear(8, 1))
    x, y = rg.randn(32, 4), rg.randn(32, 1)
    opt = rg.optim.SGD(model.parameters(), lr=0.1)
    losses = []
    for _ in range(5):
        opt.zero_grad()
        loss = ((model(x) - y) ** 2).mean()
        loss.backward()
        opt.step()
        losses.append(loss.item())
    assert losses[-1] < losses[0]
    assert model[1].num_batches_tracked.item() == 5


def test_running_stats_keep_their_dtype_and_identity_with_another_input_dtype():
    bn = nn.BatchNorm1d(3)  # float32 buffers
    running_mean = bn.running_mean
    x = RNG.standard_normal((6, 3)) + 2.0
    out = bn(rg.tensor(x))  # float64 input
    assert out.dtype == rg.float64
    assert bn.running_mean is running_mean and running_mean.dtype == rg.float32
    np.testing.assert_allclose(running_mean.data, 0.1 * x.mean(0), rtol=1e-6)


def test_half_precision_input():
    x = rg.randn(4, 8).to(rg.float16)
    out = F.layer_norm(x, (8,))
    assert out.dtype == rg.float16
    np.testing.assert_allclose(out.data.astype(np.float64).mean(-1), 0.0, atol=1e-2)
