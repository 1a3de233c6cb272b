"""Exact Ward clustering of all users through their distinct feature rows.

Most users share a feature row with other users (platform defaults, zero activity), and
identical rows merge at height 0 in Ward's method. Clustering the ``m`` distinct rows, each
weighted by the number of users ``counts`` that have it, therefore gives the same tree above
height 0 as clustering all ``n`` users, for a fraction of the cost (``m`` ~ 18,000 against
``n`` ~ 99,000 here, and the cost is quadratic).

The tree is built with the nearest-neighbour-chain algorithm over weighted centroids, in
``O(m)`` memory (never an ``m x m`` matrix) and ``O(m^2 d)`` time. The Ward distance between
clusters ``A`` and ``B`` with total weights ``w`` and centroids ``c`` is

    d(A, B) = sqrt(2 w_A w_B / (w_A + w_B)) * ||c_A - c_B||,

the height convention of ``scipy.cluster.hierarchy.linkage(X, "ward")`` and of
``fastcluster.linkage_vector(X, "ward")`` (two single points merge at their Euclidean distance).
Nearest neighbours are searched on the monotone proxy ``w_A w_B / (w_A + w_B) ||c_A - c_B||^2``
(no square root in the inner loop). The merges are then post-processed as scipy's ``nn_chain``
does: sorted by height (stable), then relabelled with a union-find. Its size column holds user
weights, which can exceed the number of leaves; scipy's validity check rejects that, so pass
:func:`scipy_linkage` (the same tree with leaf counts as sizes) to ``scipy.cluster.hierarchy``
functions (``fcluster``, ``cut_tree``, ``dendrogram``). Ties between equal distances
are broken as scipy's ``nn_chain`` does: the previous chain element first, then the lowest
cluster slot. With exactly tied distances, different but equally valid trees exist; the
centroid form and scipy's Lance-Williams form round differently, so on tied data (integer
grids) the two can pick different ones.
"""

from __future__ import annotations

import numpy as np
from numba import njit

#: Compact the live-cluster arrays once dead slots exceed this fraction of the scanned length.
COMPACT_DEAD_FRACTION = 0.25

#: Coordinates added per pass of the nearest-neighbour search (centroids are zero-padded to a
#: multiple of it).
COORDS_PER_PASS = 4

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
    m = U.shape[0]
    if m == 1:
        return np.empty((0, LINKAGE_COLUMNS), dtype=np.float64)
    centroids_t = _padded_transpose(U)  # (d4, m): the inner loop runs over clusters
    first, second, heights = _nn_chain_ward(centroids_t, w.copy(), COMPACT_DEAD_FRACTION)
    order = np.argsort(heights, kind="mergesort")  # scipy: stable sort of nn_chain merges
    return _relabel(first[order], second[order], heights[order], w)


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
    Z[:, 3] = _subtree_leaf_counts(np.ascontiguousarray(Z[:, :2].astype(np.int64)), n_leaves)
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
    labels = _cut_by_merge_order(pairs, n_leaves, np.asarray(ks, dtype=np.int64))
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


# --- validation and layout -------------------------------------------------------------------

def _as_finite_matrix(A: np.ndarray, name: str) -> np.ndarray:
    """``A`` as a C-contiguous float64[n, d] with ``n >= 1``, ``d >= 1`` and no NaN/inf."""
    A = np.ascontiguousarray(A, dtype=np.float64)
    if A.ndim != 2 or A.shape[0] < 1 or A.shape[1] < 1:
        raise ValueError(f"{name} must be a non-empty 2-D array, got shape {A.shape}")
    if not np.isfinite(A).all():
        raise ValueError(f"{name} must be finite (no NaN or inf)")
    return A


def _padded_transpose(U: np.ndarray) -> np.ndarray:
    """float64[d4, m] copy of ``U.T`` with zero rows up to ``d4``, a multiple of
    ``COORDS_PER_PASS``."""
    m, d = U.shape
    d4 = -(-d // COORDS_PER_PASS) * COORDS_PER_PASS
    out = np.zeros((d4, m))
    out[:d] = U.T
    return out


def _as_positive_weights(weights: np.ndarray, m: int) -> np.ndarray:
    """``weights`` as float64[m], all finite and > 0 (drop zero-weight rows before calling)."""
    w = np.ascontiguousarray(weights, dtype=np.float64).reshape(-1)
    if w.shape[0] != m:
        raise ValueError(f"weights has {w.shape[0]} entries for {m} rows")
    if not (np.isfinite(w).all() and (w > 0).all()):
        raise ValueError("weights must be finite and > 0; drop zero-weight rows first")
    return w


# --- numba kernels ----------------------------------------------------------------------------

@njit(cache=True, error_model="numpy")
def _ward_proxies(centroids_t, weights, length, x_pos, out):
    """Ward proxy ``w_x w_p / (w_x + w_p) ||c_x - c_p||^2`` from cluster ``x_pos`` to the
    first ``length`` positions, written to ``out[:length]``; ``out[x_pos]`` is set to inf.

    ``centroids_t`` is float64[d4, capacity] with ``d4`` a multiple of ``COORDS_PER_PASS``
    (padding rows are 0 and add exactly 0); dead positions hold inf in row 0, so their proxy
    is inf. Each pass over the positions adds four coordinates (in order, so the sum is the
    same as one coordinate at a time) and the loops vectorise over positions.
    """
    d4 = centroids_t.shape[0]
    wx = weights[x_pos]
    for k in range(0, d4, COORDS_PER_PASS):
        r0 = centroids_t[k]
        r1 = centroids_t[k + 1]
        r2 = centroids_t[k + 2]
        r3 = centroids_t[k + 3]
        x0 = r0[x_pos]
        x1 = r1[x_pos]
        x2 = r2[x_pos]
        x3 = r3[x_pos]
        first = k == 0
        last = k + COORDS_PER_PASS == d4
        if first and last:
            for p in range(length):
                t0 = r0[p] - x0
                t1 = r1[p] - x1
                t2 = r2[p] - x2
                t3 = r3[p] - x3
                wp = weights[p]
                out[p] = (((t0 * t0 + t1 * t1) + t2 * t2) + t3 * t3) * wx * wp / (wx + wp)
        elif first:
            for p in range(length):
                t0 = r0[p] - x0
                t1 = r1[p] - x1
                t2 = r2[p] - x2
                t3 = r3[p] - x3
                out[p] = ((t0 * t0 + t1 * t1) + t2 * t2) + t3 * t3
        elif last:
            for p in range(length):
                t0 = r0[p] - x0
                t1 = r1[p] - x1
                t2 = r2[p] - x2
                t3 = r3[p] - x3
                wp = weights[p]
                out[p] = ((((out[p] + t0 * t0) + t1 * t1) + t2 * t2) + t3 * t3) * wx * wp / (
                    wx + wp)
        else:
            for p in range(length):
                t0 = r0[p] - x0
                t1 = r1[p] - x1
                t2 = r2[p] - x2
                t3 = r3[p] - x3
                out[p] = (((out[p] + t0 * t0) + t1 * t1) + t2 * t2) + t3 * t3
    out[x_pos] = np.inf


@njit(cache=True, error_model="numpy", fastmath={"nnan"})
def _min_value(values, length):
    """Smallest of ``values[:length]`` (a vectorised reduction; values are never NaN)."""
    smallest = np.inf
    for p in range(length):
        v = values[p]
        smallest = v if v < smallest else smallest
    return smallest


@njit(cache=True)
def _compact(centroids_t, weights, alive, slot_of, pos_of, length):
    """Move live positions to the front, keeping their order; returns the new length."""
    d = centroids_t.shape[0]
    new_length = 0
    for p in range(length):
        if alive[p]:
            if new_length != p:
                for k in range(d):
                    centroids_t[k, new_length] = centroids_t[k, p]
                weights[new_length] = weights[p]
                slot_of[new_length] = slot_of[p]
                alive[new_length] = True
            pos_of[slot_of[new_length]] = new_length
            new_length += 1
    for p in range(new_length, length):
        alive[p] = False
    return new_length


@njit(cache=True, error_model="numpy")
def _nn_chain_ward(centroids_t, weights, compact_fraction):
    """Nearest-neighbour chain for weighted Ward (modifies both inputs in place).

    Args:
        centroids_t: float64[d4, m] cluster centroids, one column per leaf, zero-padded rows.
        weights: float64[m] cluster weights.
        compact_fraction: compact live clusters once dead ones exceed this share.

    Returns:
        ``first``, ``second`` int64[m - 1] merged slots (``first < second``; the merged
        cluster lives on in slot ``second`` as scipy's ``nn_chain`` does) and float64[m - 1]
        heights, in the order the merges were made (not sorted).
    """
    d, m = centroids_t.shape
    first = np.empty(m - 1, dtype=np.int64)
    second = np.empty(m - 1, dtype=np.int64)
    heights = np.empty(m - 1, dtype=np.float64)
    proxies = np.empty(m, dtype=np.float64)
    chain = np.empty(m, dtype=np.int64)  # slots
    slot_of = np.arange(m)  # position -> slot
    pos_of = np.arange(m)  # slot -> position
    alive = np.ones(m, dtype=np.bool_)
    length = m  # positions scanned: live plus not-yet-compacted dead ones
    n_dead = 0
    chain_len = 0
    for merge in range(m - 1):
        if chain_len == 0:
            for p in range(length):  # lowest live slot, as scipy's nn_chain starts
                if alive[p]:
                    chain[0] = slot_of[p]
                    break
            chain_len = 1
        while True:
            x = chain[chain_len - 1]
            _ward_proxies(centroids_t, weights, length, pos_of[x], proxies)
            best = _min_value(proxies, length)
            # ties: the previous chain element first (guarantees progress), else lowest slot
            best_pos = pos_of[chain[chain_len - 2]] if chain_len > 1 else -1
            if best_pos < 0 or proxies[best_pos] != best:
                best_pos = 0
                while proxies[best_pos] != best:
                    best_pos += 1
            y = slot_of[best_pos]
            if chain_len > 1 and y == chain[chain_len - 2]:
                break
            chain[chain_len] = y
            chain_len += 1
        chain_len -= 2
        lo, hi = min(x, y), max(x, y)
        p_lo, p_hi = pos_of[lo], pos_of[hi]
        w_lo, w_hi = weights[p_lo], weights[p_hi]
        for k in range(d):  # fastcluster's centroid update, merged cluster kept in slot hi
            centroids_t[k, p_hi] = ((centroids_t[k, p_lo] * w_lo + centroids_t[k, p_hi] * w_hi)
                                    / (w_lo + w_hi))
        weights[p_hi] = w_lo + w_hi
        centroids_t[0, p_lo] = np.inf
        alive[p_lo] = False
        n_dead += 1
        first[merge] = lo
        second[merge] = hi
        heights[merge] = np.sqrt(2.0 * best)
        if n_dead > compact_fraction * length:
            length = _compact(centroids_t, weights, alive, slot_of, pos_of, length)
            n_dead = 0
    return first, second, heights


@njit(cache=True)
def _find(parent, x):
    """Root of ``x`` with path compression."""
    root = x
    while parent[root] != root:
        root = parent[root]
    while parent[x] != root:
        nxt = parent[x]
        parent[x] = root
        x = nxt
    return root


@njit(cache=True)
def _relabel(first, second, heights, leaf_weights):
    """scipy's ``label``: turn height-sorted slot pairs into a linkage matrix with cluster ids.

    ``leaf_weights`` float64[m]; returns float64[m - 1, 4].
    """
    m = leaf_weights.shape[0]
    parent = np.arange(2 * m - 1)
    size = np.zeros(2 * m - 1)
    for leaf in range(m):  # a loop: slice assignment costs seconds of numba compile time
        size[leaf] = leaf_weights[leaf]
    Z = np.empty((m - 1, 4))
    for i in range(m - 1):
        ra = _find(parent, first[i])
        rb = _find(parent, second[i])
        Z[i, 0] = min(ra, rb)
        Z[i, 1] = max(ra, rb)
        Z[i, 2] = heights[i]
        new = m + i
        parent[ra] = new
        parent[rb] = new
        size[new] = size[ra] + size[rb]
        Z[i, 3] = size[new]
    return Z


@njit(cache=True)
def _subtree_leaf_counts(pairs, n_leaves):
    """Number of leaves under each merge of int64[n_leaves - 1, 2] ``pairs`` (float64)."""
    size = np.ones(2 * n_leaves - 1)
    for i in range(n_leaves - 1):
        size[n_leaves + i] = size[pairs[i, 0]] + size[pairs[i, 1]]
    return size[n_leaves:]


@njit(cache=True)
def _cut_by_merge_order(pairs, n_leaves, ks_desc):
    """Labels of the leaves after the first ``n_leaves - k`` merges, for each ``k``.

    Args:
        pairs: int64[n_leaves - 1, 2] merged cluster ids in merge order.
        n_leaves: number of leaves.
        ks_desc: int64[K] cluster counts, strictly decreasing.

    Returns:
        int64[K, n_leaves]; labels numbered by first appearance in leaf order.
    """
    parent = np.arange(2 * n_leaves - 1)
    code = np.full(2 * n_leaves - 1, -1, dtype=np.int64)
    out = np.empty((ks_desc.shape[0], n_leaves), dtype=np.int64)
    applied = 0
    for row in range(ks_desc.shape[0]):
        target = n_leaves - ks_desc[row]
        while applied < target:
            parent[pairs[applied, 0]] = n_leaves + applied
            parent[pairs[applied, 1]] = n_leaves + applied
            applied += 1
        next_code = 0
        for leaf in range(n_leaves):
            root = _find(parent, leaf)
            if code[root] < 0:
                code[root] = next_code
                next_code += 1
            out[row, leaf] = code[root]
        for leaf in range(n_leaves):  # reset only the roots touched
            code[_find(parent, leaf)] = -1
    return out
