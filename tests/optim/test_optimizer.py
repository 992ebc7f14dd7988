import pickle

import numpy as np
import pytest

import retrograd as rg

from .parity import initial_params, run_retrograd

OPTIMIZERS = {
    "SGD": {"lr": 0.05, "momentum": 0.9, "nesterov": True, "weight_decay": 0.01},
    "Adam": {"lr": 0.05, "amsgrad": True, "weight_decay": 0.01},
    "AdamW": {"lr": 0.05},
    "RMSprop": {"lr": 0.01, "momentum": 0.5, "centered": True},
    "Adagrad": {"lr": 0.1, "lr_decay": 0.01},
}


def make_params(dtype=np.float64):
    return [rg.tensor(a, requires_grad=True) for a in initial_params(dtype=dtype)]


# ---------------------------------------------------------------------- construction
def test_rejects_a_single_tensor_and_an_empty_list():
    p = rg.tensor([1.0], requires_grad=True)
    with pytest.raises(TypeError, match="iterable of Tensors or dicts"):
        rg.optim.SGD(p, lr=0.1)
    with pytest.raises(ValueError, match="empty parameter list"):
        rg.optim.SGD([], lr=0.1)


def test_rejects_what_cannot_be_optimized():
    leaf = rg.tensor([1.0, 2.0], requires_grad=True)
    with pytest.raises(TypeError, match="can only optimize Tensors, but one of the params is list"):
        rg.optim.SGD([[1.0, 2.0]], lr=0.1)
    with pytest.raises(ValueError, match="can't optimize a non-leaf Tensor"):
        rg.optim.SGD([leaf * 2], lr=0.1)
    with pytest.raises(ValueError, match="floating-point Tensors.*int64"):
        rg.optim.SGD([rg.tensor([1, 2])], lr=0.1)
    with pytest.raises(ValueError, match="duplicate parameters"):
        rg.optim.SGD([leaf, leaf], lr=0.1)
    with pytest.raises(TypeError, match="ordered collections"):
        rg.optim.SGD([{"params": {leaf}}], lr=0.1)


def test_param_groups_take_missing_options_from_the_defaults():
    a, b = make_params()[:2]
    opt = rg.optim.SGD([{"params": [a]}, {"params": b, "lr": 0.5}], lr=0.1, momentum=0.9)
    assert [g["lr"] for g in opt.param_groups] == [0.1, 0.5]
    assert [g["momentum"] for g in opt.param_groups] == [0.9, 0.9]
    assert opt.param_groups[1]["params"] == [b]  # a lone Tensor becomes a list


def test_add_param_group_validates_options_and_overlap():
    a, b, c = make_params()
    opt = rg.optim.Adam([a], lr=0.1)
    with pytest.raises(ValueError, match="more than one parameter group"):
        opt.add_param_group({"params": [b, a]})
    with pytest.raises(ValueError, match="Invalid learning rate: -1"):
        opt.add_param_group({"params": [b], "lr": -1})
    with pytest.raises(ValueError, match="Invalid beta parameter at index 1: 1.5"):
        opt.add_param_group({"params": [b], "betas": (0.9, 1.5)})
    with pytest.raises(TypeError, match="must be a dict"):
        opt.add_param_group([b])
    opt.add_param_group({"params": [b, c], "lr": 0.01})
    assert len(opt.param_groups) == 2 and opt.param_groups[1]["betas"] == (0.9, 0.999)


def test_named_parameters_are_recorded_as_param_names():
    a, b = make_params()[:2]
    opt = rg.optim.SGD([("weight", a), ("bias", b)], lr=0.1)
    assert opt.param_groups[0]["params"] == [a, b]
    assert opt.state_dict()["param_groups"][0]["param_names"] == ["weight", "bias"]
    with pytest.raises(ValueError, match="with/without names"):
        rg.optim.SGD([("weight", a), b], lr=0.1)


# ---------------------------------------------------------------------- stepping
def test_zero_grad_sets_to_none_or_zeros_in_place():
    a, b = make_params()[:2]
    opt = rg.optim.SGD([a, b], lr=0.1)
    ((a * a).sum() + (b * 3.0).sum()).backward()
    grad = b.grad
    opt.zero_grad(set_to_none=False)
    assert b.grad is grad and not np.any(b.grad.data) and b.grad.shape == b.shape
    opt.zero_grad()
    assert a.grad is None and b.grad is None


def test_parameters_without_grad_are_skipped():
    a, b = make_params()[:2]
    before = b.data.copy()
    opt = rg.optim.Adam([a, b], lr=0.1)
    a.grad = rg.tensor(np.ones_like(a.data))
    opt.step()
    np.testing.assert_array_equal(b.data, before)
    assert b not in opt.state and opt.state[a]["step"] == 1


def test_step_returns_the_closure_loss_computed_with_grad_enabled():
    p = rg.tensor([3.0, -1.0], requires_grad=True)
    opt = rg.optim.SGD([p], lr=0.25)
    seen = []

    def closure():
        seen.append(rg.is_grad_enabled())
        opt.zero_grad()
        loss = (p**2).sum()
        loss.backward()
        return loss

    with rg.no_grad():
        loss = opt.step(closure)
    assert seen == [True]
    assert loss.item() == 10.0
    np.testing.assert_allclose(p.data, [1.5, -0.5])  # p - 0.25 * 2p
    assert opt.step() is None


def test_step_bumps_the_parameter_version():
    p = rg.tensor([1.0, 2.0], requires_grad=True)
    opt = rg.optim.SGD([p], lr=0.1)
    loss = (p * p).sum()  # saves p for the backward pass
    p.grad = rg.tensor([1.0, 1.0])
    version = p.version
    opt.step()
    assert p.version == version + 1
    with pytest.raises(RuntimeError, match="modified by in-place op 'SGD.step'"):
        loss.backward()


def test_gradient_of_the_wrong_shape_is_an_error():
    p = rg.tensor(np.zeros(3), requires_grad=True)
    opt = rg.optim.SGD([p], lr=0.1)
    p.grad = rg.tensor(np.ones(1))
    with pytest.raises(RuntimeError, match=r"gradient of shape \(1,\) does not match .* \(3,\)"):
        opt.step()


def test_repr_lists_the_groups():
    opt = rg.optim.SGD(make_params(), lr=0.1)
    assert repr(opt).startswith("SGD (\nParameter Group 0\n")
    assert "    lr: 0.1\n" in repr(opt)


# ---------------------------------------------------------------------- checkpoints
@pytest.mark.parametrize("name", list(OPTIMIZERS))
def test_state_dict_round_trip_continues_the_same_run(name):
    cls, kwargs = getattr(rg.optim, name), OPTIMIZERS[name]
    groups = [{}, {"lr": kwargs["lr"] / 2}]
    _, _, straight = run_retrograd(cls, kwargs, 10, group_options=groups)

    params, opt, _ = run_retrograd(cls, kwargs, 5, group_options=groups)
    saved = pickle.loads(pickle.dumps(opt.state_dict()))  # as rg.save would store it
    resumed = [rg.tensor(p.data.copy(), requires_grad=True) for p in params]
    fresh = cls([{"params": resumed[0::2]}, {"params": resumed[1::2]}], **kwargs)
    fresh.load_state_dict(saved)

    from .parity import gradient_sequence

    for grads in gradient_sequence(10)[5:]:
        for p, g in zip(resumed, grads):
            p.grad = None if g is None else rg.tensor(g)
        fresh.step()
    for p, expected in zip(resumed, straight[-1]):
        np.testing.assert_array_equal(p.data, expected)


@pytest.mark.parametrize("name", ["SGD", "Adam", "RMSprop"])
def test_state_dict_survives_rg_save(name, tmp_path):
    if not hasattr(rg, "save"):
        pytest.skip("rg.save is not available")
    cls, kwargs = getattr(rg.optim, name), OPTIMIZERS[name]
    # NOTE: no 0-d parameter here: rg.load currently returns 0-d tensors with shape (1,).
    params = make_params()[:2]
    opt = cls(params, **kwargs)
    for p in params:
        p.grad = rg.tensor(np.ones_like(p.data))
    opt.step()
    sched = rg.optim.lr_scheduler.MultiStepLR(opt, milestones=[1, 2])
    sched.step()
    rg.save({"opt": opt.state_dict(), "sched": sched.state_dict()}, tmp_path / "ck.pt")
    loaded = rg.load(tmp_path / "ck.pt")
    fresh = cls(params, **kwargs)
    fresh_sched = rg.optim.lr_scheduler.MultiStepLR(fresh, milestones=[1, 2])
    fresh.load_state_dict(loaded["opt"])
    fresh_sched.load_state_dict(loaded["sched"])
    assert fresh.param_groups[0]["lr"] == opt.param_groups[0]["lr"] != kwargs["lr"]
    assert fresh_sched.state_dict() == sched.state_dict()
    for p in params:
        for key, value in opt.state[p].items():
            if key == "step":
                assert fresh.state[p][key] == value
            else:
                np.testing.assert_array_equal(fresh.state[p][key].data, value.data)


def test_state_dict_uses_indices_and_is_a_snapshot():
    a, b, c = make_params()
    opt = rg.optim.SGD([{"params": [a, b]}, {"params": [c], "lr": 0.5}], lr=0.1, momentum=0.9)
    for p in (a, c):
        p.grad = rg.tensor(np.ones_like(p.data))
    opt.step()
    sd = opt.state_dict()
    assert [g["params"] for g in sd["param_groups"]] == [[0, 1], [2]]
    assert list(sd["state"]) == [0, 2]
    assert sd["param_groups"][1]["lr"] == 0.5
    buf = sd["state"][0]["momentum_buffer"].data.copy()
    opt.step()
    np.testing.assert_array_equal(sd["state"][0]["momentum_buffer"].data, buf)


def test_state_dict_layout_matches_torch():
    torch = pytest.importorskip("torch")
    arrays = initial_params()
    ours = [rg.tensor(x, requires_grad=True) for x in arrays]
    theirs = [torch.tensor(x, requires_grad=True) for x in arrays]
    rg_opt = rg.optim.Adam([{"params": ours[:1]}, {"params": ours[1:], "lr": 0.1}])
    torch_opt = torch.optim.Adam([{"params": theirs[:1]}, {"params": theirs[1:], "lr": 0.1}])
    for p, q in zip(ours[1:], theirs[1:]):
        p.grad, q.grad = rg.tensor(np.ones(p.shape)), torch.ones(q.shape, dtype=q.dtype)
    rg_opt.step()
    torch_opt.step()
    sd, tsd = rg_opt.state_dict(), torch_opt.state_dict()
    assert list(sd["state"]) == list(tsd["state"]) == [1, 2]
    assert sd["state"][1].keys() == tsd["state"][1].keys()
    assert [g["params"] for g in sd["param_groups"]] == [g["params"] for g in tsd["param_groups"]]
    for ours_group, torch_group in zip(sd["param_groups"], tsd["param_groups"]):
        assert ours_group.keys() <= torch_group.keys()
        for key in ours_group:
            assert ours_group[key] == torch_group[key]


def test_load_state_dict_checks_the_groups():
    a, b, c = make_params()
    opt = rg.optim.SGD([a, b], lr=0.1)
    sd = opt.state_dict()
    with pytest.raises(ValueError, match="2 parameters in group 0"):
        rg.optim.SGD([a], lr=0.1).load_state_dict(sd)
    with pytest.raises(ValueError, match="1 parameter groups, the optimizer has 2"):
        rg.optim.SGD([{"params": [a]}, {"params": [b]}], lr=0.1).load_state_dict(sd)


def test_load_state_dict_casts_buffers_and_restores_options():
    p64 = rg.tensor(np.ones(3), requires_grad=True)
    opt = rg.optim.Adam([p64], lr=0.1)
    p64.grad = rg.tensor(np.ones(3))
    opt.step()
    sd = opt.state_dict()
    p32 = rg.tensor(np.ones(3, dtype=np.float32), requires_grad=True)
    other = rg.optim.Adam([p32], lr=0.5)
    other.load_state_dict(sd)
    assert other.param_groups[0]["lr"] == 0.1
    assert other.param_groups[0]["params"][0] is p32
    assert other.state[p32]["step"] == 1
    assert other.state[p32]["exp_avg"].dtype == np.float32
    other.load_state_dict(sd)  # loading twice must not alias the buffers with the dict
    p32.grad = rg.tensor(np.ones(3, dtype=np.float32))
    before = sd["state"][0]["exp_avg"].data.copy()
    other.step()
    np.testing.assert_array_equal(sd["state"][0]["exp_avg"].data, before)


# ---------------------------------------------------------------------- torch parity
@pytest.mark.parametrize("name", list(OPTIMIZERS))
def test_closure_on_a_quadratic_matches_torch(name):
    torch = pytest.importorskip("torch")
    kwargs = OPTIMIZERS[name]
    rng = np.random.default_rng(3)
    scale, target, start = rng.uniform(0.5, 2, 6), rng.standard_normal(6), rng.standard_normal(6)

    def run(framework, optim):
        p = framework.tensor(start.copy(), requires_grad=True)
        a, c = framework.tensor(scale), framework.tensor(target)
        opt = getattr(optim, name)([p], **kwargs)

        def closure():
            opt.zero_grad()
            loss = (a * (p - c) ** 2).sum()
            loss.backward()
            return loss

        losses = [opt.step(closure).item() for _ in range(10)]
        return losses, p.detach().numpy()

    ours, theirs = run(rg, rg.optim), run(torch, torch.optim)
    np.testing.assert_allclose(ours[0], theirs[0], rtol=1e-12)
    np.testing.assert_allclose(ours[1], theirs[1], rtol=1e-12, atol=1e-14)
