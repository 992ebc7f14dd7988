"""rg.monitor.Monitor: what it logs in a fit loop and by hand, checked against numbers computed
here; hooks only around logged steps; training unchanged; resume; TensorBoard event files."""

import glob
import struct
import sys
import types

import numpy as np
import pytest

import retrograd as rg
from retrograd.autograd import graph
from retrograd.monitor import Monitor, read_run

from .helpers import STEPS_PER_EPOCH, dataset, make_model, train


def test_fit_logs_step_1_and_every_nth_step_and_each_epoch(healthy_run):
    run = read_run(healthy_run)
    total = 2 * STEPS_PER_EPOCH
    expected = [1] + [s for s in range(1, total + 1) if s % 3 == 0]
    assert [s["step"] for s in run.steps] == expected
    assert [r["step"] for r in run.epochs] == [STEPS_PER_EPOCH, total]
    assert all(r["val_loss"] > 0 and 0 <= r["val_accuracy"] <= 1 for r in run.epochs)
    assert [s["epoch"] for s in run.steps] == [1 + (s - 1) // STEPS_PER_EPOCH for s in expected]
    for s in run.steps:
        assert s["lr"] == 0.1 and np.isfinite(s["loss"]) and np.isfinite(s["loss_avg"])
        assert list(s["layers"]) == ["0", "2"]
        assert all(v["type"] == "Linear" and v["grad_norm"] > 0 and v["weight_norm"] > 0
                   and v["update_ratio"] > 0 for v in s["layers"].values())
        total_norm = np.sqrt(sum(v["grad_norm"] ** 2 for v in s["layers"].values()))
        assert s["grad_norm_total"] == pytest.approx(total_norm)
    assert [f["step"] for f in run.flows] == expected
    assert run.starts[0]["every"] == 3 and run.starts[0]["format"] == "retrograd-monitor/1"


def test_histograms_cover_weights_gradients_and_activations(healthy_run):
    run = read_run(healthy_run)
    names = ["0.weight", "0.bias", "2.weight", "2.bias"]
    sizes = {"0.weight": 16 * 6, "0.bias": 16, "2.weight": 3 * 16, "2.bias": 3}
    steps = [s["step"] for s in run.steps]
    for kind in ("weight", "grad"):
        assert list(run.histograms[kind]) == names
        for name, records in run.histograms[kind].items():
            assert [r["step"] for r in records] == steps
            assert all(sum(r["counts"]) + r["nonfinite"] == sizes[name] for r in records)
    # the outputs of the Linear, the ReLU and the last Linear for one batch of 16
    assert list(run.histograms["activation"]) == ["0", "1", "2"]
    for name, width in (("0", 16), ("1", 16), ("2", 3)):
        assert [r["n"] for r in run.histograms["activation"][name]] == [16 * width] * len(steps)
    relu = run.histograms["activation"]["1"]
    assert all(r["min"] >= 0 and r["zeros"] > 0 for r in relu)


def test_numbers_match_a_loop_measured_by_hand(tmp_path):
    rg.manual_seed(1)
    data = dataset(1)
    x, y = data.tensors
    model = make_model()
    optimizer = rg.optim.SGD(model.parameters(), lr=0.05)
    monitor = Monitor(tmp_path, every=2).watch(model)
    expected, losses = {}, []
    for step in range(1, 8):
        xb, yb = x[step * 10:step * 10 + 10], y[step * 10:step * 10 + 10]
        with rg.no_grad():  # not recorded: the monitor only watches forwards with grad on
            hidden = rg.relu(model[0](xb)).numpy()
        before = {n: p.detach().numpy().copy() for n, p in model.named_parameters()}
        optimizer.zero_grad()
        loss = rg.nn.functional.cross_entropy(model(xb), yb)
        loss.backward()
        optimizer.step()
        losses.append(loss.item())
        grads = {n: p.grad.numpy().copy() for n, p in model.named_parameters()}
        after = model[2].weight.detach().numpy().copy()
        monitor.log_step(model, loss, optimizer, accuracy=0.25 * step)
        if monitor.logs_step(step):
            expected[step] = (before, grads, hidden, float(np.mean(losses)), after)
            losses = []
    monitor.close()
    run = read_run(tmp_path)
    assert [s["step"] for s in run.steps] == [1, 2, 4, 6] == sorted(expected)
    for record in run.steps:
        before, grads, hidden, mean_loss, after = expected[record["step"]]
        assert record["loss_avg"] == pytest.approx(mean_loss)
        assert record["lr"] == 0.05 and record["accuracy"] == 0.25 * record["step"]
        for layer in ("0", "2"):
            g = np.concatenate([grads[f"{layer}.weight"].ravel(), grads[f"{layer}.bias"].ravel()])
            w = np.concatenate([before[f"{layer}.weight"].ravel(), before[f"{layer}.bias"].ravel()])
            update = g * 0.05  # plain SGD: w_after = w_before - lr * g
            numbers = record["layers"][layer]
            assert numbers["grad_norm"] == pytest.approx(np.linalg.norm(g), rel=1e-5)
            assert numbers["update_ratio"] == pytest.approx(
                np.linalg.norm(update) / np.linalg.norm(w), rel=1e-4)
        hist = {(h["kind"], h["name"]): h for kind in run.histograms.values()
                for records in kind.values() for h in records if h["step"] == record["step"]}
        g = grads["0.weight"]
        assert hist["grad", "0.weight"]["min"] == pytest.approx(g.min())
        assert hist["grad", "0.weight"]["max"] == pytest.approx(g.max())
        assert hist["grad", "0.weight"]["mean"] == pytest.approx(g.mean(), abs=1e-9)
        assert hist["activation", "1"]["n"] == hidden.size
        assert hist["activation", "1"]["mean"] == pytest.approx(hidden.mean(), rel=1e-5)
        assert hist["activation", "1"]["zeros"] == pytest.approx(np.mean(hidden == 0))
        weights = hist["weight", "2.weight"]  # after the step
        assert (weights["min"], weights["max"]) == (after.min(), after.max())
        assert weights["counts"] == np.histogram(after, 30, (after.min(), after.max()))[0].tolist()


def test_monitoring_does_not_change_training(tmp_path):
    plain, _, _ = train(tmp_path / "plain", monitor=False)
    watched, _, _ = train(tmp_path / "watched", every=2, tensorboard=False)
    for (name, p), (_, q) in zip(plain.named_parameters(), watched.named_parameters()):
        assert np.array_equal(p.detach().numpy(), q.detach().numpy()), name


def hooked(model):
    modules = sum(1 for m in model.modules()
                  if m._hook_state is not None and m._hook_state.forward)
    params = sum(len(p._hooks or ()) for p in model.parameters())
    return modules, params


def test_hooks_are_on_only_around_logged_steps(tmp_path):
    seen = []

    def count(trainer, logs):
        seen.append((trainer.global_step + 1, hooked(trainer.model)))

    observers = len(graph._node_observers)
    model, trainer, _ = train(tmp_path, epochs=1, every=4,
                              extra_callbacks=[rg.train.LambdaCallback(on_batch_begin=count)])
    # on a logged step: the activation hooks on the 3 leaves and the gradient-flow tracker's
    # module-path hooks (the model and its 3 children), and two gradient hooks per parameter
    for step, (modules, params) in seen:
        logged = step == 1 or step % 4 == 0
        assert (modules, params) == ((4, 8) if logged else (0, 0)), step
    assert hooked(model) == (0, 0) and len(graph._node_observers) == observers


def test_the_gradients_are_those_the_optimizer_used_with_accumulation(tmp_path):
    _, trainer, _ = train(tmp_path, epochs=1, every=1, accumulation_steps=2, grad_clip=1e9,
                          histograms=False)
    run = read_run(tmp_path)
    # grad_norm_total comes from the trainer's clipping (of .grad at the step); the layer
    # norms from the gradients the monitor summed over the two backward passes of each step
    assert len(run.steps) == trainer.global_step == STEPS_PER_EPOCH // 2
    for s in run.steps:
        layers = np.sqrt(sum(v["grad_norm"] ** 2 for v in s["layers"].values()))
        assert layers == pytest.approx(s["grad_norm_total"], rel=1e-5)
    assert run.histograms["weight"] == {}


def test_gradients_are_unscaled_under_a_grad_scaler(tmp_path):
    scaler = rg.amp.GradScaler(init_scale=1024.0)
    train(tmp_path, epochs=1, every=2, grad_clip=1e9, autocast=rg.float16, grad_scaler=scaler,
          histograms=False)
    steps = read_run(tmp_path).steps
    finite = [s for s in steps if np.isfinite(s["grad_norm_total"])]
    assert len(finite) >= len(steps) - 1
    for s in finite:  # the clipping norm is of the unscaled gradients
        layers = np.sqrt(sum(v["grad_norm"] ** 2 for v in s["layers"].values()))
        assert layers == pytest.approx(s["grad_norm_total"], rel=1e-3)


def test_findings_of_a_broken_network_are_logged(dead_run):
    run = read_run(dead_run)
    flow = run.last_flow()
    kinds = {f["kind"]: f for f in flow["report"]["findings"]}
    assert "dead_relu" in kinds and kinds["dead_relu"]["layer"] == "0"
    assert run.steps[-1]["layers"]["0"]["dead_fraction"] == 1.0
    assert run.steps[-1]["layers"]["0"]["grad_norm"] == 0.0
    assert all(h["max"] == 0 for h in run.histograms["activation"]["1"])


def test_a_resumed_run_drops_records_after_its_checkpoint(tmp_path):
    train(tmp_path, epochs=2, every=2)
    before = read_run(tmp_path)
    assert before.steps[-1]["step"] == 16
    model = make_model()
    monitor = Monitor(tmp_path, every=2)
    fake = types.SimpleNamespace(model=model, global_step=STEPS_PER_EPOCH, epoch=1,
                                 optimizer=None, grad_scaler=None)
    monitor.on_train_begin(fake, {})
    monitor.close()
    after = read_run(tmp_path)
    assert [s["step"] for s in after.steps] == [s for s in [1, 2, 4, 6, 8]]
    assert [r["step"] for r in after.epochs] == [STEPS_PER_EPOCH]
    assert max(r["step"] for k in after.histograms.values() for rs in k.values()
               for r in rs) == STEPS_PER_EPOCH
    assert [s["start_step"] for s in after.starts] == [0, STEPS_PER_EPOCH]


@pytest.mark.parametrize("options,match", [
    ({"every": 0}, "every must be a positive int"),
    ({"every": 2.5}, "every must be a positive int"),
    ({"max_samples": 0}, "max_samples must be a positive int"),
    ({"bins": 0}, "bins must be a positive int"),
])
def test_bad_settings_are_rejected(tmp_path, options, match):
    with pytest.raises(ValueError, match=match):
        Monitor(tmp_path, **options)


def test_tensorboard_without_tensorboardx_says_what_to_install(tmp_path, monkeypatch):
    monkeypatch.setitem(sys.modules, "tensorboardX", None)
    with pytest.raises(ImportError, match=r"retrograd\[monitor\]"):
        Monitor(tmp_path, tensorboard=True).watch(make_model())


def read_events(path):
    """The Event protos of a TFRecord file: u64 length, u32 masked crc, data, u32 crc."""
    event_pb2 = pytest.importorskip("tensorboardX.proto.event_pb2")
    data = open(path, "rb").read()
    events, offset = [], 0
    while offset < len(data):
        (length,) = struct.unpack_from("<Q", data, offset)
        payload = data[offset + 12: offset + 12 + length]
        assert len(payload) == length, "truncated record"
        event = event_pb2.Event()
        event.ParseFromString(payload)
        events.append(event)
        offset += 12 + length + 4
    return events


def test_tensorboard_event_files_hold_the_expected_tags(tmp_path):
    pytest.importorskip("tensorboardX")
    train(tmp_path, epochs=1, every=4, tensorboard=True)
    files = glob.glob(str(tmp_path / "tensorboard" / "events.out.tfevents.*"))
    assert len(files) == 1
    scalars, histos = {}, {}
    for event in read_events(files[0]):
        for value in event.summary.value:
            if value.HasField("histo"):
                histos.setdefault(value.tag, []).append((event.step, value.histo))
            elif value.HasField("simple_value"):
                scalars.setdefault(value.tag, []).append((event.step, value.simple_value))
    run = read_run(tmp_path)
    logged = [s["step"] for s in run.steps]
    for tag in ("train/loss", "train/loss_avg", "train/lr", "grad_norm/0", "grad_norm/2",
                "update_ratio/0", "weight_norm/2"):
        assert [s for s, _ in scalars[tag]] == logged, tag
    assert scalars["train/loss"][-1][1] == pytest.approx(run.steps[-1]["loss"], rel=1e-6)
    for tag in ("epoch/train_loss", "epoch/val_loss", "epoch/val_accuracy", "epoch/lr"):
        assert [s for s, _ in scalars[tag]] == [STEPS_PER_EPOCH], tag
    expected = {f"weights/{n}" for n in ("0.weight", "0.bias", "2.weight", "2.bias")}
    expected |= {f"grads/{n}" for n in ("0.weight", "0.bias", "2.weight", "2.bias")}
    expected |= {"activations/0", "activations/1", "activations/2"}
    assert set(histos) == expected
    step, histo = histos["weights/0.weight"][-1]
    record = run.histograms["weight"]["0.weight"][-1]
    assert step == record["step"] and list(histo.bucket) == record["counts"]
    assert histo.num == 96 and histo.min == pytest.approx(record["min"])
