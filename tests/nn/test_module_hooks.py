"""Module hooks: forward pre/post hooks (order, replacement, removal, kwargs) and full backward
hooks compared with torch's."""

import numpy as np
import pytest

import retrograd as rg
from retrograd import nn
from tests.nn.helpers import copy_from_torch


def test_forward_hooks_run_in_order_and_can_replace_values():
    m = nn.Linear(2, 2)
    calls = []
    m.register_forward_pre_hook(lambda mod, args: calls.append("pre1"))
    m.register_forward_pre_hook(lambda mod, args: calls.append("pre0"), prepend=True)
    m.register_forward_hook(lambda mod, args, out: calls.append("post"))
    x = rg.randn(3, 2)
    m(x)
    assert calls == ["pre0", "pre1", "post"]

    doubled = m.register_forward_pre_hook(lambda mod, args: (args[0] * 2,))
    zeroed = m.register_forward_hook(lambda mod, args, out: out * 0)
    expected = rg.nn.functional.linear(x * 2, m.weight, m.bias)
    seen = []
    m.register_forward_hook(lambda mod, args, out: seen.append((args[0], out)))
    assert (m(x).data == 0).all()
    np.testing.assert_allclose(seen[-1][0].data, x.data * 2)  # later hooks see the new values
    doubled.remove()
    zeroed.remove()
    np.testing.assert_allclose(m(x).data, rg.nn.functional.linear(x, m.weight, m.bias).data)
    assert expected.shape == (3, 2)


def test_hook_handles_as_context_managers_and_double_remove():
    m = nn.Identity()
    calls = []
    with m.register_forward_hook(lambda mod, args, out: calls.append(1)):
        m(rg.zeros(1))
    m(rg.zeros(1))
    assert calls == [1]
    handle = m.register_forward_hook(lambda mod, args, out: calls.append(2))
    handle.remove()
    handle.remove()
    m(rg.zeros(1))
    assert calls == [1]


def test_forward_hooks_with_kwargs():
    class Scale(nn.Module):
        def forward(self, x, factor=1.0):
            return x * factor

    m = Scale()
    m.register_forward_pre_hook(lambda mod, args, kwargs: (args, {"factor": 3.0}),
                                with_kwargs=True)
    seen = []
    m.register_forward_hook(lambda mod, args, kwargs, out: seen.append(kwargs), with_kwargs=True)
    assert m(rg.ones(1), factor=2.0).item() == 3.0
    assert seen == [{"factor": 3.0}]
    bad = m.register_forward_pre_hook(lambda mod, args, kwargs: 5, with_kwargs=True)
    with pytest.raises(RuntimeError, match=r"Scale: a forward pre-hook .* must return None"):
        m(rg.ones(1))
    bad.remove()


def test_always_call_forward_hook_runs_on_error():
    m = nn.Linear(3, 2)
    seen = []
    m.register_forward_hook(lambda mod, args, out: seen.append(out), always_call=True)
    with pytest.raises(ValueError):
        m(rg.zeros(2))
    assert seen == [None]


def _record_torch_hooks(torch, module, log):
    module.register_full_backward_pre_hook(lambda mod, go: log.append(("pre", go)))
    module.register_full_backward_hook(lambda mod, gi, go: log.append(("full", gi, go)))


def _assert_grad_tuples(ours, theirs):
    assert len(ours) == len(theirs)
    for a, b in zip(ours, theirs):
        if b is None:
            assert a is None
        else:
            np.testing.assert_allclose(a.data, b.numpy(), rtol=1e-12, atol=1e-12)


def test_full_backward_hooks_see_the_same_gradients_as_torch(torch):
    tmodel = torch.nn.Sequential(
        torch.nn.Linear(3, 4), torch.nn.Tanh(), torch.nn.Linear(4, 2)
    ).double()
    model = copy_from_torch(
        nn.Sequential(nn.Linear(3, 4), nn.Tanh(), nn.Linear(4, 2)).double(), tmodel
    )
    x = np.random.default_rng(1).standard_normal((5, 3))
    logs, tlogs = {}, {}
    for i in range(3):
        logs[i], tlogs[i] = [], []
        model[i].register_full_backward_pre_hook(
            lambda mod, go, log=logs[i]: log.append(("pre", go))
        )
        model[i].register_full_backward_hook(
            lambda mod, gi, go, log=logs[i]: log.append(("full", gi, go))
        )
        _record_torch_hooks(torch, tmodel[i], tlogs[i])
    weights = np.random.default_rng(2).standard_normal((5, 2))
    (model(rg.tensor(x, requires_grad=True)) * rg.tensor(weights)).sum().backward()
    (tmodel(torch.tensor(x, requires_grad=True)) * torch.tensor(weights)).sum().backward()
    for i in range(3):
        assert [e[0] for e in logs[i]] == [e[0] for e in tlogs[i]] == ["pre", "full"]
        _assert_grad_tuples(logs[i][0][1], tlogs[i][0][1])
        _assert_grad_tuples(logs[i][1][1], tlogs[i][1][1])
        _assert_grad_tuples(logs[i][1][2], tlogs[i][1][2])


@pytest.mark.filterwarnings("ignore:Full backward hook is firing")
def test_backward_hook_on_first_layer_without_input_grad(torch):
    tlin = torch.nn.Linear(3, 2).double()
    lin = copy_from_torch(nn.Linear(3, 2).double(), tlin)
    log, tlog = [], []
    lin.register_full_backward_hook(lambda mod, gi, go: log.append((gi, go)))
    tlin.register_full_backward_hook(lambda mod, gi, go: tlog.append((gi, go)))
    x = np.ones((4, 3))
    lin(rg.tensor(x)).sum().backward()
    tlin(torch.tensor(x)).sum().backward()
    assert log[0][0] == (None,) and tlog[0][0] == (None,)
    _assert_grad_tuples(log[0][1], tlog[0][1])
    np.testing.assert_allclose(lin.weight.grad.data, tlin.weight.grad.numpy())


def test_backward_hooks_can_replace_gradients():
    lin = nn.Linear(2, 2).double()
    x = rg.randn(3, 2, dtype=rg.float64, requires_grad=True)
    handle = lin.register_full_backward_hook(lambda mod, gi, go: (gi[0] * 0,))
    lin(x).sum().backward()
    assert (x.grad.data == 0).all()
    assert lin.weight.grad.data.any()  # parameter gradients are not input gradients
    handle.remove()
    x.grad = None
    lin.register_full_backward_pre_hook(lambda mod, go: (go[0] * 2,))
    lin(x).sum().backward()
    np.testing.assert_allclose(x.grad.data, 2 * np.ones((3, 2)) @ lin.weight.data)


def test_backward_hooks_with_two_inputs_and_outputs():
    class Pair(nn.Module):
        def forward(self, a, b):
            return a * b, a + b

    m = Pair()
    log = []
    m.register_full_backward_hook(lambda mod, gi, go: log.append((gi, go)))
    a = rg.tensor([1.0, 2.0], requires_grad=True)
    b = rg.tensor([3.0, 4.0])
    p, s = m(a, b)
    (p.sum() + 2 * s.sum()).backward()
    gi, go = log[0]
    assert gi[1] is None
    np.testing.assert_allclose(gi[0].data, b.data + 2)
    np.testing.assert_allclose(go[0].data, [1.0, 1.0])
    np.testing.assert_allclose(go[1].data, [2.0, 2.0])
    np.testing.assert_allclose(a.grad.data, b.data + 2)


def test_no_backward_wrapping_under_no_grad():
    lin = nn.Linear(2, 2)
    lin.register_full_backward_hook(lambda mod, gi, go: None)
    with rg.no_grad():
        out = lin(rg.randn(1, 2))
    assert out.grad_fn is None


def test_removing_every_hook_restores_the_plain_call():
    m = nn.Linear(2, 2)
    m.register_forward_hook(lambda mod, args, out: None).remove()
    m(rg.zeros(1, 2))
    assert not m._hooked


def test_record_module_paths_tags_graph_nodes():
    model = nn.Sequential(nn.Linear(2, 3), nn.Sequential(nn.Tanh(), nn.Linear(3, 1)))
    x = rg.randn(4, 2)
    with nn.record_module_paths(model):
        hidden = model[0](x)
        out = model(x)
        total = out.sum()
    assert hidden.grad_fn.module_path == "0"  # called directly: named within the model
    assert out.grad_fn.module_path == "1.1"
    assert out.grad_fn.op.name == "linear"
    tanh = out.grad_fn.edges[0]
    assert tanh.op.name == "tanh" and tanh.module_path == "1.0"
    assert total.grad_fn.module_path is None  # outside any module
    assert model(x).grad_fn.module_path is None  # nothing recorded after the block
    assert not any(m._hooked for m in model.modules())
    with pytest.raises(ValueError), nn.record_module_paths(model):
        model(rg.randn(4, 5))
    assert model(x).grad_fn.module_path is None
