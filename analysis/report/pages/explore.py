"""The Explore page: every precomputed solution behind two selectors."""

from __future__ import annotations

from IPython.display import HTML

from analysis.report import formats as f
from analysis.report.charts.explore import explore_chart
from analysis.report.charts.present import load
from analysis.report.charts.render import show
from analysis.report.pages.html import block, paragraphs
from analysis.vocabulary import solution_name


def intro() -> HTML:
    """How many solutions, how many sampled users, and which one the page opens on."""
    m, metrics, pca = load("manifest"), load("metrics"), load("pca")
    chosen = m["chosen"]
    return block(paragraphs([
        f"All {len(metrics['rows'])} groupings (both algorithms, every k) were computed in "
        "advance. Pick one with the two selectors: the quality line, the map of "
        f"{f.count(pca['sample_size'])} sampled users, the cluster sizes and the cluster profiles "
        f"all redraw. The page opens on the chosen solution, "
        f"{solution_name(chosen['algorithm'], chosen['k'])}. Everything runs in your browser."]))


def explorer():
    """The interactive chart."""
    m = load("manifest")
    chosen = m["chosen"]
    return show(*explore_chart(load("pca"), load("profiles"), load("metrics"),
                               (chosen["algorithm"], chosen["k"])))
