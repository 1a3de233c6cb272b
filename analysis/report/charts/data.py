"""Tables of the Data & quality and Method pages."""

from __future__ import annotations

import html
import math
from typing import Any

import pandas as pd

from analysis.report import formats as fmt
from analysis.report.charts.render import FEATURE_LABELS, table


def expectation_results(report: dict[str, Any]) -> pd.DataFrame:
    """validation_report.json expectations as a table: result = pass / warning / fail.

    Columns hold HTML (a coloured result); render with ``table(..., escape=False)``.
    """
    rows = []
    for e in report["expectations"]:
        result = "pass" if e["success"] else ("fail" if e["severity"] == "critical"
                                              else "warning")
        cols = e.get("columns", e.get("column"))
        if isinstance(cols, (list, tuple)):
            cols = ", ".join(cols)
        count = e.get("unexpected_count")
        pct = e.get("unexpected_percent")
        rows.append({
            "Result": result,
            "Expectation": html.escape(str(e.get("rule", e.get("id", "")))),
            "Columns": html.escape(cols or "whole table"),
            "Severity": e["severity"],
            "Rows breaking it": "–" if count is None else
            f"{fmt.count(count)} ({'<0.01' if 0 < (pct or 0) < 0.01 else f'{pct or 0:.2f}'}%)",
        })
    df = pd.DataFrame(rows)
    order = {"fail": 0, "warning": 1, "pass": 2}
    df = df.sort_values("Result", key=lambda r: r.map(order), kind="stable")
    df["Result"] = df["Result"].map(lambda r: f'<span class="c2c-status-{r}">{r}</span>')
    return df.reset_index(drop=True)


def validation_tables(report: dict[str, Any]):
    """Expectations not met (warnings, failures) as a table, then the passed ones folded away."""
    from IPython.display import HTML

    results = expectation_results(report)
    passed = results["Result"].str.contains("c2c-status-pass")
    not_met = results[~passed]
    parts = []
    if len(not_met):
        parts.append(table(not_met, "Expectations not met (the ids of example rows are in the "
                                    "validation report, not on this shareable site)",
                           escape=False).data)
    else:
        parts.append("<p>Every expectation was met.</p>")
    parts.append(f'<details class="c2c-details"><summary>The {int(passed.sum())} expectations '
                 f"that passed</summary>"
                 + table(results[passed],
                         "Expectations met", escape=False).data + "</details>")
    return HTML("\n".join(parts))


def result_counts(report: dict[str, Any]) -> dict[str, int]:
    """How many expectations passed, failed as warnings, failed as critical."""
    out = {"pass": 0, "warning": 0, "fail": 0}
    for e in report["expectations"]:
        out["pass" if e["success"] else "fail" if e["severity"] == "critical" else "warning"] += 1
    return out


def data_dictionary(columns: dict[str, str], descriptions: dict[str, str],
                    feats: dict[str, Any]) -> pd.DataFrame:
    """One row per raw column: type, meaning, and its role in the clustering."""
    used = {f["column"]: f["name"] for f in feats["used"]}
    excluded = {e["column"]: e["reason"] for e in feats["excluded"]}
    rows = []
    for col, kind in columns.items():
        if col in used:
            name = html.escape(FEATURE_LABELS.get(used[col], used[col]))
            role = f"<b>clustering feature</b> ({name})"
        elif col in excluded:
            role = "profiles only: " + html.escape(excluded[col])
        else:
            role = "–"
        rows.append({"Column": f"<code>{html.escape(col)}</code>", "Type": kind,
                     "Meaning": html.escape(descriptions.get(col, "")), "Role": role})
    return pd.DataFrame(rows)


def feature_table(feats: dict[str, Any], outliers: dict[str, int]) -> pd.DataFrame:
    """Features used: source column, default removed, cap (raw units), users above cap, reason."""
    rows = []
    for f in feats["used"]:
        cap_raw = math.expm1(float(f["cap"])) + float(f["offset"])
        rows.append({
            "Feature": FEATURE_LABELS.get(f["name"], f["name"]),
            "Column": f["column"],
            "Default removed": fmt.count(f["offset"]) if f["offset"] else "–",
            "Cap (raw units)": fmt.number(cap_raw),
            "Users above cap": fmt.count(outliers[f["name"]]) if f["name"] in outliers else "–",
            "Inverted": "yes" if f["invert"] else "no",
            "Why": f.get("reason", ""),
        })
    return pd.DataFrame(rows)
