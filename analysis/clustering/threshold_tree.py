"""A threshold tree that explains a flat clustering: every cluster becomes one leaf, reached by
a few "feature <= t" / "feature > t" tests, so each leaf's conditions are true of every point
routed to it (Iterative Mistake Minimization, Dasgupta, Frost, Moshkovitz & Rashtchian 2020,
"Explainable k-Means and k-Medians Clustering", ICML).

At each node the split (feature, threshold) separates the node's centroids into two non-empty
groups while sending the fewest points (by weight) to the side away from their own centroid
(a *mistake*); mistaken points leave the count of later splits, as in IMM. The tree is built on
the distinct feature rows with their user counts as weights, so it is the same tree as on all
users. Ties go to the lower feature index, then the lower threshold: deterministic.
"""

from __future__ import annotations

from typing import Any

import numpy as np


def _best_split(x: np.ndarray, w: np.ndarray, c_own: np.ndarray, c_vals: np.ndarray
                ) -> tuple[float, float] | None:
    """Best threshold on one feature: (mistakes, threshold) or None when the node's centroids
    share one value. ``x`` float64[p] point values, ``w`` their weights, ``c_own`` each point's
    own centroid value, ``c_vals`` the node's centroid values."""
    lo, hi = float(c_vals.min()), float(c_vals.max())
    if hi <= lo:
        return None
    cands = np.unique(np.concatenate([x, c_vals]))
    cands = cands[(cands >= lo) & (cands < hi)]
    a, b = np.minimum(x, c_own), np.maximum(x, c_own)
    order_a, order_b = np.argsort(a, kind="stable"), np.argsort(b, kind="stable")
    cum_a = np.concatenate([[0.0], np.cumsum(w[order_a])])
    cum_b = np.concatenate([[0.0], np.cumsum(w[order_b])])
    below_a = cum_a[np.searchsorted(a[order_a], cands, side="right")]
    below_b = cum_b[np.searchsorted(b[order_b], cands, side="right")]
    mistakes = below_a - below_b  # weight with a <= t < b: split from its own centroid
    best = int(np.argmin(mistakes))
    return float(mistakes[best]), float(cands[best])


def fit_threshold_tree(rows: np.ndarray, weights: np.ndarray, labels: np.ndarray,
                       centroids: np.ndarray) -> list[dict[str, Any]]:
    """The IMM tree of a clustering: a list of nodes, the root first. A split node is
    {"feature", "threshold", "left", "right"} (child indices; left: value <= threshold), a leaf
    {"cluster"}. ``rows`` float64[m, f], ``weights`` float64[m], ``labels`` int[m] in 0..k-1,
    ``centroids`` float64[k, f]."""
    nodes: list[dict[str, Any]] = []

    def grow(points: np.ndarray, clusters: np.ndarray) -> int:
        at = len(nodes)
        nodes.append({})
        if len(clusters) == 1:
            nodes[at] = {"cluster": int(clusters[0])}
            return at
        own = points[np.isin(labels[points], clusters)]
        best: tuple[float, int, float] | None = None
        for j in range(rows.shape[1]):
            found = _best_split(rows[own, j], weights[own], centroids[labels[own], j],
                                centroids[clusters, j])
            if found is not None and (best is None or found[0] < best[0] - 1e-9):
                best = (found[0], j, found[1])
        if best is None:  # identical centroids: the lowest id keeps the node
            nodes[at] = {"cluster": int(clusters.min())}
            return at
        _, j, t = best
        left_points, right_points = points[rows[points, j] <= t], points[rows[points, j] > t]
        goes_left = centroids[clusters, j] <= t
        left_c, right_c = clusters[goes_left], clusters[~goes_left]
        nodes[at] = {"feature": j, "threshold": t}
        nodes[at]["left"] = grow(left_points, left_c)
        nodes[at]["right"] = grow(right_points, right_c)
        return at

    grow(np.arange(len(rows)), np.arange(len(centroids)))
    return nodes


def apply_tree(nodes: list[dict[str, Any]], rows: np.ndarray) -> np.ndarray:
    """The leaf cluster of every row: int64[m] for ``rows`` float64[m, f]."""
    out = np.empty(len(rows), dtype=np.int64)
    stack = [(0, np.arange(len(rows)))]
    while stack:
        at, points = stack.pop()
        node = nodes[at]
        if "cluster" in node:
            out[points] = node["cluster"]
            continue
        left = rows[points, node["feature"]] <= node["threshold"]
        stack += [(node["left"], points[left]), (node["right"], points[~left])]
    return out


def leaf_paths(nodes: list[dict[str, Any]]) -> dict[int, list[tuple[int, str, float]]]:
    """Each leaf cluster's conditions from the root: {cluster: [(feature, "<=" or ">", t)]}."""
    out: dict[int, list[tuple[int, str, float]]] = {}
    stack: list[tuple[int, list[tuple[int, str, float]]]] = [(0, [])]
    while stack:
        at, path = stack.pop()
        node = nodes[at]
        if "cluster" in node:
            out[node["cluster"]] = path
            continue
        j, t = node["feature"], node["threshold"]
        stack += [(node["left"], [*path, (j, "<=", t)]), (node["right"], [*path, (j, ">", t)])]
    return out
