"""Charts of the Exploration page."""

from __future__ import annotations

from typing import Any

import altair as alt
import numpy as np
import pandas as pd

from analysis.intake.schema import COLUMN_LABELS
from analysis.report import formats as fmt
from analysis.report.charts.render import (
    _SHORT,
    DIVERGING_SCHEME,
    WIDTH,
    _decades,
    _title,
    readable_on,
)


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
            text=name, subtitle=f"{fmt.share(info['zero_share'])} at zero · median "
                                f"{fmt.number(info['median'])} · max {fmt.count(info['max'])}",
            fontSize=12)))
        parts.append(f"{name}: {fmt.share(info['zero_share'])} zero, median "
                     f"{fmt.number(info['median'])}, maximum {fmt.count(info['max'])}")
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
    df["label"] = df["share"].map(fmt.share)
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
        f"{w}: {fmt.share(s)}" for w, s in items) + "."


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
            color=alt.value(readable_on("r")))
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
    df["label"] = [f"{fmt.count(u)} ({fmt.share(s)})"
                   for u, s in zip(df.users, df.share, strict=True)]
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
                   f"with {fmt.count(top['users'])} users ({fmt.share(top['share'])}).")


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
                   f"{peak['bin_end']:,.0f} with {fmt.count(peak['count'])} users.")


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
                   f"{fmt.count(df.seniority.min())} to {fmt.count(df.seniority.max())} days); the "
                   f"largest cohort, {fmt.count(top.seniority)} days, has {fmt.count(top.users)} "
                   f"users.")
