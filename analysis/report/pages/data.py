"""The Data & quality page: the columns, the validation results (with the login placeholder
warning), and the cleaning and feature decisions."""

from __future__ import annotations

import pandas as pd
from IPython.display import HTML

from analysis.intake.schema import COLUMNS, DESCRIPTIONS
from analysis.report import formats as f
from analysis.report.charts.data import (
    data_dictionary,
    feature_table,
    result_counts,
    validation_tables,
)
from analysis.report.charts.present import load
from analysis.report.charts.render import table
from analysis.report.pages.html import block, esc, paragraphs


def dictionary():
    """One row per raw column: kind, meaning, role in the clustering."""
    return table(data_dictionary(COLUMNS, DESCRIPTIONS, load("features")),
                 "The columns of the export", escape=False)


def validation_summary() -> HTML:
    """The file checked, how many expectations, how many failed as warnings or critical."""
    rep = load("validation_report")
    counts = result_counts(rep)
    return block(paragraphs([
        f"The file {rep['source']} ({f.count(rep['rows'])} rows) was checked against "
        f"{len(rep['expectations'])} expectations: {counts['pass']} passed, {counts['warning']} "
        f"failed as warnings and {counts['fail']} as critical. Status: {rep['status']}."]))


def placeholder_warning() -> HTML:
    """The login placeholder warning's own sentences (offsets, users, the censoring bound)."""
    rep = load("validation_report")
    entry = next((e for e in rep["expectations"] if e["id"] == "login_placeholder"), None)
    if entry is None or entry["success"]:
        return block(paragraphs(["No login placeholder was found."]))
    return block("<ul>" + "".join(f"<li>{esc(m)}</li>" for m in entry.get("messages", []))
                 + "</ul>")


def validation_results():
    """Expectations not met (counts; example ids stay in the validation report), then the ones
    met, folded away."""
    return validation_tables(load("validation_report"))


def formula() -> HTML:
    """The feature transform, as the pipeline applied it."""
    return block(f"<p><code>{esc(load('features')['formula'])}</code></p>")


def defaults() -> HTML:
    """Platform defaults and the cap, in words."""
    m, feats = load("manifest"), load("features")
    cfg = m["config"]["features"]
    return block(paragraphs([
        f"New accounts start with {cfg['default_followers']} followers and "
        f"{cfg['default_follows']} follows, so only the excess over these platform defaults "
        f"counts as behaviour. Each log value is capped at its {feats['cap_quantile']:.1%} "
        "quantile, then scaled to 0-1 (0 = least active, 1 = most active; recency is inverted so "
        "that a recent login scores high)."]))


def features():
    """The features used, their fitted transform and why each is in."""
    return table(feature_table(load("features"), load("exploration").get("outliers", {})),
                 "Features used for clustering, their fitted transform and why they are in")


def excluded():
    """The columns left out of the distance, and why."""
    frame = pd.DataFrame(load("features")["excluded"]).rename(
        columns={"column": "Column", "reason": "Why it is left out"})
    return table(frame, "Columns left out of the clustering")
