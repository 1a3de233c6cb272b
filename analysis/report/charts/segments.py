"""Charts and tables of the Segments page."""

from __future__ import annotations

from typing import Any

import altair as alt
import numpy as np
import pandas as pd

from analysis.intake.schema import COLUMN_LABELS
from analysis.report.charts.present import fmt_int, fmt_num, fmt_pct
from analysis.report.charts.render import FEATURE_LABELS, HEATMAP_SCHEME, WIDTH, _title, tier_scale
from analysis.vocabulary import TIERS, solution_key, solution_name


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


def tier_tests_table(tests: list[dict[str, Any]]) -> pd.DataFrame:
    """Kruskal-Wallis per column: H, p-value and effect size, strongest first."""
    df = pd.DataFrame(tests).sort_values("epsilon_squared", ascending=False)
    return pd.DataFrame({
        "Column": [COLUMN_LABELS.get(c, c) for c in df["column"]],
        "Kruskal–Wallis H": [fmt_int(h) for h in df["H"]],
        "p-value": ["< 1e-300" if p == 0 else f"{p:.2g}" for p in df["p_value"]],
        "Effect size ε²": [f"{e:.3f}" for e in df["epsilon_squared"]],
    })
