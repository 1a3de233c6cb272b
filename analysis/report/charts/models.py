"""Charts and tables of the K-Means, Hierarchical and Comparison pages."""

from __future__ import annotations

from typing import Any

import altair as alt
import numpy as np
import pandas as pd

from analysis.report import formats as fmt
from analysis.report.charts.render import (
    _SHORT,
    ALGORITHM_COLORS,
    HEATMAP_SCHEME,
    WIDTH,
    _algo_label_expr,
    _decades,
    _title,
    algorithm_scale,
    readable_on,
    tier_scale,
)
from analysis.vocabulary import ALGORITHM_NAMES, TIERS

#: The vermillion of the cut and knee lines, darkened for their labels: 5.5:1 on white
#: (the line colour #D55E00 is 3.9:1, enough for a line, not for text); the dark theme
#: re-inks it (site/_static/c2c-charts.js).
ACCENT_TEXT = "#B04A00"


def elbow_chart(metrics: dict[str, Any], algorithm: str = "kmeans") -> tuple[Any, str]:
    """Within-cluster sum of squares over k with the knee marked."""
    df = pd.DataFrame([r for r in metrics["rows"] if r["algorithm"] == algorithm])
    knee = {"k": metrics["knee"]["by_algorithm"][algorithm], "method": metrics["knee"]["method"]}
    line = alt.Chart(df).mark_line(point=True, color=ALGORITHM_COLORS[algorithm]).encode(
        x=alt.X("k:O", title="Number of clusters k"),
        y=alt.Y("inertia:Q", title="Within-cluster sum of squares (scaled units²)",
                axis=alt.Axis(format="~s")),
        tooltip=[alt.Tooltip("k:O", title="k"),
                 alt.Tooltip("inertia:Q", title="Inertia", format=",.1f")])
    rule = alt.Chart(pd.DataFrame({"k": [knee["k"]], "label": [f"knee: k = {knee['k']}"]}))
    chart = (line + rule.mark_rule(color="#D55E00", strokeDash=[5, 4]).encode(
        x="k:O", tooltip=[alt.Tooltip("label:N", title="Knee")])
        + rule.mark_text(color=ACCENT_TEXT, align="left", dx=4, dy=-90).encode(
            x="k:O", text="label:N")).properties(
        width=WIDTH - 100, height=260, title=_title(
            "Elbow: how much each extra cluster reduces the spread",
            f"Knee found by the {knee['method']} method"))
    first, last = df.iloc[0], df.iloc[-1]
    return chart, (f"Line chart of within-cluster sum of squares for k = {int(first.k)} to "
                   f"{int(last.k)}: it falls from {first.inertia:,.0f} to {last.inertia:,.0f}. "
                   f"The knee is at k = {knee['k']}.")


METRIC_INFO = {
    "silhouette": ("Silhouette (−1…1, higher is better)", fmt.d3("index")),
    "calinski_harabasz": ("Calinski–Harabasz (higher is better)", fmt.d3("count")),
    "davies_bouldin": ("Davies–Bouldin (lower is better)", fmt.d3("index")),
}


def metrics_over_k(metrics: dict[str, Any], algorithms: tuple[str, ...] = ("kmeans",),
                   title: str = "Cluster quality over k") -> tuple[Any, str]:
    """Silhouette, CH and DB over k (one panel each); degenerate solutions drawn hollow."""
    df = pd.DataFrame([r for r in metrics["rows"] if r["algorithm"] in algorithms])
    df["status"] = np.where(df["degenerate"], "degenerate (tiny cluster)", "usable")
    df["reason"] = df["degenerate_reason"].fillna("–")
    panels = []
    for metric, (label, d3_format) in METRIC_INFO.items():
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
                     alt.Tooltip(f"{metric}:Q", title=label, format=d3_format),
                     alt.Tooltip("min_share:Q", title="Smallest cluster", format=".2%"),
                     alt.Tooltip("reason:N", title="Degenerate because")]))
                      .properties(width=190, height=200))
    chart = alt.hconcat(*panels).resolve_scale(y="independent").properties(title=_title(
        title, "Crosses mark degenerate solutions (a cluster below the minimum share)"))
    parts = []
    for algo in algorithms:
        sub = df[df.algorithm == algo]
        best = sub.loc[sub.silhouette.idxmax()]
        parts.append(f"{ALGORITHM_NAMES[algo]}: best silhouette {fmt.index(best.silhouette)} at "
                     f"k = {int(best.k)}, {int(sub.degenerate.sum())} degenerate solutions")
    return chart, "Three line charts of silhouette, Calinski-Harabasz and Davies-Bouldin over k. " \
        + "; ".join(parts) + "."


def sizes_by_k(profiles: dict[str, Any], algorithm: str) -> tuple[Any, str]:
    """Stacked bars per k: cluster shares, coloured by the tier most of each cluster's users
    are in (the tiers are a rule inside every cluster, not a property of the cluster)."""
    df = pd.DataFrame([c for c in profiles["clusters"] if c["algorithm"] == algorithm])
    df = df[["k", "cluster", "main_tier", "size", "share", "activity_score"]].rename(
        columns={"main_tier": "tier"})
    df["tier_order"] = df["tier"].map({t: i for i, t in enumerate(TIERS)})
    chart = alt.Chart(df).mark_bar(stroke="white", strokeWidth=0.8).encode(
        x=alt.X("k:O", title="Number of clusters k"),
        y=alt.Y("share:Q", title="Share of users (%)", axis=alt.Axis(format="%"),
                scale=alt.Scale(domain=[0, 1])),
        color=alt.Color("tier:N", scale=tier_scale(), sort=list(TIERS), title="Most users are"),
        order=alt.Order("activity_score:Q"),
        tooltip=[alt.Tooltip("k:O", title="k"), alt.Tooltip("cluster:N", title="Cluster"),
                 alt.Tooltip("tier:N", title="Most users are"),
                 alt.Tooltip("size:Q", title="Users", format=","),
                 alt.Tooltip("share:Q", title="Share", format=".1%"),
                 alt.Tooltip("activity_score:Q", title="Activity score", format=fmt.d3("index"))],
    ).properties(width=WIDTH - 140, height=260, title=_title(
        f"Cluster sizes for each k, {ALGORITHM_NAMES[algorithm]}",
        "One bar segment per cluster, coloured by the tier most of its users are in"))
    smallest = df.loc[df["share"].idxmin()]
    return chart, (f"Stacked bars of cluster shares for each k of {ALGORITHM_NAMES[algorithm]}. "
                   f"The smallest cluster anywhere has {fmt.fine_share(smallest.share)} of users "
                   f"(k = {int(smallest.k)}).")


def dendrogram_layout(dendro: dict[str, Any]) -> tuple[pd.DataFrame, pd.DataFrame]:
    """Plot-ready links (x, x2, y, y2, height) and truncated leaves (x, users) of the top merges.

    ``dendro["segments"]`` is scipy's layout (icoord/dcoord: one U of four points per merge,
    leaves at x = 5, 15, ...); ``dendro["leaf_users"]`` the users below each leaf, left to right.
    """
    links = []
    for seg in dendro["segments"]:
        xs, ys = seg["x"], seg["y"]
        top = float(max(ys))
        links += [{"x": xs[i], "x2": xs[i + 1], "y": ys[i], "y2": ys[i + 1], "height": top}
                  for i in range(3)]
    users = [int(u) for u in dendro["leaf_users"]]
    leaves = pd.DataFrame({"x": [5.0 + 10.0 * i for i in range(len(users))], "users": users})
    return pd.DataFrame(links), leaves


def dendrogram_chart(dendro: dict[str, Any], k_default: int) -> tuple[Any, str]:
    """Dendrogram of the top merges, with a k selector that draws the cut for that k."""
    links, leaves = dendrogram_layout(dendro)
    cuts = pd.DataFrame([{"k": int(k), "h": float(h)} for k, h in dendro["cut_heights"].items()])
    ks = sorted(cuts["k"].tolist())
    k_param = alt.param(name="cut_k", value=int(k_default), bind=alt.binding_select(
        options=ks, name="Cut the tree into k clusters: "))
    top = float(links[["y", "y2"]].max().max())
    n_users = int(dendro["n_leaves_users"])
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
        color=ACCENT_TEXT, align="right", dy=-7, fontWeight="bold", x="width").encode(
        y=alt.Y("h:Q", scale=y_scale), text="label:N")
    chart = alt.layer(link_layer, leaf_layer, cut_rule, cut_text).add_params(k_param).properties(
        width=WIDTH - 60, height=360, title=_title(
            "Ward dendrogram: the top merges of the tree",
            "Square-root height axis; triangles are subtrees (hover for their users); "
            "the dashed line cuts the tree into k clusters"))
    cut_at = float(cuts.set_index("k").h[int(k_default)])
    desc = (f"Dendrogram of the top {len(dendro['merges'])} merges of the Ward tree built on "
            f"{fmt.count(n_users)} users, ending in {len(leaves)} subtrees; the highest merge is "
            f"at {fmt.index(top)}. A selector draws the cut height for k = {ks[0]} to "
            f"{ks[-1]}; the cut for k = {k_default} is at {fmt.index(cut_at)}.")
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
                 alt.Tooltip("value:Q", title="Value", format=fmt.d3("index"))],
    ).properties(width=WIDTH - 160, height=240, title=_title(
        "How much K-Means and Ward agree, for each k"))
    per = pd.DataFrame(agreement["per_k"])
    best = per.loc[per["ari"].idxmax()]
    return chart, (f"Line chart of ARI and NMI between K-Means and Ward for k = {int(per.k.min())} "
                   f"to {int(per.k.max())}; ARI is highest at k = {int(best.k)} "
                   f"({fmt.index(best.ari)}).")


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
            color=alt.value(readable_on("n")))
    ).properties(width=min(WIDTH - 160, 90 * len(cols)), height=36 * len(rows) + 10,
                 title=_title(title, subtitle))
    diag = float(np.trace(m)) / total if m.shape[0] == m.shape[1] and total else None
    i, j = np.unravel_index(np.argmax(m), m.shape)
    desc = (f"Heatmap of user counts, {row_title} (rows) by {col_title} (columns). The largest "
            f"cell is {rows[i]} × {cols[j]} with {fmt.count(m[i, j])} users")
    if diag is not None:
        desc += f"; {fmt.share(diag)} of users are on the diagonal"
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
                 alt.Tooltip("jaccard:Q", title="Jaccard", format=fmt.d3("index"))])
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
