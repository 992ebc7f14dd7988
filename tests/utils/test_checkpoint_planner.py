"""rg.utils.checkpoint.plan_checkpoints: measurements of a toy chain with known sizes, optimal
plans (against brute force), and a planned run that matches the plain one."""

import itertools

import numpy as np
import pytest

import retrograd as rg
from retrograd import nn
from retrograd.utils.checkpoint import measure_modules, plan_checkpoints
from retrograd.utils.checkpoint._planner import evaluate

BATCH = 4
WIDTHS = [8, 16, 4, 32, 8, 12, 8]  # a chain of Linear layers: widths[i] -> widths[i + 1]


def toy():
    rg.manual_seed(0)
    return nn.Sequential(*[nn.Linear(a, b).double() for a, b in zip(WIDTHS, WIDTHS[1:])])


def sample():
    return rg.tensor(np.random.default_rng(0).normal(size=(BATCH, WIDTHS[0])))


def test_measurements_of_a_chain_with_known_sizes():
    # A Linear keeps its input for the weight's gradient (nothing else: the bias add keeps
    # nothing and the transposed weight is the parameter's own memory).
    costs = measure_modules(toy(), sample(), cost="bytes")
    expected = [BATCH * w * 8 for w in WIDTHS[:-1]]
    assert costs.act == expected
    assert costs.inp == expected
    assert costs.input_kept == [True] * len(expected)
    assert costs.cost == [float(BATCH * w * 8) for w in WIDTHS[1:]]


def all_plans(n):
    """Every way to cut n modules into segments, each checkpointed or not."""
    for cuts in itertools.product([False, True], repeat=n - 1):
        bounds = [0] + [i + 1 for i, cut in enumerate(cuts) if cut] + [n]
        spans = [(a, b - 1) for a, b in zip(bounds, bounds[1:])]
        for flags in itertools.product([False, True], repeat=len(spans)):
            yield [(a, b, f) for (a, b), f in zip(spans, flags)]


@pytest.mark.parametrize("fraction", [1.0, 0.8, 0.7, 0.6])
def test_plan_is_the_cheapest_that_fits(fraction):
    model, x = toy(), sample()
    costs = measure_modules(model, x, cost=[3.0, 1.0, 4.0, 1.0, 5.0, 9.0])
    baseline = evaluate([(0, len(costs) - 1, False)], costs)[0]
    budget = int(baseline * fraction)
    plan = plan_checkpoints(model, x, budget, costs=costs)
    assert plan.predicted_peak_bytes <= budget
    feasible = [evaluate(p, costs) for p in all_plans(len(costs))]
    best = min(recompute for peak, recompute, _ in feasible if peak <= budget)
    assert plan.predicted_recompute == best
    if fraction == 1.0:
        assert plan.segments == [(0, 5, False)] and plan.predicted_recompute == 0
    else:
        assert any(checkpointed for _, _, checkpointed in plan.segments)
    assert str(plan).startswith("checkpoint plan for 6 modules")


def test_no_plan_fits_names_the_smallest_peak():
    model, x = toy(), sample()
    costs = measure_modules(model, x, cost="bytes")
    smallest = min(evaluate(p, costs)[0] for p in all_plans(len(costs)))
    with pytest.raises(ValueError, match="no plan fits") as info:
        plan_checkpoints(model, x, smallest - 1, costs=costs)
    assert f"{smallest / 1024:.1f} KiB" in str(info.value)
    plan_checkpoints(model, x, smallest, costs=costs)  # the smallest itself fits


def test_running_a_plan_matches_plain_and_holds_what_it_predicts():
    model, x = toy(), sample()
    costs = measure_modules(model, x, cost="bytes")
    budget = min(evaluate(p, costs)[0] for p in all_plans(len(costs)))
    plan = plan_checkpoints(model, x, budget, costs=costs)
    assert len(plan.segments) > 1
    out = plan(x)
    # After the forward the graph holds exactly the predicted bytes.
    assert rg.diagnostics.memory_ledger(out).total_bytes == plan.predicted_held_bytes
    out.sum().backward()
    got = [p.grad.numpy().copy() for p in model.parameters()]
    model.zero_grad()
    model(x).sum().backward()
    for a, b in zip(got, [p.grad.numpy() for p in model.parameters()]):
        np.testing.assert_array_equal(a, b)


def test_measuring_leaves_batchnorm_statistics_alone():
    rg.manual_seed(0)
    model = nn.Sequential(nn.Linear(3, 3), nn.BatchNorm1d(3), nn.Dropout(0.5))
    x = rg.randn(5, 3)
    before = rg.get_rng_state()
    measure_modules(model, x)
    assert model[1].num_batches_tracked.item() == 0
    assert np.array_equal(model[1].running_mean.numpy(), np.zeros(3))
    assert rg.get_rng_state() == before


@pytest.mark.parametrize("fraction", [1.0, 0.6, 0.4])
def test_predicted_peak_is_the_measured_peak(fraction):
    """Blocks whose activation keeps its output (tanh): the peak during backward, watched node
    by node, is the predicted one."""
    rg.manual_seed(0)
    widths = [6, 12, 8, 16, 4, 10, 8, 12, 6]
    model = nn.Sequential(*[nn.Sequential(nn.Linear(a, b), nn.Tanh()).double()
                            for a, b in zip(widths, widths[1:])])
    x = rg.tensor(np.random.default_rng(0).normal(size=(5, widths[0])))
    costs = measure_modules(model, x, cost="bytes")
    assert all(extra > 0 for extra in costs.output_extra[:-1])
    budget = int(evaluate([(0, len(costs) - 1, False)], costs)[0] * fraction)
    budget = max(budget, min(evaluate(p, costs)[0] for p in all_plans(len(costs))))
    plan = plan_checkpoints(model, x, budget, costs=costs)
    loss = plan(x).sum()
    watched = rg.diagnostics.watch_backward(loss)
    loss.backward()
    assert watched.peak_bytes == plan.predicted_peak_bytes
