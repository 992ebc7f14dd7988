"""benchmarks/bench_distributed.py runs (quick mode); timings are printed, never asserted."""

import json
import subprocess
import sys
from pathlib import Path

from . import launcher

SCRIPT = Path(__file__).resolve().parents[2] / "benchmarks" / "bench_distributed.py"


def test_quick_benchmark_completes(tmp_path):
    launcher.require_mpi()
    out = tmp_path / "bench.json"
    result = subprocess.run([sys.executable, str(SCRIPT), "--quick", "--json", str(out)],
                            capture_output=True, text=True, timeout=300)
    assert result.returncode == 0, result.stdout + result.stderr
    assert "2 ranks x 1 BLAS thread (DDP)" in result.stdout and "GB/s" in result.stdout
    numbers = json.loads(out.read_text())
    for key in ("one_thread", "two_threads", "ddp"):
        assert numbers[key]["samples_per_s"] > 0
    assert numbers["allreduce"]["mpi_s"] > 0 and numbers["ddp"]["wait_s"] >= 0
