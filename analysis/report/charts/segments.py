"""Charts and tables of the Segments page."""

from __future__ import annotations

from typing import Any

import altair as alt
import numpy as np
import pandas as pd

from analysis.report import formats as fmt
from analysis.report.charts.render import FEATURE_LABELS, WIDTH, _title, tier_scale
from analysis.vocabulary import TIERS, solution_key, solution_name


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
        x=alt.X("pc1:Q", title=f"PC1 ({fmt.share(evr[0])} of variance, unitless)"),
        y=alt.Y("pc2:Q", title=f"PC2 ({fmt.share(evr[1])} of variance, unitless)"),
        color=alt.Color("tier:N", scale=tier_scale(), title="Tier", sort=list(TIERS)),
        tooltip=[alt.Tooltip("tier:N", title="Tier"), alt.Tooltip("cluster:N", title="Cluster"),
                 alt.Tooltip("days:Q", title="Days since last login", format=","),
                 alt.Tooltip("liked:Q", title="Products liked", format=","),
                 alt.Tooltip("pc1:Q", title="PC1", format=".2f"),
                 alt.Tooltip("pc2:Q", title="PC2", format=".2f")],
    ).properties(width=WIDTH - 100, height=380, title=_title(
        f"Users on the first two principal components, {solution_name(algorithm, k)}",
        f"Random sample of {fmt.count(len(df))} users; colour = tier"))
    counts = df["tier"].value_counts()
    desc = (f"Scatter plot of a random sample of {fmt.count(len(df))} users on the first two "
            f"principal components, which explain {fmt.share(evr[0] + evr[1])} of the variance. "
            + "; ".join(f"{t}: {fmt.count(counts.get(t, 0))} points" for t in TIERS) + ".")
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
                f"share is highest for {hi} ({fmt.share(act[hi])}) and lowest for {lo} "
                f"({fmt.share(act[lo])}).")
    else:
        desc = f"Stacked bars of tier shares for {len(sort)} groups ({by_title})."
    return chart, desc
