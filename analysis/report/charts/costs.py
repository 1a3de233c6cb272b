"""The Method page's cost curve: build seconds and peak memory against users, log-log."""

from __future__ import annotations

from typing import Any

import altair as alt
import pandas as pd

from analysis.report import formats as fmt
from analysis.report.charts.render import _title

#: The two panels: (field of a costs.json point, axis title, tooltip format).
PANELS = (("build_seconds", "Whole c2c build (seconds)", ",.0f"),
          ("peak_memory_mb", "Peak memory of the build (MiB)", ",.0f"))


def cost_curve(costs: dict[str, Any]) -> tuple[Any, str]:
    """Two log-log panels over users from ``costs.json``'s points, with distinct rows in the
    tooltips; the description names the measured growth exponents."""
    df = pd.DataFrame(costs["points"])
    panels = []
    for field, label, d3_format in PANELS:
        base = alt.Chart(df).encode(
            x=alt.X("users:Q", title="Users in the export", scale=alt.Scale(type="log"),
                    axis=alt.Axis(format="~s", tickCount=4)),
            y=alt.Y(f"{field}:Q", title=label, scale=alt.Scale(type="log"),
                    axis=alt.Axis(format="~s", tickCount=4)),
            tooltip=[alt.Tooltip("users:Q", title="Users", format=","),
                     alt.Tooltip("distinct_rows:Q", title="Distinct rows", format=","),
                     alt.Tooltip(f"{field}:Q", title=label, format=d3_format)])
        panels.append((base.mark_line(color="#0072B2")
                       + base.mark_point(size=70, filled=True, color="#0072B2"))
                      .properties(width=260, height=220))
    growth = costs["growth_exponents"]
    chart = alt.hconcat(*panels).resolve_scale(y="independent").properties(title=_title(
        "What the whole build costs as the export grows",
        f"Measured by c2c bench --scale on {costs['measured_at'][:10]}, "
        f"{costs['machine']['cpus']} CPUs; log-log"))
    top = costs["points"][-1]
    growth_text = ("" if growth["build_seconds"] is None else
                   f"; seconds grow as users to the power {growth['build_seconds']}, memory "
                   f"to the power {growth['peak_memory_mb']}")
    return chart, (
        f"Two log-log line charts over {len(df)} export sizes up to {fmt.count(top['users'])} "
        f"users: the whole build takes {fmt.count(top['build_seconds'])} s and peaks at "
        f"{fmt.count(top['peak_memory_mb'])} MiB at the largest{growth_text}.")
