"""Module: discovery of parameters/buffers/submodules, modes, state dicts, dtype casts, errors."""

import collections

import numpy as np
import pytest

import retrograd as rg
from retrograd import nn
from tests.nn.helpers import torch_state


class Block(nn.Module):
    def __init__(self, n):
        super().__init__()
        self.fc = nn.Linear(n, n)
        self.register_buffer("count", rg.zeros(1))
        self.register_buffer("scratch", rg.zeros(n), persistent=False)

    def forward(self, x):
        return rg.relu(self.fc(x))


class Net(nn.Module):
    def __init__(self):
        super().__init__()
        self.scale = nn.Parameter(rg.ones(1))
        self.blocks = nn.ModuleList([Block(3), Block(3)])
        self.head = nn.Linear(3, 2)
        self.register_buffer("steps", rg.tensor(0))

    def forward(self, x):
        for block in self.blocks:
            x = block(x)
        return self.head(x) * self.scale


def torch_net(torch):
    tnn = torch.nn

    class TBlock(tnn.Module):
        def __init__(self, n):
            super().__init__()
            self.fc = tnn.Linear(n, n)
            self.register_buffer("count", torch.zeros(1))
            self.register_buffer("scratch", torch.zeros(n), persistent=False)

    class TNet(tnn.Module):
        def __init__(self):
            super().__init__()
            self.scale = tnn.Parameter(torch.ones(1))
            self.blocks = tnn.ModuleList([TBlock(3), TBlock(3)])
            self.head = tnn.Linear(3, 2)
            self.register_buffer("steps", torch.tensor(0))

    return TNet()


# ----------------------------------------------------------------- discovery


def test_parameters_found_by_walking_attributes_in_order():
    class M(nn.Module):
        def __init__(self):
            super().__init__()
            self.a = nn.Parameter(rg.zeros(1))
            self.layers = [nn.Linear(1, 2), (nn.Linear(2, 2), {"x": nn.Linear(2, 1)})]
            self.table = {"w": nn.Parameter(rg.zeros(2)), 3: nn.Identity()}
            self.plain = rg.zeros(4)  # a plain tensor attribute is neither parameter nor buffer
            self.number = 3

    m = M()
    assert [n for n, _ in m.named_parameters()] == [
        "a",
        "table.w",
        "layers.0.weight",
        "layers.0.bias",
        "layers.1.0.weight",
        "layers.1.0.bias",
        "layers.1.1.x.weight",
        "layers.1.1.x.bias",
    ]
    children = [n for n, _ in m.named_children()]
    assert children == ["layers.0", "layers.1.0", "layers.1.1.x", "table.3"]
    assert [n for n, _ in m.named_buffers()] == []
    assert m.get_submodule("layers.1.1.x") is m.layers[1][1]["x"]
    assert m.get_parameter("layers.1.0.bias") is m.layers[1][0].bias


def test_names_parameters_buffers_and_modules_match_torch(torch):
    net, tnet = Net(), torch_net(torch)
    assert [n for n, _ in net.named_parameters()] == [n for n, _ in tnet.named_parameters()]
    assert [n for n, _ in net.named_buffers()] == [n for n, _ in tnet.named_buffers()]
    assert [n for n, _ in net.named_modules()] == [n for n, _ in tnet.named_modules()]
    assert [n for n, _ in net.named_children()] == [n for n, _ in tnet.named_children()]
    assert [n for n, _ in net.named_parameters(recurse=False)] == ["scale"]
    assert [n for n, _ in net.named_parameters(prefix="model")][0] == "model.scale"


def test_shared_parameters_and_modules_are_listed_once():
    shared = nn.Linear(2, 2)

    class Tied(nn.Module):
        def __init__(self):
            super().__init__()
            self.a = shared
            self.b = shared
            self.w = shared.weight

    m = Tied()
    # own parameters come first (as in PyTorch), so the tied weight is named 'w'
    assert [n for n, _ in m.named_parameters()] == ["w", "a.bias"]
    all_names = [n for n, _ in m.named_parameters(remove_duplicate=False)]
    assert all_names == ["w", "a.weight", "a.bias", "b.weight", "b.bias"]
    assert [n for n, _ in m.named_modules()] == ["", "a"]
    assert [n for n, _ in m.named_modules(remove_duplicate=False)] == ["", "a", "b"]
    assert list(m.state_dict()) == ["w", "a.weight", "a.bias", "b.weight", "b.bias"]


def test_none_parameters_and_buffers_are_skipped():
    m = nn.Linear(2, 3, bias=False)
    m.register_buffer("extra", None)
    assert [n for n, _ in m.named_parameters()] == ["weight"]
    assert list(m.state_dict()) == ["weight"]
    assert m.bias is None


def test_registration_checks():
    m = nn.Module()
    with pytest.raises(KeyError, match="contain '.'"):
        m.register_buffer("a.b", rg.zeros(1))
    with pytest.raises(TypeError, match="must be a Tensor"):
        m.register_buffer("a", [1.0])
    with pytest.raises(TypeError, match="Parameter or None"):
        m.register_parameter("w", rg.zeros(1))
    with pytest.raises(TypeError, match="not a Module"):
        m.add_module("x", 3)
    with pytest.raises(KeyError, match="attribute 'forward' already exists"):
        m.register_buffer("forward", rg.zeros(1))
    m.plain = 3
    with pytest.raises(KeyError, match="attribute 'plain' already exists"):
        m.register_parameter("plain", nn.Parameter(rg.zeros(1)))
    m.register_parameter("w", nn.Parameter(rg.zeros(1)))
    m.register_parameter("w", nn.Parameter(rg.ones(1)))  # replacing a parameter is fine
    with pytest.raises(KeyError, match="attribute 'w' already exists"):
        m.register_buffer("w", rg.zeros(1))
    m.add_module("sub", nn.Linear(1, 1))
    m.register_module("sub2", nn.ReLU())
    assert [n for n, _ in m.named_parameters()] == ["w", "sub.weight", "sub.bias"]
    with pytest.raises(AttributeError, match="no submodule 'nope'"):
        m.get_submodule("nope")
    with pytest.raises(AttributeError, match="no parameter 'sub.nope'"):
        m.get_parameter("sub.nope")


def test_a_reassigned_buffer_stays_a_buffer():
    m = Block(2)
    m.count = rg.ones(1) * 5
    assert m.state_dict()["count"].tolist() == [5.0]
    assert m.get_buffer("count") is m.count


def test_module_without_super_init_still_works():
    class Lazy(nn.Module):
        def __init__(self):  # forgot super().__init__()
            self.fc = nn.Linear(2, 2)

        def forward(self, x):
            return self.fc(x)

    m = Lazy()
    assert m.training
    assert len(list(m.parameters())) == 2
    m.eval()
    assert not m.training and not m.fc.training


def test_cycles_do_not_loop():
    a, b = nn.Sequential(), nn.Sequential()
    a.append(b)
    b.append(a)
    assert [n for n, _ in a.named_modules()] == ["", "0"]
    with pytest.raises(RuntimeError, match="cycle"):
        a.state_dict()
    assert "Sequential(...)" in repr(a)


# ----------------------------------------------------------------- modes, grads, apply


def test_train_eval_and_requires_grad():
    net = Net()
    assert net.eval() is net
    assert all(not m.training for m in net.modules())
    net.train()
    assert all(m.training for m in net.modules())
    with pytest.raises(ValueError):
        net.train("yes")
    net.requires_grad_(False)
    assert not any(p.requires_grad for p in net.parameters())


def test_zero_grad():
    net = Net()
    net(rg.randn(4, 3)).sum().backward()
    grads = [p.grad for p in net.parameters()]
    assert all(g is not None for g in grads)
    net.zero_grad(set_to_none=False)
    assert all(p.grad is g and not p.grad.data.any() for p, g in zip(net.parameters(), grads))
    net.zero_grad()
    assert all(p.grad is None for p in net.parameters())


def test_apply_visits_children_first_like_torch(torch):
    net, tnet = Net(), torch_net(torch)
    seen, tseen = [], []
    net.apply(lambda m: seen.append(type(m).__name__))
    tnet.apply(lambda m: tseen.append(type(m).__name__))
    assert seen == [{"TBlock": "Block", "TNet": "Net"}.get(n, n) for n in tseen]


# ----------------------------------------------------------------- state dicts


def test_state_dict_keys_shapes_and_order_match_torch(torch):
    net, tnet = Net(), torch_net(torch)
    sd, tsd = net.state_dict(), tnet.state_dict()
    assert isinstance(sd, collections.OrderedDict)
    assert list(sd) == list(tsd)
    assert [tuple(v.shape) for v in sd.values()] == [tuple(v.shape) for v in tsd.values()]

    seq = nn.Sequential(nn.Linear(4, 8), nn.ReLU(), nn.Linear(8, 2))
    tseq = torch.nn.Sequential(torch.nn.Linear(4, 8), torch.nn.ReLU(), torch.nn.Linear(8, 2))
    assert list(seq.state_dict()) == list(tseq.state_dict())


def test_torch_state_dict_loads_and_outputs_agree(torch):
    net, tnet = Net().double(), torch_net(torch).double()
    net.load_state_dict(torch_state(tnet))
    x = np.random.default_rng(0).standard_normal((5, 3))
    tx = torch.tensor(x)
    t_out = tnet.head(torch.relu(tnet.blocks[1].fc(torch.relu(tnet.blocks[0].fc(tx))))) * tnet.scale
    np.testing.assert_allclose(net(rg.tensor(x)).data, t_out.detach().numpy(), rtol=1e-12)

    # and back: retrograd -> torch
    other = Net().double()
    tnet2 = torch_net(torch).double()
    tnet2.load_state_dict(
        {k: torch.from_numpy(v.data.copy()) for k, v in other.state_dict().items()}
    )
    for k, v in tnet2.state_dict().items():
        np.testing.assert_array_equal(v.numpy(), other.state_dict()[k].data)


def test_state_dict_shares_memory_and_is_detached():
    net = Net()
    sd = net.state_dict()
    assert not sd["head.weight"].requires_grad
    assert np.shares_memory(sd["head.weight"].data, net.head.weight.data)
    assert net.state_dict(keep_vars=True)["head.weight"] is net.head.weight
    assert "blocks.0.scratch" not in sd  # non-persistent


def test_load_state_dict_copies_in_place_and_casts():
    net = Net()
    weight, array = net.head.weight, net.head.weight.data
    source = Net().double()
    result = net.load_state_dict(source.state_dict())
    assert result.missing_keys == [] and result.unexpected_keys == []
    assert net.head.weight is weight and net.head.weight.data is array  # optimizers keep refs
    assert weight.dtype == rg.float32
    np.testing.assert_allclose(weight.data, source.head.weight.data.astype(np.float32))
    assert net.head.weight.version > 0  # in-place write is versioned


def test_load_state_dict_strict_error_lists_everything_and_changes_nothing():
    net = Net()
    before = {k: v.data.copy() for k, v in net.state_dict().items()}
    sd = {k: v.clone() + 1 for k, v in Net().state_dict().items()}
    del sd["scale"], sd["blocks.1.count"]
    sd["bogus"] = rg.zeros(1)
    sd["head.weight"] = rg.zeros(3, 3)
    sd["head.bias"] = rg.zeros(5)
    with pytest.raises(RuntimeError) as info:
        net.load_state_dict(sd)
    message = str(info.value)
    for needle in ("missing keys: scale, blocks.1.count", "unexpected keys: bogus",
                   "head.weight: shape (3, 3) in the state dict, (2, 3) in the model",
                   "head.bias: shape (5,) in the state dict, (2,) in the model",
                   "nothing was changed"):
        assert needle in message
    for k, v in net.state_dict().items():
        np.testing.assert_array_equal(v.data, before[k])


def test_load_state_dict_non_strict():
    net = Net()
    sd = Net().state_dict()
    del sd["scale"]
    sd["bogus"] = rg.zeros(1)
    result = net.load_state_dict(sd, strict=False)
    assert result.missing_keys == ["scale"] and result.unexpected_keys == ["bogus"]
    np.testing.assert_array_equal(net.head.weight.data, sd["head.weight"].data)
    sd["head.weight"] = rg.zeros(9)
    with pytest.raises(RuntimeError, match="head.weight: shape"):  # shapes always checked
        net.load_state_dict(sd, strict=False)
    with pytest.raises(TypeError, match="expected a dict"):
        net.load_state_dict([1, 2])


def test_load_state_dict_accepts_arrays_and_assign():
    net = Net()
    arrays = {k: np.full(v.shape, 2.0) for k, v in net.state_dict().items()}
    net.load_state_dict(arrays)
    assert (net.head.bias.data == 2).all()
    net.load_state_dict({k: rg.tensor(v) * 3 for k, v in arrays.items()}, assign=True)
    assert (net.head.bias.data == 6).all() and net.head.bias.dtype == rg.float32


def test_save_load_round_trip(tmp_path):
    net = Net()
    rg.save(net.state_dict(), tmp_path / "net.safetensors")
    other = Net()
    other.load_state_dict(rg.load(tmp_path / "net.safetensors"))
    for (k, a), (_, b) in zip(net.state_dict().items(), other.state_dict().items()):
        np.testing.assert_array_equal(a.data, b.data, err_msg=k)


# ----------------------------------------------------------------- dtype and device


def test_to_casts_floating_parameters_and_buffers_in_place():
    net = Net()
    weight = net.head.weight
    net(rg.randn(2, 3)).sum().backward()
    assert net.double() is net
    assert net.head.weight is weight and weight.dtype == rg.float64
    assert weight.grad.dtype == rg.float64
    assert net.blocks[0].count.dtype == rg.float64
    assert net.steps.dtype == rg.int64  # integer buffers are left alone
    assert net.to(rg.float32).head.weight.dtype == rg.float32
    assert net.half().head.bias.dtype == rg.float16
    net.to("cpu", dtype=rg.float64)
    assert net.head.bias.dtype == rg.float64
    net.to(rg.zeros(1, dtype=rg.float32))
    assert net.head.bias.dtype == rg.float32
    assert net.cpu() is net
    with pytest.raises(RuntimeError, match="cuda"):
        net.to("cuda")
    with pytest.raises(TypeError, match="floating"):
        net.to(rg.int64)


# ----------------------------------------------------------------- errors and calls


def test_errors_name_the_layer_path():
    class Model(nn.Module):
        def __init__(self):
            super().__init__()
            self.encoder = nn.Sequential(nn.Linear(784, 100), nn.ReLU(), nn.Linear(784, 10))

        def forward(self, x):
            return self.encoder(x)

    with pytest.raises(ValueError) as info:
        Model()(rg.randn(32, 784))
    assert str(info.value) == (
        "encoder.2 (Linear): expected input with last dimension 784 (in_features), "
        "got shape (32, 100)"
    )
    with pytest.raises(ValueError, match=r"^Linear: expected input with last dimension 3"):
        nn.Linear(3, 2)(rg.randn(4))


def test_error_paths_through_plain_lists_and_own_code():
    class Model(nn.Module):
        def __init__(self):
            super().__init__()
            self.layers = [nn.Identity(), Block(2)]

        def forward(self, x):
            for layer in self.layers:
                x = layer(x)
            return x.missing_method()

    with pytest.raises(ValueError, match=r"^layers\.1\.fc \(Linear\): expected input"):
        Model()(rg.randn(2, 5))
    with pytest.raises(AttributeError) as info:
        Model()(rg.randn(2, 2))
    assert info.value.__notes__ == ["raised in layer Model"]


def test_errors_with_their_own_format_get_a_note():
    class Lookup(nn.Module):
        def forward(self, key):
            return {}[key]

    outer = nn.Sequential(nn.Identity(), Lookup())
    with pytest.raises(KeyError) as info:
        outer("k")
    assert info.value.args == ("k",)
    assert info.value.__notes__ == ["raised in layer 1 (Lookup)"]


def test_forward_missing():
    with pytest.raises(NotImplementedError, match=r'Module \[Module\] is missing the required'):
        nn.Module()(1)


# ----------------------------------------------------------------- repr


def test_repr_matches_torch_plus_counts(torch):
    seq = nn.Sequential(nn.Linear(4, 8), nn.ReLU(), nn.Dropout(0.25), nn.Linear(8, 2, bias=False))
    tseq = torch.nn.Sequential(
        torch.nn.Linear(4, 8), torch.nn.ReLU(), torch.nn.Dropout(0.25),
        torch.nn.Linear(8, 2, bias=False),
    )
    lines = repr(seq).splitlines()
    assert lines[0] == "# Sequential: 56 parameters (56 trainable)"
    assert lines[2] == "  (0): Linear(in_features=4, out_features=8, bias=True)  # 40"
    stripped = "\n".join(line.split("  # ")[0] for line in lines[1:])
    assert stripped == repr(tseq)
    assert repr(nn.Linear(2, 3)) == repr(torch.nn.Linear(2, 3))


def test_repr_of_nested_modules_counts_subtrees():
    net = Net()
    net.scale.requires_grad_(False)
    text = repr(net)
    assert text.splitlines()[0] == "# Net: 33 parameters (32 trainable)"
    assert "  (blocks): ModuleList(  # 24" in text
    assert "    (0): Block(  # 12" in text


# ----------------------------------------------------------------- deep nesting


def test_two_thousand_nested_sequentials():
    depth = 2000
    root = nn.Sequential(nn.Linear(1, 1))
    current = root
    for _ in range(depth):
        inner = nn.Sequential(nn.Linear(1, 1))
        current.append(inner)
        current = inner
    assert len(list(root.parameters())) == 2 * (depth + 1)
    sd = root.state_dict()
    assert len(sd) == 2 * (depth + 1)
    deepest = ".".join(["1"] * depth) + ".0.bias"
    assert deepest in sd
    root.load_state_dict(sd)
    root.eval()
    assert not current.training
    assert len(list(root.modules())) == 2 * depth + 2
    assert repr(root).count("Linear(") == depth + 1
    assert root.get_submodule(".".join(["1"] * depth)) is current
