"""rg.backends: the switches can be read, set and imported like torch.backends'."""

import importlib

import retrograd as rg


def test_switches_can_be_set():
    cudnn = importlib.import_module("retrograd.backends.cudnn")
    previous = cudnn.benchmark
    try:
        rg.backends.cudnn.benchmark = True
        rg.backends.cudnn.deterministic = True
        assert cudnn.benchmark is True
    finally:
        rg.backends.cudnn.benchmark = previous
        rg.backends.cudnn.deterministic = False
    rg.backends.cuda.matmul.allow_tf32 = True
    rg.backends.cuda.matmul.allow_tf32 = False
    assert not rg.backends.cudnn.is_available() and rg.backends.cudnn.version() is None
    assert not rg.backends.mps.is_available() and not rg.backends.mps.is_built()
