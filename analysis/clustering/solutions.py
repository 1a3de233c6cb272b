"""K-Means and Ward on all users, computed on the distinct feature rows weighted by their counts.

Most users share the platform defaults and zero activity, so the n users collapse to m << n
distinct feature rows. Weighted K-Means on the m rows optimises the same objective as K-Means on
the n rows, and weighted Ward on them builds the same tree above height 0 (identical rows merge
first at height 0). Working on the sorted distinct rows also makes every result independent of
the order of the input rows.

Cluster ids are canonical: 0 is the least active cluster, k-1 the most active (by the activity
score of :mod:`analysis.segments.tiers`); tiers are still assigned by that score, never by id.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

import numpy as np
from scipy.cluster.hierarchy import dendrogram
from sklearn.cluster import KMeans
from threadpoolctl import threadpool_limits

from analysis.clustering.fastward import (
    distinct_rows,
    scipy_linkage,
    ward_flat_labels,
    ward_linkage,
)


@dataclass(frozen=True)
class Distinct:
    """Users collapsed to distinct feature rows: ``rows`` float64[m, f], ``counts`` int64[m]
    (users per row, sum n) and ``inverse`` int64[n] (the distinct row of each user)."""

    rows: np.ndarray
    counts: np.ndarray
    inverse: np.ndarray

    @classmethod
    def of(cls, X: np.ndarray) -> Distinct:
        """Collapse ``X`` float64[n, f] (rows sorted lexicographically, deterministic)."""
        rows, counts, inverse = distinct_rows(X)
        return cls(rows, counts.astype(np.int64), inverse.astype(np.int64))


@dataclass
class Solution:
    """One flat clustering: labels on distinct rows int64[m] and centroids float64[k, f]."""

    algorithm: str
    k: int
    labels: np.ndarray
    centroids: np.ndarray
    extra: dict[str, Any] = field(default_factory=dict)


def weighted_centroids(rows: np.ndarray, weights: np.ndarray, labels: np.ndarray, k: int
                       ) -> np.ndarray:
    """Weighted mean of ``rows`` [m, f] per label 0..k-1 -> float64[k, f]."""
    sums = np.zeros((k, rows.shape[1]))
    np.add.at(sums, labels, rows * weights[:, None])
    mass = np.bincount(labels, weights=weights, minlength=k)
    return sums / np.maximum(mass, 1e-300)[:, None]


def canonical_order(centroids: np.ndarray, score_weights: np.ndarray) -> np.ndarray:
    """Permutation new_id -> old_id sorting clusters by activity score (ties by centroid)."""
    scores = centroids @ score_weights / score_weights.sum()
    keys = [tuple(np.round(c, 12)) for c in centroids]
    return np.array(sorted(range(len(centroids)), key=lambda c: (round(scores[c], 12), keys[c])))


def relabel(solution: Solution, score_weights: np.ndarray) -> Solution:
    """Renumber clusters so that id order follows the activity score (0 = least active)."""
    order = canonical_order(solution.centroids, score_weights)
    new_of_old = np.empty_like(order)
    new_of_old[order] = np.arange(len(order))
    return Solution(solution.algorithm, solution.k, new_of_old[solution.labels],
                    solution.centroids[order], solution.extra)


def kmeans_fit(rows: np.ndarray, weights: np.ndarray, k: int, cfg: dict[str, Any]
               ) -> tuple[np.ndarray, np.ndarray, float]:
    """Weighted K-Means: (labels int64[m], centroids float64[k, f], inertia in squared units).

    Runs on one OpenMP thread: on ~18k distinct rows that is about 5x faster here than two
    threads (thread start-up dominates), and it leaves the other core to a parallel worker.
    """
    model = KMeans(n_clusters=k, n_init=cfg["n_init"], max_iter=cfg["max_iter"],
                   random_state=cfg["random_state"])
    with threadpool_limits(limits=1, user_api="openmp"):
        model.fit(rows, sample_weight=weights)
    return model.labels_.astype(np.int64), model.cluster_centers_, float(model.inertia_)


def kmeans_over_k(distinct: Distinct, ks: list[int], cfg: dict[str, Any],
                  score_weights: np.ndarray) -> dict[int, Solution]:
    """K-Means for every k in ``ks`` on the weighted distinct rows.

    The centroids are the fit's own: its final assignment step labelled every row by them, so
    scoring a training user with the nearest centroid gives back that user's cluster.
    """
    out = {}
    for k in ks:
        labels, centroids, _ = kmeans_fit(distinct.rows, distinct.counts, k, cfg)
        out[k] = relabel(Solution("kmeans", k, labels, centroids), score_weights)
    return out


def ward_over_k(distinct: Distinct, ks: list[int], score_weights: np.ndarray
                ) -> tuple[np.ndarray, dict[int, Solution]]:
    """Exact Ward tree on all users (weighted distinct rows) and its flat cuts for ``ks``.

    Returns (linkage float64[m-1, 4] in scipy format, sizes in users; solutions by k).
    """
    tree = ward_linkage(distinct.rows, distinct.counts)
    flat = ward_flat_labels(tree, ks)
    out = {}
    for k in ks:
        labels = np.asarray(flat[k], dtype=np.int64)
        centroids = weighted_centroids(distinct.rows, distinct.counts, labels, k)
        out[k] = relabel(Solution("ward", k, labels, centroids), score_weights)
    return tree, out


def dendrogram_data(tree: np.ndarray, leaf_users: np.ndarray, n_merges: int, ks: list[int]
                    ) -> dict[str, Any]:
    """The top ``n_merges`` merges of the Ward tree, as plot-ready segments, and the cut per k.

    ``tree`` is the weighted linkage (column 3 = users) over distinct rows holding ``leaf_users``
    int64[n_leaves] users each; heights in scaled-feature units.
    """
    n_leaves = len(tree) + 1
    heights = tree[:, 2]
    top = tree[-n_merges:]
    first_id = n_leaves + len(tree) - len(top)  # scipy id of the first merge kept
    users_of = {n_leaves + i: int(size) for i, size in enumerate(tree[:, 3])}
    # scipy's layout wants leaf counts, not users, in column 3
    layout = dendrogram(scipy_linkage(tree), p=len(top) + 1, truncate_mode="lastp", no_plot=True,
                        leaf_label_func=lambda node: str(users_of.get(node) or leaf_users[node]))
    return {
        "n_leaves_users": int(tree[-1, 3]),
        "merges": [{"id": first_id + i, "left": int(a), "right": int(b),
                    "height": round(float(h), 9), "size": int(s)}
                   for i, (a, b, h, s) in enumerate(top)],
        "segments": [{"x": [round(float(v), 4) for v in xs], "y": [round(float(v), 9) for v in ys]}
                     for xs, ys in zip(layout["icoord"], layout["dcoord"], strict=True)],
        "leaf_users": [int(label) for label in layout["ivl"]],
        "cut_heights": {str(k): round(float((heights[-k] + heights[-k + 1]) / 2), 9)
                        for k in ks if 2 <= k <= len(tree)},
    }
