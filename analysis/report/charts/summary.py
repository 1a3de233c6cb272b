"""Charts of the Summary page."""

from __future__ import annotations

from typing import Any

import altair as alt
import pandas as pd

from analysis.report.charts.present import fmt_int, fmt_pct
from analysis.report.charts.render import WIDTH, _title, tier_scale
from analysis.vocabulary import TIERS


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
