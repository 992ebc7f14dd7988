"""rg.cuda answers like torch.cuda on a machine without a GPU."""

import pytest

import retrograd as rg


def test_device_selection_idiom_picks_the_cpu():
    device = rg.device("cuda" if rg.cuda.is_available() else "cpu")
    assert device.type == "cpu"
    assert rg.ones(2).to(device).device == device


def test_queries_and_no_ops():
    assert rg.cuda.device_count() == 0 and not rg.cuda.is_initialized()
    assert not rg.cuda.is_bf16_supported()
    assert rg.cuda.memory_allocated() == 0 and rg.cuda.max_memory_allocated() == 0
    rg.cuda.manual_seed(0)
    rg.cuda.manual_seed_all(0)
    rg.cuda.synchronize()
    rg.cuda.empty_cache()
    rg.cuda.reset_peak_memory_stats()


def test_what_needs_a_gpu_raises():
    for fn in (rg.cuda.current_device, rg.cuda.get_device_name):
        with pytest.raises(RuntimeError, match="no CUDA device"):
            fn()
    with pytest.raises(RuntimeError, match="no CUDA device"):
        rg.cuda.set_device(0)
