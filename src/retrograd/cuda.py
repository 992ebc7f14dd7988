"""rg.cuda: PyTorch's torch.cuda as seen from a machine without a GPU, so that the usual
device-selection code runs unchanged:

    device = rg.device("cuda" if rg.cuda.is_available() else "cpu")

Queries answer "no device"; seeding and synchronisation do nothing; anything that needs a GPU
raises RuntimeError.
"""

__all__ = [
    "is_available", "device_count", "is_initialized", "manual_seed", "manual_seed_all", "seed",
    "seed_all", "synchronize", "empty_cache", "current_device", "get_device_name",
    "memory_allocated", "max_memory_allocated", "memory_reserved", "max_memory_reserved",
    "reset_peak_memory_stats", "is_bf16_supported", "set_device",
]  # fmt: skip


def _no_gpu(name):
    raise RuntimeError(f"rg.cuda.{name}: no CUDA device; retrograd runs on the CPU")


def is_available():
    return False


def device_count():
    return 0


def is_initialized():
    return False


def is_bf16_supported(including_emulation=True):
    return False


def manual_seed(seed):
    """Does nothing (there is no GPU generator); seed rg's generator with rg.manual_seed."""


def manual_seed_all(seed):
    """Does nothing, as manual_seed."""


def seed():
    """Does nothing, as manual_seed."""


def seed_all():
    """Does nothing, as manual_seed."""


def synchronize(device=None):
    """Does nothing: CPU work is already finished when an op returns."""


def empty_cache():
    """Does nothing: there is no GPU memory cache."""


def memory_allocated(device=None):
    return 0


def max_memory_allocated(device=None):
    return 0


def memory_reserved(device=None):
    return 0


def max_memory_reserved(device=None):
    return 0


def reset_peak_memory_stats(device=None):
    """Does nothing."""


def current_device():
    _no_gpu("current_device")


def get_device_name(device=None):
    _no_gpu("get_device_name")


def set_device(device):
    _no_gpu("set_device")
