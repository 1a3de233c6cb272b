"""Changing config.toml changes the published site, with no code edit.

One synthetic build (1,500 users) with three settings changed at once: the number of countries
the Exploration page lists, the k range (2..12, past the default 10) and a tier colour. Each
must reach the pages: the Explore selector, the K-Means tables and charts, the country chart
and its sentence, the tier CSS, the charts' tier scale and the browser scorer's model. A second
part checks that no configured value is retyped in code, pages or JavaScript.
"""

from __future__ import annotations

import json
import re
import tomllib
from pathlib import Path

import pytest

from analysis.config import PROJECT_ROOT, load_config
from analysis.publishing.build import build
from analysis.publishing.release import Home
from tests.synthetic import make_users, write_csv

pytestmark = pytest.mark.slow

COUNTRIES = 3
K_MAX = 12
COLOUR = "#123456"


@pytest.fixture(scope="module")
def changed_site(fast_config, tmp_path_factory) -> Path:
    """The site of one build with explore_countries, k_max and the active colour changed."""
    config = fast_config.updated({"site": {"explore_countries": COUNTRIES},
                                  "kmeans": {"k_max": K_MAX},
                                  "tiers": {"colors": {"active": COLOUR}}})
    folder = tmp_path_factory.mktemp("changed")
    data = write_csv(make_users(1500, seed=11), folder / "users.csv")
    home = Home(folder / "project")
    build(data, config, home, log=lambda *_: None)
    return home.site


def _specs(page: Path) -> list[dict]:
    blocks = re.findall(r'<script type="application/json" class="c2c-spec"[^>]*>(.*?)</script>',
                        page.read_text(encoding="utf-8"), re.S)
    return [json.loads(block) for block in blocks]


def _walk(value):
    """Every dict inside a JSON value."""
    if isinstance(value, dict):
        yield value
        for v in value.values():
            yield from _walk(v)
    elif isinstance(value, list):
        for v in value:
            yield from _walk(v)


def test_the_k_range_reaches_the_explore_selector_and_the_algorithm_pages(changed_site):
    params = [p for spec in _specs(changed_site / "explore.html") for p in spec.get("params", [])
              if p.get("name") == "k"]
    assert params and params[0]["bind"]["options"] == list(range(2, K_MAX + 1))
    kmeans = (changed_site / "kmeans.html").read_text(encoding="utf-8")
    elbow = [d for spec in _specs(changed_site / "kmeans.html") for d in _walk(spec)
             if "k" in d and "inertia" in d]
    assert max(d["k"] for d in elbow) == K_MAX
    assert "k = 12" in kmeans or ">12<" in kmeans


def test_the_country_count_reaches_the_exploration_page(changed_site):
    page = changed_site / "exploration.html"
    rows = [d for spec in _specs(page) for d in _walk(spec) if "country" in d and "users" in d]
    named = {d["country"] for d in rows} - {"other"}
    assert len(named) == COUNTRIES
    assert f"The chart shows the {COUNTRIES} largest" in page.read_text(encoding="utf-8")


def test_a_tier_colour_reaches_the_css_the_charts_and_the_scorer(changed_site):
    css = (changed_site / "_static" / "c2c-tiers.css").read_text(encoding="utf-8")
    assert f"--c2c-tier-active: {COLOUR};" in css
    ranges = [d["range"] for spec in _specs(changed_site / "segments.html")
              for d in _walk(spec) if d.get("domain") == ["inactive", "moderate", "active"]
              and "range" in d]
    assert ranges and all(r[2] == COLOUR for r in ranges)
    score = (changed_site / "score.html").read_text(encoding="utf-8")
    assert f'"active":"{COLOUR}"' in score.replace(" ", "")


# --------------------------------------------------------------------------------------------
# no configured value retyped


#: Numbers that occur naturally in code (percent, quartiles, chart sizes, 1e-300 guards, 95 %
#: intervals, 100,000-row chunks and caches): a configured value equal to one of them cannot be
#: told from arithmetic, so it is not searched for; the known copies of such values are
#: searched in context below instead.
_NATURAL = {100, 360, 300, 10.0, 0.75, 0.25, 0.5, 0.01, 0.05, 0.95, 0.1, 100_000}
#: Copies reviews found before, searched in context (regex -> what it would be a copy of).
_KNOWN_COPIES = {
    r"stabil\w*[^\n]{0,40}\b0\.75\b|\b0\.75\b[^\n]{0,40}stabil": "selection.min_stability",
    r"range\(2, *11\)|\b2\.\.10\b|k = 2 to 10": "kmeans.k_min / k_max",
    r"pageSize\s*[:=]\s*50\b|page_size\s*=\s*50\b": "scoring.page_size",
    r"\b720\b": "exploration bins (days)",
}
#: Where code, pages and scripts live; config.py is excluded (it holds the typed schema, whose
#: bounds may equal a default).
_SCANNED = [p for p in [*(PROJECT_ROOT / "analysis").rglob("*.py"),
                        *(PROJECT_ROOT / "validation").rglob("*.py"),
                        *(PROJECT_ROOT / "site").glob("*.md"),
                        *(PROJECT_ROOT / "site" / "_static").glob("*.js")]
            if p.name != "config.py" and p.name != "vega-bundle.js"]


def _leaves(table: dict, prefix: str = ""):
    for key, value in table.items():
        name = f"{prefix}.{key}" if prefix else key
        if isinstance(value, dict):
            yield from _leaves(value, name)
        else:
            yield name, value


def _literals(value) -> list[str]:
    """How code would spell a configured number (10485760, 10_485_760, 0.0025), unless it is
    a natural one or too plain to tell apart (under 100 with fewer than three decimals)."""
    if isinstance(value, bool) or not isinstance(value, int | float):
        return []
    if value in _NATURAL or abs(value) < 100 and (isinstance(value, int)
                                                   or len(repr(value).split(".")[-1]) < 3):
        return []
    spellings = {repr(value)}
    if isinstance(value, int):
        spellings.add(f"{value:_}")
    return sorted(spellings)


def _copies(texts: dict[Path, str]) -> list[str]:
    config = tomllib.loads((PROJECT_ROOT / "config.toml").read_text(encoding="utf-8"))
    found = []
    for key, value in _leaves(config):
        for literal in _literals(value):
            pattern = re.compile(rf"(?<![\w.]){re.escape(literal)}(?![\w.])")
            found += [f"{path}: {key} = {literal}"
                      for path, text in texts.items() if pattern.search(text)]
    for pattern, key in _KNOWN_COPIES.items():
        found += [f"{path}: a copy of {key}"
                  for path, text in texts.items() if re.search(pattern, text, re.I)]
    return found


def test_no_configured_number_is_retyped_outside_config_toml():
    """Distinctive numbers of config.toml appear nowhere in code, pages or scripts, nor do the
    copies found before: everything reads them from the typed config or from the artifacts."""
    texts = {path.relative_to(PROJECT_ROOT): path.read_text(encoding="utf-8")
             for path in _SCANNED}
    assert _copies(texts) == []


def test_the_retyped_value_check_finds_copies():
    limit = load_config().scoring.browser_max_bytes
    texts = {Path("a.js"): f"const MAX = {limit:_};", Path("b.py"): "min_stability = 0.75",
             Path("c.md"): "We tried k = 2 to 10.", Path("d.py"): "x = 100 * share"}
    assert [hit.split(":")[0] for hit in _copies(texts)] == ["a.js", "b.py", "c.md"]
