"""Tables and charts of the "What changed" page (``site/changes.md``), from ``changes.json``.

Read-only helpers in the style of :mod:`analysis.report.charts` (whose renderer, scales and number
formats they reuse): every builder takes the ``changes.json`` document written by
:func:`analysis.history.drift.compare` and returns a pandas table, an HTML snippet or
``(chart, description)`` for :func:`analysis.report.charts.show`. Nothing here computes a statistic.
"""

from __future__ import annotations

import html
from typing import Any

import altair as alt
import pandas as pd

from analysis.intake.schema import COLUMN_LABELS
from analysis.report import formats as fmt
from analysis.report.charts.models import matrix_heatmap
from analysis.report.charts.render import WIDTH, tier_badge
from analysis.vocabulary import TIERS

#: Colours of the PSI verdicts (Okabe-Ito: green, orange, vermillion).
VERDICT_COLORS = {"stable": "#009E73", "moderate": "#E69F00", "major": "#D55E00"}
SNAPSHOT_COLORS = {"previous": "#999999", "current": "#0072B2"}
STATUS_CLASS = {"pass": "pass", "warn": "warning", "fail": "fail", "absent": "pass"}

#: What the page shows: no changes.json, the first build, or a comparison.
MISSING, FIRST, COMPARED = "missing", "first", "compared"


def state(changes: dict[str, Any] | None) -> str:
    """``missing`` (no changes.json), ``first`` (no previous snapshot) or ``compared``."""
    if changes is None:
        return MISSING
    return FIRST if changes.get("previous") is None else COMPARED


def note(text: str):
    """A highlighted note (the theme's admonition style)."""
    from IPython.display import HTML

    return HTML(f'<div class="admonition note"><p class="admonition-title">Note</p>'
                f"<p>{html.escape(text)}</p></div>")


def _result(status: str) -> str:
    return f'<span class="c2c-status-{STATUS_CLASS.get(status, "pass")}">{status}</span>'


def _rows(n: int | None) -> str:
    return "–" if n is None else fmt.count(n)


def validation_table(changes: dict[str, Any]) -> pd.DataFrame:
    """Expectations that were not met in either snapshot: status and offending rows, before
    and now (HTML cells: render with ``escape=False``)."""
    rows = []
    for r in changes["validation"]["expectations"]:
        rows.append({
            "Expectation": html.escape(r["rule"]),
            "Columns": html.escape(", ".join(r.get("columns") or []) or "whole table"),
            "Severity": r["severity"],
            "Previous": _result(r["previous"]),
            "Now": _result(r["current"]),
            "Rows before": _rows(r["previous_unexpected"]),
            "Rows now": _rows(r["current_unexpected"]),
            "Changed": "yes" if r["status_changed"] else "",
        })
    return pd.DataFrame(rows, columns=["Expectation", "Columns", "Severity", "Previous", "Now",
                                       "Rows before", "Rows now", "Changed"])


def validation_counts(changes: dict[str, Any]) -> pd.DataFrame:
    """Expectations met / warnings / critical failures, previous vs now."""
    v = changes["validation"]
    keys = [("expectations", "Expectations"), ("passed", "Met"),
            ("failed_warning", "Warnings"), ("failed_critical", "Critical failures")]
    return pd.DataFrame({
        "": [label for _, label in keys] + ["Rows", "Status"],
        "Previous": [fmt.count(v["previous_counts"].get(k, 0)) for k, _ in keys]
        + [_rows(v.get("previous_rows")), str(v["previous_status"])],
        "Now": [fmt.count(v["current_counts"].get(k, 0)) for k, _ in keys]
        + [_rows(v.get("current_rows")), str(v["current_status"])],
    })


def drift_table(changes: dict[str, Any]) -> pd.DataFrame:
    """One row per feature column: PSI, verdict, KS and its p-value, medians and means."""
    rows = []
    for r in changes["drift"]["columns"]:
        p = r["ks_pvalue"]
        rows.append({
            "Feature": COLUMN_LABELS.get(r["column"], r["column"]),
            "PSI": f"{r['psi']:.3f}",
            "Verdict": f'<span class="c2c-verdict c2c-verdict-{r["verdict"]}">'
                       f"{r['verdict']}</span>",
            "KS D": f"{r['ks']:.3f}",
            "KS p-value": "–" if p is None else ("< 0.001" if p < 0.001 else f"{p:.3f}"),
            "Median before → now": f"{fmt.number(r['previous']['median'])} → "
                                   f"{fmt.number(r['current']['median'])}",
            "Mean before → now": f"{r['previous']['mean']:.2f} → {r['current']['mean']:.2f}",
        })
    return pd.DataFrame(rows)


def psi_chart(changes: dict[str, Any]) -> tuple[Any, str]:
    """Horizontal bars: PSI per feature coloured by verdict, with the two threshold lines."""
    t = changes["thresholds"]
    df = pd.DataFrame([{"feature": COLUMN_LABELS.get(r["column"], r["column"]),
                        "psi": r["psi"], "verdict": r["verdict"], "ks": r["ks"]}
                       for r in changes["drift"]["columns"]])
    order = list(df.sort_values("psi", ascending=False)["feature"])
    rules = pd.DataFrame({"x": [t["psi_moderate"], t["psi_major"]]})
    top_psi = max(float(df["psi"].max()) if len(df) else 0.0, 1.5 * t["psi_major"])
    scale = alt.Scale(type="sqrt", domain=[0, top_psi])
    ticks = [0, t["psi_moderate"], t["psi_major"]] + [v for v in (0.5, 1, 2, 4, 8, 16, 32)
                                                      if v <= top_psi]
    bars = alt.Chart(df).mark_bar().encode(
        y=alt.Y("feature:N", sort=order, title="Feature"),
        x=alt.X("psi:Q", title="Population stability index (PSI, unitless; square-root scale)",
                scale=scale, axis=alt.Axis(values=ticks)),
        color=alt.Color("verdict:N", title="Verdict",
                        scale=alt.Scale(domain=list(VERDICT_COLORS),
                                        range=list(VERDICT_COLORS.values()))),
        tooltip=[alt.Tooltip("feature:N", title="Feature"),
                 alt.Tooltip("psi:Q", title="PSI", format=".3f"),
                 alt.Tooltip("verdict:N", title="Verdict"),
                 alt.Tooltip("ks:Q", title="KS D", format=".3f")])
    lines = alt.Chart(rules).mark_rule(strokeDash=[4, 3], color="#333").encode(
        x=alt.X("x:Q", scale=scale))
    chart = (bars + lines).properties(
        width=WIDTH - 200, height=max(120, 26 * len(df)),
        title=alt.TitleParams("Feature drift since the previous snapshot",
                              subtitle=f"PSI per feature; dashed lines: moderate shift from "
                                       f"{t['psi_moderate']:g}, major above "
                                       f"{t['psi_major']:g}"))
    top = df.iloc[df["psi"].idxmax()] if len(df) else None
    desc = (f"Bar chart of the population stability index of {len(df)} features. Thresholds: "
            f"{t['psi_moderate']:g} (moderate) and {t['psi_major']:g} (major).")
    if top is not None:
        desc += f" The largest is {top['feature']} with PSI {top['psi']:.3f} ({top['verdict']})."
    return chart, desc


def bins_chart(changes: dict[str, Any], column: str | None = None) -> tuple[Any, str]:
    """Previous vs current share of users in each PSI bin of one feature (default: the most
    drifted one)."""
    cols = changes["drift"]["columns"]
    row = next(r for r in cols if r["column"] == column) if column else cols[0]
    label = COLUMN_LABELS.get(row["column"], row["column"])
    names, lower = [], None
    for b in row["bins"]:
        up = b["upper"]
        if lower is None:
            names.append(f"≤ {up:g}" if up is not None else "all")
        else:
            names.append(f"{lower:g}–{up:g}" if up is not None else f"> {lower:g}")
        lower = up
    data = []
    for name, b in zip(names, row["bins"], strict=True):
        data += [{"bin": name, "snapshot": "previous", "share": b["previous_share"]},
                 {"bin": name, "snapshot": "current", "share": b["current_share"]}]
    df = pd.DataFrame(data)
    chart = alt.Chart(df).mark_bar().encode(
        x=alt.X("bin:N", sort=names, title=f"{label}: bins of the previous distribution",
                axis=alt.Axis(labelAngle=-30)),
        xOffset=alt.XOffset("snapshot:N", sort=list(SNAPSHOT_COLORS)),
        y=alt.Y("share:Q", title="Share of users (%)", axis=alt.Axis(format="%")),
        color=alt.Color("snapshot:N", title="Snapshot",
                        scale=alt.Scale(domain=list(SNAPSHOT_COLORS),
                                        range=list(SNAPSHOT_COLORS.values()))),
        tooltip=[alt.Tooltip("bin:N", title="Bin"), alt.Tooltip("snapshot:N", title="Snapshot"),
                 alt.Tooltip("share:Q", title="Share of users", format=".2%")],
    ).properties(width=WIDTH - 120, height=240, title=alt.TitleParams(
        f"{label}: where the users moved",
        subtitle=f"PSI {row['psi']:.3f} ({row['verdict']}), KS D {row['ks']:.3f}"))
    moved = max(row["bins"], key=lambda b: abs(b["current_share"] - b["previous_share"]))
    i = row["bins"].index(moved)
    desc = (f"Grouped bars of the share of users in {len(names)} bins of {label}, previous vs "
            f"current snapshot. The largest change is in bin {names[i]}: "
            f"{fmt.share(moved['previous_share'])} before, {fmt.share(moved['current_share'])} "
            f"now.")
    return chart, desc


def tier_table(rows: list[dict[str, Any]], level: float) -> pd.DataFrame:
    """Per tier: users and shares before and now, the difference in points and its interval
    (HTML tier badges: render with ``escape=False``)."""
    out = []
    for r in rows:
        lo, hi = r["diff_pp_ci"]
        out.append({
            "Tier": tier_badge(r["tier"]),
            "Users before": fmt.count(r["previous_count"]),
            "Users now": fmt.count(r["current_count"]),
            "Share before": fmt.fine_share(r["previous_share"]),
            "Share now": fmt.fine_share(r["current_share"]),
            "Difference (pp)": f"{r['diff_pp']:+.2f}",
            f"{level:.0%} interval (pp)": f"{lo:+.2f} to {hi:+.2f}",
            "Beyond noise": "yes" if r["significant"] else "no",
        })
    return pd.DataFrame(out)


def tier_shift_chart(rows: list[dict[str, Any]], level: float,
                     title: str = "Tier shares, previous vs current snapshot"
                     ) -> tuple[Any, str]:
    """One panel per tier: previous and current share as dots with their bootstrap interval.

    Each panel has its own y scale (shares differ by two orders of magnitude between tiers),
    so the intervals stay visible.
    """
    data = []
    for r in rows:
        for side in ("previous", "current"):
            lo, hi = r[f"{side}_share_ci"]
            data.append({"tier": r["tier"], "snapshot": side, "share": r[f"{side}_share"],
                         "lo": lo, "hi": hi, "users": r[f"{side}_count"],
                         "diff": r["diff_pp"]})
    df = pd.DataFrame(data)
    x = alt.X("snapshot:N", sort=list(SNAPSHOT_COLORS), title=None,
              axis=alt.Axis(labelAngle=0))
    y_title = "Share of users (%)"
    points = alt.Chart().mark_point(filled=True, size=90).encode(
        x=x, y=alt.Y("share:Q", title=y_title, scale=alt.Scale(zero=False),
                     axis=alt.Axis(format=".1%")),
        color=alt.Color("snapshot:N", title="Snapshot", sort=list(SNAPSHOT_COLORS),
                        scale=alt.Scale(domain=list(SNAPSHOT_COLORS),
                                        range=list(SNAPSHOT_COLORS.values()))),
        tooltip=[alt.Tooltip("tier:N", title="Tier"), alt.Tooltip("snapshot:N", title="Snapshot"),
                 alt.Tooltip("users:Q", title="Users", format=","),
                 alt.Tooltip("share:Q", title="Share", format=".2%"),
                 alt.Tooltip("lo:Q", title=f"{level:.0%} interval from", format=".2%"),
                 alt.Tooltip("hi:Q", title=f"{level:.0%} interval to", format=".2%"),
                 alt.Tooltip("diff:Q", title="Difference (pp)", format="+.2f")])
    errors = alt.Chart().mark_errorbar(ticks=True, color="#222").encode(
        x=x, y=alt.Y("lo:Q", title=y_title), y2="hi:Q")
    chart = alt.layer(errors, points, data=df).properties(width=120, height=200).facet(
        column=alt.Column("tier:N", sort=list(TIERS), title=None,
                          header=alt.Header(labelFontSize=12, labelFontWeight="bold")),
    ).resolve_scale(y="independent").properties(title=alt.TitleParams(
        title, subtitle=f"Dots: share of users; bars: {level:.0%} bootstrap intervals; "
                        "each tier has its own scale"))
    parts = "; ".join(f"{r['tier']} {fmt.share(r['previous_share'])} before, "
                      f"{fmt.share(r['current_share'])} now ({r['diff_pp']:+.2f} points)"
                      for r in rows)
    return chart, (f"Dot plot with {level:.0%} interval bars of the tier shares in the previous "
                   f"and the current snapshot, one panel per tier. {parts}.")


def agreement_heatmap(changes: dict[str, Any]) -> tuple[Any, str]:
    """Users by tier under the previous model (rows) and the refitted model (columns)."""
    m = changes["model"]
    tiers = m["confusion"]["tiers"]
    return matrix_heatmap(m["confusion"]["counts"], tiers, tiers,
                            "Tier under the previous model", "Tier under the refitted model",
                            "The new users under the previous and the refitted model",
                            "Counts of users; the diagonal is where both agree")
