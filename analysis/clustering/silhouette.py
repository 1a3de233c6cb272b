"""Exact mean silhouette over all users, computed on their distinct feature rows.

Users that share a feature row share a cluster and a silhouette value, so the silhouette of
all ``n`` users is a count-weighted sum over the ``m`` distinct rows. For row ``i`` and
cluster ``c``, ``S[i, c] = sum_j counts[j] * d(i, j) * [label(j) == c]`` (Euclidean ``d``;
``d(i, i) = 0``, so the other users on row ``i`` add nothing to ``S[i, own]`` but do count in
``n_own - 1``). Then, with ``n_c`` the number of users in cluster ``c``:

    a(i) = S[i, own] / (n_own - 1),    b(i) = min_{c != own} S[i, c] / n_c,
    s(i) = (b - a) / max(a, b),        s(i) = 0 when n_own == 1,

which is ``sklearn.metrics.silhouette_samples`` for every user on row ``i``.

One pass over the exact pairwise distances of the distinct rows serves all labellings at
once. Labellings that refine each other, such as the cuts of one tree, are put in families
that share columns (:func:`_group_labellings`); each family's groups are the columns of ``S``.
The rows are sorted by their joint group over all families, so a run of consecutive rows
shares one column in every family: ``S[i, :]`` gets, per run, one count-weighted sum of
distances (a vectorised reduction) added to one column per family. The pairs are visited in
``TILE x TILE`` tiles of the upper triangle, each distance used twice (``S[i, g(j)]`` and
``S[j, g(i)]``); tile rows are dealt out to the numba threads in one parallel region (a
dynamically scheduled version measured 3x slower), each thread adding into its own copy of
``S`` (float64[threads, m, columns]), summed at the end.

Precision: everything is float64, and the distances come from coordinate differences (so
duplicates are exactly 0 apart); results differ from a dense float64 evaluation only by
summation order (about 1e-15 here). float32 was measured and left out: float32 square roots
alone gain under 5 %; float32 distances make the distance loop 2.7x faster, but their proven
error (about ``6 u`` relative plus ``2 u C sqrt(d)`` absolute per distance, ``u = 2**-24``,
``C`` the largest centred coordinate) bounds a silhouette only to about 1e-6, not well below.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from numba import get_num_threads, njit, prange

#: Rows/columns per tile of the pairwise distances (a tile row's buffers stay in L1/L2).
TILE = 1024

#: Coordinates added per pass over a buffer of distances (fewer loads and stores of it).
COORDS_PER_PASS = 4

#: Floating-point freedoms for the distance kernels: reassociation lets the count-weighted
#: sums vectorise, contraction uses fused multiply-adds (both keep float64 accuracy).
SUM_FASTMATH = {"reassoc", "contract", "nsz", "nnan", "ninf"}


@dataclass(frozen=True)
class SilhouetteDetail:
    """Silhouettes of ``L`` labellings of ``m`` distinct rows standing for ``n`` users.

    Attributes:
        scores: float64[L], mean silhouette over all users (``silhouette_score``).
        samples: float64[L, m], silhouette of the users on each distinct row.
        cluster_ids: per labelling, int64[k_l] sorted label values.
        cluster_means: per labelling, float64[k_l] mean silhouette of each cluster's users.
        cluster_sizes: per labelling, int64[k_l] number of users in each cluster.
    """

    scores: np.ndarray
    samples: np.ndarray
    cluster_ids: list[np.ndarray]
    cluster_means: list[np.ndarray]
    cluster_sizes: list[np.ndarray]


def silhouette_weighted(U: np.ndarray, counts: np.ndarray, labels: np.ndarray) -> np.ndarray:
    """Mean silhouette over all ``n = counts.sum()`` users, for each labelling.

    Equals ``sklearn.metrics.silhouette_score(X, labels_full)`` (Euclidean) where ``X`` repeats
    row ``U[i]`` ``counts[i]`` times and ``labels_full`` repeats its label.

    Args:
        U: float64[m, d] feature rows (normally distinct; repeated rows are also handled).
        counts: int64[m] number of users on each row (> 0).
        labels: int[L, m] (or int[m] for one) cluster label of each row, per labelling; each
            labelling needs 2 to ``n - 1`` distinct labels.

    Returns:
        float64[L] mean silhouettes (dimensionless, in [-1, 1]).
    """
    return silhouette_weighted_detail(U, counts, labels).scores


def silhouette_samples_weighted(U: np.ndarray, counts: np.ndarray,
                                labels: np.ndarray) -> np.ndarray:
    """Silhouette of the users on each distinct row: float64[L, m] (``samples[:, inverse]``
    gives ``sklearn.metrics.silhouette_samples`` for every user). Arguments as in
    :func:`silhouette_weighted`."""
    return silhouette_weighted_detail(U, counts, labels).samples


def silhouette_weighted_detail(U: np.ndarray, counts: np.ndarray,
                               labels: np.ndarray) -> SilhouetteDetail:
    """Scores, per-row samples and per-cluster means for each labelling, in one pass.

    Arguments as in :func:`silhouette_weighted`; see :class:`SilhouetteDetail` for the result.
    """
    U, w, codes, cluster_ids = _validate(U, counts, labels)
    families = _group_labellings(codes, [len(ids) for ids in cluster_ids])
    column_maps, joint, group_columns = _family_columns(codes, families)
    sums = _cluster_distance_sums(U, w, joint, group_columns)  # S for every family's groups
    n_users = w.sum()
    L, m = codes.shape
    scores = np.empty(L)
    samples = np.empty((L, m))
    cluster_means, cluster_sizes = [], []
    for lab in range(L):
        offset, group_to_cluster = column_maps[lab]
        k = len(cluster_ids[lab])
        to_cluster = np.zeros((len(group_to_cluster), k))
        to_cluster[np.arange(len(group_to_cluster)), group_to_cluster] = 1.0
        per_cluster = sums[:, offset:offset + len(group_to_cluster)] @ to_cluster  # (m, k)
        sizes = np.bincount(codes[lab], weights=w, minlength=k)
        samples[lab] = _row_silhouettes(per_cluster, codes[lab], sizes)
        weighted = w * samples[lab]
        scores[lab] = weighted.sum() / n_users
        cluster_means.append(np.bincount(codes[lab], weights=weighted, minlength=k) / sizes)
        cluster_sizes.append(np.rint(sizes).astype(np.int64))
    return SilhouetteDetail(scores, samples, cluster_ids, cluster_means, cluster_sizes)


# --- steps ------------------------------------------------------------------------------------

def _validate(U, counts, labels):
    """Check shapes and values; return U float64[m, d], weights float64[m], codes int64[L, m]
    (labels renumbered 0..k-1 in sorted label order) and the sorted label values."""
    U = np.ascontiguousarray(U, dtype=np.float64)
    if U.ndim != 2 or U.shape[0] < 1:
        raise ValueError(f"U must be a non-empty 2-D array, got shape {U.shape}")
    if not np.isfinite(U).all():
        raise ValueError("U must be finite (no NaN or inf)")
    m = U.shape[0]
    counts = np.asarray(counts)
    if counts.shape != (m,) or not np.issubdtype(counts.dtype, np.integer) or (counts < 1).any():
        raise ValueError(f"counts must be {m} positive integers")
    labels = np.asarray(labels)
    if labels.ndim == 1:
        labels = labels[np.newaxis, :]
    if labels.ndim != 2 or labels.shape[1] != m:
        raise ValueError(f"labels must have shape (L, {m}), got {labels.shape}")
    n_users = int(counts.sum())
    codes = np.empty(labels.shape, dtype=np.int64)
    cluster_ids = []
    for lab in range(labels.shape[0]):
        ids, codes[lab] = np.unique(labels[lab], return_inverse=True)
        if not 2 <= len(ids) <= n_users - 1:  # sklearn's check_number_of_labels
            raise ValueError(f"labelling {lab} has {len(ids)} labels; valid values are 2 to "
                             f"n_users - 1 = {n_users - 1} (inclusive)")
        cluster_ids.append(ids)
    return U, counts.astype(np.float64), codes, cluster_ids


def _group_labellings(codes: np.ndarray, k: list[int]) -> list[tuple[list[int], np.ndarray]]:
    """Greedily put labellings into families whose joint groups are fewer than their clusters.

    Args:
        codes: int64[L, m] labels 0..k_l-1.
        k: number of clusters of each labelling.

    Returns:
        ``[(members, groups)]``: labelling indices and int64[m] joint group 0..G-1 of each row
        (rows in one group share every member's label), so each family costs ``G`` columns
        instead of ``sum(k)``. Nested labellings (cuts of one tree) collapse to the finest.
    """
    families: list[tuple[list[int], np.ndarray]] = []
    for lab in sorted(range(len(k)), key=lambda i: -k[i]):
        best, best_groups, best_growth = -1, None, k[lab]
        for f, (_, groups) in enumerate(families):
            joint = groups * k[lab] + codes[lab]
            _, joint_groups = np.unique(joint, return_inverse=True)
            growth = int(joint_groups.max()) - int(groups.max())
            if growth < best_growth:
                best, best_groups, best_growth = f, joint_groups, growth
        if best < 0:
            families.append(([lab], codes[lab].copy()))
        else:
            families[best][0].append(lab)
            families[best] = (families[best][0], best_groups.astype(np.int64))
    return families


def _family_columns(codes, families):
    """Where each family's groups sit among the columns of ``S``, and the rows' joint groups.

    Args:
        codes: int64[L, m] labels; families: from :func:`_group_labellings`.

    Returns:
        ``column_maps`` ``{labelling: (offset_f, int64[G_f] cluster of each group)}``;
        ``joint`` int64[m], the joint group ``0..J-1`` of each row (rows in one joint group
        share every family's group); ``group_columns`` int64[J, F], the column of each joint
        group in each family (``offset_f + group_f``).
    """
    column_maps = {}
    offset = 0
    joint = np.zeros(codes.shape[1], dtype=np.int64)
    offsets = []
    for members, groups in families:
        width = int(groups.max()) + 1
        first_row = np.unique(groups, return_index=True)[1]
        for lab in members:
            column_maps[lab] = (offset, codes[lab][first_row])
        joint = np.unique(joint * width + groups, return_inverse=True)[1].reshape(-1)
        offsets.append(offset)
        offset += width
    first_of_joint = np.unique(joint, return_index=True)[1]
    group_columns = np.stack([offset_f + groups[first_of_joint] for offset_f, (_, groups)
                              in zip(offsets, families, strict=True)], axis=1)
    return column_maps, joint, np.ascontiguousarray(group_columns, dtype=np.int64)


def _cluster_distance_sums(U: np.ndarray, w: np.ndarray, joint: np.ndarray,
                           group_columns: np.ndarray) -> np.ndarray:
    """``S[i, col] = sum_j w[j] d(i, j)`` over the rows ``j`` whose group is column ``col``.

    Args:
        U: float64[m, d] rows; w: float64[m] weights (users per row); joint: int64[m] joint
            group of each row; group_columns: int64[J, F] column of each joint group per
            family (see :func:`_family_columns`).

    Returns:
        float64[m, columns] with ``columns = group_columns.max() + 1``, in ``U``'s row order.
    """
    m = U.shape[0]
    order = np.argsort(joint, kind="stable")  # rows of one joint group become one run
    run_end = np.cumsum(np.bincount(joint, minlength=group_columns.shape[0]))
    d4 = -(-U.shape[1] // COORDS_PER_PASS) * COORDS_PER_PASS
    UT = np.zeros((d4, m))  # zero padding adds exactly 0 to every squared distance
    UT[:U.shape[1]] = U[order].T
    n_threads = max(1, min(get_num_threads(), -(-m // TILE)))
    per_thread = _pair_sums(UT, w[order], joint[order], run_end, group_columns,
                            int(group_columns.max()) + 1, n_threads)
    sums = np.empty((m, per_thread.shape[2]))
    sums[order] = per_thread.sum(axis=0)
    return sums


def _row_silhouettes(per_cluster: np.ndarray, codes: np.ndarray, sizes: np.ndarray
                     ) -> np.ndarray:
    """Silhouette of each distinct row from its weighted distance sums.

    Args:
        per_cluster: float64[m, k] ``S[i, c]``; codes: int64[m] own cluster; sizes:
            float64[k] users per cluster.

    Returns:
        float64[m]; 0 for rows whose cluster has one user (sklearn's convention).
    """
    rows = np.arange(len(codes))
    own_size = sizes[codes]
    with np.errstate(divide="ignore", invalid="ignore"):
        a = per_cluster[rows, codes] / (own_size - 1)
        means = per_cluster / sizes
        means[rows, codes] = np.inf
        b = means.min(axis=1)
        s = (b - a) / np.maximum(a, b)
    s[own_size == 1] = 0.0
    return np.nan_to_num(s, nan=0.0)


# --- numba kernels ----------------------------------------------------------------------------

@njit(cache=True)
def _tile_row_owner(row: int, n_threads: int) -> int:
    """Thread that handles tile row ``row``: dealt back and forth (0, 1, .., T-1, T-1, .., 0,
    0, ..) so that the long first rows of the upper triangle spread evenly."""
    r = row % (2 * n_threads)
    return r if r < n_threads else 2 * n_threads - 1 - r


@njit(cache=True, parallel=True)
def _pair_sums(UT, w, group, run_end, group_columns, n_columns, n_threads):
    """Count-weighted distance sums per column, one copy per thread.

    Args:
        UT: float64[d4, m] rows (sorted by joint group), transposed and zero-padded to a
            multiple of ``COORDS_PER_PASS``; w: float64[m] weights; group: int64[m] joint
            group of each row (non-decreasing); run_end: int64[J] end of each group's run;
            group_columns: int64[J, F]; n_columns: columns of ``S``; n_threads: copies.

    Returns:
        float64[n_threads, m, n_columns]; their sum is ``S`` (rows in ``UT``'s order). Tile
        row ``r`` (rows ``r * TILE ..``) covers the tiles right of the diagonal.
    """
    m = UT.shape[1]
    n_tiles = -(-m // TILE)
    out = np.zeros((n_threads, m, n_columns))
    for t in prange(n_threads):
        dist = np.empty(TILE)
        column_sums = np.zeros(TILE)
        for row in range(n_tiles):
            if _tile_row_owner(row, n_threads) == t:
                for col in range(row, n_tiles):
                    _tile(UT, w, group, run_end, group_columns, row * TILE,
                          min(row * TILE + TILE, m), col * TILE, min(col * TILE + TILE, m),
                          out[t], dist, column_sums)
    return out


@njit(cache=True, fastmath=SUM_FASTMATH)
def _tile(UT, w, group, run_end, group_columns, i0, i1, j0, j1, sums, dist, column_sums):
    """Add the pairs ``i < j`` of rows ``i0..i1-1`` x columns ``j0..j1-1`` to ``sums``.

    Row ``i`` gets ``w[j] d(i, j)`` per run of ``j`` (one joint group), added to that group's
    column in every family; the column direction collects ``w[i] d(i, j)`` in
    ``column_sums[j - j0]`` while ``i`` stays in one group, then adds it to ``sums[j]``.
    ``dist`` and ``column_sums`` are float64[TILE] scratch (``column_sums`` all 0 on entry
    and on return).
    """
    current = group[i0]
    for i in range(i0, i1):
        if group[i] != current:
            _flush(column_sums, j0, j1, current, group_columns, sums)
            current = group[i]
        start = max(j0, i + 1)
        if start >= j1:
            continue
        n = j1 - start
        _distances(UT, i, start, n, dist)
        j = start
        while j < j1:
            run = group[j]
            stop = min(run_end[run], j1)
            run_w, run_dist = w[j:stop], dist[j - start:stop - start]
            acc = 0.0
            for q in range(stop - j):
                acc += run_w[q] * run_dist[q]
            for f in range(group_columns.shape[1]):
                sums[i, group_columns[run, f]] += acc
            j = stop
        wi = w[i]
        tail = column_sums[start - j0:j1 - j0]
        for q in range(n):
            tail[q] += wi * dist[q]
    _flush(column_sums, j0, j1, current, group_columns, sums)


@njit(cache=True)
def _flush(column_sums, j0, j1, run, group_columns, sums):
    """Add ``column_sums[j - j0]`` to ``sums[j]`` in the columns of joint group ``run``, for
    ``j`` in ``j0..j1-1``, and reset ``column_sums`` to 0."""
    for j in range(j1 - j0):
        v = column_sums[j]
        if v != 0.0:
            for f in range(group_columns.shape[1]):
                sums[j0 + j, group_columns[run, f]] += v
            column_sums[j] = 0.0


@njit(cache=True, fastmath=SUM_FASTMATH)
def _distances(UT, i, start, n, out):
    """Euclidean distances from row ``i`` to rows ``start..start+n-1`` into ``out[:n]``.

    Squares of coordinate differences are summed in float64, ``COORDS_PER_PASS`` coordinates
    per pass over ``out`` (so identical rows are exactly 0 apart). The loops index slices
    from 0: numba then knows the indices are non-negative and LLVM vectorises them with plain
    loads.
    """
    for k in range(0, UT.shape[0], COORDS_PER_PASS):
        r0, r1 = UT[k, start:start + n], UT[k + 1, start:start + n]
        r2, r3 = UT[k + 2, start:start + n], UT[k + 3, start:start + n]
        x0, x1, x2, x3 = UT[k, i], UT[k + 1, i], UT[k + 2, i], UT[k + 3, i]
        if k == 0:
            for q in range(n):
                t0 = r0[q] - x0
                t1 = r1[q] - x1
                t2 = r2[q] - x2
                t3 = r3[q] - x3
                out[q] = t0 * t0 + t1 * t1 + t2 * t2 + t3 * t3
        else:
            for q in range(n):
                t0 = r0[q] - x0
                t1 = r1[q] - x1
                t2 = r2[q] - x2
                t3 = r3[q] - x3
                out[q] += t0 * t0 + t1 * t1 + t2 * t2 + t3 * t3
    for q in range(n):
        out[q] = np.sqrt(out[q])
