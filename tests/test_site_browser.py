"""The stakeholder site in a real browser (headless Chromium driven by Playwright).

The site is rendered once per session into a temporary folder (from $C2C_TEST_ARTIFACTS when
set, else from one pipeline run on the real data) and served over http.server on 127.0.0.1.
Every page is opened at 390 px (a phone) and 1366 px (a laptop): it must load without a console
error or Content-Security-Policy violation, request nothing outside 127.0.0.1, draw every chart
inside the screen with no text cut by its SVG box and every tier of a stacked bar visible, and
never scroll sideways. A full-page screenshot of each page at each width goes to
test-output/screenshots/. Then the reading experience: the answer on the first screen, the
navigation, chart and table export, dark mode, print, and the interactive selectors.

With CI=true these tests never skip: a missing Playwright or Chromium is a failure.
"""

from __future__ import annotations

import csv
import io
import os
import re
from pathlib import Path

import pytest

from analysis.config import PROJECT_ROOT, load_config
from analysis.publishing.build import render
from analysis.publishing.release import Home
from analysis.publishing.render import SITE_SOURCE
from tests.browser import Watch, served

pytestmark = [pytest.mark.browser, pytest.mark.slow]

SCREENSHOTS = PROJECT_ROOT / "test-output" / "screenshots"
PAGES = sorted(p.stem for p in SITE_SOURCE.glob("*.md") if p.name != "README.md")
#: Pages that must show charts (the others are text, tables or the scorer).
CHART_PAGES = {"index", "segments", "explore", "kmeans", "hierarchical", "comparison",
               "exploration"}
WIDTHS = (390, 1366)


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


def _local(base_url: str):
    return lambda url: url.startswith(base_url.rstrip("/"))


@pytest.fixture
def open_page(browser, base_url):
    """open_page(name, width=1366, height=900, **context) -> (page, watch), charts drawn."""
    contexts = []

    def opener(name: str, width: int = 1366, height: int = 900, **options):
        context = browser.new_context(viewport={"width": width, "height": height}, **options)
        contexts.append(context)
        page = context.new_page()
        watch = Watch(page, _local(base_url))
        page.goto(base_url + f"{name}.html", wait_until="load")
        _wait_for_charts(page)
        return page, watch

    yield opener
    for context in contexts:
        context.close()


_SHOWN_CHARTS = """[...document.querySelectorAll('.c2c-chart')]
    .filter(el => el.closest('[hidden]') === null)"""


def _wait_for_charts(page, timeout_ms: int = 30_000) -> int:
    """Wait until every shown .c2c-chart holds a drawn SVG and has settled; return how many.

    Charts inside a ``hidden`` section (the scorer's results before a file is scored) are drawn
    only on demand and are not counted.
    """
    page.wait_for_function(
        f"""() => {_SHOWN_CHARTS}.every(el => {{
               const g = el.querySelector('svg');
               return g && g.querySelector('path, rect, text') && el.__c2cView;
           }})""", timeout=timeout_ms)
    page.wait_for_timeout(300)  # a chart that came out too wide is drawn again, narrower
    return page.evaluate(f"() => {_SHOWN_CHARTS}.length")


#: Per chart: its width against the holder and the viewport, SVG text cut by the SVG's box,
#: and, for bars coloured by tier (rect marks), how many there are and, per bar (the mark's first
#: text field: a country, a segment), the tiers it holds that no part of it shows at half a
#: pixel or more ("<bar>: <tier>"). Reads Vega's scenegraph, so it sees every mark, drawn or not.
_CHART_FACTS = """() => {
  const vw = document.documentElement.clientWidth;
  return [...document.querySelectorAll('.c2c-chart')].filter(h => h.closest('[hidden]') === null)
    .map(h => {
      const svg = h.querySelector('svg');
      const box = svg.getBoundingClientRect();
      const clipped = [...svg.querySelectorAll('text')].filter(t => {
        const r = t.getBoundingClientRect();
        return r.width > 0 && (r.left < box.left - 1 || r.right > box.right + 1 ||
                               r.top < box.top - 1 || r.bottom > box.bottom + 1);
      }).map(t => t.textContent).slice(0, 5);
      const held = {}, shown = {};  // bar (its first text field) -> tiers
      let bars = 0;
      const walk = (node) => {
        if (!node) { return; }
        if (node.marktype === 'rect' && node.items) {
          node.items.forEach(item => {
            const d = item.datum || {};
            if (typeof d.tier !== 'string') { return; }
            bars += 1;
            const bar = Object.keys(d).find(k => typeof d[k] === 'string' && k !== 'tier');
            const key = bar ? d[bar] : '';
            if (Object.keys(d).some(k => typeof d[k] === 'number' && k !== 'cluster' &&
                                         d[k] > 0)) {
              (held[key] = held[key] || new Set()).add(d.tier);
            }
            if (Math.abs(item.width || 0) >= 0.5 && Math.abs(item.height || 0) >= 0.5) {
              (shown[key] = shown[key] || new Set()).add(d.tier);
            }
          });
        }
        (node.items || []).forEach(walk);  // marks hold items; group items hold marks
      };
      walk(h.__c2cView.scenegraph().root);
      const hidden = Object.keys(held).flatMap(key => [...held[key]]
        .filter(tier => !(shown[key] && shown[key].has(tier))).map(tier => key + ': ' + tier));
      const title = h.closest('figure').querySelector('.c2c-chart-title');
      return {id: h.id, title: title ? title.textContent : h.id,
              width: box.width, right: box.right, holder: h.clientWidth, viewport: vw,
              clipped, bars, hidden};
    });
}"""


#: Prose, headings, captions and chart titles whose box ends past the screen's right edge (a
#: wide table may scroll inside its own box, but its caption and the text around it wrap).
_TEXT_PAST_THE_EDGE = """() => {
  const vw = document.documentElement.clientWidth;
  return [...document.querySelectorAll(
      'main p, main h1, main h2, main h3, main li, main caption, main dt, main dd, ' +
      '.c2c-chart-title, .c2c-chart-subtitle')]
    .filter(el => el.closest('td, th, pre, .c2c-sr-only') === null)
    .filter(el => el.getBoundingClientRect().width > 0 && el.getBoundingClientRect().right > vw + 1)
    .map(el => el.textContent.trim().slice(0, 60));
}"""


@pytest.mark.parametrize("width", WIDTHS)
@pytest.mark.parametrize("name", PAGES)
def test_page_loads_offline_and_every_chart_fits(name, width, open_page, built_site):
    assert (built_site / f"{name}.html").exists(), f"{name}.html was not built"
    page, watch = open_page(name, width=width, height=800)
    page.wait_for_load_state("networkidle")
    SCREENSHOTS.mkdir(parents=True, exist_ok=True)
    page.screenshot(path=str(SCREENSHOTS / f"{name}-{width}.png"), full_page=True)
    assert watch.problems() == {"console errors": [], "requests outside": [],
                                "CSP violations": []}, name
    assert page.locator(".c2c-chart", has_text="could not be drawn").count() == 0
    charts = page.evaluate(_CHART_FACTS)
    if name in CHART_PAGES:
        assert charts, f"{name} should show charts"
    for chart in charts:
        where = f"{name} at {width}px, chart {chart['title']!r}"
        assert chart["right"] <= chart["viewport"] + 1, f"{where} leaves the screen: {chart}"
        assert chart["width"] <= chart["holder"] + 1, f"{where} is wider than its box: {chart}"
        assert chart["clipped"] == [], f"{where} cuts text: {chart['clipped']}"
        assert chart["hidden"] == [], f"{where} hides a tier of a bar: {chart['hidden']}"
    scroll = page.evaluate("() => document.documentElement.scrollWidth")
    assert scroll <= width, f"{name} scrolls sideways at {width}px ({scroll}px wide)"
    assert page.evaluate(_TEXT_PAST_THE_EDGE) == [], f"{name}: text runs past the screen"


def test_every_built_page_is_tested(built_site):
    built = {p.stem for p in built_site.glob("*.html")} - {"search"}
    assert built == set(PAGES)
    assert not (built_site / "genindex.html").exists()  # no empty pages


def test_summary_answers_on_the_first_screen(open_page, site_artifacts):
    """At 1366 x 768: the headline, a card per tier, what to do for every segment and how we
    know are all above the fold; the navigation needs no "More" menu."""
    import json

    page, _ = open_page("index", width=1366, height=768)
    findings = json.loads((site_artifacts / "findings.json").read_text())
    fold = 768
    bottoms = page.evaluate("""() => Object.fromEntries(
        ['.c2c-lead', '.c2c-cards', '.c2c-how', '.c2c-todo'].map(sel => {
          const el = document.querySelector(sel);
          return [sel, el ? el.getBoundingClientRect().bottom + window.scrollY : null];
        }))""")
    assert all(b is not None and b <= fold for b in bottoms.values()), bottoms
    cards = page.locator(".c2c-cards .c2c-card")
    assert cards.count() == 3
    rows = page.locator(".c2c-todo tbody tr")
    assert rows.count() == len(findings["segments"])
    for i, segment in enumerate(findings["segments"]):
        assert segment["short_action"] in rows.nth(i).inner_text()
    assert page.locator(".c2c-how a[href]").count() >= 1
    nav = page.locator(".bd-header .navbar-nav .nav-link").all_inner_texts()
    nav = [text.strip() for text in nav if text.strip()]
    assert nav[:9] == ["Summary", "Segments", "Explore", "Score users", "Campaigns",
                       "Limitations", "Method", "Analysis", "What changed"], nav
    assert page.locator(".bd-header .dropdown-toggle", has_text="More").count() == 0


def test_every_chart_exports_png_and_svg(open_page):
    page, watch = open_page("segments")
    figures = page.locator("figure.c2c-figure")
    assert figures.count() > 0
    for i in range(figures.count()):
        buttons = figures.nth(i).locator(".c2c-export button")
        assert buttons.all_inner_texts() == ["Save PNG", "Save SVG"]
    first = figures.first.locator(".c2c-export button")
    with page.expect_download() as svg:
        first.nth(1).click()
    assert svg.value.suggested_filename.endswith(".svg")
    assert "<svg" in Path(svg.value.path()).read_text(encoding="utf-8")[:500]
    with page.expect_download() as png:
        first.nth(0).click()
    assert Path(png.value.path()).read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
    assert watch.problems()["requests outside"] == []


def test_every_table_downloads_as_csv_with_its_rows(open_page):
    for name in ("segments", "comparison", "data"):
        page, _ = open_page(name)
        page.evaluate("() => document.querySelectorAll('details').forEach(d => { d.open = true; })")
        tables = page.locator("table.c2c-table")
        assert tables.count() > 0, name
        buttons = page.locator(".c2c-table-tools button", has_text="Download CSV")
        assert buttons.count() == tables.count(), f"{name}: a table has no CSV download"
        for i in range(tables.count()):
            table = tables.nth(i)
            with page.expect_download() as download:
                buttons.nth(i).click()
            assert download.value.suggested_filename.startswith(name + "-")
            rows = list(csv.reader(io.StringIO(Path(download.value.path()).read_text("utf-8"))))
            body = table.locator("tbody tr").count()
            assert len(rows) == body + 1, f"{name}: table {i}: {len(rows)} CSV rows, {body} shown"
            grouped = [c for row in rows for c in row
                       if re.fullmatch(r"[\u2212-]?\d{1,3}(,\d{3})+(\.\d+)?", c)]
            assert grouped == [], f"{name}: table {i}: counts exported as text {grouped[:3]}"


def test_dark_mode_follows_the_theme_switcher_and_charts_re_theme(open_page):
    page, watch = open_page("index", color_scheme="light")
    before = page.locator(".c2c-chart svg").first.inner_html()
    page.evaluate("() => { document.documentElement.dataset.theme = 'dark'; }")
    page.wait_for_function("before => document.querySelector('.c2c-chart svg').innerHTML "
                           "!== before", arg=before, timeout=15_000)
    background = page.evaluate("() => getComputedStyle(document.body).backgroundColor")
    channels = [int(c) for c in background[background.index("(") + 1:-1].split(",")[:3]]
    assert sum(channels) < 3 * 80, f"dark theme background is {background}"
    label = page.evaluate("() => getComputedStyle(document.querySelector("
                          "'.c2c-chart svg text')).fill")
    assert label != "rgb(0, 0, 0)", "chart text stays black on a dark page"
    assert watch.problems()["console errors"] == []


def test_print_keeps_charts_and_tables_whole(open_page):
    page, _ = open_page("segments")
    page.emulate_media(media="print")
    styles = page.evaluate("""() => ['figure.c2c-figure', '.c2c-table-wrap'].map(sel => {
        const el = document.querySelector(sel);
        return el ? getComputedStyle(el).breakInside : null; })""")
    assert styles == ["avoid", "avoid"]
    hidden = page.evaluate("""() => ['.bd-header', '.c2c-export', '.bd-sidebar-primary']
        .map(sel => document.querySelector(sel))
        .filter(el => el && getComputedStyle(el).display !== 'none').length""")
    assert hidden == 0, "navigation and buttons should not print"
    pdf = page.pdf(format="A4")
    assert pdf[:4] == b"%PDF" and len(pdf) > 10_000


def test_vega_loads_only_on_pages_with_charts(built_site):
    for path in sorted(built_site.glob("*.html")):
        text = path.read_text(encoding="utf-8")
        has_chart = 'class="c2c-chart"' in text
        assert ("vega-bundle.js" in text) == has_chart, path.name


def test_first_build_explains_what_changed_will_show(built_site):
    text = (built_site / "changes.html").read_text(encoding="utf-8")
    assert "first release" in text and "c2c build" in text


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


@pytest.mark.parametrize("width", WIDTHS)
def test_explore_selectors_redraw_the_chart(open_page, width):
    page, watch = open_page("explore", width=width)
    selects = page.locator(".c2c-chart .vega-bindings select")
    assert selects.count() == 2, "Explore needs an algorithm and a k selector"
    before, after = _change_select(page, 1)  # k
    assert before != after
    before, after = _change_select(page, 0)  # algorithm
    assert before != after
    page.wait_for_timeout(300)
    facts = page.evaluate(_CHART_FACTS)
    assert all(chart["right"] <= chart["viewport"] + 1 for chart in facts), facts
    SCREENSHOTS.mkdir(parents=True, exist_ok=True)
    page.screenshot(path=str(SCREENSHOTS / f"explore-after-selection-{width}.png"),
                    full_page=True)
    assert watch.problems()["console errors"] == []


def test_a_choice_survives_a_resize(open_page):
    """Charts are redrawn on resize; the k the reader picked stays picked."""
    page, _ = open_page("explore", width=1366)
    _change_select(page, 1)
    chosen = page.locator(".c2c-chart .vega-bindings select").nth(1).input_value()
    page.set_viewport_size({"width": 390, "height": 800})
    page.wait_for_timeout(1200)
    _wait_for_charts(page)
    assert page.locator(".c2c-chart .vega-bindings select").nth(1).input_value() == chosen


def test_dendrogram_k_selector_moves_the_cut(open_page):
    page, _ = open_page("hierarchical")
    before, after = _change_select(page, 0)
    assert before != after


def test_pages_open_from_disk_under_their_policy(browser, built_site):
    """Opened as files (file://, no server), pages draw their charts under the same CSP."""
    context = browser.new_context(viewport={"width": 1366, "height": 900})
    try:
        page = context.new_page()
        watch = Watch(page, lambda url: url.startswith("file://"))
        page.goto((built_site / "segments.html").as_uri(), wait_until="load")
        assert _wait_for_charts(page) > 0
        assert watch.problems() == {"console errors": [], "requests outside": [],
                                    "CSP violations": []}
    finally:
        context.close()


def test_the_summary_table_exports_numbers_in_their_own_columns(open_page):
    page, watch = open_page("index")
    table = page.locator("table.c2c-todo")
    button = page.locator(".c2c-table-tools button", has_text="Download CSV").first
    with page.expect_download() as download:
        button.click()
    rows = list(csv.reader(io.StringIO(Path(download.value.path()).read_text("utf-8"))))
    assert rows[0] == ["tier", "segment", "users", "share", "What to do"]
    assert len(rows) == table.locator("tbody tr").count() + 1
    for tier, segment, users, share, _ in rows[1:]:
        assert tier in ("inactive", "moderate", "active") and segment and tier not in segment
        assert int(users) > 0 and 0 < float(share) <= 1
    assert watch.problems()["console errors"] == []


def test_campaign_sizing_filters_the_aggregates_and_exports_them(open_page):
    page, watch = open_page("downloads")
    table = page.locator("#c2c-sizing-table tbody tr")
    page.wait_for_function("() => document.querySelectorAll('#c2c-sizing-table tbody tr')"
                           ".length > 0")

    def counts():
        cells = [table.nth(i).locator("td").all_inner_texts() for i in range(table.count())]
        return [[int(c[j].replace(",", "")) for j in (1, 2, 3)] for c in cells]

    everyone = counts()
    assert all(users == target + control for users, target, control in everyone)
    country = page.locator("#c2c-sizing-country option").nth(1).get_attribute("value")
    page.select_option("#c2c-sizing-country", country)
    some = counts()
    assert sum(r[0] for r in some) < sum(r[0] for r in everyone)
    assert all(users == target + control for users, target, control in some)
    with page.expect_download() as download:
        page.click("#c2c-sizing-csv")
    text = Path(download.value.path()).read_text("utf-8-sig")
    rows = list(csv.DictReader(io.StringIO(text)))
    assert [int(r["users"]) for r in rows] == [r[0] for r in some]
    assert {r["country"] for r in rows} == {country}
    assert watch.problems()["console errors"] == []
    assert watch.problems()["requests outside"] == []


#: The check's function (the file's leading comment cut: Playwright calls a function text).
CONTRAST_JS = (Path(__file__).parent / "chart_contrast.js").read_text(
    encoding="utf-8").split("*/", 1)[1].strip()
CONTRAST_PAGES = ("index", "segments", "explore", "comparison", "kmeans", "hierarchical",
                  "exploration", "data", "method", "changes")


@pytest.mark.parametrize("mode", ["light", "dark"])
def test_every_chart_text_meets_aa_contrast_in_both_modes(open_page, mode):
    """Computed colours of every SVG text against the mark or background behind it, every
    chart of every page, light and dark (the theme switcher's mode)."""
    failures = {}
    for name in CONTRAST_PAGES:
        page, watch = open_page(name, color_scheme=mode)
        page.evaluate(f"() => {{ document.documentElement.dataset.theme = '{mode}'; }}")
        page.wait_for_timeout(1500)  # charts re-theme on the switch
        bad = page.evaluate(CONTRAST_JS)
        if bad:
            failures[name] = bad[:3]
        assert watch.problems()["console errors"] == [], name
    assert failures == {}
