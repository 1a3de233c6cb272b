"""Internal quality of each clustering, exact over all users, and the elbow's knee.

All metrics are computed on the distinct rows with their user counts as weights (equal to
scikit-learn's metrics on the expanded n-row matrix; see the tests). The silhouette comes from
the numba kernel in :mod:`analysis.clustering.silhouette`, all labellings in one pass.
"""

from __future__ import annotations

from typing import Any

import numpy as np
from kneed import KneeLocator

from analysis.clustering.distinct import Distinct
from analysis.clustering.silhouette import silhouette_weighted_detail
from analysis.clustering.solution import Solution


def within_sse(rows: np.ndarray, w: np.ndarray, labels: np.ndarray, centroids: np.ndarray
               ) -> np.ndarray:
    """Weighted sum of squared distances to the own centroid, per cluster: float64[k]."""
    sq = ((rows - centroids[labels]) ** 2).sum(axis=1) * w
    return np.bincount(labels, weights=sq, minlength=len(centroids))


def calinski_harabasz(rows, w, labels, centroids) -> float:
    """CH index = [between SS / (k-1)] / [within SS / (n-k)], n = sum(w) users."""
    n, k = w.sum(), len(centroids)
    mass = np.bincount(labels, weights=w, minlength=k)
    mean = (rows * w[:, None]).sum(axis=0) / n
    between = float((mass * ((centroids - mean) ** 2).sum(axis=1)).sum())
    within = float(within_sse(rows, w, labels, centroids).sum())
    return between * (n - k) / (within * (k - 1)) if within > 0 else float("inf")


def davies_bouldin(rows, w, labels, centroids) -> float:
    """DB index: mean over clusters of max_j (s_i + s_j) / ||c_i - c_j||.

    s_i is the mean distance of cluster i's users to its centroid."""
    k = len(centroids)
    dist = np.sqrt(((rows - centroids[labels]) ** 2).sum(axis=1))
    mass = np.bincount(labels, weights=w, minlength=k)
    spread = np.bincount(labels, weights=dist * w, minlength=k) / mass
    gaps = np.sqrt(((centroids[:, None, :] - centroids[None, :, :]) ** 2).sum(axis=2))
    np.fill_diagonal(gaps, np.inf)
    ratio = (spread[:, None] + spread[None, :]) / gaps
    return float(ratio.max(axis=1).mean())


def cluster_sizes(w: np.ndarray, labels: np.ndarray, k: int) -> list[int]:
    """Users per cluster 0..k-1."""
    return [int(x) for x in np.bincount(labels, weights=w, minlength=k).round()]


def internal_metrics(distinct: Distinct, sol: Solution, silhouette: float,
                     silhouette_per_cluster: list[float], min_share: float) -> dict[str, Any]:
    """Metrics row for one (algorithm, k): inertia, silhouette, CH, DB, sizes, degeneracy."""
    rows, w = distinct.rows, distinct.counts.astype(np.float64)
    sizes = cluster_sizes(w, sol.labels, sol.k)
    smallest = min(sizes) / w.sum()
    degenerate = smallest < min_share
    return {
        "algorithm": sol.algorithm,
        "k": sol.k,
        "inertia": float(within_sse(rows, w, sol.labels, sol.centroids).sum()),
        "silhouette": float(silhouette),
        "silhouette_per_cluster": [float(s) for s in silhouette_per_cluster],
        "calinski_harabasz": calinski_harabasz(rows, w, sol.labels, sol.centroids),
        "davies_bouldin": davies_bouldin(rows, w, sol.labels, sol.centroids),
        "sizes": sizes,
        "min_share": round(float(smallest), 8),
        "degenerate": bool(degenerate),
        "degenerate_reason": (f"smallest cluster holds {smallest:.2%} of users, under the "
                              f"{min_share:.1%} minimum") if degenerate else None,
    }


def find_knee(ks: list[int], inertia: list[float]) -> int | None:
    """The elbow of a decreasing, convex inertia curve (Kneedle); None when there is none."""
    knee = KneeLocator(ks, inertia, curve="convex", direction="decreasing").knee
    return int(knee) if knee is not None else None


def evaluate_solutions(distinct: Distinct, solutions: dict[tuple[str, int], Solution],
                       min_cluster_share: float) -> list[dict[str, Any]]:
    """Metrics rows (sorted by algorithm, k) with exact silhouettes of all labellings at once."""
    keys = sorted(solutions)
    sil = silhouette_weighted_detail(distinct.rows, distinct.counts,
                                     np.stack([solutions[key].labels for key in keys]))
    return [internal_metrics(distinct, solutions[key], sil.scores[i], sil.cluster_means[i],
                             min_cluster_share)
            for i, key in enumerate(keys)]
