"""Nearest centroid with a stated tie tolerance (the browser scorer repeats it step by step).

A distance is the ``sqrt`` of the squared differences added one feature after the other
(0 + d0^2 + d1^2 + ...), a fixed order the browser repeats. The chosen cluster is the lowest
index whose distance is within ``tolerance`` of the smallest: two centroids that close count as
tied, and the tie is decided by the index, never by the last bit of a float (which differs
between CPUs and libraries). The margin is how much farther the next cluster is (0 when k is 1);
a margin within the tolerance marks the row as tied.
"""

from __future__ import annotations

import numpy as np

#: Rows per block (keeps the n x k distances in cache and memory bounded at any n).
BLOCK_ROWS = 1 << 16


def _distances(block: np.ndarray, centroids: np.ndarray) -> np.ndarray:
    """float64[m, k]: Euclidean distance of each row to each centroid, features summed in order."""
    out = np.empty((block.shape[0], centroids.shape[0]))
    for c in range(centroids.shape[0]):
        total = np.zeros(block.shape[0])
        for j in range(block.shape[1]):
            diff = block[:, j] - centroids[c, j]
            diff *= diff
            total += diff
        out[:, c] = np.sqrt(total)
    return out


def assign_nearest(X: np.ndarray, centroids: np.ndarray, tolerance: float
                   ) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    """(cluster int64[n], distance float64[n], margin float64[n], tied bool[n]) for the rows of
    ``X`` float64[n, f] (scaled features) and ``centroids`` float64[k, f]."""
    n, k = X.shape[0], centroids.shape[0]
    cluster = np.empty(n, dtype=np.int64)
    distance = np.empty(n)
    margin = np.zeros(n)
    for start in range(0, n, BLOCK_ROWS):
        d = _distances(np.asfortranarray(X[start:start + BLOCK_ROWS]), centroids)
        rows = np.arange(d.shape[0])
        best = np.argmax(d <= d.min(axis=1, keepdims=True) + tolerance, axis=1)
        cluster[start:start + len(rows)] = best
        distance[start:start + len(rows)] = d[rows, best]
        if k > 1:
            others = d.copy()
            others[rows, best] = np.inf
            margin[start:start + len(rows)] = others.min(axis=1) - d[rows, best]
    return cluster, distance, margin, (margin <= tolerance) & (k > 1)
