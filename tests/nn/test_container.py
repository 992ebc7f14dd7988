"""Sequential, ModuleList, ModuleDict, ParameterList, ParameterDict: PyTorch's API and names."""

import collections

import numpy as np
import pytest

import retrograd as rg
from retrograd import nn


def test_sequential_runs_in_order_and_indexes():
    a, b, c = nn.Linear(2, 3), nn.ReLU(), nn.Linear(3, 1)
    seq = nn.Sequential(a, b, c)
    x = rg.randn(4, 2)
    np.testing.assert_allclose(seq(x).data, c(b(a(x))).data)
    assert len(seq) == 3 and seq[0] is a and seq[-1] is c
    assert list(seq) == [a, b, c]
    sub = seq[1:]
    assert isinstance(sub, nn.Sequential) and list(sub) == [b, c]
    assert list(sub.state_dict()) == ["2.weight", "2.bias"]  # slices keep the names, as torch
    with pytest.raises(IndexError, match="out of range"):
        seq[3]


def test_sequential_mutation_renumbers_like_torch(torch):
    seq = nn.Sequential(nn.Linear(1, 1), nn.Linear(1, 2))
    tseq = torch.nn.Sequential(torch.nn.Linear(1, 1), torch.nn.Linear(1, 2))
    for s, lib in ((seq, nn), (tseq, torch.nn)):
        s.append(lib.Linear(2, 3))
        s.insert(0, lib.Linear(1, 1))
        s.insert(-1, lib.Identity())
        s.extend([lib.ReLU()])
        del s[1]
        s[0] = lib.Linear(1, 1, bias=False)
    assert [type(m).__name__ for m in seq] == [type(m).__name__ for m in tseq]
    assert list(seq.state_dict()) == list(tseq.state_dict())
    popped = seq.pop(0)
    assert isinstance(popped, nn.Linear) and len(seq) == 4
    assert len(seq + nn.Sequential(nn.ReLU())) == 5


def test_sequential_from_ordered_dict():
    seq = nn.Sequential(collections.OrderedDict([("fc", nn.Linear(2, 2)), ("act", nn.Tanh())]))
    assert list(seq.state_dict()) == ["fc.weight", "fc.bias"]
    assert seq.get_submodule("fc") is seq[0]
    with pytest.raises(TypeError, match="not a Module"):
        nn.Sequential(3)


def test_module_list():
    layers = nn.ModuleList([nn.Linear(1, 1) for _ in range(3)])
    layers.append(nn.Linear(1, 2))
    layers.insert(0, nn.ReLU())
    layers += [nn.Tanh()]
    assert len(layers) == 6 and isinstance(layers[0], nn.ReLU)
    assert [n for n, _ in layers.named_parameters()][:2] == ["1.weight", "1.bias"]
    assert isinstance(layers[1:3], nn.ModuleList) and len(layers[1:3]) == 2
    del layers[0]
    assert [n for n, _ in layers.named_parameters()][:2] == ["0.weight", "0.bias"]
    assert isinstance(layers.pop(), nn.Tanh)
    with pytest.raises(TypeError, match="not a Module"):
        layers.append(rg.zeros(1))


def test_module_dict():
    d = nn.ModuleDict({"enc": nn.Linear(2, 3), "dec": nn.Linear(3, 2)})
    d["act"] = nn.ReLU()
    assert list(d) == ["enc", "dec", "act"] and "enc" in d and len(d) == 3
    assert list(d.state_dict()) == ["enc.weight", "enc.bias", "dec.weight", "dec.bias"]
    assert [k for k, _ in d.items()] == list(d.keys())
    d.pop("enc")
    assert list(d.state_dict())[0] == "dec.weight"
    with pytest.raises(KeyError):
        d["a.b"] = nn.ReLU()


def test_parameter_list_and_dict(torch):
    plist = nn.ParameterList([rg.zeros(2), nn.Parameter(rg.ones(3))])
    assert all(isinstance(p, nn.Parameter) and p.requires_grad for p in plist)
    plist.append(rg.zeros(1))
    assert list(plist.state_dict()) == ["0", "1", "2"]
    pdict = nn.ParameterDict({"a": rg.zeros(2)})
    pdict["b"] = nn.Parameter(rg.ones(1))
    assert [n for n, _ in pdict.named_parameters()] == ["a", "b"]

    def holder(lib, make):
        class Holder(lib.Module):
            def __init__(self):
                super().__init__()
                self.plist = lib.ParameterList([make(2), make(3)])
                self.pdict = lib.ParameterDict({"x": make(1)})

        return Holder()

    ours = holder(nn, lambda n: nn.Parameter(rg.zeros(n)))
    theirs = holder(torch.nn, lambda n: torch.nn.Parameter(torch.zeros(n)))
    assert list(ours.state_dict()) == list(theirs.state_dict())


def test_containers_inside_a_model_match_torch_names(torch):
    def build(lib):
        class Model(lib.Module):
            def __init__(self):
                super().__init__()
                self.stem = lib.Sequential(lib.Linear(4, 4), lib.ReLU())
                self.blocks = lib.ModuleList([lib.Sequential(lib.Linear(4, 4)) for _ in range(2)])
                self.heads = lib.ModuleDict({"cls": lib.Linear(4, 3), "reg": lib.Linear(4, 1)})

        return Model()

    ours, theirs = build(nn), build(torch.nn)
    assert list(ours.state_dict()) == list(theirs.state_dict())
    assert [n for n, _ in ours.named_modules()] == [n for n, _ in theirs.named_modules()]
