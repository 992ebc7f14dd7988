"""The report in a real browser: headless Chromium (Debian's package) driven by Playwright
opens the page from file://, and the charts, findings, config and controls must work.

Needs `pip install playwright` (never `playwright install`: the browser is the system's
chromium, `apt-get install chromium`); skipped when either is missing.
"""

import os
import shutil

import pytest

from retrograd.monitor import build_report, read_run

sync_api = pytest.importorskip(
    "playwright.sync_api", reason="the browser test needs Playwright: pip install playwright")

CHROMIUM = shutil.which("chromium") or shutil.which("chromium-browser")
if CHROMIUM is None:
    pytest.skip("the browser test needs Debian's chromium on PATH (apt-get install chromium)",
                allow_module_level=True)

ARGS = ["--no-sandbox", "--disable-gpu", "--disable-background-networking",
        "--disable-component-update", "--no-first-run"]


@pytest.fixture(scope="module")
def browser():
    with sync_api.sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=CHROMIUM, args=ARGS, headless=True)
        yield browser
        browser.close()


@pytest.fixture
def opened(browser, dead_run, tmp_path):
    """The dead-ReLU run's report open in a page; yields (page, problems, run)."""
    path = build_report(dead_run, tmp_path / "report.html")
    page = browser.new_page(viewport={"width": 1280, "height": 900})
    problems, requests = [], []
    page.on("console", lambda m: problems.append(f"console {m.type}: {m.text}")
            if m.type in ("error", "warning") else None)
    page.on("pageerror", lambda err: problems.append(f"page error: {err}"))
    page.on("request", lambda r: requests.append(r.url))
    page.goto("file://" + os.path.abspath(path))
    page.wait_for_selector("body[data-ready='true']", timeout=10_000)
    yield page, problems, read_run(dead_run)
    assert all(url.startswith(("file://", "data:")) for url in requests), requests
    page.close()


def visible(page, selector):
    return page.locator(selector).is_visible()


def test_charts_render_without_errors(opened, tmp_path):
    page, problems, run = opened
    assert page.locator("svg.chart").count() == 3 + 2 + 11
    for i in range(page.locator("svg.line-chart").count()):
        chart = page.locator("svg.line-chart").nth(i)
        box = chart.bounding_box()
        assert box["width"] > 300 and box["height"] > 150
        lengths = chart.locator("path").evaluate_all("ps => ps.map(p => p.getTotalLength())")
        assert lengths and max(lengths) > 50  # a curve was drawn, not an empty path
    cells = page.locator("#view-grad_norm rect.cell")
    assert cells.count() == 2 * len(run.steps) and cells.first.is_visible()
    ridge = page.locator("#hist-weight path.ridge").first.bounding_box()
    assert ridge["width"] > 100 and ridge["height"] > 5
    shot = tmp_path / "report.png"
    page.screenshot(path=str(shot), full_page=True)
    assert shot.read_bytes()[:4] == b"\x89PNG" and shot.stat().st_size > 50_000
    assert problems == []


def test_findings_and_config_are_visible(opened):
    page, problems, run = opened
    finding = next(f for f in run.last_flow()["report"]["findings"] if f["kind"] == "dead_relu")
    card = page.locator(".finding.dead_relu")
    assert card.is_visible() and finding["message"] in card.inner_text()
    assert page.get_by_text(finding["remedy"], exact=False).first.is_visible()
    assert page.locator("table.kv").first.is_visible()
    assert "blobs" in page.locator("#config").inner_text()
    assert problems == []


def test_the_heatmap_and_histogram_toggles_switch_views(opened):
    page, problems, _ = opened
    assert visible(page, "#view-grad_norm") and not visible(page, "#view-update_ratio")
    page.get_by_role("button", name="Update ratio per layer").click()
    assert visible(page, "#view-update_ratio") and not visible(page, "#view-grad_norm")
    assert visible(page, "#hist-weight") and not visible(page, "#hist-activation")
    page.get_by_role("button", name="Activations").click()
    assert visible(page, "#hist-activation") and not visible(page, "#hist-weight")
    assert problems == []


def test_the_step_slider_selects_a_step(opened):
    page, problems, run = opened
    last = run.steps[-1]["step"]
    assert page.locator("#step-value").inner_text() == f"step {last}"
    caption = page.locator("#hist-weight .hist-caption").first
    assert caption.inner_text().startswith(f"step {last}:")
    page.locator("#step-slider").focus()
    page.keyboard.press("Home")  # to the first logged step, as a user would
    assert page.locator("#step-value").inner_text() == "step 1"
    assert caption.inner_text().startswith("step 1:")
    selected = page.locator("path.ridge.selected")
    assert selected.count() == 11
    assert set(selected.evaluate_all("ps => ps.map(p => p.dataset.stepIndex)")) == {"0"}
    page.keyboard.press("ArrowRight")
    assert page.locator("#step-value").inner_text() == f"step {run.steps[1]['step']}"
    assert problems == []


def test_a_legend_entry_hides_its_curve(opened):
    page, problems, _ = opened
    button = page.locator('.legend-item[data-chart="loss"]').first
    series = page.locator('g.series[data-chart="loss"][data-series="0"]')
    assert series.is_visible()
    button.click()
    assert button.get_attribute("aria-pressed") == "false" and not series.is_visible()
    button.click()
    assert series.is_visible()
    assert problems == []
