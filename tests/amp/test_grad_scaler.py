"""rg.amp.GradScaler: the scale sequence of torch.amp.GradScaler on the same finite/inf/NaN
steps, skipped steps (counted, logged, parameters untouched), call-order errors, state dicts,
and a float16 training loop."""

import logging

import numpy as np
import pytest

import retrograd as rg
from retrograd import nn
from retrograd.amp import GradScaler, autocast
from retrograd.nn import functional as F

INF, NAN = float("inf"), float("nan")
# One gradient value per step: 1.0 is finite, inf/nan must make the step be skipped.
STEPS = [1.0, 1.0, INF, 1.0, 1.0, 1.0, NAN, 1.0, 1.0, 1.0, 1.0, INF, INF, 1.0]


def run_steps(scaler_kwargs, values):
    """(scale after each update, parameter after each step) for gradients set to `values`."""
    p = nn.Parameter(rg.ones(3))
    opt = rg.optim.SGD([p], lr=0.1)
    scaler = GradScaler(**scaler_kwargs)
    scales, params = [], []
    for value in values:
        opt.zero_grad()
        scaler.scale((p * 2).sum()).backward()
        p.grad = rg.full((3,), value * scaler.get_scale())
        scaler.step(opt)
        scaler.update()
        scales.append(scaler.get_scale())
        params.append(p.detach().numpy()[0].item())
    return scales, params, scaler


def test_scale_sequence_matches_torch():
    torch = pytest.importorskip("torch")
    kwargs = dict(init_scale=8.0, growth_factor=2.0, backoff_factor=0.5, growth_interval=3)
    scales, params, scaler = run_steps(kwargs, STEPS)
    p = torch.nn.Parameter(torch.ones(3))
    opt = torch.optim.SGD([p], lr=0.1)
    tscaler = torch.amp.GradScaler("cpu", **kwargs)
    tscales, tparams = [], []
    for value in STEPS:
        opt.zero_grad()
        tscaler.scale((p * 2).sum()).backward()
        p.grad = torch.full((3,), value * tscaler.get_scale())
        tscaler.step(opt)
        tscaler.update()
        tscales.append(tscaler.get_scale())
        tparams.append(p.detach()[0].item())
    assert scales == tscales
    np.testing.assert_allclose(params, tparams, rtol=1e-6)
    assert scaler.state_dict() == {k: (int(v) if k == "_growth_tracker" else v)
                                   for k, v in tscaler.state_dict().items()}


def test_an_injected_inf_skips_exactly_that_step_and_lowers_the_scale(caplog):
    values = [1.0, 1.0, INF, 1.0]
    with caplog.at_level(logging.WARNING, logger="retrograd.amp"):
        scales, params, scaler = run_steps(dict(init_scale=1024.0), values)
    assert scaler.skipped_steps == 1
    assert params[2] == params[1] and params[3] < params[2]  # only step 3 was skipped
    assert scales == [1024.0, 1024.0, 512.0, 512.0]
    assert len([r for r in caplog.records if "skipped the optimizer step" in r.message]) == 1


def test_growth_after_growth_interval_good_steps():
    scales, _, _ = run_steps(dict(init_scale=4.0, growth_interval=2), [1.0] * 5)
    assert scales == [4.0, 8.0, 8.0, 16.0, 16.0]


def test_unscale_gives_true_gradients_once_per_step():
    p = nn.Parameter(rg.ones(2))
    opt = rg.optim.SGD([p], lr=1.0)
    scaler = GradScaler(init_scale=64.0)
    scaler.scale((p * 3).sum()).backward()
    scaler.unscale_(opt)
    np.testing.assert_array_equal(p.grad.numpy(), [3.0, 3.0])
    with pytest.raises(RuntimeError, match="already been called"):
        scaler.unscale_(opt)
    scaler.step(opt)  # no second unscale
    np.testing.assert_array_equal(p.detach().numpy(), [-2.0, -2.0])
    with pytest.raises(RuntimeError, match="step\\(\\) has already been called"):
        scaler.step(opt)
    with pytest.raises(RuntimeError, match="after step"):
        scaler.unscale_(opt)
    scaler.update()


def test_call_order_errors_and_validation():
    p = nn.Parameter(rg.ones(2))
    opt = rg.optim.SGD([p], lr=1.0)
    scaler = GradScaler()
    with pytest.raises(RuntimeError, match="scale\\(loss\\)"):
        scaler.step(opt)
    scaler.scale(p.sum())
    with pytest.raises(RuntimeError, match="No inf checks"):
        scaler.update()
    scaler.update(new_scale=3.0)
    assert scaler.get_scale() == 3.0
    with pytest.raises(ValueError):
        GradScaler(growth_factor=0.5)
    with pytest.raises(ValueError):
        GradScaler(backoff_factor=1.5)
    with pytest.raises(ValueError):
        GradScaler(growth_interval=0)
    p.grad = rg.ones(2, dtype=rg.float16)
    with pytest.raises(ValueError, match="FP16"):
        scaler.unscale_(opt)


def test_state_dict_round_trip_and_disabled_scaler():
    _, _, scaler = run_steps(dict(init_scale=16.0, growth_interval=3), [1.0, INF, 1.0, 1.0])
    other = GradScaler()
    other.load_state_dict(scaler.state_dict())
    assert other.state_dict() == scaler.state_dict()
    assert other.get_scale() == 8.0
    off = GradScaler(enabled=False)
    loss = rg.ones(1).sum()
    assert off.scale(loss) is loss and off.get_scale() == 1.0 and off.state_dict() == {}
    with pytest.raises(RuntimeError, match="empty"):
        other.load_state_dict({})


@pytest.mark.filterwarnings("ignore:overflow encountered:RuntimeWarning")
def test_float16_training_with_the_scaler():
    rg.manual_seed(0)
    rng = np.random.default_rng(0)
    x = rg.tensor(rng.normal(size=(64, 4)).astype(np.float32))
    y = rg.tensor((x.numpy()[:, 0] > 0).astype(np.int64))
    model = nn.Sequential(nn.Linear(4, 16), nn.Tanh(), nn.Linear(16, 2))
    opt = rg.optim.SGD(model.parameters(), lr=0.5)
    scaler = GradScaler(init_scale=2.0**20, growth_interval=5)  # too high: it must back off
    losses = []
    for _ in range(40):
        opt.zero_grad()
        with autocast(dtype=rg.float16):
            loss = F.cross_entropy(model(x), y)
        scaler.scale(loss).backward()
        scaler.step(opt)
        scaler.update()
        losses.append(loss.item())
    assert losses[-1] < 0.5 * losses[0]
    assert scaler.skipped_steps > 0  # the initial scale overflowed: it had to back off
    assert all(p.dtype == rg.float32 for p in model.parameters())
