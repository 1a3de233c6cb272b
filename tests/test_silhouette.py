"""The distinct-row silhouette equals sklearn's silhouette over all users.

sklearn's default Euclidean distances use ``|x|^2 + |y|^2 - 2 x.y``, which leaves distances
of up to ~1.5e-8 between identical rows (only the diagonal is zeroed). Our distances come from
coordinate differences, so identical rows are exactly 0 apart. The exact comparison is
therefore against sklearn fed exact distances (``metric="precomputed"`` with ``cdist``); the
comparison with sklearn's default is exact to 1e-9 without duplicates and within sklearn's own
round-off with them.
"""

from __future__ import annotations

import numpy as np
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from scipy.spatial.distance import cdist
from sklearn.metrics import silhouette_samples, silhouette_score

from analysis.clustering.fastward import ward_flat_labels, ward_linkage
from analysis.clustering.silhouette import (
    TILE,
    _family_columns,
    _group_labellings,
    _pair_sums,
    _validate,
    silhouette_samples_weighted,
    silhouette_weighted,
    silhouette_weighted_detail,
)

EXACT = 1e-12  # against sklearn on exact distances
SKLEARN_TOL = 1e-9  # against sklearn's default metric, no duplicate rows
SKLEARN_ROUND_OFF = 1e-7  # against sklearn's default metric with duplicate rows

PROPERTY = settings(max_examples=40, deadline=None, derandomize=True,
                    suppress_health_check=[HealthCheck.too_slow])


def expand(U, counts, labels):
    """All users: ``U`` rows repeated ``counts`` times, and their labels int[L, n]."""
    return np.repeat(U, counts, axis=0), np.repeat(np.atleast_2d(labels), counts, axis=1)


def random_case(seed: int, m: int, d: int, max_copies: int, n_labellings: int):
    """Continuous random rows, 1..max_copies users each, random labellings with 2..6 labels
    (some labels may be used by a single user), valid for sklearn."""
    rng = np.random.default_rng(seed)
    U = rng.random((m, d))
    counts = rng.integers(1, max_copies + 1, size=m)
    labels = []
    while len(labels) < n_labellings:
        k = rng.integers(2, min(6, m) + 1)
        candidate = rng.integers(0, k, size=m) * 7 - 3  # arbitrary label values
        if 2 <= len(np.unique(candidate)) <= counts.sum() - 1:
            labels.append(candidate)
    return U, counts, np.stack(labels)


@PROPERTY
@given(seed=st.integers(0, 2**32 - 1), m=st.integers(3, 30), d=st.integers(1, 5),
       max_copies=st.integers(1, 5), n_labellings=st.integers(1, 4))
def test_equals_sklearn_on_exact_distances(seed, m, d, max_copies, n_labellings):
    U, counts, labels = random_case(seed, m, d, max_copies, n_labellings)
    X, labels_full = expand(U, counts, labels)
    D = cdist(X, X)
    detail = silhouette_weighted_detail(U, counts, labels)
    for lab in range(n_labellings):
        reference = silhouette_samples(D, labels_full[lab], metric="precomputed")
        np.testing.assert_allclose(detail.samples[lab][np.repeat(np.arange(m), counts)],
                                   reference, rtol=0, atol=EXACT)
        assert abs(detail.scores[lab] - reference.mean()) <= EXACT
        ids = np.unique(labels_full[lab])
        np.testing.assert_array_equal(detail.cluster_ids[lab], ids)
        for c, mean, size in zip(ids, detail.cluster_means[lab], detail.cluster_sizes[lab],
                                 strict=True):
            members = labels_full[lab] == c
            assert size == members.sum()
            assert abs(mean - reference[members].mean()) <= EXACT
        assert abs(detail.scores[lab]
                   - silhouette_score(X, labels_full[lab])) <= SKLEARN_ROUND_OFF


@PROPERTY
@given(seed=st.integers(0, 2**32 - 1), m=st.integers(3, 40), d=st.integers(1, 5))
def test_equals_sklearn_default_without_duplicates(seed, m, d):
    U, counts, labels = random_case(seed, m, d, 1, 2)
    ours = silhouette_weighted(U, counts, labels)
    for lab in range(2):
        assert abs(ours[lab] - silhouette_score(U, labels[lab])) <= SKLEARN_TOL


def test_duplicates_and_singletons():
    U = np.array([[0.0, 0.0], [0.1, 0.0], [1.0, 1.0], [5.0, 5.0], [5.2, 5.0]])
    counts = np.array([3, 1, 1, 4, 2])
    # cluster 7: rows 0-1 (4 users); cluster 8: row 2 alone (1 user, s = 0);
    # cluster 9: rows 3-4 (6 users)
    labels = np.array([7, 7, 8, 9, 9])
    X, labels_full = expand(U, counts, labels)
    reference = silhouette_samples(cdist(X, X), labels_full[0], metric="precomputed")
    samples = silhouette_samples_weighted(U, counts, labels)[0]
    np.testing.assert_allclose(np.repeat(samples, counts), reference, atol=EXACT)
    assert samples[2] == 0.0
    assert abs(silhouette_weighted(U, counts, labels)[0] - reference.mean()) <= EXACT


def test_one_row_per_cluster_with_many_users():
    U = np.array([[0.0], [1.0], [3.0]])
    counts = np.array([5, 2, 1])
    detail = silhouette_weighted_detail(U, counts, np.array([0, 1, 2]))
    # users share a point with their whole cluster: a = 0, so s = 1; the lone user has s = 0
    np.testing.assert_array_equal(detail.samples[0], [1.0, 1.0, 0.0])
    np.testing.assert_array_equal(detail.cluster_means[0], [1.0, 1.0, 0.0])
    assert detail.scores[0] == pytest.approx(7 / 8, abs=EXACT)


def test_all_labellings_at_once_equal_one_at_a_time():
    rng = np.random.default_rng(3)
    U = rng.random((120, 4))
    counts = rng.integers(1, 30, size=120)
    cuts = ward_flat_labels(ward_linkage(U, counts), range(2, 11))
    random_labels = [rng.integers(0, k, size=120) for k in range(2, 11)]
    labels = np.stack([cuts[k] for k in range(2, 11)] + random_labels)
    together = silhouette_weighted(U, counts, labels)
    alone = [silhouette_weighted(U, counts, lab)[0] for lab in labels]
    np.testing.assert_allclose(together, alone, rtol=0, atol=EXACT)


def test_nested_cuts_share_columns():
    rng = np.random.default_rng(4)
    U = rng.random((200, 3))
    cuts = ward_flat_labels(ward_linkage(U, np.ones(200, dtype=np.int64)), range(2, 11))
    codes = np.stack([cuts[k] for k in range(2, 11)])
    families = _group_labellings(codes, list(range(2, 11)))
    assert len(families) == 1
    members, groups = families[0]
    assert sorted(members) == list(range(9)) and groups.max() + 1 == 10


@pytest.mark.parametrize("labels", [[0, 0, 0], [0, 1, 2]])
def test_rejects_invalid_label_counts(labels):
    with pytest.raises(ValueError):
        silhouette_weighted(np.eye(3), np.ones(3, dtype=np.int64), np.array(labels))


def test_rejects_bad_inputs():
    with pytest.raises(ValueError):
        silhouette_weighted(np.eye(3), np.array([1, 0, 1]), np.array([0, 1, 1]))
    with pytest.raises(ValueError):
        silhouette_weighted(np.eye(3), np.ones(3, dtype=np.int64), np.array([0, 1]))
    with pytest.raises(ValueError):
        silhouette_weighted(np.full((3, 2), np.nan), np.ones(3, dtype=np.int64),
                            np.array([0, 1, 1]))


def test_bench_silhouette_on_small_data():
    from analysis.bench.kernels import bench_silhouette

    U, counts, labels = random_case(8, 60, 3, 4, 3)
    X, labels_full = expand(U, counts, labels)
    result = bench_silhouette(X, labels_full)
    assert result["silhouette_n_labellings"] == 3
    assert result["n_distinct"] == 60 and result["n_users"] == counts.sum()
    assert result["silhouette_max_abs_diff"] <= SKLEARN_ROUND_OFF
    for key in ("silhouette_seconds_all_labellings", "silhouette_seconds_one_labelling",
                "sklearn_seconds_one_labelling", "silhouette_speedup_vs_sklearn",
                "silhouette_speedup_per_labelling"):
        assert result[key] > 0


def test_distinct_labels_rejects_split_rows():
    from analysis.bench.kernels import distinct_labels

    inverse = np.array([0, 1, 0])
    np.testing.assert_array_equal(distinct_labels(np.array([5, 6, 5]), inverse, 2), [[5, 6]])
    with pytest.raises(ValueError):
        distinct_labels(np.array([5, 6, 7]), inverse, 2)


def labellings_like_the_pipeline(U, counts, rng):
    """Ward cuts k = 2..6 (nested, long runs once sorted), K-Means-like splits along a
    coordinate (contiguous regions) and a random labelling (many short runs)."""
    cuts = ward_flat_labels(ward_linkage(U, counts), range(2, 7))
    slabs = [np.searchsorted(np.quantile(U[:, j], np.linspace(0, 1, k + 1)[1:-1]), U[:, j])
             for j, k in ((0, 3), (1, 4))]
    return np.stack([cuts[k] for k in range(2, 7)] + slabs + [rng.integers(0, 5, len(U))])


def test_many_tiles_equal_sklearn_on_exact_distances():
    """Three tile rows (upper-triangle tiles, diagonal tiles, the short last one), runs of
    every length, several families: equal to sklearn on the expanded users."""
    rng = np.random.default_rng(21)
    m = 2 * TILE + 100
    U = rng.random((m, 5))
    counts = rng.integers(1, 3, size=m)
    labels = labellings_like_the_pipeline(U, counts, rng)
    X, labels_full = expand(U, counts, labels)
    D = cdist(X, X)
    detail = silhouette_weighted_detail(U, counts, labels)
    for lab in range(len(labels)):
        reference = silhouette_samples(D, labels_full[lab], metric="precomputed")
        np.testing.assert_allclose(detail.samples[lab][np.repeat(np.arange(m), counts)],
                                   reference, rtol=0, atol=EXACT)
        assert abs(detail.scores[lab] - reference.mean()) <= EXACT


def test_thread_copies_add_up_to_the_same_sums():
    rng = np.random.default_rng(22)
    m = 3 * TILE + 5
    U = rng.random((m, 9))  # d = 9: two passes of 4 coordinates and zero padding
    counts = rng.integers(1, 50, size=m)
    labels = labellings_like_the_pipeline(U, counts, rng)
    _, w, codes, cluster_ids = _validate(U, counts, labels)
    families = _group_labellings(codes, [len(ids) for ids in cluster_ids])
    _, joint, group_columns = _family_columns(codes, families)
    order = np.argsort(joint, kind="stable")
    UT = np.zeros((12, m))
    UT[:9] = U[order].T
    run_end = np.cumsum(np.bincount(joint))
    args = (UT, w[order], joint[order], run_end, group_columns, int(group_columns.max()) + 1)
    one, three = _pair_sums(*args, 1), _pair_sums(*args, 3)
    assert three.shape[0] == 3 and np.all(three.sum(axis=(1, 2)) > 0)  # every copy did work
    np.testing.assert_allclose(three.sum(axis=0), one[0], rtol=1e-13)
    dense = cdist(U[order], U[order]) * w[order]
    for f in range(len(families)):
        column = group_columns[joint[order], f]
        expected = np.zeros_like(one[0])
        np.add.at(expected.T, column, dense.T)  # expected[i, column[j]] += w_j d(i, j)
        used = np.unique(column)
        np.testing.assert_allclose(one[0][:, used], expected[:, used], rtol=1e-12)
