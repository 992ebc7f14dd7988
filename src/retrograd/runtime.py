"""Process-wide settings PyTorch scripts make at the top: thread counts, determinism, matmul
precision, and torch.compile (which returns its argument: there is no compiler here).

set_num_threads limits NumPy's BLAS threads (through threadpoolctl, when installed); the
others are recorded and reported back but change nothing, since retrograd's results are
deterministic and computed in the dtype asked for.
"""

import os

__all__ = [
    "set_num_threads", "get_num_threads", "set_num_interop_threads", "get_num_interop_threads",
    "use_deterministic_algorithms", "are_deterministic_algorithms_enabled",
    "is_deterministic_algorithms_warn_only_enabled", "set_float32_matmul_precision",
    "get_float32_matmul_precision", "compile",
]  # fmt: skip

_settings = {"interop_threads": 1, "deterministic": False, "warn_only": False,
             "matmul_precision": "highest", "num_threads": None}


def set_num_threads(n):
    """Use at most `n` threads for NumPy's BLAS (matmul, convolution)."""
    n = int(n)
    if n < 1:
        raise ValueError(f"set_num_threads: expected a positive number of threads, got {n}")
    _settings["num_threads"] = n
    try:
        from threadpoolctl import threadpool_limits  # noqa: PLC0415 - optional
    except ImportError:  # pragma: no cover - a dependency, but optional at run time
        return
    threadpool_limits(limits=n, user_api="blas")


def get_num_threads():
    """The BLAS thread count (the last set_num_threads, else what the BLAS library uses)."""
    if _settings["num_threads"] is not None:
        return _settings["num_threads"]
    try:
        from threadpoolctl import threadpool_info  # noqa: PLC0415 - optional
    except ImportError:  # pragma: no cover
        return os.cpu_count() or 1
    counts = [info["num_threads"] for info in threadpool_info() if info["user_api"] == "blas"]
    return max(counts) if counts else os.cpu_count() or 1


def set_num_interop_threads(n):
    _settings["interop_threads"] = int(n)


def get_num_interop_threads():
    return _settings["interop_threads"]


def use_deterministic_algorithms(mode, *, warn_only=False):
    """Recorded only: every retrograd op is deterministic already."""
    _settings["deterministic"] = bool(mode)
    _settings["warn_only"] = bool(warn_only)


def are_deterministic_algorithms_enabled():
    return _settings["deterministic"]


def is_deterministic_algorithms_warn_only_enabled():
    return _settings["warn_only"]


def set_float32_matmul_precision(precision):
    """Recorded only: float32 matmuls always run in float32 ('highest')."""
    if precision not in ("highest", "high", "medium"):
        raise ValueError(
            f"set_float32_matmul_precision: expected 'highest', 'high' or 'medium', got "
            f"{precision!r}"
        )
    _settings["matmul_precision"] = precision


def get_float32_matmul_precision():
    return _settings["matmul_precision"]


def compile(model=None, **options):  # noqa: A001 - PyTorch's name
    """torch.compile's signature without a compiler: returns `model` (a module or function)
    unchanged; `compile(**options)` returns a decorator that does the same."""
    if model is None:
        return lambda fn: fn
    return model
