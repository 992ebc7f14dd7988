"""rg.diagnostics.gradient_flow: deliberately broken networks are diagnosed (vanishing,
exploding, dead ReLUs, saturation, NaN), a healthy residual network is not; the numbers match
hand computations; the fit-loop callback sees the gradients the trainer clears."""

import json

import numpy as np
import pytest

import retrograd as rg
from retrograd import nn
from retrograd.autograd import graph
from retrograd.diagnostics import (
    GradientFlowCallback,
    GradientFlowTracker,
    Thresholds,
    gradient_flow,
)
from retrograd.utils.data import DataLoader, TensorDataset

F = nn.functional
SEEDS = [0, 1, 2]


def data(seed, n=64, features=16, classes=5):
    rng = np.random.default_rng(seed)
    x = rg.tensor(rng.standard_normal((n, features)).astype(np.float32))
    y = rg.tensor(rng.integers(0, classes, n))
    return x, y


def one_step(model, x, y, lr=0.01):
    """Forward, backward and an SGD step watched by a tracker; the report."""
    optimizer = rg.optim.SGD(model.parameters(), lr=lr)
    with GradientFlowTracker(model) as tracker:
        loss = F.cross_entropy(model(x), y)
        optimizer.zero_grad()
        loss.backward()
        with tracker.step():
            optimizer.step()
        return tracker.report()


def mlp(depth, width, activation, init=None, features=16, classes=5):
    layers, fan_in = [], features
    for _ in range(depth):
        linear = nn.Linear(fan_in, width)
        if init is not None:
            init(linear)
        layers += [linear, activation()]
        fan_in = width
    layers.append(nn.Linear(fan_in, classes))
    return nn.Sequential(*layers)


def of_kind(report, kind):
    return [f for f in report.findings if f.kind == kind]


# ------------------------------------------------------------------ the broken networks
@pytest.mark.parametrize("seed", SEEDS)
def test_deep_sigmoid_net_with_small_weights_vanishes(seed):
    rg.manual_seed(seed)

    def small(linear):
        nn.init.normal_(linear.weight, std=0.05)

    model = mlp(20, 16, nn.Sigmoid, small)
    report = one_step(model, *data(seed))
    [finding] = of_kind(report, "vanishing")
    names = [layer.name for layer in report.layers]
    assert names.index(finding.layer) < 5  # an early layer: where the gradient is smallest
    assert report.first_last_ratio < 1e-10
    assert "ReLU" in finding.remedy and "Xavier" in finding.remedy
    assert "exploding" not in report.kinds() and "dead_relu" not in report.kinds()


@pytest.mark.parametrize("seed", SEEDS)
def test_deep_relu_net_with_large_weights_explodes(seed):
    rg.manual_seed(seed)

    def large(linear):
        nn.init.normal_(linear.weight, std=3 * np.sqrt(2 / linear.weight.shape[1]))

    model = mlp(10, 16, nn.ReLU, large)
    x, y = data(seed)
    loss = F.cross_entropy(model(x), y)
    loss.backward()
    report = gradient_flow(model)  # no tracker: gradients and weights only
    [finding] = of_kind(report, "exploding")
    assert finding.layer == report.layers[0].name
    assert "clip" in finding.remedy and "He" in finding.remedy
    assert "vanishing" not in report.kinds()


@pytest.mark.parametrize("seed", SEEDS)
def test_a_huge_learning_rate_is_exploding(seed):
    rg.manual_seed(seed)
    model = mlp(3, 32, nn.ReLU)
    x, y = data(seed, n=128)
    loader = DataLoader(TensorDataset(x, y), batch_size=32)
    callback = GradientFlowCallback(every=1, verbose=False)
    rg.train.fit(model, nn.CrossEntropyLoss(), rg.optim.SGD(model.parameters(), lr=100.0),
                 loader, epochs=1, callbacks=[callback], progress=False, verbose=False)
    first = callback.reports[0]
    assert "exploding" in first.kinds()
    [finding] = of_kind(first, "exploding")
    assert "learning rate" in finding.remedy and "weights by up to" in finding.message


@pytest.mark.parametrize("seed", SEEDS)
def test_large_negative_bias_kills_the_relus_of_that_layer(seed):
    rg.manual_seed(seed)
    model = mlp(4, 16, nn.ReLU)
    nn.init.constant_(model[4].bias, -10.0)  # the third Linear
    report = one_step(model, *data(seed))
    # the first dead layer is named (after it, the constant input may kill more units)
    dead = of_kind(report, "dead_relu")
    assert dead[0].layer == "4" and dead[0].value == 1.0
    assert report["4"].dead_fraction == 1.0
    assert report["0"].dead_fraction < 0.5 and report["2"].dead_fraction < 0.5
    # no gradient reaches the layers before it, and the report says why
    [vanishing] = of_kind(report, "vanishing")
    assert "dead ReLUs after '4'" in vanishing.message
    assert report["0"].grad_norm == 0.0


class Block(nn.Module):
    def __init__(self, width):
        super().__init__()
        self.fc1 = nn.Linear(width, width)
        self.bn1 = nn.BatchNorm1d(width)
        self.fc2 = nn.Linear(width, width)
        self.bn2 = nn.BatchNorm1d(width)

    def forward(self, x):
        h = F.relu(self.bn1(self.fc1(x)))
        return F.relu(x + self.bn2(self.fc2(h)))


class ResNet(nn.Module):
    def __init__(self, features=16, width=32, blocks=6, classes=5):
        super().__init__()
        self.stem = nn.Linear(features, width)
        self.blocks = nn.Sequential(*[Block(width) for _ in range(blocks)])
        self.head = nn.Linear(width, classes)

    def forward(self, x):
        return self.head(self.blocks(F.relu(self.stem(x))))


@pytest.mark.parametrize("seed", SEEDS)
def test_healthy_residual_net_with_normalisation_has_no_findings(seed):
    rg.manual_seed(seed)
    model = ResNet()
    report = one_step(model, *data(seed), lr=0.05)
    assert report.findings == [], str(report)
    assert 0.1 < report.first_last_ratio < 10
    # the functional ReLUs inside Block.forward are seen and charged to the layer feeding them
    assert report["blocks.0.bn1"].activations == ("relu",)
    assert report["blocks.0"].activations == ("relu",)  # relu(x + ...) is the block's own
    assert report["stem"].dead_fraction == 0.0
    assert [x.name for x in report.layers][:3] == ["stem", "blocks.0", "blocks.0.fc1"]


def test_saturated_tanh_units():
    rg.manual_seed(0)

    def large(linear):
        nn.init.normal_(linear.weight, std=10 / np.sqrt(linear.weight.shape[1]))

    model = mlp(3, 16, nn.Tanh, large)
    report = one_step(model, *data(0))
    findings = of_kind(report, "saturation")
    assert [f.layer for f in findings] == ["0", "2", "4"]
    assert all(report[f.layer].saturated_fraction > 0.5 for f in findings)
    assert "Xavier" in findings[0].remedy


def test_nonfinite_gradient_names_the_layer_nearest_the_output():
    rg.manual_seed(0)
    model = mlp(3, 8, nn.ReLU)
    x, y = data(0)
    F.cross_entropy(model(x), y).backward()
    model[2].weight.grad.data[0, 0] = np.nan
    model[4].bias.grad.data[1] = np.inf
    report = gradient_flow(model)
    [finding] = of_kind(report, "nonfinite")
    assert finding.layer == "4" and finding.layers == ("2", "4")
    assert np.isnan(report["2"].grad_norm) and not report["2"].grad_finite
    assert "find_nonfinite" in finding.remedy


# ------------------------------------------------------------------ the numbers
def test_norms_and_update_ratio_match_hand_computation():
    rg.manual_seed(0)
    model = nn.Sequential(nn.Linear(4, 3), nn.ReLU(), nn.Linear(3, 2, bias=False))
    x, y = data(0, n=8, features=4, classes=2)
    before = {n: p.detach().numpy().copy() for n, p in model.named_parameters()}
    lr = 0.1
    report = one_step(model, x, y, lr=lr)
    grads = {n: p.grad.numpy() for n, p in model.named_parameters()}

    def norm(*arrays):
        return np.sqrt(sum(float((a.astype(np.float64) ** 2).sum()) for a in arrays))

    first, last = report["0"], report["2"]
    assert first.n_params == 15 and last.n_params == 6
    assert first.grad_norm == pytest.approx(norm(grads["0.weight"], grads["0.bias"]))
    assert last.grad_norm == pytest.approx(norm(grads["2.weight"]))
    assert first.weight_norm == pytest.approx(
        norm(model[0].weight.data, model[0].bias.data))
    # SGD moves the weights by lr * grad
    assert first.update_ratio == pytest.approx(
        lr * first.grad_norm / norm(before["0.weight"], before["0.bias"]), rel=1e-5)
    assert report.first_last_ratio == pytest.approx(first.grad_norm / last.grad_norm)
    assert first.weight_scale == pytest.approx(np.std(before["0.weight"]) * 2, rel=0.2)


def test_dead_and_saturated_fractions_are_exact():
    class Net(nn.Module):
        def __init__(self):
            super().__init__()
            self.a = nn.Linear(2, 6)
            self.b = nn.Linear(2, 4)

        def forward(self, x):
            return F.relu(self.a(x)).sum() + rg.sigmoid(self.b(x)).sum()

    net = Net()
    with rg.no_grad():
        net.a.weight.zero_()
        net.a.bias.copy_(rg.tensor([-1.0, 1.0, -1.0, 1.0, 1.0, 0.0]))  # 0 is dead too
        net.b.weight.zero_()
        net.b.bias.copy_(rg.tensor([-9.0, 0.0, 9.0, 1.0]))  # 2 of 4 within 0.01 of 0 or 1
    with GradientFlowTracker(net) as tracker:
        net(rg.randn(5, 2)).backward()
        report = tracker.report()
    assert report["a"].dead_fraction == pytest.approx(3 / 6)
    assert report["a"].zero_fraction == pytest.approx(3 / 6)
    assert report["b"].saturated_fraction == pytest.approx(2 / 4)
    assert report["a"].activations == ("relu",) and report["b"].activations == ("sigmoid",)
    assert of_kind(report, "dead_relu") == []  # 50% is not above the default 0.5
    strict = tracker.report(thresholds={"dead_fraction": 0.4, "saturated_fraction": 0.4})
    assert [(f.kind, f.layer) for f in strict.findings] == [("dead_relu", "a"),
                                                            ("saturation", "b")]


def test_activation_statistics_cover_the_forwards_since_the_last_step():
    rg.manual_seed(0)
    model = nn.Sequential(nn.Linear(2, 4), nn.ReLU(), nn.Linear(4, 1))
    optimizer = rg.optim.SGD(model.parameters(), lr=0.0)
    with GradientFlowTracker(model) as tracker:
        with rg.no_grad():
            model[0].bias.fill_(-100.0)
        model(rg.randn(3, 2)).sum().backward()
        with tracker.step():
            optimizer.step()
        assert tracker.report()["0"].dead_fraction == 1.0
        with rg.no_grad():
            model[0].bias.fill_(100.0)
        model(rg.randn(3, 2)).sum().backward()  # a new step: the old statistics are dropped
        assert tracker.report()["0"].dead_fraction == 0.0


def test_thresholds_are_configurable_and_checked():
    assert Thresholds.of({"vanishing_ratio": 0.5}).vanishing_ratio == 0.5
    assert Thresholds.of(None) == Thresholds()
    with pytest.raises(TypeError, match="unknown thresholds"):
        Thresholds.of({"vanish": 1})
    rg.manual_seed(0)
    model = mlp(3, 8, nn.ReLU)
    x, y = data(0)
    F.cross_entropy(model(x), y).backward()
    ratio = gradient_flow(model).first_last_ratio
    report = gradient_flow(model, thresholds={"vanishing_ratio": ratio * 2})
    assert "vanishing" in report.kinds()
    lenient = gradient_flow(model, thresholds={"vanishing_ratio": ratio / 2})
    assert "vanishing" not in lenient.kinds()


def test_table_and_plain_data():
    rg.manual_seed(0)
    model = mlp(2, 8, nn.ReLU)
    nn.init.constant_(model[2].bias, -50.0)
    report = one_step(model, *data(0), lr=0.1)
    text = str(report)
    assert "grad norm" in text and "update/weight" in text and "[dead_relu] at '2'" in text
    plain = json.loads(json.dumps(report.to_dict()))
    assert [x["name"] for x in plain["layers"]] == ["0", "2", "4"]
    assert plain["layers"][1]["dead_fraction"] == 1.0
    assert plain["findings"][-1]["kind"] == "dead_relu"
    assert set(plain["findings"][0]) >= {"kind", "layer", "message", "remedy", "layers"}
    assert plain["thresholds"]["dead_fraction"] == 0.5


def test_tracker_detaches_cleanly():
    model = mlp(2, 4, nn.ReLU)
    observers = list(graph._node_observers)
    tracker = GradientFlowTracker(model).attach()
    assert len(graph._node_observers) == len(observers) + 2
    tracker.watch_gradients()
    tracker.detach()
    assert graph._node_observers == observers
    assert all(not p._hooks for p in model.parameters())
    state = model[0]._hook_state
    assert not (state.forward_pre or state.forward)
    with pytest.raises(RuntimeError, match="before_step"):
        tracker.after_step()


# ------------------------------------------------------------------ the fit-loop callback
def test_callback_reports_every_n_steps_with_the_gradients_the_trainer_cleared(tmp_path):
    rg.manual_seed(0)
    model = mlp(2, 8, nn.ReLU)
    reference = mlp(2, 8, nn.ReLU)
    reference.load_state_dict(model.state_dict())
    x, y = data(0, n=80)
    loader = DataLoader(TensorDataset(x, y), batch_size=16)  # 5 steps per epoch
    seen = []
    callback = GradientFlowCallback(every=3, path=tmp_path / "gradient_flow.jsonl",
                                    verbose=False)
    spy = rg.train.LambdaCallback(
        on_batch_end=lambda trainer, logs: seen.append(logs.get("gradient_flow")))
    rg.train.fit(model, nn.CrossEntropyLoss(), rg.optim.SGD(model.parameters(), lr=0.1),
                 loader, epochs=2, callbacks=[spy, callback], progress=False, verbose=False)
    assert [r.step for r in callback.reports] == [1, 4, 7, 10]
    assert [r.epoch for r in callback.reports] == [1, 1, 2, 2]
    assert [r is not None for r in seen] == [i in (0, 3, 6, 9) for i in range(10)]
    lines = (tmp_path / "gradient_flow.jsonl").read_text().splitlines()
    assert [json.loads(line)["step"] for line in lines] == [1, 4, 7, 10]
    # the first report's gradients are those of the first batch
    F.cross_entropy(reference(x[:16]), y[:16]).backward()
    expected = gradient_flow(reference)
    first = callback.reports[0]
    for name in ("0", "2", "4"):
        assert first[name].grad_norm == pytest.approx(expected[name].grad_norm, rel=1e-5)
        assert first[name].update_ratio == pytest.approx(
            0.1 * expected[name].grad_norm / expected[name].weight_norm, rel=1e-4)
    assert graph._node_observers == []  # detached between windows


def test_callback_with_accumulation_and_a_loss_scale():
    rg.manual_seed(0)
    model = mlp(2, 8, nn.ReLU)
    reference = mlp(2, 8, nn.ReLU)
    reference.load_state_dict(model.state_dict())
    x, y = data(0, n=64)
    loader = DataLoader(TensorDataset(x, y), batch_size=16)
    callback = GradientFlowCallback(every=1, verbose=False)
    rg.train.fit(model, nn.CrossEntropyLoss(), rg.optim.SGD(model.parameters(), lr=0.1),
                 loader, epochs=1, callbacks=[callback], progress=False, verbose=False,
                 accumulation_steps=2, grad_scaler=rg.amp.GradScaler(init_scale=1024.0))
    assert [r.step for r in callback.reports] == [1, 2]
    # two batches of 16 accumulate, each scaled by 1/2: the gradient of the mean over 32
    F.cross_entropy(reference(x[:32]), y[:32]).backward()
    expected = gradient_flow(reference)
    for name in ("0", "2", "4"):
        assert callback.reports[0][name].grad_norm == pytest.approx(
            expected[name].grad_norm, rel=1e-4)


def test_callback_rejects_a_bad_interval():
    with pytest.raises(ValueError, match="every"):
        GradientFlowCallback(every=0)
