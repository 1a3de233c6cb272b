"""The site build: atomic publish, failures leave the last good site byte-identical, the cache
follows the artifacts, charts render offline, and pages stay free of hand-typed numbers."""

from __future__ import annotations

import hashlib
import json
import re
import shutil
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from analysis.config import PROJECT_ROOT
from analysis.errors import C2CError
from analysis.publishing.site import (
    SITE_SOURCE,
    RenderFailed,
    artifacts_fingerprint,
    build,
    explain_failure,
    prepare_static,
    render,
    swap_in,
)
from analysis.report import charts


def tree_hashes(folder: Path) -> dict[str, str]:
    """sha256 of every file under ``folder`` by relative path (the byte-identity check)."""
    return {str(p.relative_to(folder)): hashlib.sha256(p.read_bytes()).hexdigest()
            for p in sorted(folder.rglob("*")) if p.is_file()}


@pytest.fixture
def published_site(tmp_path) -> Path:
    """A temp copy of the project's _site/ (or a small stand-in): never the real one."""
    site = tmp_path / "out" / "_site"
    real = PROJECT_ROOT / "_site"
    if (real / "index.html").exists():
        shutil.copytree(real, site)
    else:
        (site / "_static").mkdir(parents=True)
        (site / "index.html").write_text("<html><body>last good site</body></html>")
        (site / "_static" / "c2c.css").write_text("body {}")
    return site


@pytest.fixture(scope="module")
def synthetic_artifacts(synthetic_run) -> Path:
    """Artifacts of one pipeline run on 1,500 synthetic users (shared, read-only)."""
    return synthetic_run[1]


def leftovers(site: Path) -> list[str]:
    return sorted(p.name for p in site.parent.iterdir()
                  if p.name.startswith(f"{site.name}.") and not p.name.endswith(".log"))


# --------------------------------------------------------------------------------------------
# failures leave the published site exactly as it was


def test_bad_data_file_leaves_site_byte_identical(published_site, tmp_path, fast_config):
    before = tree_hashes(published_site)
    bad = tmp_path / "bad.csv"
    bad.write_text("identifierHash;country\n1;France\n", encoding="utf-8")
    with pytest.raises(C2CError) as err:
        build(bad, tmp_path / "artifacts", published_site, fast_config, log=lambda *_: None)
    assert err.value.exit_code in (1, 2)
    assert tree_hashes(published_site) == before
    assert leftovers(published_site) == []


def test_missing_data_file_leaves_site_byte_identical(published_site, tmp_path, fast_config):
    before = tree_hashes(published_site)
    with pytest.raises(C2CError) as err:
        build(tmp_path / "nope.csv", tmp_path / "artifacts", published_site, fast_config,
              log=lambda *_: None)
    assert err.value.exit_code == 2
    assert tree_hashes(published_site) == before


@pytest.mark.slow
def test_failing_page_leaves_site_byte_identical_and_names_the_page(
        published_site, synthetic_artifacts, tmp_path, fast_config):
    broken = tmp_path / "broken"
    shutil.copytree(synthetic_artifacts, broken)
    manifest = json.loads((broken / "manifest.json").read_text())
    del manifest["chosen"]
    (broken / "manifest.json").write_text(json.dumps(manifest))
    before = tree_hashes(published_site)
    with pytest.raises(RenderFailed) as err:
        render(broken, published_site, fast_config, log=lambda *_: None)
    message = str(err.value)
    assert err.value.exit_code == 1
    assert re.search(r"page '\w+'", message) and "KeyError" in message and "chosen" in message
    assert tree_hashes(published_site) == before
    assert leftovers(published_site) == []


def test_missing_artifacts_is_an_input_error(published_site, tmp_path):
    before = tree_hashes(published_site)
    (tmp_path / "empty").mkdir()
    with pytest.raises(C2CError) as err:
        render(tmp_path / "empty", published_site, log=lambda *_: None)
    assert err.value.exit_code == 2 and "manifest.json" in str(err.value)
    assert tree_hashes(published_site) == before


@pytest.mark.slow
def test_build_publishes_a_complete_site(synthetic_artifacts, published_site, tmp_path,
                                         fast_config):
    """Render from synthetic artifacts: the old site is replaced whole, nothing left over."""
    result = render(synthetic_artifacts, published_site, fast_config, log=lambda *_: None)
    pages = {p.stem for p in published_site.glob("*.html")}
    assert {p.stem for p in SITE_SOURCE.glob("*.md")} <= pages
    assert result.heaviest_bytes > 0 and result.pages == len(pages)
    static = published_site / "_static"
    assert (static / "vega-bundle.js").stat().st_size > 500_000
    assert json.loads((static / "model.json").read_text()) == \
        json.loads((synthetic_artifacts / "model.json").read_text())
    labels = pd.read_parquet(synthetic_artifacts / "labels.parquet")
    for tier in charts.TIERS:
        rows = pd.read_csv(static / "downloads" / f"tier-{tier}.csv")
        assert list(rows.columns) == ["identifierHash", "tier"]
        assert len(rows) == int((labels["tier"] == tier).sum())
    assert not (published_site.parent / "jupyter_execute").exists()
    assert leftovers(published_site) == []
    assert "last good site" not in (published_site / "index.html").read_text()


# --------------------------------------------------------------------------------------------
# pieces


def test_swap_in_replaces_the_old_site_whole(tmp_path):
    site, new = tmp_path / "_site", tmp_path / "_site.new"
    site.mkdir()
    (site / "old.html").write_text("old")
    new.mkdir()
    (new / "index.html").write_text("new")
    swap_in(new, site)
    assert sorted(p.name for p in site.iterdir()) == ["index.html"]
    assert sorted(p.name for p in tmp_path.iterdir()) == ["_site"]


def test_cache_key_changes_when_any_artifact_changes(tmp_path):
    """The MyST-NB cache folder is keyed by the artifacts: new numbers -> pages re-executed."""
    art = tmp_path / "artifacts"
    art.mkdir()
    (art / "manifest.json").write_text('{"a": 1}')
    (art / "labels.parquet").write_bytes(b"\x00" * 10)
    key = artifacts_fingerprint(art)
    assert artifacts_fingerprint(art) == key
    (art / "labels.parquet").write_bytes(b"\x00" * 9 + b"\x01")
    changed = artifacts_fingerprint(art)
    assert changed != key
    (art / "pca.json").write_text("{}")
    assert artifacts_fingerprint(art) not in (key, changed)


def test_prepare_static_writes_bundle_model_and_tier_lists(tmp_path):
    art = tmp_path / "artifacts"
    art.mkdir()
    (art / "model.json").write_text('{"schema_version": 1}')
    ids = np.arange(-5, 5, dtype=np.int64) * 10**17
    tiers = ["inactive"] * 6 + ["moderate"] * 3 + ["active"]
    pd.DataFrame({"identifierHash": ids, "tier": tiers}).to_parquet(art / "labels.parquet")
    dest = tmp_path / "generated"
    prepare_static(art, dest, cache_dir=tmp_path / "cache")
    bundle = (dest / "vega-bundle.js").read_text()
    assert "window.vegaEmbed" in bundle and bundle.startswith("/*")
    assert (dest / "model.json").read_text() == '{"schema_version": 1}'
    active = pd.read_csv(dest / "downloads" / "tier-active.csv")
    assert active["identifierHash"].tolist() == [ids[-1]]  # exact 64-bit ids, no rounding
    assert len(pd.read_csv(dest / "downloads" / "tier-inactive.csv")) == 6


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


def test_chart_html_is_offline_accessible_and_escaped():
    import altair as alt

    chart = alt.Chart(pd.DataFrame({"x": [1, 2], "label": ["</script><b>", "b"]})).mark_bar()\
        .encode(x="x:Q", tooltip="label:N").properties(title="A </script> title")
    out = charts.chart_html(chart, "Two bars.")
    assert 'class="c2c-chart" role="img"' in out and 'aria-label="A &lt;/script&gt; title"' in out
    assert '<figcaption id=' in out and 'class="c2c-sr-only">Two bars.</figcaption>' in out
    assert out.count("</script>") == 1  # only the closing tag of the renderer script
    assert "vegaEmbed(el, spec, {actions: false, renderer: \"svg\"})" in out
    assert not re.search(r"(src|href)\s*=", out)
    with pytest.raises(ValueError):
        charts.chart_html(chart, "")


def test_plain_casts_numpy_scalars_for_glue():
    value = charts.plain({"a": np.int64(3), "b": [np.float64(0.5)], "c": np.str_("x")})
    assert value == {"a": 3, "b": [0.5], "c": "x"}
    assert type(value["a"]) is int and type(value["b"][0]) is float


# --------------------------------------------------------------------------------------------
# the pages themselves


def _prose(md: str) -> str:
    """Markdown text a reader sees, minus front matter, code cells, fences and glue roles."""
    md = re.sub(r"\A---\n.*?\n---\n", "", md, flags=re.S)
    md = re.sub(r"^(```|~~~).*?^\1\s*$", "", md, flags=re.S | re.M)
    md = re.sub(r"\{glue(?::\w+)?\}`[^`]*`", "", md)
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


@pytest.mark.parametrize("page", sorted(p.name for p in SITE_SOURCE.glob("*.md")))
def test_pages_only_read_artifacts(page):
    """No page fits a model or runs the pipeline: they read artifacts through analysis.report.charts."""
    text = (SITE_SOURCE / page).read_text(encoding="utf-8")
    for forbidden in ("sklearn", "scipy", ".fit(", "fit_predict", "analysis.pipeline.run",
                      "segment(", "KMeans", "linkage("):
        assert forbidden not in text, f"{page} uses {forbidden}"
