"""Importing retrograd never needs MPI: mpi4py is imported on first use only, and its absence
is a clear error from the calls that need it."""

import subprocess
import sys

CODE = """
import sys
sys.modules["mpi4py"] = None  # as if it were not installed
import retrograd as rg
from retrograd.nn.parallel import DistributedDataParallel
assert "mpi4py.MPI" not in sys.modules
assert not rg.distributed.is_available() and not rg.distributed.is_initialized()
try:
    rg.distributed.init_process_group("mpi")
except RuntimeError as err:
    assert "pip install 'retrograd[distributed]'" in str(err), err
else:
    raise AssertionError("no error")
try:
    DistributedDataParallel(rg.nn.Linear(2, 2))
except RuntimeError as err:
    assert "init_process_group" in str(err), err
else:
    raise AssertionError("no error")
print("ok")
"""


def test_import_and_clear_errors_without_mpi4py():
    result = subprocess.run([sys.executable, "-c", CODE], capture_output=True, text=True,
                            timeout=120)
    assert result.returncode == 0 and result.stdout.strip() == "ok", result.stderr


def test_importing_retrograd_does_not_start_mpi():
    code = "import sys, retrograd; print('mpi4py.MPI' in sys.modules)"
    result = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                            timeout=120)
    assert result.stdout.strip() == "False", result.stderr
