"""Exact Ward clustering of all users through their distinct feature rows.

Most users share a feature row with other users (platform defaults, zero activity), and
identical rows merge at height 0 in Ward's method. Clustering the ``m`` distinct rows, each
weighted by the number of users ``counts`` that have it, therefore gives the same tree above
height 0 as clustering all ``n`` users, for a fraction of the cost (``m`` ~ 17,000 against
``n`` ~ 99,000 here, and the cost is quadratic).

The tree is built with the nearest-neighbour-chain algorithm over weighted centroids, in
``O(m)`` memory (never an ``m x m`` matrix) and at most ``O(m^2 d)`` time. The Ward distance
between clusters ``A`` and ``B`` with total weights ``w`` and centroids ``c`` is

    d(A, B) = sqrt(2 w_A w_B / (w_A + w_B)) * ||c_A - c_B||,

the height convention of ``scipy.cluster.hierarchy.linkage(X, "ward")`` and of
``fastcluster.linkage_vector(X, "ward")`` (two single points merge at their Euclidean distance).
Nearest neighbours are searched on the monotone proxy ``p = w_A w_B / (w_A + w_B) ||c_A -
c_B||^2`` (no square root in the inner loop). The merges are then post-processed as scipy's
``nn_chain`` does: sorted by height (stable), then relabelled with a union-find. Its size column
holds user weights, which can exceed the number of leaves; scipy's validity check rejects that,
so pass :func:`scipy_linkage` (the same tree with leaf counts as sizes) to
``scipy.cluster.hierarchy`` functions (``fcluster``, ``cut_tree``, ``dendrogram``). Ties between
equal distances are broken as scipy's ``nn_chain`` does: the previous chain element first, then
the lowest cluster slot. With exactly tied distances, different but equally valid trees exist;
the centroid form and scipy's Lance-Williams form round differently, so on tied data (integer
grids) the two can pick different ones.

Every nearest-neighbour search returns exactly what a float64 scan of every live cluster would
(same cluster, same float64 proxy, same tie-breaking), so the linkage is bit-identical to that
of the plain float64 algorithm; only the work differs. The kernels, by responsibility:

* :mod:`analysis.clustering.ward_chain`: the chain, its state and the merges;
* :mod:`analysis.clustering.ward_search`: one exact search, float32 scans confirmed in float64
  (the proof of the error bound is in its docstring);
* :mod:`analysis.clustering.ward_blocks`: blocks of clusters, their bounding boxes (pruning),
  the float32 block scans, threads for long scans;
* :mod:`analysis.clustering.ward_lists`: neighbour lists kept exact across merges;
* :mod:`analysis.clustering.ward_tree`: merges to a linkage matrix, cuts to flat clusters.
"""

from __future__ import annotations

import numpy as np

from analysis.clustering.ward_chain import ward_merges
from analysis.clustering.ward_tree import cut_by_merge_order, relabel, subtree_leaf_counts

#: Columns of a linkage matrix: the two merged cluster ids, the merge height, the merged size.
LINKAGE_COLUMNS = 4


def distinct_rows(X: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """The distinct rows of ``X`` with their multiplicities.

    Same result as ``np.unique(X, axis=0, return_inverse=True, return_counts=True)`` (rows in
    lexicographic order, column 0 first; ``-0.0`` counts as ``0.0``), about 10x faster: one
    ``np.lexsort`` instead of a sort of structured rows.

    Args:
        X: float64[n, d] feature matrix, finite.

    Returns:
        ``U`` float64[m, d], the distinct rows in lexicographic order;
        ``counts`` int64[m], how many rows of ``X`` equal each row of ``U``;
        ``inverse`` int64[n], the row of ``U`` that each row of ``X`` equals
        (``U[inverse] == X``).
    """
    X = _as_finite_matrix(X, "X") + 0.0  # + 0.0 turns -0.0 into 0.0
    n = X.shape[0]
    order = np.lexsort(X.T[::-1])  # last key is primary: column 0 first
    X_sorted = X[order]
    starts_group = np.empty(n, dtype=np.bool_)
    starts_group[0] = True
    np.any(X_sorted[1:] != X_sorted[:-1], axis=1, out=starts_group[1:])
    starts = np.flatnonzero(starts_group)
    counts = np.diff(np.append(starts, n)).astype(np.int64)
    inverse = np.empty(n, dtype=np.int64)
    inverse[order] = np.cumsum(starts_group) - 1
    return np.ascontiguousarray(X_sorted[starts]), counts, inverse


def ward_linkage(U: np.ndarray, weights: np.ndarray) -> np.ndarray:
    """Exact weighted Ward linkage of the rows of ``U``, in scipy's linkage format.

    Row ``i`` of ``U`` stands for ``weights[i]`` identical observations; the tree equals the
    one of unweighted Ward on those observations above height 0 (when no two distances tie).
    The nearest-neighbour scans run in float32 on the available numba threads; every choice
    is confirmed in float64, so the result is bit-identical to the float64 algorithm (see the
    module docstring).

    Args:
        U: float64[m, d] points (distinct rows), finite, ``m >= 1``.
        weights: int64 or float64[m] positive weights (number of users of each row).

    Returns:
        float64[m - 1, 4] linkage matrix: ``[cluster_a, cluster_b, height, size]`` per merge,
        leaves are ``0..m-1``, the ``i``-th merge creates cluster ``m + i``, ``size`` is the
        total weight of the merged cluster, rows sorted by height ascending (stable),
        ``cluster_a < cluster_b``. Heights are Euclidean-scale Ward distances (feature units).
    """
    U = _as_finite_matrix(U, "U")
    w = _as_positive_weights(weights, U.shape[0])
    if U.shape[0] == 1:
        return np.empty((0, LINKAGE_COLUMNS), dtype=np.float64)
    return linkage_of_merges(*ward_merges(U, w), w)


def linkage_of_merges(first: np.ndarray, second: np.ndarray, heights: np.ndarray,
                      w: np.ndarray) -> np.ndarray:
    """scipy's linkage matrix float64[m - 1, 4] from the chain's merges in merge order (slots
    int64[m - 1] and heights float64[m - 1], :func:`ward_merges`) and the weights float64[m]."""
    order = np.argsort(heights, kind="mergesort")  # scipy: stable sort of nn_chain merges
    return relabel(first[order], second[order], heights[order], w)


def scipy_linkage(Z: np.ndarray) -> np.ndarray:
    """The same tree with column 3 counting leaves (distinct rows) instead of users.

    ``scipy.cluster.hierarchy`` validates ``Z[:, 3] <= n_leaves``, which a weighted linkage
    breaks; this copy passes that check with identical merges and heights.

    Args:
        Z: float64[n_leaves - 1, 4] linkage matrix (any size column).

    Returns:
        float64[n_leaves - 1, 4] copy of ``Z`` whose column 3 is the number of leaves merged.
    """
    Z = np.array(Z, dtype=np.float64)
    n_leaves = Z.shape[0] + 1
    Z[:, 3] = subtree_leaf_counts(np.ascontiguousarray(Z[:, :2].astype(np.int64)), n_leaves)
    return Z


def ward_flat_labels(Z: np.ndarray, k_values) -> dict[int, np.ndarray]:
    """Flat clusterings of the leaves of ``Z`` into exactly ``k`` clusters, for each ``k``.

    The ``k``-cluster partition is the one left after the first ``n_leaves - k`` merges of
    ``Z`` in row order (its merge order). With distinct heights this is ``cut_tree``'s
    partition; with tied heights it still has exactly ``k`` clusters (``fcluster(...,
    "maxclust")`` cuts at a height and may give fewer), and it is ``O(n_leaves)`` per ``k``.

    Args:
        Z: float64[n_leaves - 1, 4] linkage matrix with rows in merge order.
        k_values: iterable of ints in ``1..n_leaves``.

    Returns:
        ``{k: int64[n_leaves]}`` labels ``0..k-1``, numbered by first appearance in leaf order
        (leaf 0 is in cluster 0).
    """
    Z = np.asarray(Z, dtype=np.float64)
    if Z.ndim != 2 or Z.shape[1] != LINKAGE_COLUMNS:
        raise ValueError(f"Z must have shape (n - 1, {LINKAGE_COLUMNS}), got {Z.shape}")
    n_leaves = Z.shape[0] + 1
    ks = sorted({int(k) for k in k_values}, reverse=True)
    for k in ks:
        if not 1 <= k <= n_leaves:
            raise ValueError(f"cannot cut {n_leaves} leaves into {k} clusters")
    pairs = np.ascontiguousarray(Z[:, :2].astype(np.int64))
    labels = cut_by_merge_order(pairs, n_leaves, np.asarray(ks, dtype=np.int64))
    return {k: labels[i] for i, k in enumerate(ks)}


def ward_users(X: np.ndarray, k_values) -> tuple[
        np.ndarray, dict[int, np.ndarray], np.ndarray, np.ndarray, np.ndarray]:
    """Ward-cluster every user exactly: distinct rows, weighted Ward, cut, expand to users.

    Args:
        X: float64[n, d] user features.
        k_values: the numbers of clusters wanted (each at most the number of distinct rows).

    Returns:
        ``Z`` float64[m - 1, 4] linkage of the distinct rows (sizes count users);
        ``labels_by_k`` ``{k: int64[n]}`` user labels ``0..k-1`` (numbered by first appearance
        in ``U`` order, so ``labels_by_k[k] == ward_flat_labels(Z, [k])[k][inverse]``);
        ``U`` float64[m, d], ``counts`` int64[m], ``inverse`` int64[n] from
        :func:`distinct_rows`.
    """
    U, counts, inverse = distinct_rows(X)
    Z = ward_linkage(U, counts)
    distinct_labels = ward_flat_labels(Z, k_values)
    labels_by_k = {k: lab[inverse] for k, lab in distinct_labels.items()}
    return Z, labels_by_k, U, counts, inverse


# --- validation ------------------------------------------------------------------------------

def _as_finite_matrix(A: np.ndarray, name: str) -> np.ndarray:
    """``A`` as a C-contiguous float64[n, d] with ``n >= 1``, ``d >= 1`` and no NaN/inf."""
    A = np.ascontiguousarray(A, dtype=np.float64)
    if A.ndim != 2 or A.shape[0] < 1 or A.shape[1] < 1:
        raise ValueError(f"{name} must be a non-empty 2-D array, got shape {A.shape}")
    if not np.isfinite(A).all():
        raise ValueError(f"{name} must be finite (no NaN or inf)")
    return A


def _as_positive_weights(weights: np.ndarray, m: int) -> np.ndarray:
    """``weights`` as float64[m], all finite and > 0 (drop zero-weight rows before calling)."""
    w = np.ascontiguousarray(weights, dtype=np.float64).reshape(-1)
    if w.shape[0] != m:
        raise ValueError(f"weights has {w.shape[0]} entries for {m} rows")
    if not (np.isfinite(w).all() and (w > 0).all()):
        raise ValueError("weights must be finite and > 0; drop zero-weight rows first")
    return w
