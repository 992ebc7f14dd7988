import math
import pickle
import warnings

import numpy as np
import pytest

import retrograd as rg

torch = pytest.importorskip("torch")


def sgd(optim, framework):
    """An optimizer over two groups with different learning rates, as SGD with momentum."""
    a = framework.tensor(np.ones(2), requires_grad=True)
    b = framework.tensor(np.ones(3), requires_grad=True)
    return optim.SGD([{"params": [a]}, {"params": [b], "lr": 0.05}], lr=0.1, momentum=0.9)


def adam(optim, framework):
    a = framework.tensor(np.ones(2), requires_grad=True)
    b = framework.tensor(np.ones(3), requires_grad=True)
    return optim.Adam([{"params": [a]}, {"params": [b], "lr": 0.05}], lr=0.1)


# name -> (optimizer factory, scheduler factory given the optim module and the optimizer)
SCHEDULES = {
    "StepLR": (sgd, lambda m, o: m.lr_scheduler.StepLR(o, step_size=7, gamma=0.5)),
    "MultiStepLR": (
        sgd,
        lambda m, o: m.lr_scheduler.MultiStepLR(o, milestones=[5, 12, 12, 20], gamma=0.3),
    ),
    "ExponentialLR": (sgd, lambda m, o: m.lr_scheduler.ExponentialLR(o, gamma=0.9)),
    "CosineAnnealingLR": (
        sgd,
        lambda m, o: m.lr_scheduler.CosineAnnealingLR(o, T_max=10, eta_min=1e-3),
    ),
    "CosineAnnealingLR-long": (sgd, lambda m, o: m.lr_scheduler.CosineAnnealingLR(o, T_max=30)),
    "LinearLR-warmup": (
        sgd,
        lambda m, o: m.lr_scheduler.LinearLR(o, start_factor=0.1, total_iters=8),
    ),
    "LinearLR-decay": (
        sgd,
        lambda m, o: m.lr_scheduler.LinearLR(o, start_factor=1.0, end_factor=0.2, total_iters=10),
    ),
    "ConstantLR": (sgd, lambda m, o: m.lr_scheduler.ConstantLR(o, factor=0.5, total_iters=4)),
    "PolynomialLR": (
        sgd,
        lambda m, o: m.lr_scheduler.PolynomialLR(o, total_iters=20, power=2.0),
    ),
    "LambdaLR": (sgd, lambda m, o: m.lr_scheduler.LambdaLR(o, lambda e: 0.95**e)),
    "LambdaLR-per-group": (
        sgd,
        lambda m, o: m.lr_scheduler.LambdaLR(o, [lambda e: 1 / (1 + e), lambda e: 0.9 ** (e // 3)]),
    ),
    "MultiplicativeLR": (sgd, lambda m, o: m.lr_scheduler.MultiplicativeLR(o, lambda e: 0.97)),
    "CosineAnnealingWarmRestarts": (
        sgd,
        lambda m, o: m.lr_scheduler.CosineAnnealingWarmRestarts(o, T_0=5, T_mult=2, eta_min=0.01),
    ),
    "OneCycleLR-cos": (
        sgd,
        lambda m, o: m.lr_scheduler.OneCycleLR(o, max_lr=[1.0, 0.5], total_steps=31),
    ),
    "OneCycleLR-linear-three-phase": (
        sgd,
        lambda m, o: m.lr_scheduler.OneCycleLR(
            o,
            max_lr=0.8,
            epochs=3,
            steps_per_epoch=11,
            anneal_strategy="linear",
            three_phase=True,
            pct_start=0.25,
        ),
    ),
    "OneCycleLR-adam": (
        adam,
        lambda m, o: m.lr_scheduler.OneCycleLR(
            o, max_lr=0.01, total_steps=40, base_momentum=0.8, max_momentum=[0.9, 0.95]
        ),
    ),
    "OneCycleLR-no-momentum": (
        sgd,
        lambda m, o: m.lr_scheduler.OneCycleLR(o, max_lr=0.3, total_steps=30, cycle_momentum=False),
    ),
    "SequentialLR": (
        sgd,
        lambda m, o: m.lr_scheduler.SequentialLR(
            o,
            schedulers=[
                m.lr_scheduler.LinearLR(o, start_factor=0.01, total_iters=5),
                m.lr_scheduler.CosineAnnealingLR(o, T_max=25),
            ],
            milestones=[5],
        ),
    ),
    "SequentialLR-three": (
        sgd,
        lambda m, o: m.lr_scheduler.SequentialLR(
            o,
            schedulers=[
                m.lr_scheduler.ConstantLR(o, factor=0.1, total_iters=2),
                m.lr_scheduler.ExponentialLR(o, gamma=0.9),
                m.lr_scheduler.StepLR(o, step_size=4, gamma=0.5),
            ],
            milestones=[3, 10],
        ),
    ),
    "ChainedScheduler": (
        sgd,
        lambda m, o: m.lr_scheduler.ChainedScheduler(
            [
                m.lr_scheduler.ConstantLR(o, factor=0.5, total_iters=4),
                m.lr_scheduler.ExponentialLR(o, gamma=0.9),
            ]
        ),
    ),
}


def lr_sequence(framework, optim, name, steps=30):
    make_optimizer, make_scheduler = SCHEDULES[name]
    opt = make_optimizer(optim, framework)
    sched = make_scheduler(optim, opt)
    seen = [(sched.get_last_lr(), _momenta(opt))]
    for _ in range(steps):
        opt.step()
        sched.step()
        seen.append((list(sched.get_last_lr()), _momenta(opt)))
    assert [g["lr"] for g in opt.param_groups] == seen[-1][0]
    return seen


def _momenta(opt):
    return [g.get("momentum", g.get("betas")) for g in opt.param_groups]


@pytest.mark.parametrize("name", list(SCHEDULES))
def test_lr_sequence_matches_torch(name):
    ours = lr_sequence(rg, rg.optim, name)
    theirs = lr_sequence(torch, torch.optim, name)
    # The same Python float arithmetic in the same order: equal to the last bit.
    assert ours == theirs


# ReduceLROnPlateau: a loss that improves, stalls, improves a little, then stalls for good.
METRICS = [1.0, 0.8, 0.7, 0.7, 0.7, 0.69999, 0.7, 0.6, 0.6, 0.6, 0.6, 0.6, 0.59, 0.6] + [0.6] * 16
PLATEAU_OPTIONS = [
    {},
    {"patience": 1},
    {"patience": 2, "cooldown": 2, "factor": 0.5},
    {"patience": 0, "min_lr": [0.01, 0.02], "factor": 0.3},
    {"patience": 1, "threshold": 0.05, "threshold_mode": "abs"},
    {"patience": 1, "mode": "max", "threshold_mode": "rel", "min_lr": 1e-3},
    {"patience": 1, "mode": "max", "threshold_mode": "abs", "eps": 0.02},
]


@pytest.mark.parametrize("kwargs", PLATEAU_OPTIONS, ids=str)
def test_reduce_lr_on_plateau_matches_torch(kwargs):
    def run(framework, optim):
        opt = sgd(optim, framework)
        sched = optim.lr_scheduler.ReduceLROnPlateau(opt, **kwargs)
        seen = []
        for metric in METRICS:
            opt.step()
            sched.step(metric)
            seen.append((sched.get_last_lr(), sched.num_bad_epochs, sched.best))
        return seen

    ours, theirs = run(rg, rg.optim), run(torch, torch.optim)
    assert ours == theirs
    assert ours[-1][0] != ours[0][0]  # the schedule did reduce


def test_reduce_lr_on_plateau_accepts_a_tensor_metric():
    opt = sgd(rg.optim, rg)
    sched = rg.optim.lr_scheduler.ReduceLROnPlateau(opt, patience=0)
    sched.step(rg.tensor(1.0))
    sched.step(rg.tensor(2.0))
    assert sched.get_last_lr() == [pytest.approx(0.01), pytest.approx(0.005)]


@pytest.mark.parametrize(
    "name", ["StepLR", "OneCycleLR-adam", "SequentialLR", "ChainedScheduler", "LambdaLR"]
)
def test_state_dict_round_trip_resumes_the_schedule(name):
    make_optimizer, make_scheduler = SCHEDULES[name]
    straight = lr_sequence(rg, rg.optim, name)

    opt = make_optimizer(rg.optim, rg)
    sched = make_scheduler(rg.optim, opt)
    for _ in range(10):
        opt.step()
        sched.step()
    saved = pickle.loads(pickle.dumps((opt.state_dict(), sched.state_dict())))

    opt = make_optimizer(rg.optim, rg)
    sched = make_scheduler(rg.optim, opt)  # the scheduler first, then the saved states
    opt.load_state_dict(saved[0])
    sched.load_state_dict(saved[1])
    resumed = [(sched.get_last_lr(), _momenta(opt))]
    for _ in range(20):
        opt.step()
        sched.step()
        resumed.append((sched.get_last_lr(), _momenta(opt)))
    assert resumed == straight[10:]


def test_scheduler_sets_initial_lr_and_base_lrs():
    opt = sgd(rg.optim, rg)
    sched = rg.optim.lr_scheduler.ExponentialLR(opt, gamma=0.5)
    assert [g["initial_lr"] for g in opt.param_groups] == [0.1, 0.05]
    assert sched.base_lrs == [0.1, 0.05] and sched.last_epoch == 0
    with pytest.raises(KeyError, match="initial_lr"):
        rg.optim.lr_scheduler.StepLR(sgd(rg.optim, rg), step_size=2, last_epoch=4)
    with pytest.raises(TypeError, match="is not an Optimizer"):
        rg.optim.lr_scheduler.StepLR(object(), step_size=2)


def test_resuming_with_last_epoch_matches_torch():
    def run(framework, optim):
        opt = sgd(optim, framework)
        for group in opt.param_groups:
            group["initial_lr"] = group["lr"]
        sched = optim.lr_scheduler.CosineAnnealingLR(opt, T_max=20, last_epoch=6)
        lrs = [sched.get_last_lr()]
        for _ in range(5):
            opt.step()
            sched.step()
            lrs.append(sched.get_last_lr())
        return lrs

    assert run(rg, rg.optim) == run(torch, torch.optim)


def test_step_with_an_epoch_uses_the_closed_form_and_warns():
    def run(framework, optim):
        opt = sgd(optim, framework)
        sched = optim.lr_scheduler.StepLR(opt, step_size=3, gamma=0.5)
        opt.step()
        with pytest.warns(UserWarning, match="deprecated"):
            sched.step(7)
        return sched.get_last_lr()

    ours = run(rg, rg.optim)
    assert ours == run(torch, torch.optim) == [0.1 * 0.25, 0.05 * 0.25]


def test_scheduler_step_before_optimizer_step_warns():
    opt = sgd(rg.optim, rg)
    sched = rg.optim.lr_scheduler.StepLR(opt, step_size=2)
    with pytest.warns(UserWarning, match="before `optimizer.step\\(\\)`"):
        sched.step()
    opt = sgd(rg.optim, rg)
    sched = rg.optim.lr_scheduler.StepLR(opt, step_size=2)
    opt.step()
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        sched.step()


def test_one_cycle_refuses_to_run_past_total_steps():
    opt = sgd(rg.optim, rg)
    sched = rg.optim.lr_scheduler.OneCycleLR(opt, max_lr=1.0, total_steps=3)
    opt.step()
    for _ in range(3):
        sched.step()
    with pytest.raises(ValueError, match="Tried to step 4 times.*total steps is 3"):
        sched.step()


def test_cosine_reaches_eta_min_at_t_max():
    opt = sgd(rg.optim, rg)
    sched = rg.optim.lr_scheduler.CosineAnnealingLR(opt, T_max=8, eta_min=0.002)
    opt.step()
    for _ in range(8):
        sched.step()
    assert sched.get_last_lr() == [pytest.approx(0.002, abs=1e-15)] * 2
    assert math.isclose(opt.param_groups[0]["lr"], 0.002, abs_tol=1e-15)


@pytest.mark.parametrize(
    ("make", "error", "message"),
    [
        (lambda o: rg.optim.lr_scheduler.LinearLR(o, start_factor=0), ValueError, "Starting"),
        (lambda o: rg.optim.lr_scheduler.LinearLR(o, end_factor=1.5), ValueError, "Ending"),
        (lambda o: rg.optim.lr_scheduler.ConstantLR(o, factor=2.0), ValueError, "between 0"),
        (lambda o: rg.optim.lr_scheduler.LambdaLR(o, [abs]), ValueError, "Expected 2"),
        (lambda o: rg.optim.lr_scheduler.LambdaLR(o, 3), TypeError, "should be a function"),
        (lambda o: rg.optim.lr_scheduler.ReduceLROnPlateau(o, factor=1.0), ValueError, "< 1.0"),
        (lambda o: rg.optim.lr_scheduler.ReduceLROnPlateau(o, mode="up"), ValueError, "'up'"),
        (lambda o: rg.optim.lr_scheduler.OneCycleLR(o, max_lr=1.0), ValueError, "total_steps"),
        (
            lambda o: rg.optim.lr_scheduler.OneCycleLR(o, 1.0, 10, anneal_strategy="x"),
            ValueError,
            "anneal_strategy",
        ),
        (
            lambda o: rg.optim.lr_scheduler.OneCycleLR(o, [1.0], total_steps=10),
            ValueError,
            "same length",
        ),
        (
            lambda o: rg.optim.lr_scheduler.SequentialLR(
                o, [rg.optim.lr_scheduler.ConstantLR(o)], milestones=[3]
            ),
            ValueError,
            "one milestone fewer",
        ),
        (
            lambda o: rg.optim.lr_scheduler.SequentialLR(
                o, [rg.optim.lr_scheduler.ReduceLROnPlateau(o)], milestones=[]
            ),
            ValueError,
            "does not support ReduceLROnPlateau",
        ),
        (
            lambda o: rg.optim.lr_scheduler.ChainedScheduler(
                [rg.optim.lr_scheduler.ConstantLR(sgd(rg.optim, rg))], optimizer=o
            ),
            ValueError,
            "same optimizer",
        ),
    ],
)
def test_schedulers_reject_invalid_arguments(make, error, message):
    with pytest.raises(error, match=message):
        make(sgd(rg.optim, rg))
