"""benchmarks/bench_memory.py runs (quick sizes, without torch) and measures what it says:
checkpointing lowers the graph's peak, the plan meets its prediction, autocast halves the
activations, the injected inf is skipped once."""

import json
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]


def test_quick_memory_benchmark(tmp_path):
    out = tmp_path / "memory.json"
    done = subprocess.run(
        [sys.executable, str(ROOT / "benchmarks" / "bench_memory.py"), "--quick", "--no-torch",
         "--repeats", "1", "--json", str(out)],
        capture_output=True, text=True, timeout=600,
    )
    assert done.returncode == 0, done.stdout + done.stderr
    results = json.loads(out.read_text())
    rows = {r["config"]: r for r in results["checkpointing"]}
    assert set(rows) == {"plain", "sqrt", "plan"}
    assert rows["plan"]["graph_peak"] < rows["sqrt"]["graph_peak"] < rows["plain"]["graph_peak"]
    assert all(r["rss_peak"] > 0 and r["traced_peak"] > 0 for r in rows.values())
    amp = results["amp"]
    assert amp["float16"]["activation_bytes"] < 0.65 * amp["float32"]["activation_bytes"]
    scaler = results["grad_scaler"]
    assert [r["stepped"] for r in scaler] == [r["step"] != 3 for r in scaler]
    assert scaler[2]["scale"] < scaler[1]["scale"]
