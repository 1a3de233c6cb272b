"""The Limitations page: what the numbers cannot say, each point with its numbers."""

from __future__ import annotations

from IPython.display import HTML

from analysis.report.charts.present import load
from analysis.report.pages.html import block, esc


def limitations() -> HTML:
    """Every limitation of this build, a title and its sentences."""
    items = load("findings")["limitations"]
    return block('<dl class="c2c-limits">' + "".join(
        f"<dt>{esc(x['title'])}</dt><dd>{esc(x['text'])}</dd>" for x in items) + "</dl>")
