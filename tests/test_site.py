"""Publishing the site: failures leave the published release byte-identical, tampered
artifacts are refused, the cache follows the artifacts, charts render offline, and pages stay
free of hand-typed numbers."""

from __future__ import annotations

import hashlib
import json
import re
import shutil
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from analysis.campaigns.files import CAMPAIGN_COLUMNS
from analysis.catalog import ArtifactsInvalid, plain
from analysis.errors import C2CError
from analysis.publishing.build import build, render
from analysis.publishing.folders import replace_folder
from analysis.publishing.release import Home, current_release
from analysis.publishing.render import SITE_SOURCE, RenderFailed, explain_failure
from analysis.publishing.static import artifacts_fingerprint, prepare_static
from analysis.report.charts.render import chart_html
from tests.leaks import leaks


def tree_hashes(folder: Path) -> dict[str, str]:
    """sha256 of every file under ``folder`` (links followed) by relative path, the lock's note
    aside (the byte-identity check of a published home)."""
    return {str(p.relative_to(folder)): hashlib.sha256(p.read_bytes()).hexdigest()
            for p in sorted(folder.rglob("*")) if p.is_file() and p.name != ".lock"}


@pytest.fixture(scope="module")
def synthetic_artifacts(synthetic_run) -> Path:
    """Artifacts of one pipeline run on 1,500 synthetic users (shared, read-only)."""
    return synthetic_run[1]


@pytest.fixture(scope="module")
def published(synthetic_artifacts, fast_config, tmp_path_factory) -> Home:
    """A home with one release published from the synthetic artifacts (rendered once)."""
    home = Home(tmp_path_factory.mktemp("published") / "project")
    render(fast_config, home, synthetic_artifacts, log=lambda *_: None)
    return home


@pytest.mark.slow
def test_the_default_site_holds_no_identifier_of_the_input(published, synthetic_artifacts):
    """Every file of the published site is scanned for every input id (as text): none."""
    ids = set(pd.read_parquet(synthetic_artifacts / "labels.parquet",
                              columns=["identifierHash"])["identifierHash"].astype(str))
    numbers = re.compile(rb"-?[0-9]{6,20}")
    leaked = {}
    for path in sorted(p for p in published.site.resolve().rglob("*") if p.is_file()):
        found = {m.decode() for m in numbers.findall(path.read_bytes())} & ids
        if found:
            leaked[path.name] = sorted(found)[:3]
    assert leaked == {}


def snapshot_of(home: Home) -> dict[str, str]:
    """Everything published: the releases and what the stable links show."""
    return {**tree_hashes(home.releases), **{f"site/{k}": v for k, v in
                                             tree_hashes(home.site).items()},
            "current": str(current_release(home))}


def no_leftovers(home: Home) -> bool:
    return not [p for p in home.releases.iterdir() if p.name.startswith(".staging")]


# --------------------------------------------------------------------------------------------
# a release is published whole


@pytest.mark.slow
def test_a_published_release_holds_the_site_its_artifacts_and_its_snapshot(
        published, synthetic_artifacts):
    site, static = published.site, published.site / "_static"
    pages = {p.stem for p in site.glob("*.html")}
    assert {p.stem for p in SITE_SOURCE.glob("*.md")} <= pages
    assert (static / "vega-bundle.js").stat().st_size > 500_000
    # the browser scorer's model is the release's own model, byte for byte
    assert (static / "model.json").read_bytes() == \
        (published.artifacts / "model.json").read_bytes() == \
        (synthetic_artifacts / "model.json").read_bytes()
    labels = pd.read_parquet(synthetic_artifacts / "labels.parquet")
    # one campaign file per segment beside the site, none inside it (aggregates only)
    campaigns = current_release(published) / "campaigns"
    index = json.loads((campaigns / "index.json").read_text())
    assert sum(e["rows"] for e in index["files"]) == len(labels)
    assert {e["segment"] for e in index["files"]} == set(labels["segment"].astype(str))
    for e in index["files"]:
        rows = pd.read_csv(campaigns / e["file"], encoding="utf-8-sig")
        assert list(rows.columns) == CAMPAIGN_COLUMNS
        assert len(rows) == e["rows"] == e["target"] + e["control"]
        assert rows["action"].str.len().min() > 0 and rows["reason"].str.len().min() > 0
        assert set(rows["channel"]) <= {"in-app", "app push", "e-mail"}
    assert not (static / "downloads").exists()
    assert (published.campaigns / "index.json").is_file()  # the stable link
    meta = json.loads((current_release(published) / "snapshot" / "meta.json").read_text())
    manifest = json.loads((published.artifacts / "manifest.json").read_text())
    assert meta["input_sha256"] == manifest["input_sha256"]
    assert no_leftovers(published)


# --------------------------------------------------------------------------------------------
# failures leave the published release exactly as it was


def test_bad_data_file_leaves_the_release_byte_identical(published, tmp_path, fast_config):
    before = snapshot_of(published)
    bad = tmp_path / "bad.csv"
    bad.write_text("identifierHash;country\n1;France\n", encoding="utf-8")
    with pytest.raises(C2CError) as err:
        build(bad, fast_config, published, log=lambda *_: None)
    assert err.value.exit_code == 2
    assert snapshot_of(published) == before and no_leftovers(published)


def test_missing_data_file_leaves_the_release_byte_identical(published, tmp_path, fast_config):
    before = snapshot_of(published)
    with pytest.raises(C2CError) as err:
        build(tmp_path / "nope.csv", fast_config, published, log=lambda *_: None)
    assert err.value.exit_code == 2
    assert snapshot_of(published) == before


@pytest.mark.slow
def test_failing_page_leaves_the_release_byte_identical_and_names_the_page(
        published, synthetic_artifacts, tmp_path, fast_config):
    broken = tmp_path / "broken"
    shutil.copytree(synthetic_artifacts, broken)
    manifest = json.loads((broken / "manifest.json").read_text())
    del manifest["chosen"]
    (broken / "manifest.json").write_text(json.dumps(manifest))
    before = snapshot_of(published)
    with pytest.raises(RenderFailed) as err:
        render(fast_config, published, broken, log=lambda *_: None)
    message = str(err.value)
    assert err.value.exit_code == 1
    assert re.search(r"page '\w+'", message) and "KeyError" in message and "chosen" in message
    assert snapshot_of(published) == before and no_leftovers(published)


def test_missing_artifacts_are_refused(published, tmp_path, fast_config):
    before = snapshot_of(published)
    (tmp_path / "empty").mkdir()
    with pytest.raises(ArtifactsInvalid) as err:
        render(fast_config, published, tmp_path / "empty", log=lambda *_: None)
    assert err.value.exit_code == 2 and "manifest.json" in str(err.value)
    assert snapshot_of(published) == before


@pytest.mark.parametrize("name", ["validation_report.json", "model.json", "labels.parquet"])
def test_artifacts_changed_after_the_build_are_refused_naming_the_file(
        published, synthetic_artifacts, tmp_path, fast_config, name):
    """`c2c validate` once overwrote the report in place: render must not publish it."""
    tampered = tmp_path / "tampered"
    shutil.copytree(synthetic_artifacts, tampered)
    with open(tampered / name, "ab") as fh:
        fh.write(b" ")
    before = snapshot_of(published)
    with pytest.raises(ArtifactsInvalid, match=re.escape(name)) as err:
        render(fast_config, published, tampered, log=lambda *_: None)
    assert err.value.exit_code == 2
    assert snapshot_of(published) == before


# --------------------------------------------------------------------------------------------
# pieces


def test_replace_folder_swaps_whole_folders(tmp_path):
    site, new = tmp_path / "_site", tmp_path / "_site.new"
    site.mkdir()
    (site / "old.html").write_text("old")
    new.mkdir()
    (new / "index.html").write_text("new")
    replace_folder(new, site)
    assert sorted(p.name for p in site.iterdir()) == ["index.html"]
    assert sorted(p.name for p in tmp_path.iterdir()) == ["_site"]


def test_cache_key_changes_when_any_artifact_changes(tmp_path):
    """The MyST-NB cache folder is keyed by the artifacts: new numbers -> pages re-executed."""
    art = tmp_path / "artifacts"
    art.mkdir()
    (art / "manifest.json").write_text('{"a": 1}')
    (art / "labels.parquet").write_bytes(b"\x00" * 10)
    key = artifacts_fingerprint(art, SITE_SOURCE)
    assert artifacts_fingerprint(art, SITE_SOURCE) == key
    (art / "labels.parquet").write_bytes(b"\x00" * 9 + b"\x01")
    changed = artifacts_fingerprint(art, SITE_SOURCE)
    assert changed != key
    (art / "pca.json").write_text("{}")
    assert artifacts_fingerprint(art, SITE_SOURCE) not in (key, changed)


def _static_inputs(tmp_path, rows_in_site: bool):
    """An artifacts folder with a model and a manifest, and campaign files beside it."""
    art = tmp_path / "artifacts"
    art.mkdir()
    model = '{"schema_version": 3, "tier_colors": {"inactive": "#999999", ' \
            '"moderate": "#E69F00", "active": "#0072B2"}}'
    (art / "model.json").write_text(model)
    (art / "manifest.json").write_text(json.dumps(
        {"config": {"campaigns": {"rows_in_site": rows_in_site}}}))
    campaigns = tmp_path / "campaigns"
    campaigns.mkdir()
    (campaigns / "active-x.csv").write_text("identifierHash\n-500000000000000000\n")
    (campaigns / "campaigns.zip").write_bytes(b"PK")
    return art, model


def test_prepare_static_writes_bundle_model_tier_colours_and_no_rows(tmp_path):
    art, model = _static_inputs(tmp_path, rows_in_site=False)
    dest = tmp_path / "generated"
    (dest / "downloads").mkdir(parents=True)
    (dest / "downloads" / "users-active.csv.gz").write_bytes(b"left by an older build")
    prepare_static(art, dest, cache_dir=tmp_path / "cache")
    bundle = (dest / "vega-bundle.js").read_text()
    assert "window.vegaEmbed" in bundle and bundle.startswith("/*")
    assert (dest / "model.json").read_text() == model
    css = (dest / "c2c-tiers.css").read_text()
    assert "--c2c-tier-moderate: #E69F00;" in css
    assert ".c2c-tier-inactive { background: var(--c2c-tier-inactive); color: #000; }" in css
    assert ".c2c-tier-active { background: var(--c2c-tier-active); color: #fff; }" in css
    assert not (dest / "downloads").exists()  # aggregates only: an older build's rows go


def test_an_internal_build_copies_the_campaign_files_into_the_site(tmp_path):
    art, _ = _static_inputs(tmp_path, rows_in_site=True)
    dest = tmp_path / "generated"
    prepare_static(art, dest, cache_dir=tmp_path / "cache")
    assert sorted(p.name for p in (dest / "downloads").iterdir()) == [
        "active-x.csv", "campaigns.zip"]
    assert (dest / "downloads" / "active-x.csv").read_bytes() == \
        (tmp_path / "campaigns" / "active-x.csv").read_bytes()


def test_explain_failure_names_page_cell_and_error():
    output = (
        "/x/site/segments.md: WARNING: Executing notebook failed: CellExecutionError\n"
        "Traceback (most recent call last):\n  File ...\n"
        "nbclient.exceptions.CellExecutionError: An error occurred while executing the "
        "following cell:\n------------------\nc.show(*c.pca_scatter(pca, algo, k))\n"
        "------------------\n\n\x1b[31mKeyError\x1b[39m   Traceback (most recent call last)\n"
        "\x1b[31mKeyError\x1b[39m: 'points'\n")
    message = explain_failure(output)
    assert "page 'segments'" in message
    assert "c.show(*c.pca_scatter(pca, algo, k))" in message
    assert message.endswith("KeyError: 'points'")


def test_chart_html_is_offline_accessible_escaped_and_needs_no_inline_script(monkeypatch):
    import itertools

    import altair as alt

    from analysis.report.charts import render

    monkeypatch.setattr(render, "_counter", itertools.count(1))  # a fresh page

    chart = alt.Chart(pd.DataFrame({"x": [1, 2], "label": ["</script><b>", "b"]})).mark_bar()\
        .encode(x="x:Q", tooltip="label:N").properties(title="A </script> title")
    out = chart_html(chart, "Two bars.")
    assert 'class="c2c-chart" role="img"' in out and 'aria-label="A &lt;/script&gt; title"' in out
    assert '<div class="c2c-chart-title">A &lt;/script&gt; title</div>' in out
    assert '<figcaption id=' in out and 'class="c2c-sr-only">Two bars.</figcaption>' in out
    scripts = re.findall(r"<script([^>]*)>(.*?)</script>", out, re.S)
    # the spec is a JSON data block (its "</" escaped); the others load files of the site
    assert [attrs for attrs, _ in scripts if "application/json" not in attrs] == [
        ' defer src="_static/vega-bundle.js"', ' defer src="_static/c2c-charts.js"']
    spec = json.loads(next(body for attrs, body in scripts if "application/json" in attrs))
    assert "title" not in spec  # drawn in HTML above the chart, where it wraps on a phone
    assert spec["datasets"] and "</script><b>" in json.dumps(spec)
    assert not re.search(r"(src|href)\s*=\s*\"(https?:)?//", out)
    assert "_static/vega-bundle.js" not in chart_html(chart, "Again.")  # loaded once per page
    with pytest.raises(ValueError):
        chart_html(chart, "")


def test_plain_casts_numpy_scalars_for_glue():
    value = plain({"a": np.int64(3), "b": [np.float64(0.5)], "c": np.str_("x")})
    assert value == {"a": 3, "b": [0.5], "c": "x"}
    assert type(value["a"]) is int and type(value["b"][0]) is float


# --------------------------------------------------------------------------------------------
# the pages themselves


def _prose(md: str) -> str:
    """Markdown text a reader sees, minus front matter, code cells, fences and glue roles."""
    md = re.sub(r"\A---\n.*?\n---\n", "", md, flags=re.S)
    md = re.sub(r"^(```|~~~).*?^\1\s*$", "", md, flags=re.S | re.M)
    md = re.sub(r"`[^`]*`", "", md)                 # inline code: commands, file names
    md = re.sub(r"\]\([^)]*\)", "]", md)            # link targets
    md = re.sub(r"<[^>]+>", "", md)                 # inline HTML tags
    md = re.sub(r"^\s*\d+\.\s", "", md, flags=re.M)    # ordered-list markers
    return md


#: Digits that define a scale or name a thing rather than report a result.
_DEFINITIONS = re.compile(r"0–1|\b0 =|\b1 =|0 means|1 the most|log1p|sha256|C0|\b25th–75th\b|"
                          r"99th")


@pytest.mark.parametrize("page", sorted(p.name for p in SITE_SOURCE.glob("*.md")
                                        if p.name != "score.md"))
def test_no_number_typed_by_hand_in_prose(page):
    """Every result a stakeholder reads comes from an artifact through glue."""
    prose = _DEFINITIONS.sub("", _prose((SITE_SOURCE / page).read_text(encoding="utf-8")))
    numbers = [ln.strip() for ln in prose.splitlines() if re.search(r"\d", ln)]
    assert numbers == [], f"{page}: numbers typed in prose: {numbers}"


def _cells(md: str) -> list[list[str]]:
    """The code lines of every code cell of a page (option lines such as :tags: left out)."""
    cells = re.findall(r"^```\{code-cell\}[^\n]*\n(.*?)^```", md, flags=re.S | re.M)
    return [[ln for ln in cell.splitlines() if ln.strip() and not ln.startswith(":")]
            for cell in cells]


#: What a page cell may not contain: computing (loops, conditions, comparisons, selection,
#: indexing, sorting, arithmetic on results) belongs in the pipeline or analysis.report.pages.
_LOGIC = re.compile(r"\b(for|if|while|lambda|def|class|max|min|sorted|sum|len|filter)\b|"
                    r"==|!=|<|>|\[|\.loc\b|\.iloc\b|\.query\(|\.sort|\.groupby|\+|\*")


@pytest.mark.parametrize("page", sorted(p.name for p in SITE_SOURCE.glob("*.md")))
def test_page_cells_only_load_and_show(page):
    """Pages present, they don't compute: every cell is an import or one to three calls of
    analysis.report.pages, with no logic; no page fits a model or runs the pipeline."""
    text = (SITE_SOURCE / page).read_text(encoding="utf-8")
    for cell in _cells(text):
        assert len(cell) <= 3, f"{page}: a cell of {len(cell)} lines: {cell}"
        for line in cell:
            assert not _LOGIC.search(line), f"{page}: logic in a page cell: {line!r}"
            assert re.fullmatch(r"from analysis\.report\.[\w.]+ import [\w, ]+( as \w+)?|"
                                r"[\w.]+\([^()]*\)", line.strip()), f"{page}: {line!r}"
    for forbidden in ("sklearn", "scipy", ".fit(", "fit_predict", "analysis.pipeline",
                      "KMeans", "linkage("):
        assert forbidden not in text, f"{page} uses {forbidden}"


def test_a_cell_with_logic_is_caught():
    md = "```{code-cell} ipython3\n:tags: [remove-input]\nbest = max(rows)\n```\n"
    assert _cells(md) == [["best = max(rows)"]]
    assert _LOGIC.search(_cells(md)[0][0])


def test_published_pages_leak_no_template(published):
    """Rendered from synthetic artifacts, no page shows a template artefact: "(s)", None, nan,
    braces, or a number with more than three decimals outside code and analyst tables."""
    assert leaks(published.site) == []


def test_the_leak_scan_finds_leaks(tmp_path):
    (tmp_path / "a.html").write_text(
        "<main><p>1 cluster(s) of None users, share nan, {k} and 0.12345</p>"
        "<pre>psi_epsilon = 0.0001</pre><script>var x = {};</script></main>")
    found = leaks(tmp_path)
    assert [hit.split(": ", 1)[1] for hit in found] == ["(s)", "None", "nan", "{", "}",
                                                        "0.12345"]


@pytest.mark.slow
def test_each_segment_has_one_name_in_pages_files_model_and_findings(published):
    """The records' label is the segment's name in the Segments page, the Summary's table,
    the Campaigns page, every campaign file and model.json; the short name (narrow charts)
    is the records' too."""
    artifacts = published.artifacts
    records = json.loads((artifacts / "segments.json").read_text())["records"]
    names = {r["segment"]: r["label"] for r in records}
    model = json.loads((artifacts / "model.json").read_text())
    assert model["segments"]["labels"] == names
    findings = json.loads((artifacts / "findings.json").read_text())
    assert {s["segment"]: s["label"] for s in findings["segments"]} == names
    assert {s["segment"]: s["short_name"] for s in findings["segments"]} == \
        {r["segment"]: r["short_name"] for r in records}
    plans = json.loads((artifacts / "campaigns.json").read_text())["plans"]
    assert {p["segment"]: p["name"] for p in plans} == names
    import html as html_module

    for page in ("index", "segments", "downloads"):
        text = html_module.unescape((published.site / f"{page}.html").read_text("utf-8"))
        missing = [n for n in names.values() if n not in text]
        assert missing == [], (page, missing)
    campaigns = current_release(published) / "campaigns"
    index = json.loads((campaigns / "index.json").read_text())
    for e in index["files"]:
        rows = pd.read_csv(campaigns / e["file"], encoding="utf-8-sig")
        assert set(rows["segment"]) == {names[e["segment"]]}
