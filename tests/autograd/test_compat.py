"""Variable and set_detect_anomaly, as old and scripted PyTorch code uses them."""

import numpy as np
import pytest

import retrograd as rg
from retrograd.autograd import Variable


def test_variable_is_a_tensor():
    x = rg.tensor([1.0, 2.0])
    v = Variable(x, requires_grad=True)
    assert isinstance(v, rg.Tensor) and isinstance(x, Variable) and not isinstance(3, Variable)
    assert v.requires_grad and v.is_leaf and np.shares_memory(v.data, x.data)
    (v * v).sum().backward()
    assert v.grad.tolist() == [2.0, 4.0]
    assert not Variable(np.zeros(2)).requires_grad


def test_set_detect_anomaly_switch_and_context():
    assert not rg.autograd.is_anomaly_enabled()
    with rg.autograd.set_detect_anomaly(True):
        assert rg.autograd.is_anomaly_enabled()
    assert not rg.autograd.is_anomaly_enabled()
    rg.autograd.set_detect_anomaly(True)
    try:
        x = rg.tensor([-1.0], requires_grad=True)
        with pytest.raises(rg.autograd.AnomalyError):
            rg.sqrt(x)
    finally:
        rg.autograd.set_detect_anomaly(False)
    assert not rg.autograd.is_anomaly_enabled()
