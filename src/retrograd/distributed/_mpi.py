"""The one place that imports mpi4py, on first use: importing retrograd never needs MPI."""

import importlib.util

_MPI = None


def is_available():
    """True when mpi4py is installed (PyTorch's `torch.distributed.is_available`); asking does
    not start MPI."""
    return _MPI is not None or importlib.util.find_spec("mpi4py") is not None


def mpi():
    """The `mpi4py.MPI` module; importing it initialises MPI (once per process)."""
    global _MPI
    if _MPI is None:
        try:
            from mpi4py import MPI  # noqa: PLC0415 - optional, and its import starts MPI
        except ImportError as err:
            raise RuntimeError(
                "retrograd.distributed needs mpi4py and an MPI library: pip install "
                f"'retrograd[distributed]' (mpi4py and mpich) ({err})"
            ) from None
        _MPI = MPI
    return _MPI
