"""The K-Means and Hierarchical (Ward) pages: how each algorithm was run, the elbow, quality
over k, cluster sizes and the dendrogram."""

from __future__ import annotations

from IPython.display import HTML

from analysis.report import formats as f
from analysis.report.charts.models import dendrogram_chart, elbow_chart, metrics_over_k, sizes_by_k
from analysis.report.charts.present import load
from analysis.report.charts.render import show
from analysis.report.pages.html import block, paragraphs
from analysis.vocabulary import ALGORITHM_NAMES


def kmeans_intro() -> HTML:
    """How K-Means was run (k range, initialisations, seed, users)."""
    m = load("manifest")
    cfg = m["config"]["kmeans"]
    return block(paragraphs([
        f"K-Means places k centres in the feature space and gives each of the "
        f"{f.count(m['rows_clustered'])} users to the nearest one. It was run for every k from "
        f"{cfg['k_min']} to {cfg['k_max']} ({cfg['n_init']} initialisations each, fixed seed "
        f"{cfg['random_state']}), on the {f.count(m['distinct_feature_rows'])} distinct behaviour "
        "rows weighted by their users: the same result as on all users."]))


def ward_intro() -> HTML:
    """How the Ward tree was built (on every user) and how it is read."""
    m, dendro = load("manifest"), load("dendrogram")
    return block(paragraphs([
        "Ward's method starts with every user on their own and keeps merging the two groups "
        "whose union adds the least spread, until one group is left; cutting the tree gives k "
        f"clusters. The tree holds all {f.count(m['hierarchical_rows'])} users (identical "
        f"behaviour rows, {f.count(m['distinct_feature_rows'])} distinct ones, merge first at "
        f"height zero). The chart shows the top {len(dendro['merges'])} merges."]))


def knee(algorithm: str) -> HTML:
    """The elbow's knee in one sentence."""
    metrics = load("metrics")
    k = metrics["knee"]["by_algorithm"].get(algorithm)
    text = (f"The {metrics['knee']['method']} method puts the knee at k = {k}."
            if k is not None else "The elbow curve has no clear knee.")
    return block(paragraphs([text + " The Comparison page says whether it was taken."]))


def elbow(algorithm: str):
    """Within-cluster sum of squares over k with the knee."""
    return show(*elbow_chart(load("metrics"), algorithm))


def quality(algorithm: str):
    """Silhouette, Calinski-Harabasz and Davies-Bouldin over k."""
    return show(*metrics_over_k(load("metrics"), (algorithm,),
                                f"{ALGORITHM_NAMES[algorithm]}: cluster quality over k"))


def sizes(algorithm: str):
    """Cluster shares for every k, coloured by tier."""
    return show(*sizes_by_k(load("profiles"), algorithm))


def dendrogram():
    """The top of the Ward tree with a cut for each k (opens on the chosen k)."""
    return show(*dendrogram_chart(load("dendrogram"), load("manifest")["chosen"]["k"]))
