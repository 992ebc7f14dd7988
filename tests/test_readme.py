"""The README's promises: two set-up commands, CI runs the same tests, the main job learns.

The main job is `retrograd train` (tested in tests/test_cli.py); examples/train_mlp.py is the
same idea written with the raw engine.
"""

import importlib.util
import re
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]


def quick_start_commands():
    text = (ROOT / "README.md").read_text(encoding="utf-8")
    section = text.split("## Quick start", 1)[1].split("\n## ", 1)[0]
    block = re.search(r"```bash\n(.*?)```", section, re.S).group(1)
    return [line for line in block.splitlines() if line.strip() and not line.startswith("#")]


def test_quick_start_is_exactly_two_commands():
    commands = quick_start_commands()
    assert len(commands) == 2, commands
    setup, tests = commands
    assert setup.startswith("python3 -m venv .venv && ") and '-e ".[dev,datasets]"' in setup
    assert setup.endswith("&& .venv/bin/retrograd train")
    assert "pytest" in tests


def test_the_main_job_is_the_installed_console_script():
    pyproject = (ROOT / "pyproject.toml").read_text(encoding="utf-8")
    assert '[project.scripts]\nretrograd = "retrograd.cli:main"' in pyproject
    extras = re.search(r"^datasets = \[(.*)\]$", pyproject, re.M).group(1)
    assert "scikit-learn" in extras  # the default dataset, the digits, ships with it


def test_ci_installs_what_the_tests_need():
    ci = (ROOT / ".ci" / "run").read_text(encoding="utf-8")
    installs = re.findall(r'pip install .*-e "\.\[([a-z,-]+)\]"', ci)
    assert installs, ".ci/run must install the package itself with its extras"
    extras = set(installs[0].split(","))
    assert {"dev", "datasets"} <= extras, f".ci/run installs extras {sorted(extras)}"


def test_ci_runs_the_readme_test_command_with_pinned_torch():
    ci = (ROOT / ".ci" / "run").read_text(encoding="utf-8")
    assert ci.startswith("#!/usr/bin/env bash") and "set -euo pipefail" in ci
    test_command = quick_start_commands()[1].split("&&")[-1].strip().removeprefix(".venv/bin/")
    last_line = [line for line in ci.splitlines() if line.strip()][-1]
    assert last_line == test_command
    for spec in re.findall(r"\btorch\S*", " ".join(re.findall(r"pip install.*", ci))):
        assert spec == "torch==2.13.0", f".ci/run installs {spec}: torch must be pinned exactly"
    assert "torch==2.13.0" in quick_start_commands()[1]


def _load_example():
    path = ROOT / "examples" / "train_mlp.py"
    spec = importlib.util.spec_from_file_location("train_mlp", path)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def test_raw_engine_example_loss_falls(capsys):
    train_mlp = _load_example()
    held_out_loss = train_mlp.main(["--steps", "300", "--seed", "1"])
    losses = [float(m) for m in re.findall(r"step +\d+ +loss ([\d.]+)", capsys.readouterr().out)]
    assert len(losses) == 11
    assert losses[-1] < 0.6 * losses[0], losses
    assert held_out_loss < 0.6 * losses[0]
