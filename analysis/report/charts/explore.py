"""The Explore page: one interactive spec holding every solution."""

from __future__ import annotations

import json
from typing import Any

import altair as alt
import pandas as pd

from analysis.report.charts.present import fmt_int, fmt_num, fmt_pct
from analysis.report.charts.render import (
    FEATURE_LABELS,
    HEATMAP_SCHEME,
    WIDTH,
    _title,
    tier_scale,
)
from analysis.scoring.keys import DIGITS
from analysis.vocabulary import ALGORITHM_NAMES, TIERS, solution_key, solution_name


def explore_chart(pca: dict[str, Any], profiles: dict[str, Any], metrics: dict[str, Any],
                  default: tuple[str, int]) -> tuple[Any, str]:
    """One Vega-Lite spec holding every precomputed solution; two selects redraw everything.

    The PCA sample is shipped once as JSON rows (CSV parsing would need ``eval``, which the
    Content-Security-Policy forbids): per point its coordinates, two tooltip columns and one
    string with the cluster of each labelling as a base-36 character (k <= 36), so the page
    carries ~5,000 short rows instead of 18 x 5,000. Profiles and sizes are small tables
    filtered by the same params.
    """
    pts = pca["points"]
    keys = sorted(pts["labels"], key=lambda s: (s.split("_k")[0], int(s.split("_k")[1])))
    index_of = {key: i for i, key in enumerate(keys)}
    codes = ["".join(DIGITS[int(pts["labels"][key][p])] for key in keys)
             for p in range(len(pts["pc1"]))]
    points_data = alt.InlineData(values=[
        {"pc1": round(float(a), 3), "pc2": round(float(b), 3), "d": int(d), "l": int(li), "c": c}
        for a, b, d, li, c in zip(pts["pc1"], pts["pc2"], pts["daysSinceLastLogin"],
                                  pts["socialProductsLiked"], codes, strict=True)])
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
    pick = (f"parseInt(substring(datum.c, {index_expr}[{sol_expr}], "
            f"{index_expr}[{sol_expr}] + 1), 36)")
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
                     f"Sample of {fmt_int(len(codes))} users, coloured by the tier of their "
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
            f"metrics of the selected solution, a scatter of {fmt_int(len(codes))} sampled users "
            f"on two principal components coloured by tier, the cluster sizes and a heatmap of "
            f"the cluster centres. It opens on {solution_name(*default)}, the chosen solution.")
    return chart, desc
