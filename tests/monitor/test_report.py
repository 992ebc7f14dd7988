"""The HTML report: well-formed, self-contained (nothing fetched), with every section drawn
from the run's numbers; the SVG helpers; PNG plots."""

import json
import re
from html.parser import HTMLParser

import pytest

from retrograd.monitor import build_report, read_run, write_pngs
from retrograd.monitor.report.sections import evenly
from retrograd.monitor.report.svg import color_scale, fmt, nice_ticks, tick_labels

VOID = {"area", "base", "br", "col", "embed", "hr", "img", "input", "link", "meta", "source",
        "track", "wbr"}
SVG_SELF_CLOSING = {"path", "line", "rect", "circle", "stop"}


class Structure(HTMLParser):
    """Checks that every element is closed in order, and counts tags and attributes."""

    def __init__(self):
        super().__init__()
        self.stack, self.errors, self.tags, self.ids, self.attrs = [], [], {}, set(), []
        self.text = []

    def handle_starttag(self, tag, attrs):
        self.tags[tag] = self.tags.get(tag, 0) + 1
        self.attrs.append((tag, dict(attrs)))
        if "id" in dict(attrs):
            self.ids.add(dict(attrs)["id"])
        if tag not in VOID:
            self.stack.append(tag)

    def handle_startendtag(self, tag, attrs):
        self.tags[tag] = self.tags.get(tag, 0) + 1
        self.attrs.append((tag, dict(attrs)))
        if tag not in VOID | SVG_SELF_CLOSING:
            self.errors.append(f"<{tag}/> is not a void element")

    def handle_endtag(self, tag):
        if not self.stack or self.stack[-1] != tag:
            self.errors.append(f"</{tag}> closes {self.stack[-1:] or 'nothing'}")
            return
        self.stack.pop()

    def handle_data(self, data):
        self.text.append(data)


def parse(html):
    parser = Structure()
    parser.feed(html)
    parser.close()
    assert parser.errors == [] and parser.stack == []
    return parser


@pytest.fixture(scope="module")
def healthy_page(healthy_run, tmp_path_factory):
    path = build_report(healthy_run, tmp_path_factory.mktemp("page") / "report.html")
    return path, open(path, encoding="utf-8").read()


def test_the_page_is_well_formed_and_has_every_section(healthy_page):
    _, html = healthy_page
    assert html.startswith("<!DOCTYPE html>")
    page = parse(html)
    assert {"curves", "gradients", "histograms", "findings", "config", "step-slider"} <= page.ids
    assert page.tags["script"] == 1 and page.tags["style"] >= 1


def test_nothing_is_fetched(healthy_page):
    _, html = healthy_page
    assert not re.search(r"https?:|//[a-z0-9.-]+\.[a-z]{2,}/", html, re.IGNORECASE)
    assert "@import" not in html and "url(" not in html
    for tag, attrs in parse(html).attrs:
        for key in ("src", "href", "xlink:href", "srcset", "action"):
            value = attrs.get(key)
            if value is not None:
                assert value.startswith(("#", "data:")), (tag, key, value)


def test_learning_curves_heatmaps_and_ridgelines_come_from_the_run(healthy_run, healthy_page):
    run = read_run(healthy_run)
    _, html = healthy_page
    assert html.count('class="chart line-chart"') == 3  # loss, accuracy, learning rate
    assert html.count('class="legend-item"') == 3 + 2 + 1
    # one cell per layer and logged step, for gradient norms and for update ratios
    assert html.count('class="cell"') == 2 * 2 * len(run.steps)
    step = run.steps[-1]
    assert f"0 (Linear), step {step['step']}: log10 |grad| " in html
    # a ridgeline per tensor: 4 weights, 4 gradients, 3 activations; a ridge per logged step
    assert html.count('class="chart ridgeline"') == 11
    assert html.count('class="ridge"') == 11 * len(run.steps)
    slider = re.search(r'<input type="range" id="step-slider"[^>]*>', html).group(0)
    assert f'max="{len(run.steps) - 1}"' in slider
    assert json.loads(re.search(r'data-steps="([^"]*)"', slider).group(1).replace(
        "&quot;", '"')) == [s["step"] for s in run.steps]


def test_summary_findings_and_config_are_shown(healthy_page):
    _, html = healthy_page
    text = " ".join(parse(html).text)
    assert "87.50%" in text and "0.4321" in text  # results.json
    assert "blobs" in text and "Configuration" in text and "config.json" in text
    assert "Layers at that step" in text and "0 (Linear)" in text


def test_findings_of_a_broken_network_are_on_the_page(dead_run, tmp_path):
    html = open(build_report(dead_run, tmp_path / "r.html"), encoding="utf-8").read()
    text = " ".join(parse(html).text)
    finding = next(f for f in read_run(dead_run).last_flow()["report"]["findings"]
                   if f["kind"] == "dead_relu")
    assert finding["message"] in text and finding["remedy"] in text
    assert "dead relu" in text and 'class="finding dead_relu"' in html
    assert "Over the whole run" in text


def test_fewer_ridges_when_asked(healthy_run, tmp_path):
    html = open(build_report(healthy_run, tmp_path / "r.html", max_ridges=3),
                encoding="utf-8").read()
    assert html.count('class="ridge"') == 11 * 3
    with pytest.raises(ValueError, match="max_ridges must be an int of at least 2"):
        build_report(healthy_run, tmp_path / "r.html", max_ridges=1)


def test_a_run_without_a_monitor_gets_curves_by_epoch(tmp_path):
    records = [{"epoch": e, "train_loss": 1.0 / e, "val_loss": 1.2 / e, "lr": 0.1}
               for e in (1, 2, 3)]
    (tmp_path / "metrics.jsonl").write_text("".join(json.dumps(r) + "\n" for r in records))
    html = open(build_report(tmp_path), encoding="utf-8").read()
    parse(html)
    assert (tmp_path / "report.html").exists()
    assert html.count('class="chart line-chart"') == 2  # loss and learning rate
    assert ">epoch</text>" in html and "No per-layer numbers were logged" in html
    assert "No gradient-flow report was logged in this run." in html


def test_an_empty_run_directory_still_gives_a_page(tmp_path):
    html = open(build_report(tmp_path), encoding="utf-8").read()
    parse(html)
    assert "holds no metrics yet" in html and "No histograms were logged." in html


def test_png_plots(healthy_run, tmp_path):
    pytest.importorskip("matplotlib")
    paths = write_pngs(read_run(healthy_run), tmp_path)
    assert [p.rsplit("/", 1)[-1] for p in paths] == ["learning_curves.png",
                                                     "gradient_norms.png"]
    for p in paths:
        data = open(p, "rb").read()
        assert data[:8] == b"\x89PNG\r\n\x1a\n" and len(data) > 10_000


# ------------------------------------------------------------------------- svg helpers
def test_nice_ticks_are_round_and_cover_the_range():
    assert nice_ticks(0, 1) == pytest.approx([0, 0.2, 0.4, 0.6, 0.8, 1.0])
    assert nice_ticks(3, 97, 5) == [20, 40, 60, 80]
    assert nice_ticks(-0.013, 0.021, 4) == pytest.approx([-0.01, 0.0, 0.01, 0.02])
    assert nice_ticks(2, 2) == [2] and nice_ticks(0, float("nan")) == []


def test_tick_labels_tell_neighbours_apart():
    assert tick_labels([-100.4, -100.2, -100.0, -99.8]) == ["-100.4", "-100.2", "-100", "-99.8"]
    assert tick_labels([0.0, 0.5, 1.0]) == ["0", "0.5", "1"]
    assert tick_labels([1000.0, 1000.001]) == ["1000", "1000.001"]
    assert tick_labels([3.0]) == ["3"]


def test_fmt_and_color_scale():
    assert fmt(0.0123) == "0.0123" and fmt(1.5e-7) == "1.5e-07" and fmt(None) == "-"
    assert fmt(float("nan")) == "nan" and fmt(0) == "0" and fmt(4500.0) == "4500"
    assert fmt(123456.7) == "1.23e+05" and fmt(2.5e6) == "2.5e+06" and fmt(-0.5) == "-0.5"
    assert color_scale(0) == "#440154" and color_scale(1) == "#fde725"
    assert color_scale(-3) == color_scale(0) and color_scale(0.5) == "#21918c"


def test_evenly_keeps_the_ends():
    assert evenly(range(10), 4) == [0, 3, 6, 9]
    assert evenly([1, 2], 5) == [1, 2]
    assert evenly(range(100), 16)[0] == 0 and evenly(range(100), 16)[-1] == 99
