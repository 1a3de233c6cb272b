"""How a chart or table reaches a page: offline Vega rendering, tables, cards, the shared scales."""

from __future__ import annotations

import html
import itertools
import json
import re
from typing import Any

import altair as alt
import pandas as pd

from analysis.report.charts.present import load
from analysis.vocabulary import TIERS

ALGORITHM_COLORS = {"kmeans": "#009E73", "ward": "#CC79A7"}




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
    "background": None,  # the page's own background, light or dark
    "font": "system-ui, -apple-system, 'Segoe UI', Roboto, sans-serif",
    "view": {"stroke": None},
    "title": {"anchor": "start", "fontSize": 15, "subtitleFontSize": 12, "subtitleColor": "#555"},
    "axis": {"labelFontSize": 11, "titleFontSize": 12, "gridColor": "#e6e6e6"},
    "legend": {"labelFontSize": 11, "titleFontSize": 12, "orient": "top"},
}


_counter = itertools.count(1)


def _merge(base: dict[str, Any], extra: dict[str, Any]) -> dict[str, Any]:
    out = dict(base)
    for key, value in extra.items():
        if isinstance(value, dict) and isinstance(out.get(key), dict):
            out[key] = _merge(out[key], value)
        else:
            out[key] = value
    return out


#: Scripts a page with charts loads once, after its first chart (pages without charts load
#: no Vega at all); ``defer`` runs them in order once the page is parsed.
CHART_SCRIPTS = ('<script defer src="_static/vega-bundle.js"></script>\n'
                 '<script defer src="_static/c2c-charts.js"></script>\n')


def _text(value: Any) -> str:
    return " ".join(value) if isinstance(value, list) else str(value or "")


def split_title(spec: dict[str, Any]) -> tuple[dict[str, Any], str, str]:
    """The spec without its top-level title, and the title and subtitle as text.

    Titles are drawn in HTML above the chart, where they wrap on a phone; inside the SVG a long
    title would widen the chart past the screen or be cut.
    """
    spec = dict(spec)
    title = spec.pop("title", "")
    if isinstance(title, dict):
        return spec, _text(title.get("text")), _text(title.get("subtitle"))
    return spec, _text(title), ""


def chart_html(chart: alt.TopLevelMixin | dict[str, Any], description: str) -> str:
    """The HTML of one chart: a ``.c2c-chart`` holder, its spec as a JSON data block (never
    executed: the Content-Security-Policy allows no inline script), a visible caption and a
    hidden text description. ``_static/c2c-charts.js`` draws it (SVG, sized to the holder,
    re-drawn on resize and on a theme switch) and adds PNG/SVG export; nothing is loaded from
    outside the site.
    """
    spec = chart if isinstance(chart, dict) else chart.to_dict()
    spec, title, subtitle = split_title(_merge({"config": BASE_CONFIG}, spec))
    spec.setdefault("description", description)  # Vega uses it as the SVG's aria-label
    if not title:
        raise ValueError("every chart needs a title")
    if not description:
        raise ValueError(f"chart {title!r} needs a text description")
    number = next(_counter)
    uid = f"c2c-chart-{number}"
    payload = json.dumps(spec, separators=(",", ":"), allow_nan=False).replace("</", "<\\/")
    label = html.escape(title, quote=True)
    name = re.sub(r"[^a-z0-9]+", "-", title.lower()).strip("-")[:60] or uid
    heading = f'<div class="c2c-chart-title">{html.escape(title)}</div>\n' + (
        f'<div class="c2c-chart-subtitle">{html.escape(subtitle)}</div>\n' if subtitle else "")
    return (
        f'<figure class="c2c-figure">\n{heading}'
        f'<div id="{uid}" class="c2c-chart" role="img" aria-label="{label}" '
        f'aria-describedby="{uid}-desc" data-name="{html.escape(name, quote=True)}"></div>\n'
        f'<script type="application/json" class="c2c-spec" data-for="{uid}">{payload}</script>\n'
        f'<figcaption id="{uid}-desc" class="c2c-sr-only">{html.escape(description)}</figcaption>\n'
        f"</figure>\n" + (CHART_SCRIPTS if number == 1 else "")
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
    body = re.sub(r'\s+style="[^"]*"', "", body)  # CSP: no inline style (pandas adds one)
    if caption:
        body = body.replace(">\n  <thead>", f">\n  <caption>{html.escape(caption)}</caption>"
                                            f"\n  <thead>", 1)
    return HTML(f'<div class="c2c-table-wrap">{body}</div>')


def tier_badge(tier: str) -> str:
    """HTML badge of a tier name in its colour (for tables)."""
    return f'<span class="c2c-tier c2c-tier-{html.escape(tier)}">{html.escape(tier)}</span>'


def tier_scale() -> alt.Scale:
    """The fixed tier -> colour scale (same on every chart)."""
    colors = load("model")["tier_colors"]  # config [tiers.colors], through the model
    return alt.Scale(domain=list(TIERS), range=[colors[t] for t in TIERS])


def algorithm_scale() -> alt.Scale:
    return alt.Scale(domain=list(ALGORITHM_COLORS),
                     range=list(ALGORITHM_COLORS.values()))


def _algo_label_expr() -> str:
    return "datum.label == 'kmeans' ? 'K-Means' : 'Ward'"


def _title(text: str, subtitle: str | None = None) -> alt.TitleParams:
    return alt.TitleParams(text=text, subtitle=subtitle or alt.Undefined)


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


def readable_on(field: str, scale: str = "color") -> dict:
    """A text colour that stays readable on its cell: black or white, whichever contrasts more
    with the colour the chart's colour scale (Vega's name for it: ``color``, or
    ``concat_<i>_color`` inside the i-th panel of a concatenation) gives ``field``; a Vega
    expression, exact for any scheme and scale type (heatmaps print their values with it)."""
    cell = f"scale({scale!r}, datum[{field!r}])"
    return {"expr": f"contrast('#000000', {cell}) >= contrast('#ffffff', {cell}) "
                    "? '#000000' : '#ffffff'"}
