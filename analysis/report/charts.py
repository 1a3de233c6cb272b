"""Site helpers: read artifacts, format numbers, build Altair charts, render them offline.

Pages of the stakeholder site (``site/*.md``) only read artifacts: they call :func:`load` and the
chart builders here, and put every number into prose with MyST-NB ``glue`` (:func:`glue_numbers`).
Nothing here fits a model.

Charts are drawn in the browser by the Vega bundle that the build vendors into
``_static/vega-bundle.js`` (see :mod:`analysis.publishing.site`); :func:`show` emits a ``<div>`` plus a
``<script>`` calling ``vegaEmbed`` with the spec inline, and a visually hidden text description.
Altair's own HTML output loads Vega from a CDN and is never used.

Every builder returns ``(chart, description)``: pass both to :func:`show`.
"""

from __future__ import annotations

import functools
import html
import itertools
import json
import math
import os
import re
from pathlib import Path
from typing import Any

import altair as alt
import numpy as np
import pandas as pd

from analysis.config import PROJECT_ROOT
from analysis.intake.schema import COLUMN_LABELS
from analysis.scoring.model import TIERS

#: Okabe-Ito colours (colour-blind safe); tiers keep the same colour on every chart.
TIER_COLORS = {"inactive": "#999999", "moderate": "#E69F00", "active": "#0072B2"}
ALGORITHM_COLORS = {"kmeans": "#009E73", "ward": "#CC79A7"}
ALGORITHM_NAMES = {"kmeans": "K-Means", "ward": "Ward (hierarchical)"}
#: Continuous scheme for heatmaps (perceptually uniform and colour-blind safe).
HEATMAP_SCHEME = "viridis"
DIVERGING_SCHEME = "blueorange"

FEATURE_LABELS = {
    "followers_excess": "Followers beyond default",
    "follows_excess": "Follows beyond default",
    "products_liked": "Products liked",
    "products_listed": "Products listed",
    "products_sold": "Products sold",
    "products_wished": "Products wished",
    "products_bought": "Products bought",
    "login_recency": "Login recency",
}

WIDTH = 640
BASE_CONFIG: dict[str, Any] = {
    "background": "#ffffff",
    "font": "system-ui, -apple-system, 'Segoe UI', Roboto, sans-serif",
    "view": {"stroke": None},
    "title": {"anchor": "start", "fontSize": 15, "subtitleFontSize": 12, "subtitleColor": "#555"},
    "axis": {"labelFontSize": 11, "titleFontSize": 12, "gridColor": "#e6e6e6"},
    "legend": {"labelFontSize": 11, "titleFontSize": 12, "orient": "top"},
}


# --------------------------------------------------------------------------------------------
# artifacts


def artifacts_dir() -> Path:
    """Where the pages read artifacts: ``$C2C_ARTIFACTS``, else ``<project>/artifacts``."""
    return Path(os.environ.get("C2C_ARTIFACTS", PROJECT_ROOT / "artifacts")).resolve()


@functools.cache
def load(name: str) -> dict[str, Any]:
    """One JSON artifact (``"manifest"`` or ``"manifest.json"``) as plain Python objects."""
    path = artifacts_dir() / (name if name.endswith(".json") else f"{name}.json")
    if not path.exists():
        raise FileNotFoundError(f"artifact {path} is missing: run `c2c segment` first")
    with open(path, encoding="utf-8") as fh:
        return json.load(fh)


def load_optional(name: str) -> dict[str, Any] | None:
    """Like :func:`load` but None when the artifact is absent (e.g. run.json)."""
    try:
        return load(name)
    except FileNotFoundError:
        return None


def tier_profiles() -> dict[str, dict[str, Any]]:
    """profiles.json tiers by name (a tier with no users is absent)."""
    return {t["tier"]: t for t in load("profiles")["tiers"]}


def load_labels(columns: list[str] | None = None) -> pd.DataFrame:
    """``labels.parquet``: one row per user (identifierHash, labels per solution, tiers)."""
    return pd.read_parquet(artifacts_dir() / "labels.parquet", columns=columns)


def chosen() -> tuple[str, int]:
    """(algorithm, k) of the chosen solution, from the manifest."""
    c = load("manifest")["chosen"]
    return str(c["algorithm"]), int(c["k"])


def solution_key(algorithm: str, k: int) -> str:
    """Key of a labelling in pca.json and labels.parquet, e.g. ``kmeans_k4``."""
    return f"{algorithm}_k{int(k)}"


def solution_name(algorithm: str, k: int) -> str:
    """Human name of a solution, e.g. ``K-Means, k = 4``."""
    return f"{ALGORITHM_NAMES.get(algorithm, algorithm)}, k = {int(k)}"


def find(rows: list[dict[str, Any]], **match: Any) -> dict[str, Any]:
    """The first row whose keys equal ``match`` (e.g. ``algorithm="kmeans", k=4``)."""
    for row in rows:
        if all(row.get(k) == v for k, v in match.items()):
            return row
    raise KeyError(f"no row with {match}")


# --------------------------------------------------------------------------------------------
# numbers


def plain(value: Any) -> Any:
    """NumPy scalars and containers -> plain Python (glue formats NumPy 2 scalars badly)."""
    if isinstance(value, np.generic):
        return value.item()
    if isinstance(value, dict):
        return {k: plain(v) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [plain(v) for v in value]
    return value


def glue_numbers(**values: Any) -> None:
    """``glue(name, value, display=False)`` for each keyword, cast to int/float/str first.

    In prose: ``{glue:text}`name:,``` (thousands), ``{glue:text}`name:.1%``` (shares).
    """
    from myst_nb import glue

    for name, value in values.items():
        value = plain(value)
        if not isinstance(value, (int, float, str)):
            raise TypeError(f"glue {name}: expected a number or string, got {type(value)}")
        if isinstance(value, float) and not math.isfinite(value):
            raise ValueError(f"glue {name}: the value is {value} (missing from the artifacts?)")
        glue(name, value, display=False)


def fmt_int(n: float) -> str:
    """12345 -> '12,345'."""
    return f"{int(round(float(n))):,}"


def fmt_pct(x: float, digits: int = 1) -> str:
    """0.1234 -> '12.3%'."""
    return f"{float(x) * 100:.{digits}f}%"


def fmt_num(x: float, digits: int = 3) -> str:
    """A metric value with ``digits`` significant digits; '–' for None/NaN."""
    if x is None or (isinstance(x, float) and math.isnan(x)):
        return "–"
    return f"{float(x):.{digits}g}"


def silhouette_meaning(silhouette: float, dormant_share: float) -> str:
    """A plain-words reading of a silhouette (Kaufman & Rousseeuw's bands: > 0.7 strong,
    0.5-0.7 reasonable, below weak), noting when a mass of identical dormant users inflates it."""
    if silhouette >= 0.7 and dormant_share > 0.5:
        return ("high on paper, but mostly because so many users share the very same dormant "
                "behaviour row; the more active users form a continuum rather than separate "
                "islands.")
    if silhouette >= 0.7:
        return "the clusters are well separated."
    if silhouette >= 0.5:
        return "reasonable structure, with real overlap between neighbouring clusters."
    return "the clusters are a useful partition of a continuum, not naturally separated islands."


# --------------------------------------------------------------------------------------------
# rendering

_counter = itertools.count(1)


def _merge(base: dict[str, Any], extra: dict[str, Any]) -> dict[str, Any]:
    out = dict(base)
    for key, value in extra.items():
        if isinstance(value, dict) and isinstance(out.get(key), dict):
            out[key] = _merge(out[key], value)
        else:
            out[key] = value
    return out


def chart_html(chart: alt.TopLevelMixin | dict[str, Any], description: str) -> str:
    """The HTML of one chart: a ``.c2c-chart`` div, its spec, and a hidden description.

    The spec is inlined (no data URL) and drawn by ``vegaEmbed`` from the vendored bundle
    (``_static/vega-bundle.js``) as SVG; nothing is loaded from outside the site.
    """
    spec = chart if isinstance(chart, dict) else chart.to_dict()
    spec = _merge({"config": BASE_CONFIG}, spec)
    spec.setdefault("description", description)  # Vega uses it as the SVG's aria-label
    title = spec.get("title", "")
    if isinstance(title, dict):
        title = title.get("text", "")
    if isinstance(title, list):
        title = " ".join(title)
    if not title:
        raise ValueError("every chart needs a title")
    if not description:
        raise ValueError(f"chart {title!r} needs a text description")
    uid = f"c2c-chart-{next(_counter)}"
    payload = json.dumps(spec, separators=(",", ":"), allow_nan=False).replace("</", "<\\/")
    label = html.escape(str(title), quote=True)
    desc = html.escape(description)
    return (
        f'<figure class="c2c-figure">\n'
        f'<div id="{uid}" class="c2c-chart" role="img" aria-label="{label}" '
        f'aria-describedby="{uid}-desc"></div>\n'
        f'<figcaption id="{uid}-desc" class="c2c-sr-only">{desc}</figcaption>\n'
        f"<script>(function () {{\n"
        f'  var el = document.getElementById("{uid}");\n'
        f"  var spec = {payload};\n"
        f'  if (typeof vegaEmbed !== "function") {{\n'
        f'    el.textContent = "Charts need the bundled Vega script (_static/vega-bundle.js).";\n'
        f'    console.error("vegaEmbed missing for {uid}"); return;\n'
        f"  }}\n"
        f'  vegaEmbed(el, spec, {{actions: false, renderer: "svg"}}).catch(function (err) {{\n'
        f'    el.textContent = "This chart could not be drawn: " + err;\n'
        f"    console.error(err);\n"
        f"  }});\n"
        f"}})();</script>\n"
        f"</figure>"
    )


def show(chart: alt.TopLevelMixin | dict[str, Any], description: str):
    """Display one chart in a page (an IPython HTML object that MyST-NB writes verbatim)."""
    from IPython.display import HTML

    return HTML(chart_html(chart, description))


def table(df: pd.DataFrame, caption: str = "", *, index: bool = False,
          formats: dict[str, Any] | None = None, escape: bool = True):
    """A plain HTML table (pandas ``to_html``) with the site's table style and a caption."""
    from IPython.display import HTML

    frame = df.copy()
    for col, fmt in (formats or {}).items():
        frame[col] = frame[col].map(fmt)
    body = frame.to_html(index=index, escape=escape, border=0, na_rep="–",
                         classes=["c2c-table", "table"])
    if caption:
        body = body.replace(">\n  <thead>", f">\n  <caption>{html.escape(caption)}</caption>"
                                            f"\n  <thead>", 1)
    return HTML(f'<div class="c2c-table-wrap">{body}</div>')


def kpi_cards(cards: list[tuple[str, str, str]]):
    """A row of headline numbers: (value, label, tier or "") per card."""
    from IPython.display import HTML

    items = "".join(
        f'<div class="c2c-kpi{" c2c-kpi-" + html.escape(t) if t else ""}">'
        f'<div class="c2c-kpi-value">{html.escape(v)}</div>'
        f'<div class="c2c-kpi-label">{html.escape(label)}</div></div>'
        for v, label, t in cards)
    return HTML(f'<div class="c2c-kpis">{items}</div>')


def tier_badge(tier: str) -> str:
    """HTML badge of a tier name in its colour (for tables)."""
    return f'<span class="c2c-tier c2c-tier-{html.escape(tier)}">{html.escape(tier)}</span>'


def tier_scale() -> alt.Scale:
    """The fixed tier -> colour scale (same on every chart)."""
    return alt.Scale(domain=list(TIERS), range=[TIER_COLORS[t] for t in TIERS])


def algorithm_scale() -> alt.Scale:
    return alt.Scale(domain=list(ALGORITHM_COLORS),
                     range=list(ALGORITHM_COLORS.values()))


def _algo_label_expr() -> str:
    return "datum.label == 'kmeans' ? 'K-Means' : 'Ward'"


def _title(text: str, subtitle: str | None = None) -> alt.TitleParams:
    return alt.TitleParams(text=text, subtitle=subtitle or alt.Undefined)


# --------------------------------------------------------------------------------------------
# summary / segments


def tier_sizes_chart(tiers: dict[str, int], title: str = "Users per tier") -> tuple[Any, str]:
    """Horizontal bars: users per tier with their share (from manifest.tiers)."""
    total = sum(int(v) for v in tiers.values())
    df = pd.DataFrame({"tier": list(TIERS), "users": [int(tiers[t]) for t in TIERS]})
    df["share"] = df["users"] / total
    df["label"] = [f"{fmt_int(u)} ({fmt_pct(s)})" for u, s in zip(df.users, df.share, strict=True)]
    base = alt.Chart(df).encode(
        y=alt.Y("tier:N", sort=list(TIERS), title="Tier"),
        x=alt.X("users:Q", title="Users (count)", axis=alt.Axis(format=",d")),
        tooltip=[alt.Tooltip("tier:N", title="Tier"),
                 alt.Tooltip("users:Q", title="Users", format=","),
                 alt.Tooltip("share:Q", title="Share of users", format=".1%")],
    )
    chart = (base.mark_bar().encode(color=alt.Color("tier:N", scale=tier_scale(), legend=None))
             + base.mark_text(align="left", dx=4).encode(text="label:N")).properties(
        width=WIDTH - 160, height=120,
        title=_title(title, f"{fmt_int(total)} users in all"))
    parts = "; ".join(f"{t}: {fmt_int(u)} users ({fmt_pct(u / total)})"
                      for t, u in zip(df.tier, df.users, strict=True))
    return chart, f"Bar chart of users per tier. {parts}."


def centroid_heatmap(profiles: dict[str, Any], algorithm: str, k: int) -> tuple[Any, str]:
    """Heatmap: clusters (rows, ordered by activity) x features, colour = scaled centroid."""
    features = profiles["features"]
    clusters = sorted((c for c in profiles["clusters"]
                       if c["algorithm"] == algorithm and c["k"] == k),
                      key=lambda c: c["activity_score"])
    rows = []
    for c in clusters:
        name = f"C{c['cluster']} · {c['tier']} ({fmt_pct(c['share'])})"
        for f, v in zip(features, c["centroid_scaled"], strict=True):
            rows.append({"cluster": name, "feature": FEATURE_LABELS.get(f, f), "value": v,
                         "tier": c["tier"], "size": c["size"],
                         "score": c["activity_score"]})
    df = pd.DataFrame(rows)
    order = [f"C{c['cluster']} · {c['tier']} ({fmt_pct(c['share'])})" for c in clusters]
    feat_order = [FEATURE_LABELS.get(f, f) for f in features]
    base = alt.Chart(df).encode(
        x=alt.X("feature:N", sort=feat_order, title="Feature (scaled 0 = least, 1 = most active)",
                axis=alt.Axis(labelAngle=-30)),
        y=alt.Y("cluster:N", sort=order[::-1], title="Cluster · tier (share of users)"),
    )
    heat = base.mark_rect().encode(
        color=alt.Color("value:Q", scale=alt.Scale(scheme=HEATMAP_SCHEME, domain=[0, 1]),
                        title="Scaled centroid"),
        tooltip=[alt.Tooltip("cluster:N", title="Cluster"),
                 alt.Tooltip("feature:N", title="Feature"),
                 alt.Tooltip("value:Q", title="Centroid (0-1)", format=".2f"),
                 alt.Tooltip("size:Q", title="Users", format=","),
                 alt.Tooltip("score:Q", title="Activity score", format=".3f")],
    )
    text = base.mark_text(fontSize=10).encode(
        text=alt.Text("value:Q", format=".2f"),
        color=alt.condition("datum.value > 0.55", alt.value("black"), alt.value("white")),
    )
    chart = (heat + text).properties(
        width=WIDTH - 120, height=max(120, 34 * len(clusters)),
        title=_title(f"Cluster centres, {solution_name(algorithm, k)}",
                     "Each feature log-scaled to 0-1; rows sorted by activity score"))
    top = clusters[-1]
    best = features[int(np.argmax(top["centroid_scaled"]))]
    desc = (f"Heatmap of the {len(clusters)} cluster centres of {solution_name(algorithm, k)} "
            f"over {len(features)} features scaled 0 to 1. The most active cluster, "
            f"C{top['cluster']}"
            f" ({top['tier']}, {fmt_pct(top['share'])} of users), is highest on "
            f"{FEATURE_LABELS.get(best, best)}; the least active, C{clusters[0]['cluster']} "
            f"({clusters[0]['tier']}, {fmt_pct(clusters[0]['share'])}), has a mean scaled value of "
            f"{np.mean(clusters[0]['centroid_scaled']):.2f}.")
    return chart, desc


def pca_scatter(pca: dict[str, Any], algorithm: str, k: int) -> tuple[Any, str]:
    """Scatter of the PCA sample, coloured by tier of the given solution, with tooltips."""
    pts = pca["points"]
    key = solution_key(algorithm, k)
    df = pd.DataFrame({
        "pc1": np.round(pts["pc1"], 4), "pc2": np.round(pts["pc2"], 4),
        "cluster": pts["labels"][key], "tier": pts["tiers"][key],
        "days": pts["daysSinceLastLogin"], "liked": pts["socialProductsLiked"],
    })
    evr = pca["explained_variance_ratio"]
    chart = alt.Chart(df).mark_circle(size=18, opacity=0.55).encode(
        x=alt.X("pc1:Q", title=f"PC1 ({fmt_pct(evr[0])} of variance, unitless)"),
        y=alt.Y("pc2:Q", title=f"PC2 ({fmt_pct(evr[1])} of variance, unitless)"),
        color=alt.Color("tier:N", scale=tier_scale(), title="Tier", sort=list(TIERS)),
        tooltip=[alt.Tooltip("tier:N", title="Tier"), alt.Tooltip("cluster:N", title="Cluster"),
                 alt.Tooltip("days:Q", title="Days since last login", format=","),
                 alt.Tooltip("liked:Q", title="Products liked", format=","),
                 alt.Tooltip("pc1:Q", title="PC1", format=".2f"),
                 alt.Tooltip("pc2:Q", title="PC2", format=".2f")],
    ).properties(width=WIDTH - 100, height=380, title=_title(
        f"Users on the first two principal components, {solution_name(algorithm, k)}",
        f"Random sample of {fmt_int(len(df))} users; colour = tier"))
    counts = df["tier"].value_counts()
    desc = (f"Scatter plot of a random sample of {fmt_int(len(df))} users on the first two "
            f"principal components, which explain {fmt_pct(evr[0] + evr[1])} of the variance. "
            + "; ".join(f"{t}: {fmt_int(counts.get(t, 0))} points" for t in TIERS) + ".")
    return chart, desc


def loadings_chart(pca: dict[str, Any]) -> tuple[Any, str]:
    """Bars: PCA loadings of each feature on PC1 and PC2."""
    df = pd.DataFrame(pca["loadings"]).melt(id_vars="feature", var_name="component",
                                            value_name="loading")
    df["component"] = df["component"].str.upper()
    df["feature"] = df["feature"].map(lambda f: FEATURE_LABELS.get(f, f))
    chart = alt.Chart(df).mark_bar().encode(
        y=alt.Y("feature:N", title=None),
        x=alt.X("loading:Q", title="Loading (weight of the feature, unitless)"),
        color=alt.Color("component:N", scale=alt.Scale(range=["#0072B2", "#D55E00"]),
                        title="Component"),
        yOffset="component:N",
        tooltip=[alt.Tooltip("feature:N", title="Feature"),
                 alt.Tooltip("component:N", title="Component"),
                 alt.Tooltip("loading:Q", title="Loading", format=".2f")],
    ).properties(width=WIDTH - 220, height=260,
                 title=_title("What the two principal components measure"))
    pc1 = max(pca["loadings"], key=lambda r: abs(r["pc1"]))
    pc2 = max(pca["loadings"], key=lambda r: abs(r["pc2"]))
    desc = (f"Bar chart of feature loadings. PC1 weighs {FEATURE_LABELS.get(pc1['feature'])} most "
            f"({pc1['pc1']:.2f}); PC2 weighs {FEATURE_LABELS.get(pc2['feature'])} most "
            f"({pc2['pc2']:.2f}).")
    return chart, desc


def tier_share_bars(rows: list[dict[str, Any]], by: str, by_title: str, title: str,
                    order: list[Any] | None = None) -> tuple[Any, str]:
    """100%-stacked bars of tier shares per group (country or app ownership)."""
    df = pd.DataFrame(rows)
    df[by] = df[by].astype(str)
    totals = df.groupby(by)["users"].sum()
    df["group_users"] = df[by].map(totals)
    df["tier_order"] = df["tier"].map({t: i for i, t in enumerate(TIERS)})
    sort = [str(o) for o in order] if order is not None else \
        list(totals.sort_values(ascending=False).index)
    chart = alt.Chart(df).mark_bar().encode(
        y=alt.Y(f"{by}:N", sort=sort, title=by_title),
        x=alt.X("users:Q", stack="normalize", title="Share of the group's users (%)",
                axis=alt.Axis(format="%", values=[0, 0.25, 0.5, 0.75, 1])),
        color=alt.Color("tier:N", scale=tier_scale(), sort=list(TIERS), title="Tier"),
        order=alt.Order("tier_order:Q"),
        tooltip=[alt.Tooltip(f"{by}:N", title=by_title), alt.Tooltip("tier:N", title="Tier"),
                 alt.Tooltip("users:Q", title="Users", format=","),
                 alt.Tooltip("share:Q", title="Share of group", format=".1%"),
                 alt.Tooltip("group_users:Q", title="Users in group", format=",")],
    ).properties(width=WIDTH - 200, height=max(80, 22 * len(sort)), title=_title(title))
    act = df[df["tier"] == "active"].set_index(by)["share"]
    if len(act):
        hi, lo = act.idxmax(), act.idxmin()
        desc = (f"Stacked bars of tier shares for {len(sort)} groups ({by_title}). The active "
                f"share is highest for {hi} ({fmt_pct(act[hi])}) and lowest for {lo} "
                f"({fmt_pct(act[lo])}).")
    else:
        desc = f"Stacked bars of tier shares for {len(sort)} groups ({by_title})."
    return chart, desc


def profile_frame(groups: list[dict[str, Any]], label: str, columns: list[str]) -> pd.DataFrame:
    """Profile table, one column per group (tier or cluster), one row per measure.

    Cells are medians with the interquartile range in brackets (raw units); HTML-free.
    """
    out: dict[str, list[str]] = {}
    measures = ["Users", "Share of users"] + [COLUMN_LABELS.get(c, c) for c in columns] + \
        ["Uses an app", "No product activity", "Top countries"]
    for g in groups:
        name = (f"C{g['cluster']} · {g['tier']}" if label == "cluster" else str(g["tier"]))
        cells = [fmt_int(g["size"]), fmt_pct(g["share"])]
        for col in columns:
            st = g["stats"].get(col)
            cells.append("–" if st is None else
                         f"{fmt_num(st['median'], 4)} ({fmt_num(st['q1'], 4)}–"
                         f"{fmt_num(st['q3'], 4)})")
        cells.append(fmt_pct(g["any_app_share"]))
        nps = g.get("no_product_activity_share")
        cells.append("–" if nps is None else fmt_pct(nps))
        cells.append(", ".join(f"{c['country']} {fmt_pct(c['share'], 0)}"
                               for c in g.get("top_countries", [])[:3]))
        out[name] = cells
    return pd.DataFrame({"Measure": measures, **out})


# --------------------------------------------------------------------------------------------
# data & quality


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
        examples = e.get("examples") or []
        rows.append({
            "Result": result,
            "Expectation": html.escape(str(e.get("rule", e.get("id", "")))),
            "Column(s)": html.escape(cols or "whole table"),
            "Severity": e["severity"],
            "Rows breaking it": "–" if count is None else
            f"{fmt_int(count)} ({'<0.01' if 0 < (pct or 0) < 0.01 else f'{pct or 0:.2f}'}%)",
            "Examples": html.escape(", ".join(str(x) for x in examples[:5])) or "–",
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
        parts.append(table(not_met, "Expectations not met (examples are identifierHash values)",
                           escape=False).data)
    else:
        parts.append("<p>Every expectation was met.</p>")
    parts.append(f'<details class="c2c-details"><summary>The {int(passed.sum())} expectations '
                 f"that passed</summary>"
                 + table(results[passed].drop(columns=["Examples"]),
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
            "Default removed": fmt_int(f["offset"]) if f["offset"] else "–",
            "Cap (raw units)": fmt_num(cap_raw, 4),
            "Users above cap": fmt_int(outliers[f["name"]]) if f["name"] in outliers else "–",
            "Inverted": "yes" if f["invert"] else "no",
            "Why": f.get("reason", ""),
        })
    return pd.DataFrame(rows)


def tier_tests_table(tests: list[dict[str, Any]]) -> pd.DataFrame:
    """Kruskal-Wallis per column: H, p-value and effect size, strongest first."""
    df = pd.DataFrame(tests).sort_values("epsilon_squared", ascending=False)
    return pd.DataFrame({
        "Column": [COLUMN_LABELS.get(c, c) for c in df["column"]],
        "Kruskal–Wallis H": [fmt_int(h) for h in df["H"]],
        "p-value": ["< 1e-300" if p == 0 else f"{p:.2g}" for p in df["p_value"]],
        "Effect size ε²": [f"{e:.3f}" for e in df["epsilon_squared"]],
    })


def downloads_table():
    """Table of the per-tier CSV files the build wrote into ``_static/downloads/``."""
    from IPython.display import HTML

    generated = Path(os.environ.get("C2C_SITE_GENERATED", PROJECT_ROOT / "site" / "_build" /
                                    "generated"))
    labels = load_labels(["tier"])
    rows = []
    for tier in TIERS:
        path = generated / "downloads" / f"tier-{tier}.csv"
        size = path.stat().st_size if path.exists() else None
        users = int((labels["tier"] == tier).sum())
        href = f"_static/downloads/tier-{tier}.csv"
        rows.append(
            f"<tr><td>{tier_badge(tier)}</td><td>{fmt_int(users)}</td>"
            f"<td>{'–' if size is None else f'{size / 1024:,.0f} KiB'}</td>"
            f'<td><a href="{href}" download>tier-{tier}.csv</a></td></tr>')
    return HTML('<div class="c2c-table-wrap"><table class="c2c-table table">'
                "<caption>Users per tier, one CSV file each (identifierHash, tier)</caption>"
                "<thead><tr><th>Tier</th><th>Users</th><th>Size</th><th>File</th></tr></thead>"
                f"<tbody>{''.join(rows)}</tbody></table></div>")


def _toml_value(value: Any) -> str:
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, (int, float)):
        return repr(value)
    if isinstance(value, str):
        return json.dumps(value, ensure_ascii=False)
    if isinstance(value, (list, tuple)):
        return "[" + ", ".join(_toml_value(v) for v in value) + "]"
    return json.dumps(value)


def to_toml(config: dict[str, Any], prefix: str = "") -> str:
    """A small TOML writer for the recorded configuration (tables, scalars, lists)."""
    lines = [f"{k} = {_toml_value(v)}" for k, v in config.items() if not isinstance(v, dict)]
    out = []
    if lines:
        out.append((f"[{prefix}]\n" if prefix else "") + "\n".join(lines))
    for k, v in config.items():
        if isinstance(v, dict):
            out.append(to_toml(v, f"{prefix}.{k}" if prefix else k))
    return "\n\n".join(o for o in out if o)


def config_block(config: dict[str, Any]):
    """The configuration as a TOML code block."""
    from IPython.display import HTML

    return HTML(f'<div class="highlight"><pre class="c2c-config">'
                f"{html.escape(to_toml(config))}</pre></div>")


# --------------------------------------------------------------------------------------------
# exploration


#: Vega expression: 950 -> "950", 12000 -> "12k", 3000000 -> "3M" (axis labels).
_SHORT = ("datum.value >= 1e6 ? format(datum.value / 1e6, '~g') + 'M' : "
          "datum.value >= 1e3 ? format(datum.value / 1e3, '~g') + 'k' : "
          "format(datum.value, '~g')")


def _decades(top: float) -> list[int]:
    """Axis ticks 0, 1, 10, 100, ... up to ``top`` (for log-like axes)."""
    ticks = [0, 1]
    while ticks[-1] * 10 <= max(float(top), 1.0) * 1.0001:
        ticks.append(ticks[-1] * 10)
    return ticks


def distributions_chart(expl: dict[str, Any], columns: list[str]) -> tuple[Any, str]:
    """Small multiples: histogram of each column on log axes (bins equal in log1p), zero share.

    ``histogram`` bins are given in raw units with edges equally spaced in log1p; a symlog x
    scale (log1p-like) draws them with equal widths.
    """
    panels = []
    parts = []
    for col in columns:
        info = expl["columns"][col]
        df = pd.DataFrame(info["histogram"])
        name = COLUMN_LABELS.get(col, col)
        panels.append(alt.Chart(df).mark_bar(color="#0072B2").encode(
            x=alt.X("bin_start:Q", bin="binned", title=f"{name} (count, log scale)",
                    scale=alt.Scale(type="symlog"),
                    axis=alt.Axis(values=_decades(df["bin_end"].max()), labelExpr=_SHORT)),
            x2="bin_end:Q",
            y=alt.Y("count:Q", title="Users (log scale)", scale=alt.Scale(type="symlog"),
                    axis=alt.Axis(values=_decades(df["count"].max()), labelExpr=_SHORT)),
            tooltip=[alt.Tooltip("bin_start:Q", title="From", format=",.1f"),
                     alt.Tooltip("bin_end:Q", title="To", format=",.1f"),
                     alt.Tooltip("count:Q", title="Users", format=",")],
        ).properties(width=190, height=120, title=alt.TitleParams(
            text=name, subtitle=f"{fmt_pct(info['zero_share'])} at zero · median "
                                f"{fmt_num(info['median'], 4)} · max {fmt_int(info['max'])}",
            fontSize=12)))
        parts.append(f"{name}: {fmt_pct(info['zero_share'])} zero, median "
                     f"{fmt_num(info['median'], 4)}, maximum {fmt_int(info['max'])}")
    rows = [alt.hconcat(*panels[i:i + 3]) for i in range(0, len(panels), 3)]
    chart = alt.vconcat(*rows).properties(title=_title(
        "How the behaviour columns are distributed",
        "Histograms on logarithmic axes (x and y); subtitle = share of users at zero"))
    return chart, "Histograms of the behaviour columns on logarithmic axes. " + \
        "; ".join(parts) + "."


def shares_chart(items: list[tuple[str, float]], title: str, subtitle: str,
                 x_title: str = "Share of users (%)", color: str = "#0072B2") -> tuple[Any, str]:
    """Horizontal bars of shares in [0, 1] with labels."""
    df = pd.DataFrame(items, columns=["what", "share"])
    df["label"] = df["share"].map(fmt_pct)
    base = alt.Chart(df).encode(
        y=alt.Y("what:N", sort=None, title=None),
        x=alt.X("share:Q", title=x_title, axis=alt.Axis(format="%"),
                scale=alt.Scale(domain=[0, 1])),
        tooltip=[alt.Tooltip("what:N", title="What"),
                 alt.Tooltip("share:Q", title="Share", format=".1%")])
    chart = (base.mark_bar(color=color) + base.mark_text(align="left", dx=4).encode(
        text="label:N")).properties(width=WIDTH - 260, height=28 * len(df) + 10,
                                    title=_title(title, subtitle))
    return chart, f"Bar chart: {title}. " + "; ".join(
        f"{w}: {fmt_pct(s)}" for w, s in items) + "."


def correlation_heatmap(corr: dict[str, Any]) -> tuple[Any, str]:
    """Heatmap of the rank-correlation matrix with values printed."""
    cols = [COLUMN_LABELS.get(c, c) for c in corr["columns"]]
    m = np.asarray(corr["matrix"], dtype=float)
    df = pd.DataFrame([{"a": cols[i], "b": cols[j], "r": float(m[i, j])}
                       for i in range(len(cols)) for j in range(len(cols))])
    base = alt.Chart(df).encode(
        x=alt.X("a:N", sort=cols, title=None, axis=alt.Axis(labelAngle=-35)),
        y=alt.Y("b:N", sort=cols, title=None))
    chart = (base.mark_rect().encode(
        color=alt.Color("r:Q", scale=alt.Scale(scheme=DIVERGING_SCHEME, domain=[-1, 1]),
                        title=f"{corr['method'].title()} ρ"),
        tooltip=[alt.Tooltip("a:N", title="Column"), alt.Tooltip("b:N", title="Column"),
                 alt.Tooltip("r:Q", title="Correlation", format=".2f")])
        + base.mark_text(fontSize=9).encode(
            text=alt.Text("r:Q", format=".2f"),
            color=alt.condition("abs(datum.r) > 0.6", alt.value("white"), alt.value("black")))
    ).properties(width=440, height=440, title=_title(
        f"How the behaviour columns move together ({corr['method'].title()} rank correlation)",
        "1 = same order, 0 = unrelated, -1 = opposite order"))
    off = np.abs(m - np.eye(len(m)))
    i, j = np.unravel_index(np.argmax(off), m.shape)
    return chart, (f"Heatmap of {corr['method']} correlations between {len(cols)} columns. The "
                   f"strongest pair is {cols[i]} and {cols[j]} (ρ = {m[i, j]:.2f}).")


def counts_bar(rows: list[dict[str, Any]], key: str, title: str, key_title: str,
               n: int) -> tuple[Any, str]:
    """Horizontal bars of users per category (top ``n``), share in labels."""
    df = pd.DataFrame(rows).sort_values("users", ascending=False, kind="stable").head(n)
    df[key] = df[key].astype(str)
    df["label"] = [f"{fmt_int(u)} ({fmt_pct(s)})" for u, s in zip(df.users, df.share, strict=True)]
    base = alt.Chart(df).encode(
        y=alt.Y(f"{key}:N", sort=df[key].astype(str).tolist(), title=key_title),
        x=alt.X("users:Q", title="Users (count)", axis=alt.Axis(format=",d")),
        tooltip=[alt.Tooltip(f"{key}:N", title=key_title),
                 alt.Tooltip("users:Q", title="Users", format=","),
                 alt.Tooltip("share:Q", title="Share", format=".1%")])
    chart = (base.mark_bar(color="#56B4E9") + base.mark_text(align="left", dx=3, fontSize=10)
             .encode(text="label:N")).properties(
        width=WIDTH - 280, height=20 * len(df) + 10, title=_title(title))
    top = df.iloc[0]
    return chart, (f"Bar chart of users per {key_title.lower()} (top {len(df)}). {top[key]} leads "
                   f"with {fmt_int(top['users'])} users ({fmt_pct(top['share'])}).")


def histogram_chart(rows: list[dict[str, Any]], title: str, x_title: str,
                    color: str = "#0072B2") -> tuple[Any, str]:
    """A histogram from precomputed bins [{bin_start, bin_end, count}]."""
    df = pd.DataFrame(rows)
    chart = alt.Chart(df).mark_bar(color=color).encode(
        x=alt.X("bin_start:Q", bin="binned", title=x_title),
        x2="bin_end:Q",
        y=alt.Y("count:Q", title="Users (count)", axis=alt.Axis(format=",d")),
        tooltip=[alt.Tooltip("bin_start:Q", title="From", format=",.0f"),
                 alt.Tooltip("bin_end:Q", title="To", format=",.0f"),
                 alt.Tooltip("count:Q", title="Users", format=",")],
    ).properties(width=WIDTH - 100, height=220, title=_title(title))
    peak = df.loc[df["count"].idxmax()]
    return chart, (f"Histogram: {title}. The most common range is {peak['bin_start']:,.0f} to "
                   f"{peak['bin_end']:,.0f} with {fmt_int(peak['count'])} users.")


def seniority_chart(rows: list[dict[str, Any]]) -> tuple[Any, str]:
    """Bars: users per seniority value (days since sign-up)."""
    df = pd.DataFrame(rows)
    chart = alt.Chart(df).mark_bar(color="#56B4E9", width=6).encode(
        x=alt.X("seniority:Q", title="Seniority (days since sign-up)",
                scale=alt.Scale(zero=False), axis=alt.Axis(format=",d")),
        y=alt.Y("users:Q", title="Users (count)", axis=alt.Axis(format=",d")),
        tooltip=[alt.Tooltip("seniority:Q", title="Seniority (days)", format=","),
                 alt.Tooltip("users:Q", title="Users", format=",")],
    ).properties(width=WIDTH - 100, height=200, title=_title(
        "When users signed up", f"{len(df)} distinct seniority values"))
    top = df.loc[df["users"].idxmax()]
    return chart, (f"Bar chart of users per seniority value ({len(df)} values from "
                   f"{fmt_int(df.seniority.min())} to {fmt_int(df.seniority.max())} days); the "
                   f"largest cohort, {fmt_int(top.seniority)} days, has {fmt_int(top.users)} "
                   f"users.")


# --------------------------------------------------------------------------------------------
# k-means / hierarchical / comparison


def elbow_chart(metrics: dict[str, Any], algorithm: str = "kmeans") -> tuple[Any, str]:
    """Within-cluster sum of squares over k with the knee marked."""
    df = pd.DataFrame([r for r in metrics["rows"] if r["algorithm"] == algorithm])
    knee = metrics["knee"]
    line = alt.Chart(df).mark_line(point=True, color=ALGORITHM_COLORS[algorithm]).encode(
        x=alt.X("k:O", title="Number of clusters k"),
        y=alt.Y("inertia:Q", title="Within-cluster sum of squares (scaled units²)",
                axis=alt.Axis(format="~s")),
        tooltip=[alt.Tooltip("k:O", title="k"),
                 alt.Tooltip("inertia:Q", title="Inertia", format=",.1f")])
    rule = alt.Chart(pd.DataFrame({"k": [knee["k"]], "label": [f"knee: k = {knee['k']}"]}))
    chart = (line + rule.mark_rule(color="#D55E00", strokeDash=[5, 4]).encode(
        x="k:O", tooltip=[alt.Tooltip("label:N", title="Knee")])
        + rule.mark_text(color="#D55E00", align="left", dx=4, dy=-90).encode(
            x="k:O", text="label:N")).properties(
        width=WIDTH - 100, height=260, title=_title(
            "Elbow: how much each extra cluster reduces the spread",
            f"Knee found by the {knee['method']} method"))
    first, last = df.iloc[0], df.iloc[-1]
    return chart, (f"Line chart of within-cluster sum of squares for k = {int(first.k)} to "
                   f"{int(last.k)}: it falls from {first.inertia:,.0f} to {last.inertia:,.0f}. "
                   f"The knee is at k = {knee['k']}.")


METRIC_INFO = {
    "silhouette": ("Silhouette (−1…1, higher is better)", ".3f"),
    "calinski_harabasz": ("Calinski–Harabasz (higher is better)", ",.0f"),
    "davies_bouldin": ("Davies–Bouldin (lower is better)", ".3f"),
}


def metrics_over_k(metrics: dict[str, Any], algorithms: tuple[str, ...] = ("kmeans",),
                   title: str = "Cluster quality over k") -> tuple[Any, str]:
    """Silhouette, CH and DB over k (one panel each); degenerate solutions drawn hollow."""
    df = pd.DataFrame([r for r in metrics["rows"] if r["algorithm"] in algorithms])
    df["status"] = np.where(df["degenerate"], "degenerate (tiny cluster)", "usable")
    df["reason"] = df["degenerate_reason"].fillna("–")
    panels = []
    for metric, (label, fmt) in METRIC_INFO.items():
        base = alt.Chart(df).encode(
            x=alt.X("k:O", title="Number of clusters k"),
            y=alt.Y(f"{metric}:Q", title=label, scale=alt.Scale(zero=False)),
            color=alt.Color("algorithm:N", scale=algorithm_scale(), title="Algorithm",
                            legend=alt.Legend(labelExpr=_algo_label_expr())
                            if len(algorithms) > 1 else None),
        )
        panels.append((base.mark_line() + base.mark_point(size=60, filled=True).encode(
            shape=alt.Shape("status:N", title="Solution",
                            scale=alt.Scale(domain=["usable", "degenerate (tiny cluster)"],
                                            range=["circle", "cross"])),
            tooltip=[alt.Tooltip("algorithm:N", title="Algorithm"),
                     alt.Tooltip("k:O", title="k"),
                     alt.Tooltip(f"{metric}:Q", title=label, format=fmt),
                     alt.Tooltip("min_share:Q", title="Smallest cluster", format=".2%"),
                     alt.Tooltip("reason:N", title="Degenerate because")]))
                      .properties(width=190, height=200))
    chart = alt.hconcat(*panels).resolve_scale(y="independent").properties(title=_title(
        title, "Crosses mark degenerate solutions (a cluster below the minimum share)"))
    parts = []
    for algo in algorithms:
        sub = df[df.algorithm == algo]
        best = sub.loc[sub.silhouette.idxmax()]
        parts.append(f"{ALGORITHM_NAMES[algo]}: best silhouette {best.silhouette:.3f} at "
                     f"k = {int(best.k)}, {int(sub.degenerate.sum())} degenerate solutions")
    return chart, "Three line charts of silhouette, Calinski-Harabasz and Davies-Bouldin over k. " \
        + "; ".join(parts) + "."


def sizes_by_k(profiles: dict[str, Any], algorithm: str) -> tuple[Any, str]:
    """Stacked bars per k: cluster shares, coloured by the tier each cluster maps to."""
    df = pd.DataFrame([c for c in profiles["clusters"] if c["algorithm"] == algorithm])
    df = df[["k", "cluster", "tier", "size", "share", "activity_score"]].copy()
    df["tier_order"] = df["tier"].map({t: i for i, t in enumerate(TIERS)})
    chart = alt.Chart(df).mark_bar(stroke="white", strokeWidth=0.8).encode(
        x=alt.X("k:O", title="Number of clusters k"),
        y=alt.Y("share:Q", title="Share of users (%)", axis=alt.Axis(format="%"),
                scale=alt.Scale(domain=[0, 1])),
        color=alt.Color("tier:N", scale=tier_scale(), sort=list(TIERS), title="Tier"),
        order=alt.Order("activity_score:Q"),
        tooltip=[alt.Tooltip("k:O", title="k"), alt.Tooltip("cluster:N", title="Cluster"),
                 alt.Tooltip("tier:N", title="Tier"),
                 alt.Tooltip("size:Q", title="Users", format=","),
                 alt.Tooltip("share:Q", title="Share", format=".1%"),
                 alt.Tooltip("activity_score:Q", title="Activity score", format=".3f")],
    ).properties(width=WIDTH - 140, height=260, title=_title(
        f"Cluster sizes for each k, {ALGORITHM_NAMES[algorithm]}",
        "One bar segment per cluster, coloured by the tier it is mapped to"))
    smallest = df.loc[df["share"].idxmin()]
    return chart, (f"Stacked bars of cluster shares for each k of {ALGORITHM_NAMES[algorithm]}. "
                   f"The smallest cluster anywhere has {fmt_pct(smallest.share, 2)} of users "
                   f"(k = {int(smallest.k)}).")


def _n_leaves(dendro: dict[str, Any]) -> int:
    return int(dendro.get("n_leaves_users", dendro.get("n_leaves", 0)))


def metrics_table(metrics: dict[str, Any], algorithm: str) -> pd.DataFrame:
    """One row per k: silhouette, CH, DB, smallest cluster, stability, degenerate."""
    rows = []
    for r in metrics["rows"]:
        if r["algorithm"] != algorithm:
            continue
        rows.append({
            "k": r["k"], "Silhouette": fmt_num(r["silhouette"]),
            "Calinski–Harabasz": fmt_int(r["calinski_harabasz"]),
            "Davies–Bouldin": fmt_num(r["davies_bouldin"]),
            "Smallest cluster": fmt_pct(r["min_share"], 2),
            "Stability (mean / min)": f"{fmt_num(r.get('stability_mean'))} / "
                                      f"{fmt_num(r.get('stability_min'))}",
            "Eligible": "no: " + str(r.get("degenerate_reason") or "degenerate")
            if r["degenerate"] else "yes",
        })
    return pd.DataFrame(rows)


def dendrogram_layout(dendro: dict[str, Any]) -> tuple[pd.DataFrame, pd.DataFrame]:
    """Plot-ready links (x, x2, y, y2) and truncated leaves (x, users) of the top merges.

    Uses the scipy layout in ``segments`` (icoord/dcoord: one U per merge, leaves at x = 5, 15,
    ...) and ``leaf_users`` (users below each leaf, left to right) when the artifact has them;
    otherwise
    lays out ``merges`` (scipy ids: below ``n_leaves`` a user, ``n_leaves + i`` the i-th merge).
    """
    if dendro.get("segments"):
        links = []
        for seg in dendro["segments"]:
            xs, ys = seg["x"], seg["y"]
            top = float(max(ys))
            for i in range(3):
                links.append({"x": xs[i], "x2": xs[i + 1], "y": ys[i], "y2": ys[i + 1],
                              "height": top})
        if dendro.get("leaf_users") is not None:
            users = [int(u) for u in dendro["leaf_users"]]
        elif dendro.get("leaf_labels") is not None:  # scipy "(123)" labels
            users = [int(re.sub(r"[^0-9]", "", lab) or 1) for lab in dendro["leaf_labels"]]
        else:
            n = int(round(max(max(seg["x"]) for seg in dendro["segments"]) / 10 + 0.5))
            users = [-1] * n
        leaves = pd.DataFrame({"x": [5.0 + 10.0 * i for i in range(len(users))],
                               "users": users})
        return pd.DataFrame(links), leaves
    merges = {int(m["id"]): m for m in dendro["merges"]}
    n_leaves = _n_leaves(dendro)
    root = max(merges, key=lambda i: merges[i]["height"])
    pos: dict[int, float] = {}
    leaves: list[dict[str, Any]] = []

    def walk(node: int, users: int | None) -> float:
        if node in merges:
            m = merges[node]
            left, right = int(m["left"]), int(m["right"])
            known = {c: (int(merges[c]["size"]) if c in merges else 1 if c < n_leaves else None)
                     for c in (left, right)}
            for c, other in ((left, right), (right, left)):
                if known[c] is None and known[other] is not None:
                    known[c] = int(m["size"]) - known[other]
            pos[node] = (walk(left, known[left]) + walk(right, known[right])) / 2
            return pos[node]
        pos[node] = 10.0 * len(leaves) + 5.0
        leaves.append({"x": pos[node], "users": users if users is not None else -1})
        return pos[node]

    walk(root, None)
    height = {i: float(m["height"]) for i, m in merges.items()}
    links = []
    for i, m in merges.items():
        left, right, h = int(m["left"]), int(m["right"]), height[i]
        for child in (left, right):
            links.append({"x": pos[child], "x2": pos[child], "y": height.get(child, 0.0),
                          "y2": h, "height": h})
        links.append({"x": pos[left], "x2": pos[right], "y": h, "y2": h, "height": h})
    return pd.DataFrame(links), pd.DataFrame(leaves)


def dendrogram_chart(dendro: dict[str, Any], k_default: int) -> tuple[Any, str]:
    """Dendrogram of the top merges, with a k selector that draws the cut for that k."""
    links, leaves = dendrogram_layout(dendro)
    cuts = pd.DataFrame([{"k": int(k), "h": float(h)} for k, h in dendro["cut_heights"].items()])
    ks = sorted(cuts["k"].tolist())
    k_param = alt.param(name="cut_k", value=int(k_default), bind=alt.binding_select(
        options=ks, name="Cut the tree into k clusters: "))
    top = float(links[["y", "y2"]].max().max())
    n_users = _n_leaves(dendro)
    y_scale = alt.Scale(type="sqrt", domain=[0, top * 1.02])
    link_layer = alt.Chart(links).mark_rule(color="#555555", strokeWidth=1.2).encode(
        x=alt.X("x:Q", title=f"Subtrees below the top merges ({len(leaves)} shown)",
                axis=alt.Axis(labels=False, ticks=False, grid=False),
                scale=alt.Scale(domain=[0, 10.0 * len(leaves)], nice=False)),
        x2="x2:Q",
        y=alt.Y("y:Q", title="Merge height (Ward distance, scaled features)", scale=y_scale),
        y2="y2:Q",
        tooltip=[alt.Tooltip("height:Q", title="Merge height", format=",.3f")])
    leaf_layer = alt.Chart(leaves).mark_point(shape="triangle-up", filled=True, size=40,
                                              color="#0072B2").encode(
        x="x:Q", y=alt.datum(0),
        tooltip=[alt.Tooltip("users:Q", title="Users in this subtree", format=",")])
    cut = alt.Chart(cuts).transform_filter("datum.k == cut_k")
    cut_rule = cut.mark_rule(color="#D55E00", strokeDash=[6, 4], strokeWidth=2).encode(
        y=alt.Y("h:Q", scale=y_scale),
        tooltip=[alt.Tooltip("k:O", title="k"),
                 alt.Tooltip("h:Q", title="Cut height", format=",.3f")])
    cut_text = cut.transform_calculate(label="'cut into k = ' + datum.k + ' clusters'").mark_text(
        color="#D55E00", align="right", dy=-7, fontWeight="bold").encode(
        y=alt.Y("h:Q", scale=y_scale), x=alt.value(WIDTH - 70), text="label:N")
    chart = alt.layer(link_layer, leaf_layer, cut_rule, cut_text).add_params(k_param).properties(
        width=WIDTH - 60, height=360, title=_title(
            "Ward dendrogram: the top merges of the tree",
            "Square-root height axis; triangles are subtrees (hover for their users); "
            "the dashed line cuts the tree into k clusters"))
    cut_at = float(cuts.set_index("k").h[int(k_default)])
    desc = (f"Dendrogram of the top {len(dendro['merges'])} merges of the Ward tree built on "
            f"{fmt_int(n_users)} users, ending in {len(leaves)} subtrees; the highest merge is at "
            f"{top:,.3f}. A selector draws the cut height for k = {ks[0]} to {ks[-1]}; the cut "
            f"for k = {k_default} is at {cut_at:,.3f}.")
    return chart, desc


def comparison_metrics(metrics: dict[str, Any]) -> tuple[Any, str]:
    """Silhouette, CH and DB over k for both algorithms side by side."""
    return metrics_over_k(metrics, ("kmeans", "ward"),
                          "K-Means and Ward side by side: cluster quality over k")


def agreement_chart(agreement: dict[str, Any]) -> tuple[Any, str]:
    """ARI and NMI between K-Means and Ward for every k."""
    df = pd.DataFrame(agreement["per_k"]).melt(id_vars="k", value_vars=["ari", "nmi"],
                                               var_name="measure", value_name="value")
    df["measure"] = df["measure"].map({"ari": "Adjusted Rand index", "nmi": "Normalised MI"})
    chart = alt.Chart(df).mark_line(point=True).encode(
        x=alt.X("k:O", title="Number of clusters k"),
        y=alt.Y("value:Q", title="Agreement (0 = chance, 1 = identical)",
                scale=alt.Scale(domain=[0, 1])),
        color=alt.Color("measure:N", scale=alt.Scale(range=["#0072B2", "#D55E00"]),
                        title="Measure"),
        strokeDash=alt.StrokeDash("measure:N", title="Measure"),
        tooltip=[alt.Tooltip("k:O", title="k"), alt.Tooltip("measure:N", title="Measure"),
                 alt.Tooltip("value:Q", title="Value", format=".3f")],
    ).properties(width=WIDTH - 160, height=240, title=_title(
        "How much K-Means and Ward agree, for each k"))
    per = pd.DataFrame(agreement["per_k"])
    best = per.loc[per["ari"].idxmax()]
    return chart, (f"Line chart of ARI and NMI between K-Means and Ward for k = {int(per.k.min())} "
                   f"to {int(per.k.max())}; ARI is highest at k = {int(best.k)} "
                   f"({best.ari:.3f}).")


def matrix_heatmap(counts: list[list[int]], rows: list[str], cols: list[str], row_title: str,
                   col_title: str, title: str, subtitle: str | None = None) -> tuple[Any, str]:
    """Heatmap of a contingency / confusion matrix with counts printed (log colour)."""
    m = np.asarray(counts, dtype=float)
    total = m.sum()
    df = pd.DataFrame([{"r": rows[i], "c": cols[j], "n": int(m[i, j]),
                        "share": m[i, j] / total if total else 0.0}
                       for i in range(m.shape[0]) for j in range(m.shape[1])])
    base = alt.Chart(df).encode(x=alt.X("c:N", sort=cols, title=col_title,
                                        axis=alt.Axis(labelAngle=0)),
                                y=alt.Y("r:N", sort=rows, title=row_title))
    chart = (base.mark_rect().encode(
        color=alt.Color("n:Q", scale=alt.Scale(type="symlog", scheme=HEATMAP_SCHEME),
                        title="Users (count, log colour scale)",
                        legend=alt.Legend(values=_decades(m.max()), labelExpr=_SHORT)),
        tooltip=[alt.Tooltip("r:N", title=row_title), alt.Tooltip("c:N", title=col_title),
                 alt.Tooltip("n:Q", title="Users", format=","),
                 alt.Tooltip("share:Q", title="Share of all", format=".1%")])
        + base.mark_text(fontSize=11).encode(
            text=alt.Text("n:Q", format=","),
            color=alt.condition(f"datum.n > {float(m.max()) / 8}", alt.value("black"),
                                alt.value("white")))
    ).properties(width=min(WIDTH - 160, 90 * len(cols)), height=36 * len(rows) + 10,
                 title=_title(title, subtitle))
    diag = float(np.trace(m)) / total if m.shape[0] == m.shape[1] and total else None
    i, j = np.unravel_index(np.argmax(m), m.shape)
    desc = (f"Heatmap of user counts, {row_title} (rows) by {col_title} (columns). The largest "
            f"cell is {rows[i]} × {cols[j]} with {fmt_int(m[i, j])} users")
    if diag is not None:
        desc += f"; {fmt_pct(diag)} of users are on the diagonal"
    return chart, desc + "."


def stability_chart(stability: dict[str, Any], min_stability: float) -> tuple[Any, str]:
    """Per-cluster bootstrap Jaccard for every solution, threshold marked."""
    rows = []
    for r in stability["rows"]:
        for c, j in enumerate(r["per_cluster_jaccard"]):
            rows.append({"algorithm": r["algorithm"], "k": r["k"], "cluster": c, "jaccard": j})
    df = pd.DataFrame(rows)
    points = alt.Chart(df).mark_point(filled=True, size=45, opacity=0.8).encode(
        x=alt.X("k:O", title="Number of clusters k"),
        y=alt.Y("jaccard:Q", title="Bootstrap Jaccard of a cluster (0-1)",
                scale=alt.Scale(domain=[0, 1])),
        color=alt.Color("algorithm:N", scale=algorithm_scale(), title="Algorithm",
                        legend=alt.Legend(labelExpr=_algo_label_expr())),
        xOffset=alt.XOffset("algorithm:N"),
        tooltip=[alt.Tooltip("algorithm:N", title="Algorithm"), alt.Tooltip("k:O", title="k"),
                 alt.Tooltip("cluster:N", title="Cluster"),
                 alt.Tooltip("jaccard:Q", title="Jaccard", format=".3f")])
    rule = alt.Chart(pd.DataFrame({"t": [min_stability]})).mark_rule(
        color="#D55E00", strokeDash=[5, 4]).encode(
        y="t:Q", tooltip=[alt.Tooltip("t:Q", title="Minimum stability", format=".2f")])
    chart = (points + rule).properties(width=WIDTH - 140, height=260, title=_title(
        "Stability: how often each cluster reappears when users are resampled",
        f"{stability['resamples']} resamples ({stability['method']}); dashed line = the "
        f"minimum required ({min_stability:.2f})"))
    below = int((df["jaccard"] < min_stability).sum())
    return chart, (f"Dot chart of the bootstrap Jaccard of every cluster of every solution "
                   f"({len(df)} clusters); {below} fall below the minimum of "
                   f"{min_stability:.2f}.")


# --------------------------------------------------------------------------------------------
# explore (one spec, all 18 solutions, selectors bound to Vega-Lite params)


def explore_chart(pca: dict[str, Any], profiles: dict[str, Any], metrics: dict[str, Any],
                  default: tuple[str, int]) -> tuple[Any, str]:
    """One Vega-Lite spec holding every precomputed solution; two selects redraw everything.

    The PCA sample is shipped once as compact CSV: per point its coordinates, two tooltip
    columns and one string with the cluster digit of each of the 18 labellings (k <= 10), so the
    page carries ~5,000 short rows instead of 18 x 5,000. Profiles and sizes are small tables
    filtered by the same params.
    """
    pts = pca["points"]
    keys = sorted(pts["labels"], key=lambda s: (s.split("_k")[0], int(s.split("_k")[1])))
    if max(max(v) for v in pts["labels"].values()) > 9:
        raise ValueError("explore_chart packs one digit per cluster: k must be <= 10")
    index_of = {key: i for i, key in enumerate(keys)}
    codes = ["".join(str(int(pts["labels"][key][p])) for key in keys)
             for p in range(len(pts["pc1"]))]
    frame = pd.DataFrame({"pc1": np.round(pts["pc1"], 3), "pc2": np.round(pts["pc2"], 3),
                          "d": pts["daysSinceLastLogin"], "l": pts["socialProductsLiked"],
                          "c": codes})
    csv_text = frame.to_csv(index=False, lineterminator="\n")
    points_data = alt.InlineData(values=csv_text, format=alt.DataFormat(
        type="csv", parse={"pc1": "number", "pc2": "number", "d": "number", "l": "number",
                           "c": "string"}))
    # cluster -> tier lookup for every solution
    tier_rows = [{"sol": solution_key(c["algorithm"], c["k"]), "cluster": int(c["cluster"]),
                  "tier": c["tier"], "size": int(c["size"]), "share": float(c["share"]),
                  "score": float(c["activity_score"]), "app": float(c["any_app_share"])}
                 for c in profiles["clusters"]]
    tiers_df = pd.DataFrame(tier_rows)
    tiers_df["label"] = [f"{fmt_int(n)} ({fmt_pct(sh)})"
                         for n, sh in zip(tiers_df["size"], tiers_df["share"], strict=True)]
    tiers_df["name"] = [f"C{c} · {t}" for c, t in zip(tiers_df["cluster"], tiers_df["tier"],
                                                       strict=True)]
    algos = sorted({k.split("_k")[0] for k in keys})
    ks = sorted({int(k.split("_k")[1]) for k in keys})
    p_algo = alt.param(name="algo", value=default[0], bind=alt.binding_select(
        options=algos, labels=[ALGORITHM_NAMES.get(a, a) for a in algos], name="Algorithm: "))
    p_k = alt.param(name="k", value=int(default[1]), bind=alt.binding_select(
        options=ks, name="Number of clusters k: "))
    index_expr = json.dumps(index_of)
    sol_expr = "algo + '_k' + k"
    pick = (f"toNumber(substring(datum.c, {index_expr}[{sol_expr}], "
            f"{index_expr}[{sol_expr}] + 1))")
    evr = pca["explained_variance_ratio"]
    # the cluster digit of the selected solution, then its tier via a lookup table
    scatter_base = alt.Chart(points_data).transform_calculate(
        sol=sol_expr).transform_calculate(cluster=pick).transform_calculate(
        key="datum.sol + '|' + datum.cluster").transform_lookup(
        lookup="key", from_=alt.LookupData(
            data=alt.InlineData(values=[{"key": f"{r['sol']}|{r['cluster']}", "tier": r["tier"]}
                                        for r in tier_rows]),
            key="key", fields=["tier"]))
    scatter = scatter_base.mark_circle(size=16, opacity=0.5).encode(
        x=alt.X("pc1:Q", title=f"PC1 ({fmt_pct(evr[0])} of variance, unitless)"),
        y=alt.Y("pc2:Q", title=f"PC2 ({fmt_pct(evr[1])} of variance, unitless)"),
        color=alt.Color("tier:N", scale=tier_scale(), sort=list(TIERS), title="Tier"),
        tooltip=[alt.Tooltip("cluster:N", title="Cluster"), alt.Tooltip("tier:N", title="Tier"),
                 alt.Tooltip("d:Q", title="Days since last login", format=","),
                 alt.Tooltip("l:Q", title="Products liked", format=",")])
    centres = scatter_base.transform_aggregate(
        pc1="mean(pc1)", pc2="mean(pc2)", n="count()", groupby=["cluster", "tier"],
    ).transform_calculate(label="'C' + datum.cluster").mark_text(
        fontWeight="bold", fontSize=13, stroke="white", strokeWidth=3).encode(
        x="pc1:Q", y="pc2:Q", text="label:N",
        tooltip=[alt.Tooltip("label:N", title="Cluster centre (sample mean)"),
                 alt.Tooltip("tier:N", title="Tier"),
                 alt.Tooltip("n:Q", title="Sample points", format=",")])
    centres_fg = scatter_base.transform_aggregate(
        pc1="mean(pc1)", pc2="mean(pc2)", groupby=["cluster", "tier"],
    ).transform_calculate(label="'C' + datum.cluster").mark_text(
        fontWeight="bold", fontSize=13, color="black").encode(x="pc1:Q", y="pc2:Q",
                                                              text="label:N")
    scatter_panel = alt.layer(scatter, centres, centres_fg).properties(
        width=WIDTH - 100, height=360,
        title=_title("Users on the first two principal components",
                     f"Sample of {fmt_int(len(frame))} users, coloured by the tier of their "
                     f"cluster; C0, C1, … mark cluster centres"))
    sel = f"datum.sol == {sol_expr}"
    sizes = alt.Chart(tiers_df).transform_filter(sel).encode(
        y=alt.Y("name:N", title="Cluster · tier",
                sort=alt.EncodingSortField("score", op="max", order="descending")),
        x=alt.X("size:Q", title="Users (count)", axis=alt.Axis(format=",d")),
        tooltip=[alt.Tooltip("cluster:N", title="Cluster"), alt.Tooltip("tier:N", title="Tier"),
                 alt.Tooltip("size:Q", title="Users", format=","),
                 alt.Tooltip("share:Q", title="Share", format=".1%"),
                 alt.Tooltip("score:Q", title="Activity score", format=".3f"),
                 alt.Tooltip("app:Q", title="Uses an app", format=".1%")])
    sizes_panel = alt.layer(
        sizes.mark_bar().encode(color=alt.Color("tier:N", scale=tier_scale(),
                                                sort=list(TIERS), legend=None)),
        sizes.mark_text(align="left", dx=3, fontSize=10).encode(text="label:N"),
    ).properties(width=WIDTH - 260, height=220, title=_title(
        "Cluster sizes", "Sorted by activity score, most active first"))
    prof_rows = []
    for c in profiles["clusters"]:
        for f, v in zip(profiles["features"], c["centroid_scaled"], strict=True):
            prof_rows.append({"sol": solution_key(c["algorithm"], c["k"]),
                              "cluster": int(c["cluster"]), "tier": c["tier"],
                              "score": round(float(c["activity_score"]), 4),
                              "feature": FEATURE_LABELS.get(f, f), "v": round(float(v), 3)})
    prof_df = pd.DataFrame(prof_rows)
    feat_order = [FEATURE_LABELS.get(f, f) for f in profiles["features"]]
    prof_base = alt.Chart(prof_df).transform_filter(sel).transform_calculate(
        row="'C' + datum.cluster + ' · ' + datum.tier").encode(
        x=alt.X("feature:N", sort=feat_order, title="Feature (scaled 0-1)",
                axis=alt.Axis(labelAngle=-30)),
        y=alt.Y("row:N", title="Cluster · tier",
                sort=alt.EncodingSortField("score", order="descending")))
    prof_panel = alt.layer(
        prof_base.mark_rect().encode(
            color=alt.Color("v:Q", scale=alt.Scale(scheme=HEATMAP_SCHEME, domain=[0, 1]),
                            title="Scaled centroid"),
            tooltip=[alt.Tooltip("row:N", title="Cluster"),
                     alt.Tooltip("feature:N", title="Feature"),
                     alt.Tooltip("v:Q", title="Centroid (0-1)", format=".2f")]),
        prof_base.mark_text(fontSize=9).encode(
            text=alt.Text("v:Q", format=".2f"),
            color=alt.condition("datum.v > 0.55", alt.value("black"), alt.value("white"))),
    ).properties(width=WIDTH - 160, height=260, title=_title(
        "Cluster profiles: centre of each cluster on each feature"))
    mdf = pd.DataFrame([{"sol": solution_key(r["algorithm"], r["k"]),
                         "line": (f"silhouette {fmt_num(r['silhouette'])} · Calinski–Harabasz "
                                  f"{fmt_int(r['calinski_harabasz'])} · Davies–Bouldin "
                                  f"{fmt_num(r['davies_bouldin'])} · stability (min) "
                                  f"{fmt_num(r.get('stability_min'))}"
                                  + (" · degenerate" if r["degenerate"] else ""))}
                        for r in metrics["rows"]])
    metric_line = alt.Chart(mdf).transform_filter(sel).mark_text(
        align="left", fontSize=12, color="#333").encode(
        text="line:N", x=alt.value(0), y=alt.value(8)).properties(
        width=WIDTH - 100, height=16, title=_title("Quality of this solution"))
    chart = alt.vconcat(metric_line, scatter_panel, sizes_panel, prof_panel).add_params(
        p_algo, p_k).properties(title=_title(
            "Explore every solution",
            "Pick an algorithm and a number of clusters; every panel redraws"))
    n_sol = len(keys)
    desc = (f"Interactive chart with two selectors (algorithm: {', '.join(algos)}; k: "
            f"{ks[0]} to {ks[-1]}) covering {n_sol} precomputed solutions. It shows the quality "
            f"metrics of the selected solution, a scatter of {fmt_int(len(frame))} sampled users "
            f"on two principal components coloured by tier, the cluster sizes and a heatmap of "
            f"the cluster centres. It opens on {solution_name(*default)}, the chosen solution.")
    return chart, desc
