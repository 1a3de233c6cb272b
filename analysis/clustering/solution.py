"""One flat clustering of the distinct rows, with canonical cluster ids.

Cluster ids are canonical: 0 is the least active cluster, k-1 the most active (by the activity
score of :mod:`analysis.features.activity`); tiers are still assigned by that score, never by id.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from analysis.features.activity import activity_scores


@dataclass(frozen=True)
class Solution:
    """One flat clustering: labels on distinct rows int64[m] and centroids float64[k, f]."""

    algorithm: str
    k: int
    labels: np.ndarray
    centroids: np.ndarray


def weighted_centroids(rows: np.ndarray, weights: np.ndarray, labels: np.ndarray, k: int
                       ) -> np.ndarray:
    """Weighted mean of ``rows`` [m, f] per label 0..k-1 -> float64[k, f]."""
    sums = np.zeros((k, rows.shape[1]))
    np.add.at(sums, labels, rows * weights[:, None])
    mass = np.bincount(labels, weights=weights, minlength=k)
    return sums / np.maximum(mass, 1e-300)[:, None]


def canonical_order(centroids: np.ndarray, score_weights: np.ndarray) -> np.ndarray:
    """Permutation new_id -> old_id sorting clusters by activity score (ties by centroid)."""
    scores = activity_scores(centroids, score_weights)
    keys = [tuple(np.round(c, 12)) for c in centroids]
    return np.array(sorted(range(len(centroids)), key=lambda c: (round(scores[c], 12), keys[c])))


def relabel(solution: Solution, score_weights: np.ndarray) -> Solution:
    """Renumber clusters so that id order follows the activity score (0 = least active)."""
    order = canonical_order(solution.centroids, score_weights)
    new_of_old = np.empty_like(order)
    new_of_old[order] = np.arange(len(order))
    return Solution(solution.algorithm, solution.k, new_of_old[solution.labels],
                    solution.centroids[order])
