"""Exact mean silhouette over all users, computed on their distinct feature rows.

Users that share a feature row share a cluster and a silhouette value, so the silhouette of
all ``n`` users is a count-weighted sum over the ``m`` distinct rows. For row ``i`` and
cluster ``c``, ``S[i, c] = sum_j counts[j] * d(i, j) * [label(j) == c]`` (Euclidean ``d``;
``d(i, i) = 0``, so the other users on row ``i`` add nothing to ``S[i, own]`` but do count in
``n_own - 1``). Then, with ``n_c`` the number of users in cluster ``c``:

    a(i) = S[i, own] / (n_own - 1),    b(i) = min_{c != own} S[i, c] / n_c,
    s(i) = (b - a) / max(a, b),        s(i) = 0 when n_own == 1,

which is ``sklearn.metrics.silhouette_samples`` for every user on row ``i``. One blocked pass
over the exact pairwise distances of the distinct rows serves all labellings at once: each
distance tile ``D`` (computed in numba from coordinate differences, so duplicates are exactly
0) is multiplied by a count-weighted one-hot matrix ``H`` with one column per cluster of every
labelling (a BLAS product, ``S = D @ H``). Labellings that refine each other, such as the cuts
of one tree, share columns: their joint groups are fewer than the sum of their cluster counts.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from numba import njit

from analysis.clustering.fastward import COORDS_PER_PASS, _padded_transpose

#: Rows/columns per distance tile; a tile is TILE x TILE float64 (32 MiB at 2048).
TILE = 2048


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
    onehot, column_maps = _weighted_onehot(codes, w, families)
    sums = _distance_times(U, onehot)  # (m, columns): S for every family's groups
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


def _weighted_onehot(codes, w, families):
    """Count-weighted one-hot matrix of the families' groups and, per labelling, where its
    columns start and which of its clusters each group belongs to.

    Returns:
        ``H`` float64[m, columns] with ``H[i, offset_f + group_f(i)] = counts[i]``, and
        ``{labelling: (offset_f, int64[G_f] cluster of each group)}``.
    """
    m = codes.shape[1]
    widths = [int(groups.max()) + 1 for _, groups in families]
    onehot = np.zeros((m, sum(widths)))
    column_maps = {}
    offset = 0
    for (members, groups), width in zip(families, widths, strict=True):
        onehot[np.arange(m), offset + groups] = w
        first_row = np.unique(groups, return_index=True)[1]
        for lab in members:
            column_maps[lab] = (offset, codes[lab][first_row])
        offset += width
    return onehot, column_maps


def _distance_times(U: np.ndarray, H: np.ndarray) -> np.ndarray:
    """``D @ H`` for the exact Euclidean distance matrix ``D`` of the rows of ``U``, one tile
    at a time (``D`` is symmetric: each off-diagonal tile is computed once and used twice).

    Args:
        U: float64[m, d]; H: float64[m, c].

    Returns:
        float64[m, c].
    """
    m = U.shape[0]
    UT = _padded_transpose(U)
    out = np.zeros((m, H.shape[1]))
    tile = np.empty((min(TILE, m), min(TILE, m)))
    for i0 in range(0, m, TILE):
        i1 = min(i0 + TILE, m)
        for j0 in range(i0, m, TILE):
            j1 = min(j0 + TILE, m)
            D = tile[:i1 - i0, :j1 - j0]
            _distance_tile(UT, i0, i1, j0, j1, D)
            out[i0:i1] += D @ H[j0:j1]
            if j0 != i0:
                out[j0:j1] += D.T @ H[i0:i1]
    return out


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


@njit(cache=True, error_model="numpy")
def _distance_tile(UT, i0, i1, j0, j1, out):
    """Exact Euclidean distances between rows ``i0..i1`` and ``j0..j1`` of ``UT.T``.

    Args:
        UT: float64[d4, m] transposed points, zero-padded to ``d4`` rows, a multiple of
            ``COORDS_PER_PASS`` (padding adds exactly 0); out: float64[i1 - i0, j1 - j0],
            written in place.
    """
    d4 = UT.shape[0]
    n = j1 - j0
    for i in range(i0, i1):
        row = out[i - i0]
        for k in range(0, d4, COORDS_PER_PASS):
            c0 = UT[k, j0:j1]
            c1 = UT[k + 1, j0:j1]
            c2 = UT[k + 2, j0:j1]
            c3 = UT[k + 3, j0:j1]
            x0 = UT[k, i]
            x1 = UT[k + 1, i]
            x2 = UT[k + 2, i]
            x3 = UT[k + 3, i]
            if k == 0:
                for j in range(n):
                    t0 = c0[j] - x0
                    t1 = c1[j] - x1
                    t2 = c2[j] - x2
                    t3 = c3[j] - x3
                    row[j] = ((t0 * t0 + t1 * t1) + t2 * t2) + t3 * t3
            else:
                for j in range(n):
                    t0 = c0[j] - x0
                    t1 = c1[j] - x1
                    t2 = c2[j] - x2
                    t3 = c3[j] - x3
                    row[j] = (((row[j] + t0 * t0) + t1 * t1) + t2 * t2) + t3 * t3
        for j in range(n):
            row[j] = np.sqrt(row[j])
