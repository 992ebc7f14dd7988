"""Test-session set-up shared by every test module."""

import os

# NOTE: the suite runs on 2 xdist workers on 2 cores; BLAS threads in each worker would fight
# (small matmuls then take ~100x longer). Must be set before NumPy is first imported.
for _var in ("OPENBLAS_NUM_THREADS", "OMP_NUM_THREADS", "MKL_NUM_THREADS"):
    os.environ.setdefault(_var, "1")
