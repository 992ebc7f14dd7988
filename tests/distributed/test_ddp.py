"""DistributedDataParallel, the collectives and the fit loop on 2 MPI ranks (mpi_ddp.py):
the same parameters as one process with the combined batch after 5 SGD and 5 Adam steps, in
float64 to 1e-10, with one bucket and with many, with no_sync() accumulation; BatchNorm buffers;
unused parameters; the debug checks; rank-0-only logging and checkpoints."""

import pytest

from . import launcher

CHECKS = ["collectives", "equivalence", "bucket_layout_and_overlap", "no_sync_is_local",
          "gradient_layouts",
          "unused_parameters", "debug_names_differing_parameters", "structure_mismatch",
          "state_dict_and_wrapping", "batchnorm_buffers", "distributed_sampler", "fit"]


@pytest.fixture(scope="module")
def job(tmp_path_factory):
    result, _ = launcher.run("mpi_ddp.py", n=2, args=[tmp_path_factory.mktemp("ddp")])
    return result


@pytest.mark.parametrize("name", CHECKS)
def test_check_passes_on_two_ranks(job, name):
    assert f"PASS {name}\n" in job.stdout, launcher.explain(job)


def test_job_ends_cleanly(job):
    assert job.returncode == 0, launcher.explain(job)
    assert job.stdout.count("PASS ") == len(CHECKS), launcher.explain(job)
