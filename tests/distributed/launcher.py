"""Start a script under `mpiexec -n N` from a test, or skip when MPI is not installed."""

import importlib.util
import os
import shutil
import subprocess
import sys
import time
from pathlib import Path

import pytest

HERE = Path(__file__).resolve().parent


def mpiexec():
    """The mpiexec next to this Python (pip's mpich puts it there), else the one on PATH."""
    beside = Path(sys.executable).with_name("mpiexec")
    return str(beside) if beside.exists() else shutil.which("mpiexec")


def require_mpi():
    if importlib.util.find_spec("mpi4py") is None:
        pytest.skip("mpi4py is not installed (pip install 'retrograd[distributed]')")
    if mpiexec() is None:
        pytest.skip("no mpiexec found (pip install 'retrograd[distributed]' brings mpich's)")


def run(script, n=2, args=(), timeout=120, env=None, module=False):
    """Run `python script args...` (or `python -m script`) on `n` ranks; returns
    (CompletedProcess, seconds). One BLAS thread per rank: the ranks share the cores."""
    require_mpi()
    environment = {**os.environ, "OMP_NUM_THREADS": "1", "OPENBLAS_NUM_THREADS": "1",
                   "MKL_NUM_THREADS": "1", **(env or {})}
    target = ["-m", script] if module else [str(HERE / script)]
    command = [mpiexec(), "-n", str(n), sys.executable, *target, *map(str, args)]
    started = time.perf_counter()
    result = subprocess.run(command, capture_output=True, text=True, timeout=timeout,
                            env=environment)
    return result, time.perf_counter() - started


def explain(result):
    return f"exit {result.returncode}\n--- stdout\n{result.stdout}\n--- stderr\n{result.stderr}"
