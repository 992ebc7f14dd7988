"""Pipeline parallelism (mpi_pipeline.py): a 4-stage MLP split over 2 ranks (2 stages each)
and over 4 ranks (1 stage each; mpich runs 4 ranks on 2 cores) matches the whole model in one
process: loss, gradients, and parameters after 5 SGD and 5 Adam steps (float64, 1e-10)."""

import pytest

from . import launcher

CHECKS = ["gradients", "training", "forward_and_layout", "differentiable_messages"]


@pytest.fixture(scope="module", params=[2, 4], ids=["2-ranks", "4-ranks"])
def job(request):
    result, _ = launcher.run("mpi_pipeline.py", n=request.param)
    return result


@pytest.mark.parametrize("name", CHECKS)
def test_check_passes(job, name):
    assert f"PASS {name}\n" in job.stdout, launcher.explain(job)


def test_job_ends_cleanly(job):
    assert job.returncode == 0, launcher.explain(job)
