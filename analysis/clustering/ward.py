"""Exact Ward on all users (weighted distinct rows), its flat cuts and the dendrogram data."""

from __future__ import annotations

from typing import Any

import numpy as np
from scipy.cluster.hierarchy import dendrogram

from analysis.clustering.distinct import Distinct
from analysis.clustering.fastward import scipy_linkage, ward_flat_labels, ward_linkage
from analysis.clustering.solution import Solution, relabel, weighted_centroids


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
