"""A rank that raises ends the whole job, non-zero, within seconds (not a hang), and the
failing rank's traceback is printed with its rank."""

import pytest

from . import launcher


@pytest.mark.parametrize("mode,rank,message", [
    ("collective", 1, "ValueError: boom on rank 1"),
    ("ddp", 0, "RuntimeError: step 2 failed on rank 0"),
])
def test_a_failing_rank_ends_the_job_quickly(mode, rank, message):
    result, seconds = launcher.run("mpi_fail.py", n=2, args=[mode], timeout=60)
    assert result.returncode != 0, launcher.explain(result)
    assert f"[rank {rank}] {message}" in result.stderr, launcher.explain(result)
    assert f"[rank {rank}] Traceback" in result.stderr
    assert "should not get here" not in result.stdout
    # the job's start (two interpreters importing retrograd) is part of the time
    assert seconds < 10, f"the job took {seconds:.1f}s to end"
