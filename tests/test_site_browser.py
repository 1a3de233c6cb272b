"""The stakeholder site in a real browser (headless Chromium driven by Playwright).

The site is rendered once per session into a temporary folder (from the project's artifacts
when they are complete, else from one pipeline run on the real data) and served over
http.server on 127.0.0.1. Every page must load without a console error, request nothing outside
127.0.0.1, and draw every chart; a screenshot of each page goes to test-output/screenshots/.

With CI=true these tests never skip: a missing Playwright or Chromium is a failure.
"""

from __future__ import annotations

import os
import re
from pathlib import Path
from urllib.parse import urlparse

import pytest

from analysis.config import PROJECT_ROOT, load_config
from analysis.publishing.build import render
from analysis.publishing.release import Home
from analysis.publishing.render import SITE_SOURCE
from tests.browser import launched_chromium, served

pytestmark = [pytest.mark.browser, pytest.mark.slow]

SCREENSHOTS = PROJECT_ROOT / "test-output" / "screenshots"
PAGES = sorted(p.stem for p in SITE_SOURCE.glob("*.md") if p.name != "README.md")


@pytest.fixture(scope="session")
def site_artifacts(request) -> Path:
    """Artifacts to render: $C2C_TEST_ARTIFACTS, else this session's run on the real data."""
    if os.environ.get("C2C_TEST_ARTIFACTS"):
        return Path(os.environ["C2C_TEST_ARTIFACTS"])
    out, _ = request.getfixturevalue("real_artifacts")
    return out


@pytest.fixture(scope="session")
def built_site(site_artifacts, tmp_path_factory) -> Path:
    """The site published once into a temporary home (never the project's _site/)."""
    home = Home(tmp_path_factory.mktemp("site") / "project")
    render(load_config(), home, site_artifacts, log=lambda *_: None)
    return home.site


@pytest.fixture(scope="session")
def base_url(built_site):
    """http://127.0.0.1:<port>/ serving the built site from a background thread."""
    with served(built_site) as url:
        yield url + "/"


@pytest.fixture(scope="session")
def browser():
    """Headless Debian Chromium (Playwright cannot download browsers here)."""
    with launched_chromium() as chromium:
        yield chromium


class PageWatch:
    """Console errors, page errors, failed requests and every requested URL of one page."""

    def __init__(self, page) -> None:
        self.errors: list[str] = []
        self.requests: list[str] = []
        page.on("console", lambda m: m.type == "error" and self.errors.append(m.text))
        page.on("pageerror", lambda e: self.errors.append(f"page error: {e}"))
        page.on("requestfailed", lambda r: self.errors.append(f"request failed: {r.url}"))
        page.on("request", lambda r: self.requests.append(r.url))

    def outside(self) -> list[str]:
        """URLs whose host is not 127.0.0.1 (data: and blob: URLs stay inside the page)."""
        bad = []
        for url in self.requests:
            parsed = urlparse(url)
            if parsed.scheme in ("data", "blob", "about"):
                continue
            if parsed.hostname != "127.0.0.1":
                bad.append(url)
        return bad


@pytest.fixture
def page(browser):
    context = browser.new_context(viewport={"width": 1280, "height": 900})
    page = context.new_page()
    yield page
    context.close()


_SHOWN_CHARTS = """[...document.querySelectorAll('.c2c-chart')]
    .filter(el => el.closest('[hidden]') === null)"""


def _wait_for_charts(page, timeout_ms: int = 30_000) -> int:
    """Wait until every shown .c2c-chart holds a drawn SVG (or canvas); return how many.

    Charts inside a ``hidden`` section (the scorer's results before a file is scored) are
    drawn only on demand and are not counted.
    """
    page.wait_for_function(
        f"""() => {_SHOWN_CHARTS}.every(el => {{
               const g = el.querySelector('svg, canvas');
               return g && (g.tagName === 'CANVAS' || g.querySelector('path, rect, text'));
           }})""", timeout=timeout_ms)
    return page.evaluate(f"() => {_SHOWN_CHARTS}.length")


@pytest.mark.parametrize("name", PAGES)
def test_page_loads_offline_and_draws_every_chart(name, page, base_url, built_site):
    assert (built_site / f"{name}.html").exists(), f"{name}.html was not built"
    watch = PageWatch(page)
    page.goto(base_url + f"{name}.html", wait_until="load")
    charts = _wait_for_charts(page)
    page.wait_for_load_state("networkidle")
    SCREENSHOTS.mkdir(parents=True, exist_ok=True)
    page.screenshot(path=str(SCREENSHOTS / f"{name}.png"), full_page=True)
    assert watch.outside() == [], f"{name}: requests outside 127.0.0.1: {watch.outside()}"
    assert watch.errors == [], f"{name}: console errors: {watch.errors}"
    failed = page.locator(".c2c-chart", has_text="could not be drawn").count()
    assert failed == 0, f"{name}: {failed} chart(s) failed to draw"
    if name in ("index", "exploration", "kmeans", "hierarchical", "segments", "comparison",
                "explore"):
        assert charts > 0, f"{name} should show charts"


def test_every_built_page_is_tested(built_site):
    built = {p.stem for p in built_site.glob("*.html")} - {"genindex", "search"}
    assert built == set(PAGES)


_LOAD_ATTR = re.compile(
    r"<(script|link|img|iframe|source|audio|video|embed|object)\b[^>]*?"
    r"\b(src|href|data|srcset)\s*=\s*[\"']?\s*((?:https?:)?//[^\"'\s>]+)", re.I)
_CSS_URL = re.compile(r"url\(\s*[\"']?((?:https?:)?//[^\"')]+)", re.I)
_CSS_IMPORT = re.compile(r"@import\s+[\"']((?:https?:)?//[^\"']+)", re.I)


def test_static_html_and_css_load_nothing_from_outside(built_site):
    """No <script src>, <link href>, <img src>, ... and no CSS url()/@import to another host."""
    offenders = []
    for path in sorted(built_site.rglob("*.html")):
        for m in _LOAD_ATTR.finditer(path.read_text(encoding="utf-8", errors="replace")):
            offenders.append(f"{path.relative_to(built_site)}: <{m.group(1)} {m.group(3)}>")
    for path in sorted(built_site.rglob("*.css")):
        text = path.read_text(encoding="utf-8", errors="replace")
        for m in list(_CSS_URL.finditer(text)) + list(_CSS_IMPORT.finditer(text)):
            offenders.append(f"{path.relative_to(built_site)}: {m.group(1)}")
    assert offenders == []


def test_no_page_embeds_user_rows(built_site):
    """Pages carry aggregates and the PCA sample only: no page is heavier than 2 MB."""
    sizes = {p.name: p.stat().st_size for p in built_site.glob("*.html")}
    assert max(sizes.values()) < 2_000_000, sizes


def _svg(page) -> str:
    return page.locator(".c2c-chart svg").first.inner_html()


def _change_select(page, select_index: int) -> tuple[str, str]:
    """Pick a different option of the chart's n-th bound select; return (before, after) SVG."""
    select = page.locator(".c2c-chart .vega-bindings select").nth(select_index)
    options = select.locator("option").evaluate_all("os => os.map(o => o.value)")
    current = select.input_value()
    target = next(v for v in reversed(options) if v != current)
    before = _svg(page)
    select.select_option(target)
    page.wait_for_function(
        "before => document.querySelector('.c2c-chart svg').innerHTML !== before",
        arg=before, timeout=15_000)
    return before, _svg(page)


def test_explore_selectors_redraw_the_chart(page, base_url):
    watch = PageWatch(page)
    page.goto(base_url + "explore.html", wait_until="load")
    _wait_for_charts(page)
    selects = page.locator(".c2c-chart .vega-bindings select")
    assert selects.count() == 2, "Explore needs an algorithm and a k selector"
    before, after = _change_select(page, 1)  # k
    assert before != after
    before, after = _change_select(page, 0)  # algorithm
    assert before != after
    SCREENSHOTS.mkdir(parents=True, exist_ok=True)
    page.screenshot(path=str(SCREENSHOTS / "explore-after-selection.png"), full_page=True)
    assert watch.errors == []
    assert watch.outside() == []


def test_dendrogram_k_selector_moves_the_cut(page, base_url):
    page.goto(base_url + "hierarchical.html", wait_until="load")
    _wait_for_charts(page)
    before, after = _change_select(page, 0)
    assert before != after
