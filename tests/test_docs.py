"""The documentation's code runs: every ```python block of README.md and docs/**/*.md.

Each file is one test case: its blocks run in order in one fresh namespace, inside a temporary
working directory, so a page reads like a session. A block fenced as ```python no-run is shown
but not executed (for output that needs a terminal, a network or minutes; use it sparingly).
A failure names the file and the line where the failing block starts, and the traceback points
at lines of the Markdown file itself. The relative links of those pages must resolve too.
"""

import re
import traceback
from pathlib import Path

import numpy as np
import pytest

import retrograd as rg

ROOT = Path(__file__).resolve().parents[1]
PAGES = [p for p in [ROOT / "README.md", *sorted((ROOT / "docs").rglob("*.md"))] if p.exists()]

FENCE = re.compile(r"^(\s*)(`{3,}|~{3,})\s*([\w+-]*)\s*(.*)$")
SKIP_MARKER = "no-run"


def extract_blocks(text):
    """[(first code line number, language, info words, code)] for every fenced block."""
    blocks = []
    lines = text.splitlines()
    i = 0
    while i < len(lines):
        opening = FENCE.match(lines[i])
        if not opening:
            i += 1
            continue
        indent, fence, language, info = opening.groups()
        body, start = [], i + 2
        i += 1
        while i < len(lines):
            closing = FENCE.match(lines[i])
            if closing and closing.group(2).startswith(fence) and not closing.group(3):
                break
            line = lines[i]
            body.append(line[len(indent):] if line.startswith(indent) else line.lstrip())
            i += 1
        blocks.append((start, language.lower(), info.split(), "\n".join(body) + "\n"))
        i += 1
    return blocks


def runnable_blocks(text):
    return [
        (line, code)
        for line, language, info, code in extract_blocks(text)
        if language == "python" and SKIP_MARKER not in info
    ]


def run_page(path, text):
    namespace = {"__name__": "__docs__"}
    for line, code in runnable_blocks(text):
        # Pad so that line numbers in a traceback are the Markdown file's own.
        source = "\n" * (line - 1) + code
        try:
            exec(compile(source, str(path), "exec"), namespace)
        except Exception:
            pytest.fail(
                f"{path}: the python block starting at line {line} failed:\n"
                f"{traceback.format_exc()}",
                pytrace=False,
            )


@pytest.fixture
def fresh_state(tmp_path, monkeypatch):
    """Each page starts in an empty directory with the library's global state at its defaults."""
    monkeypatch.chdir(tmp_path)
    dtype, rng_state, np_state = rg.get_default_dtype(), rg.get_rng_state(), np.random.get_state()
    grad_enabled = rg.is_grad_enabled()
    yield
    rg.set_default_dtype(dtype)
    rg.set_rng_state(rng_state)
    np.random.set_state(np_state)
    rg.set_grad_enabled(grad_enabled)


@pytest.mark.parametrize("path", PAGES, ids=[str(p.relative_to(ROOT)) for p in PAGES])
def test_page_examples_run(path, fresh_state):
    run_page(path.relative_to(ROOT), path.read_text(encoding="utf-8"))


LINK = re.compile(r"\[[^\]]*\]\(([^)\s]+)\)")


@pytest.mark.parametrize("path", PAGES, ids=[str(p.relative_to(ROOT)) for p in PAGES])
def test_relative_links_resolve(path):
    broken = []
    for target in LINK.findall(path.read_text(encoding="utf-8")):
        if re.match(r"^[a-z]+:", target) or target.startswith("#"):
            continue  # a web address or an anchor on the same page
        if not (path.parent / target.split("#")[0]).exists():
            broken.append(target)
    assert not broken, f"{path.relative_to(ROOT)}: links to missing files: {broken}"


def test_every_docs_page_is_reachable_from_the_readme_or_the_index():
    linked = set()
    for page in (ROOT / "README.md", ROOT / "docs" / "index.md"):
        if page.exists():
            for target in LINK.findall(page.read_text(encoding="utf-8")):
                linked.add((page.parent / target.split("#")[0]).resolve())
    docs = [p for p in PAGES if p.parent != ROOT and p.name != "index.md"]
    orphans = [str(p.relative_to(ROOT)) for p in docs if p.resolve() not in linked]
    assert not orphans, f"docs pages linked from neither README.md nor docs/index.md: {orphans}"


# ----------------------------------------------------------------- the runner itself

SAMPLE = """\
# Title

```python
x = 1
```

```python no-run
raise SystemExit("never runs")
```

```bash
echo not python
```

  ```python
  y = x + 1
  ```

````python
s = '''
```
'''
````
"""


def test_extract_blocks_finds_languages_lines_and_markers():
    blocks = extract_blocks(SAMPLE)
    assert [(b[0], b[1], b[2]) for b in blocks] == [
        (4, "python", []),
        (8, "python", ["no-run"]),
        (12, "bash", []),
        (16, "python", []),
        (20, "python", []),
    ]
    assert blocks[3][3] == "y = x + 1\n"
    assert blocks[4][3] == "s = '''\n```\n'''\n"


def test_run_page_shares_one_namespace_and_skips_no_run_blocks():
    run_page("sample.md", SAMPLE)  # would raise SystemExit if the no-run block ran


def test_run_page_reports_the_file_and_line_of_a_failing_block():
    text = "intro\n\n```python\nx = 1\n```\n\n```python\nassert x == 2, 'x is wrong'\n```\n"
    with pytest.raises(pytest.fail.Exception) as info:
        run_page("broken.md", text)
    message = str(info.value)
    assert "broken.md: the python block starting at line 8 failed" in message
    assert 'File "broken.md", line 8' in message and "x is wrong" in message
