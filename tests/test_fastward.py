"""Weighted Ward on distinct rows equals scipy's unweighted Ward on all rows."""

from __future__ import annotations

import numpy as np
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from scipy.cluster.hierarchy import cut_tree, is_valid_linkage, linkage

from analysis.bench.kernels import same_partition
from analysis.clustering.fastward import (
    distinct_rows,
    scipy_linkage,
    ward_flat_labels,
    ward_linkage,
    ward_users,
)

K_MAX = 10
HEIGHT_RTOL = 1e-9
ROUND_OFF = 1e-12

PROPERTY = settings(max_examples=40, deadline=None, derandomize=True,
                    suppress_health_check=[HealthCheck.too_slow])


def duplicated_users(seed: int, m: int, d: int, max_copies: int):
    """``m`` continuous random rows in [0, 1]^d, each repeated 1..max_copies times, shuffled."""
    rng = np.random.default_rng(seed)
    U = rng.random((m, d))
    copies = rng.integers(1, max_copies + 1, size=m)
    X = np.repeat(U, copies, axis=0)
    return X[rng.permutation(len(X))]


def check_against_scipy(X: np.ndarray) -> None:
    """Heights above 0 and flat clusters k = 2..min(10, m) agree with ``linkage(X, 'ward')``."""
    m = len(np.unique(X, axis=0))
    Z, labels, U, counts, inverse = ward_users(X, range(2, min(K_MAX, m) + 1))
    Z_full = linkage(X, "ward")
    full_heights = np.sort(Z_full[:, 2])
    assert np.all(full_heights[:len(X) - m] <= ROUND_OFF)  # duplicates merge at 0
    np.testing.assert_allclose(np.sort(Z[:, 2]), full_heights[len(X) - m:], rtol=HEIGHT_RTOL)
    assert Z[-1, 3] == len(X)
    full_labels = ward_flat_labels(Z_full, labels.keys())
    for k, lab in labels.items():
        assert same_partition(lab, full_labels[k]), k


@PROPERTY
@given(seed=st.integers(0, 2**32 - 1), m=st.integers(2, 40), d=st.integers(1, 5),
       max_copies=st.integers(1, 6))
def test_weighted_ward_equals_full_ward(seed, m, d, max_copies):
    check_against_scipy(duplicated_users(seed, m, d, max_copies))


def test_heavy_duplicates_like_platform_defaults():
    rng = np.random.default_rng(7)
    X = duplicated_users(3, 30, 4, 3)
    defaults = np.repeat(rng.random((1, 4)), 200, axis=0)  # one row shared by many users
    check_against_scipy(np.vstack([X, defaults]))


@pytest.mark.parametrize("seed", range(5))
def test_unweighted_equals_scipy_linkage_exactly(seed):
    rng = np.random.default_rng(seed)
    U = rng.random((60, 3))
    Z = ward_linkage(U, np.ones(60, dtype=np.int64))
    Z_scipy = linkage(U, "ward")
    np.testing.assert_array_equal(Z[:, [0, 1, 3]], Z_scipy[:, [0, 1, 3]])
    np.testing.assert_allclose(Z[:, 2], Z_scipy[:, 2], rtol=HEIGHT_RTOL)


def test_float_weights_equal_int_weights():
    rng = np.random.default_rng(1)
    U = rng.random((25, 3))
    w = rng.integers(1, 9, size=25)
    np.testing.assert_array_equal(ward_linkage(U, w), ward_linkage(U, w.astype(np.float64)))


def test_linkage_format_and_scipy_compatibility():
    rng = np.random.default_rng(2)
    U = rng.random((50, 2))
    w = rng.integers(1, 20, size=50)
    Z = ward_linkage(U, w)
    assert Z.shape == (49, 4)
    assert np.all(np.diff(Z[:, 2]) >= 0)
    assert np.all(Z[:, 0] < Z[:, 1])
    assert Z[-1, 3] == w.sum()
    Z_scipy = scipy_linkage(Z)
    assert is_valid_linkage(Z_scipy)
    assert Z_scipy[-1, 3] == 50
    np.testing.assert_array_equal(Z_scipy[:, :3], Z[:, :3])


@PROPERTY
@given(seed=st.integers(0, 2**32 - 1), m=st.integers(2, 40), d=st.integers(1, 4))
def test_cut_equals_cut_tree(seed, m, d):
    rng = np.random.default_rng(seed)
    U = rng.random((m, d))
    Z = ward_linkage(U, rng.integers(1, 5, size=m))
    ks = range(1, min(K_MAX, m) + 1)
    labels = ward_flat_labels(Z, ks)
    for k in ks:
        reference = cut_tree(scipy_linkage(Z), n_clusters=k).ravel()
        assert same_partition(labels[k], reference)
        first_seen = np.unique(labels[k], return_index=True)[1]
        np.testing.assert_array_equal(np.argsort(first_seen), np.arange(k))  # 0, 1, .. in order


def test_ward_users_expands_distinct_labels():
    X = duplicated_users(4, 30, 3, 4)
    Z, labels, U, counts, inverse = ward_users(X, [2, 5])
    distinct = ward_flat_labels(Z, [2, 5])
    for k in (2, 5):
        np.testing.assert_array_equal(labels[k], distinct[k][inverse])
        assert labels[k].dtype == np.int64 and labels[k].shape == (len(X),)


def test_deterministic():
    X = duplicated_users(5, 80, 4, 3)
    first = ward_users(X, [3])
    second = ward_users(X, [3])
    np.testing.assert_array_equal(first[0], second[0])
    np.testing.assert_array_equal(first[1][3], second[1][3])


def test_ties_give_a_valid_monotone_tree():
    grid = np.array([[i, j] for i in range(6) for j in range(6)], dtype=np.float64)
    Z = ward_linkage(grid, np.ones(len(grid), dtype=np.int64))
    assert is_valid_linkage(scipy_linkage(Z))
    assert np.all(np.diff(Z[:, 2]) >= 0)
    np.testing.assert_allclose(np.sort(Z[:, 2]), np.sort(linkage(grid, "ward")[:, 2]),
                               rtol=HEIGHT_RTOL)


@PROPERTY
@given(seed=st.integers(0, 2**32 - 1), n=st.integers(1, 60), d=st.integers(1, 5),
       levels=st.integers(1, 4))
def test_distinct_rows_matches_np_unique(seed, n, d, levels):
    rng = np.random.default_rng(seed)
    X = rng.integers(0, levels, size=(n, d)) / levels
    X[rng.random((n, d)) < 0.1] = -0.0
    U, counts, inverse = distinct_rows(X)
    U_ref, inverse_ref, counts_ref = np.unique(X, axis=0, return_inverse=True,
                                               return_counts=True)
    np.testing.assert_array_equal(U, U_ref)
    np.testing.assert_array_equal(counts, counts_ref)
    np.testing.assert_array_equal(inverse, inverse_ref.reshape(-1))
    np.testing.assert_array_equal(U[inverse], X)
    assert counts.dtype == np.int64 and inverse.dtype == np.int64


def test_edge_sizes():
    assert ward_linkage(np.zeros((1, 3)), [4]).shape == (0, 4)
    Z = ward_linkage(np.array([[0.0], [3.0]]), [1, 2])
    # two groups of 1 and 2 points 3 apart: sqrt(2 * 1 * 2 / 3) * 3
    np.testing.assert_allclose(Z, [[0, 1, np.sqrt(4 / 3) * 3, 3]])
    labels = ward_flat_labels(Z, [1, 2])
    np.testing.assert_array_equal(labels[1], [0, 0])
    np.testing.assert_array_equal(labels[2], [0, 1])


@pytest.mark.parametrize("weights", [[1, 0, 1], [1, -1, 1], [1, np.nan, 1], [1, 1]])
def test_rejects_bad_weights(weights):
    with pytest.raises(ValueError):
        ward_linkage(np.eye(3), np.asarray(weights, dtype=np.float64))


def test_rejects_bad_inputs():
    with pytest.raises(ValueError):
        ward_linkage(np.array([[0.0, np.inf], [1.0, 1.0]]), [1, 1])
    with pytest.raises(ValueError):
        distinct_rows(np.zeros((0, 2)))
    Z = ward_linkage(np.eye(3), [1, 1, 1])
    with pytest.raises(ValueError):
        ward_flat_labels(Z, [4])
    with pytest.raises(ValueError):
        ward_flat_labels(Z, [0])


def test_bench_ward_on_small_data():
    from analysis.bench.kernels import bench_ward
    from analysis.config import load_config

    result = bench_ward(duplicated_users(6, 120, 4, 5), load_config().kmeans.ks)
    assert result["ward_labels_identical"] is True
    assert result["ward_min_ari"] == 1.0
    assert result["ward_max_rel_height_diff"] <= HEIGHT_RTOL
    assert result["n_distinct"] == 120
    for key in ("ward_seconds", "fastcluster_seconds", "ward_speedup_vs_fastcluster",
                "ward_compile_seconds"):
        assert result[key] > 0


REAL_SUBSAMPLE = 4000


@pytest.mark.realdata
@pytest.mark.slow
def test_real_data_subsample_matches_fastcluster_and_sklearn(real_data):
    """On real users (grid-like log features, many ties and duplicates): same flat clusters
    as fastcluster on all rows, same silhouette as sklearn."""
    import fastcluster
    import pandas as pd
    from sklearn.metrics import silhouette_score

    from analysis.bench.kernels import distinct_labels
    from analysis.clustering.silhouette import silhouette_weighted

    df = pd.read_csv(real_data)
    raw = pd.DataFrame({  # the engine's features: log counts above platform defaults
        "followers": np.log1p((df.socialNbFollowers - 3).clip(lower=0)),
        "follows": np.log1p((df.socialNbFollows - 8).clip(lower=0)),
        "liked": np.log1p(df.socialProductsLiked), "listed": np.log1p(df.productsListed),
        "sold": np.log1p(df.productsSold), "wished": np.log1p(df.productsWished),
        "bought": np.log1p(df.productsBought), "recency": np.log1p(df.daysSinceLastLogin)})
    capped = raw.clip(upper=raw.quantile(0.999), axis=1)
    X_all = ((capped - capped.min()) / (capped.max() - capped.min())).to_numpy()
    X = X_all[np.random.default_rng(0).choice(len(X_all), REAL_SUBSAMPLE, replace=False)]
    ks = range(2, K_MAX + 1)
    Z, labels, U, counts, inverse = ward_users(X, ks)
    assert U.shape[0] < REAL_SUBSAMPLE  # duplicates are there
    reference = ward_flat_labels(fastcluster.linkage_vector(X, "ward"), ks)
    for k in ks:
        assert same_partition(labels[k], reference[k]), k
    user_labels = np.stack([labels[k] for k in ks])
    ours = silhouette_weighted(U, counts, distinct_labels(user_labels, inverse, U.shape[0]))
    for row in (0, len(ks) - 1):
        assert abs(ours[row] - silhouette_score(X, user_labels[row])) <= 1e-9
