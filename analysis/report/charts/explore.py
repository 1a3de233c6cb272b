"""The Explore page: one interactive spec holding every solution."""

from __future__ import annotations

import json
from typing import Any

import altair as alt
import pandas as pd

from analysis.report import formats as fmt
from analysis.report.charts.render import (
    FEATURE_LABELS,
    HEATMAP_SCHEME,
    WIDTH,
    _title,
    readable_on,
    tier_scale,
)
from analysis.scoring.keys import DIGITS
from analysis.vocabulary import ALGORITHM_NAMES, TIERS, solution_key, solution_name

#: Vega's name of the profile heatmap's colour scale: the heatmap is the fourth panel of the
#: concatenation that :func:`explore_chart` builds (a reordering must change it; the browser
#: test of text contrast would catch a stale name).
PROFILE_SCALE = "concat_3_color"


class _Selection:
    """The two bound selectors (algorithm, k) and the expressions that read them."""

    def __init__(self, keys: list[str], default: tuple[str, int]) -> None:
        self.algos = sorted({k.split("_k")[0] for k in keys})
        self.ks = sorted({int(k.split("_k")[1]) for k in keys})
        self.algo = alt.param(name="algo", value=default[0], bind=alt.binding_select(
            options=self.algos, labels=[ALGORITHM_NAMES.get(a, a) for a in self.algos],
            name="Algorithm: "))
        self.k = alt.param(name="k", value=int(default[1]), bind=alt.binding_select(
            options=self.ks, name="Number of clusters k: "))
        self.key = "algo + '_k' + k"             # the selected solution's key, e.g. kmeans_k3
        self.rows = f"datum.sol == {self.key}"    # filter: rows of the selected solution


def _solution_keys(pca: dict[str, Any]) -> list[str]:
    """Solution keys in display order (algorithm, then k)."""
    return sorted(pca["points"]["labels"],
                  key=lambda s: (s.split("_k")[0], int(s.split("_k")[1])))


def _point_rows(pca: dict[str, Any], keys: list[str]) -> list[dict[str, Any]]:
    """One row per sampled user: PC coordinates, two tooltip columns and ``c``, the user's
    cluster in every solution as one base-36 character per solution (in ``keys`` order)."""
    pts = pca["points"]
    codes = ["".join(DIGITS[int(pts["labels"][key][p])] for key in keys)
             for p in range(len(pts["pc1"]))]
    tiers = pts["tiers"][keys[0]]  # one tier rule inside every cluster: the same in all
    return [{"pc1": round(float(a), 3), "pc2": round(float(b), 3), "d": int(d), "l": int(li),
             "c": c, "tier": t}
            for a, b, d, li, c, t in zip(pts["pc1"], pts["pc2"], pts["daysSinceLastLogin"],
                                         pts["socialProductsLiked"], codes, tiers, strict=True)]


def _cluster_table(profiles: dict[str, Any]) -> pd.DataFrame:
    """One row per (solution, cluster): tier, size, share, activity score and bar labels."""
    table = pd.DataFrame([{"sol": solution_key(c["algorithm"], c["k"]),
                           "cluster": int(c["cluster"]), "tier": c["main_tier"],
                           "size": int(c["size"]), "share": float(c["share"]),
                           "score": float(c["activity_score"]), "app": float(c["any_app_share"])}
                          for c in profiles["clusters"]])
    table["label"] = [f"{fmt.count(n)} ({fmt.share(sh)})"
                      for n, sh in zip(table["size"], table["share"], strict=True)]
    table["name"] = [f"C{c} · mostly {t}"
                     for c, t in zip(table["cluster"], table["tier"], strict=True)]
    return table


def _scatter_panel(pca: dict[str, Any], keys: list[str], clusters: pd.DataFrame,
                   sel: _Selection) -> alt.LayerChart:
    """Sampled users on PC1/PC2 coloured by their own tier, with the selected solution's
    cluster centres (sample means) labelled C0, C1, ..."""
    index_expr = json.dumps({key: i for i, key in enumerate(keys)})
    pick = (f"parseInt(substring(datum.c, {index_expr}[{sel.key}], "
            f"{index_expr}[{sel.key}] + 1), 36)")
    points = _point_rows(pca, keys)
    base = alt.Chart(alt.InlineData(values=points)).transform_calculate(
        sol=sel.key).transform_calculate(cluster=pick)
    evr = pca["explained_variance_ratio"]
    scatter = base.mark_circle(size=16, opacity=0.5).encode(
        x=alt.X("pc1:Q", title=f"PC1 ({fmt.share(evr[0])} of variance, unitless)"),
        y=alt.Y("pc2:Q", title=f"PC2 ({fmt.share(evr[1])} of variance, unitless)"),
        color=alt.Color("tier:N", scale=tier_scale(), sort=list(TIERS), title="Tier"),
        tooltip=[alt.Tooltip("cluster:N", title="Cluster"), alt.Tooltip("tier:N", title="Tier"),
                 alt.Tooltip("d:Q", title="Days since last login", format=","),
                 alt.Tooltip("l:Q", title="Products liked", format=",")])
    centres = base.transform_aggregate(
        pc1="mean(pc1)", pc2="mean(pc2)", n="count()", groupby=["cluster"],
    ).transform_calculate(label="'C' + datum.cluster")
    halo = centres.mark_text(fontWeight="bold", fontSize=13, stroke="white",
                             strokeWidth=3).encode(
        x="pc1:Q", y="pc2:Q", text="label:N",
        tooltip=[alt.Tooltip("label:N", title="Cluster centre (sample mean)"),
                 alt.Tooltip("n:Q", title="Sample points", format=",")])
    label = centres.mark_text(fontWeight="bold", fontSize=13, color="black").encode(
        x="pc1:Q", y="pc2:Q", text="label:N")
    return alt.layer(scatter, halo, label).properties(
        width=WIDTH - 100, height=360,
        title=_title("Users on the first two principal components",
                     f"Sample of {fmt.count(len(points))} users, coloured by their tier "
                     "(the same rule inside every cluster); C0, C1, … mark cluster centres"))


def _sizes_panel(clusters: pd.DataFrame, sel: _Selection) -> alt.LayerChart:
    """Users per cluster of the selected solution, most active cluster first."""
    sizes = alt.Chart(clusters).transform_filter(sel.rows).encode(
        y=alt.Y("name:N", title="Cluster · main tier",
                sort=alt.EncodingSortField("score", op="max", order="descending")),
        x=alt.X("size:Q", title="Users (count)", axis=alt.Axis(format=",d")),
        tooltip=[alt.Tooltip("cluster:N", title="Cluster"), alt.Tooltip("tier:N", title="Tier"),
                 alt.Tooltip("size:Q", title="Users", format=","),
                 alt.Tooltip("share:Q", title="Share", format=".1%"),
                 alt.Tooltip("score:Q", title="Activity score", format=fmt.d3("index")),
                 alt.Tooltip("app:Q", title="Uses an app", format=".1%")])
    return alt.layer(
        sizes.mark_bar().encode(color=alt.Color("tier:N", scale=tier_scale(),
                                                sort=list(TIERS), legend=None)),
        sizes.mark_text(align="left", dx=3, fontSize=10).encode(text="label:N"),
    ).properties(width=WIDTH - 260, height=220, title=_title(
        "Cluster sizes", "Sorted by activity score, most active first"))


def _profile_panel(profiles: dict[str, Any], sel: _Selection) -> alt.LayerChart:
    """Heatmap of the selected solution's cluster centres on every feature (scaled 0-1)."""
    rows = [{"sol": solution_key(c["algorithm"], c["k"]), "cluster": int(c["cluster"]),
             "tier": f"mostly {c['main_tier']}", "score": round(float(c["activity_score"]), 4),
             "feature": FEATURE_LABELS.get(f, f), "v": round(float(v), 3)}
            for c in profiles["clusters"]
            for f, v in zip(profiles["features"], c["centroid_scaled"], strict=True)]
    order = [FEATURE_LABELS.get(f, f) for f in profiles["features"]]
    base = alt.Chart(pd.DataFrame(rows)).transform_filter(sel.rows).transform_calculate(
        row="'C' + datum.cluster + ' · ' + datum.tier").encode(
        x=alt.X("feature:N", sort=order, title="Feature (scaled 0-1)",
                axis=alt.Axis(labelAngle=-30)),
        y=alt.Y("row:N", title="Cluster · main tier",
                sort=alt.EncodingSortField("score", order="descending")))
    return alt.layer(
        base.mark_rect().encode(
            color=alt.Color("v:Q", scale=alt.Scale(scheme=HEATMAP_SCHEME, domain=[0, 1]),
                            title="Scaled centroid"),
            tooltip=[alt.Tooltip("row:N", title="Cluster"),
                     alt.Tooltip("feature:N", title="Feature"),
                     alt.Tooltip("v:Q", title="Centroid (0-1)", format=".2f")]),
        base.mark_text(fontSize=9).encode(
            text=alt.Text("v:Q", format=".2f"),
            color=alt.value(readable_on("v", PROFILE_SCALE))),
    ).properties(width=WIDTH - 160, height=260, title=_title(
        "Cluster profiles: centre of each cluster on each feature"))


def _metrics_panel(metrics: dict[str, Any], sel: _Selection) -> alt.Chart:
    """The selected solution's quality metrics, one per line (so it fits a phone)."""
    lines = pd.DataFrame([{"sol": solution_key(r["algorithm"], r["k"]),
                           "line": "\n".join(
                               [f"silhouette {fmt.index(r['silhouette'])}",
                                f"Calinski–Harabasz {fmt.count(r['calinski_harabasz'])}",
                                f"Davies–Bouldin {fmt.index(r['davies_bouldin'])}",
                                f"stability (min) {fmt.index(r.get('stability_min'))}"]
                               + (("degenerate: " + r["degenerate_reason"]).split(", ")
                                  if r["degenerate"] else []))}
                          for r in metrics["rows"]])
    return alt.Chart(lines).transform_filter(sel.rows).mark_text(
        align="left", baseline="top", fontSize=12, color="#333", lineBreak="\n",
        lineHeight=16).encode(text="line:N", x=alt.value(0), y=alt.value(0)).properties(
        width=WIDTH - 100, height=80, title=_title("Quality of this solution"))


def explore_chart(pca: dict[str, Any], profiles: dict[str, Any], metrics: dict[str, Any],
                  default: tuple[str, int]) -> tuple[Any, str]:
    """One Vega-Lite spec holding every precomputed solution; two selects redraw every panel.

    The PCA sample is shipped once as JSON rows (CSV parsing would need ``eval``, which the
    Content-Security-Policy forbids): per point its coordinates, two tooltip columns and one
    string with the cluster of each labelling as a base-36 character (k <= 36), so the page
    carries ~5,000 short rows instead of 18 x 5,000. Profiles and sizes are small tables
    filtered by the same params. Returns (chart, text description).
    """
    keys = _solution_keys(pca)
    sel = _Selection(keys, default)
    clusters = _cluster_table(profiles)
    chart = alt.vconcat(
        _metrics_panel(metrics, sel), _scatter_panel(pca, keys, clusters, sel),
        _sizes_panel(clusters, sel), _profile_panel(profiles, sel),
    ).add_params(sel.algo, sel.k).properties(title=_title(
        "Explore every solution",
        "Pick an algorithm and a number of clusters; every panel redraws"))
    desc = (f"Interactive chart with two selectors (algorithm: {', '.join(sel.algos)}; k: "
            f"{sel.ks[0]} to {sel.ks[-1]}) covering {len(keys)} precomputed solutions. It shows "
            "the quality metrics of the selected solution, a scatter of "
            f"{fmt.count(len(pca['points']['pc1']))} sampled users on two principal components "
            "coloured by tier, the cluster sizes and a heatmap of the cluster centres. It opens "
            f"on {solution_name(*default)}, the chosen solution.")
    return chart, desc
