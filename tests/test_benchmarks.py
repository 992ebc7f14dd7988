"""The benchmark runner executes (quick mode); timings are printed, never asserted."""

import json
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]


def test_quick_benchmark_run_completes(tmp_path):
    out = tmp_path / "results.json"
    result = subprocess.run(
        [sys.executable, str(ROOT / "benchmarks" / "run.py"), "--quick", "--threads", "1",
         "--json", str(out)],
        capture_output=True, text=True, timeout=600,
    )
    assert result.returncode == 0, result.stdout + result.stderr
    assert "rg/torch" in result.stdout and "rg/numpy" in result.stdout
    rows = json.loads(out.read_text())["rows"]
    names = " | ".join(row["name"] for row in rows)
    for expected in ("chain of 1,000 ops", "MLP 784-256-256-10", "LeNet 1x28x28",
                     "LSTM 32-128", "Transformer encoder 2x(d128"):
        assert expected in names, names
    for row in rows:
        assert row["retrograd"] > 0 and not row["note"], row
