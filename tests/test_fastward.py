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
from analysis.clustering.ward_blocks import PARALLEL_MIN_BLOCKS, SCAN_BLOCK, refresh_boxes
from analysis.clustering.ward_chain import _merge, _nn_chain_ward, chain_inputs, ward_merges
from analysis.clustering.ward_lists import (
    LIST_MIN_BLOCKS,
    NEIGHBOUR_LIST,
    list_insert,
    lists_after_merge,
)
from analysis.clustering.ward_search import proven_lower, scan_precision

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


# --- the float32 scan is exact: same merges, bit for bit, as a float64 scan -------------------

def merges(U, w, dtype, parallel_min=PARALLEL_MIN_BLOCKS, list_min=LIST_MIN_BLOCKS,
           neighbours=NEIGHBOUR_LIST):
    """The raw merge sequence (slots and heights in merge order): scan dtype, number of
    scanned blocks from which the threads share a scan and from which a cluster's nearest
    neighbours are listed, and the list length."""
    return ward_merges(np.ascontiguousarray(U, dtype=np.float64),
                        np.asarray(w, dtype=np.float64), dtype, parallel_min, list_min,
                        neighbours)


def plain_merges(U, w):
    """The reference: main's float64 nearest-neighbour chain before the scale kernels, in
    numpy. Every search computes the proxy to every live cluster (no blocks, boxes, lists,
    threads or float32) with the kernels' float64 formulas in the same order, and applies
    scipy's tie rules (the previous chain element, then the lowest slot)."""
    C = np.array(U, dtype=np.float64).T.copy()  # (d, m) centroids
    w = np.array(w, dtype=np.float64)
    alive = np.ones(len(w), dtype=bool)
    first, second, heights, chain = [], [], [], []
    for _ in range(len(w) - 1):
        chain = chain or [int(np.argmax(alive))]  # restart at the lowest live slot
        while True:
            x = chain[-1]
            s = (C[0] - C[0, x]) * (C[0] - C[0, x])
            for k in range(1, C.shape[0]):
                s = s + (C[k] - C[k, x]) * (C[k] - C[k, x])
            p = s * w[x] * w / (w[x] + w)
            p[~alive] = np.inf
            p[x] = np.inf
            best = p.min()
            tie_prev = len(chain) > 1 and p[chain[-2]] == best
            y = chain[-2] if tie_prev else int(np.argmax(p == best))
            if len(chain) > 1 and y == chain[-2]:
                break
            chain.append(y)
        chain = chain[:-2]
        lo, hi = min(x, y), max(x, y)
        C[:, hi] = (C[:, lo] * w[lo] + C[:, hi] * w[hi]) / (w[lo] + w[hi])
        w[hi] = w[lo] + w[hi]
        alive[lo] = False
        first.append(lo)
        second.append(hi)
        heights.append(np.sqrt(2.0 * best))
    return np.array(first, dtype=np.int64), np.array(second, dtype=np.int64), np.array(heights)


NEVER = 10**9  # a block count no search reaches


def assert_same_merges(a, b):
    """Both merge sequences are equal element for element (slots and float64 heights)."""
    for x, y in zip(a, b, strict=True):
        np.testing.assert_array_equal(x, y)


def near_tie_rows(seed: int, m: int, d: int) -> np.ndarray:
    """Rows on a coarse grid moved by ~1e-9: distances that tie in float32 but not in
    float64, the case the float64 re-check exists for."""
    rng = np.random.default_rng(seed)
    return rng.integers(0, 3, size=(m, d)) / 2 + rng.normal(0, 1e-9, size=(m, d))


@PROPERTY
@given(seed=st.integers(0, 2**32 - 1), d=st.integers(1, 9),
       m=st.one_of(st.integers(2, 80), st.integers(SCAN_BLOCK + 1, 2 * SCAN_BLOCK + 50)),
       kind=st.sampled_from(["random", "grid", "near_ties"]), heavy=st.booleans())
def test_float32_scan_gives_the_float64_merges(seed, m, d, kind, heavy):
    """One block (every search re-checks all of it in float64) or two to three (the float32
    minima decide which blocks are re-checked, and boxes which are scanned)."""
    rng = np.random.default_rng(seed)
    U = {"random": lambda: rng.random((m, d)),
         "grid": lambda: rng.integers(0, 3, size=(m, d)) / 2.0,  # exact ties, duplicates
         "near_ties": lambda: near_tie_rows(seed, m, d)}[kind]()
    w = rng.integers(1, 5, size=m) * (rng.integers(1, 10**6, size=m) if heavy else 1)
    if np.ptp(U) > 0.1:  # float32 is chosen (a spread below 2**-30 would fall back)
        assert scan_precision(U, w.astype(float))[0] is np.float32
    ours = merges(U, w, None)
    assert_same_merges(ours, merges(U, w, np.float64))
    assert_same_merges(ours, plain_merges(U, w))


@pytest.mark.parametrize("seed", range(3))
def test_pruning_lists_and_threads_give_the_plain_float64_merges(seed):
    """Several blocks, heavy rows at the lowest slots (scipy's chain restarts there), near
    ties: pruned, listed, threaded float32 searches make the same merges as plain float64
    scans of every live cluster."""
    rng = np.random.default_rng(seed)
    m = 6 * SCAN_BLOCK + 37  # several blocks, a short last one
    U = np.vstack([near_tie_rows(seed, m // 2, 5), rng.random((m - m // 2, 5))])
    U = U[np.lexsort(U.T[::-1])]  # distinct_rows' order: blocks are compact regions
    w = rng.integers(1, 1000, size=m)
    w[:3] = 10**6  # platform-default-like heavy rows
    plain = plain_merges(U, w)
    assert_same_merges(merges(U, w, np.float64, parallel_min=NEVER, list_min=NEVER), plain)
    assert_same_merges(merges(U, w, np.float32), plain)
    for neighbours in (1, 3, 64):  # short lists run out and are rebuilt often
        assert_same_merges(merges(U, w, np.float32, list_min=1, neighbours=neighbours), plain)
    assert_same_merges(merges(U, w, np.float32, parallel_min=1, list_min=1), plain)


@pytest.mark.parametrize("noise", [3e-8, 1e-7, 1e-6])
def test_near_ties_at_float32_resolution_across_blocks_give_the_plain_merges(noise):
    """Grid rows moved by about float32's resolution: float32 reorders nearly tied
    neighbours in different blocks, so the float64 re-check must take every block within
    the error bound (a threshold 40 times tighter than the proven one gives other merges)."""
    rng = np.random.default_rng(1)
    m = 3 * SCAN_BLOCK + 37
    U = rng.integers(0, 3, size=(m, 4)) / 2 + rng.normal(0, noise, size=(m, 4))
    U = U[np.lexsort(U.T[::-1])]
    w = rng.integers(1, 1000, size=m)
    assert_same_merges(merges(U, w, np.float32, list_min=NEVER), plain_merges(U, w))


def test_merge_grows_the_box_of_the_merged_clusters_block():
    """Pruning needs every live centroid inside its block's box: a merged centroid that
    leaves the box of its block (slot SCAN_BLOCK, block 1) widens it; the scan copy, weight
    and dead marker follow."""
    m, d = SCAN_BLOCK + 1, 2
    U = np.zeros((m, d))
    U[0], U[SCAN_BLOCK] = [-4.0, 2.0], [4.0, 0.0]
    w = np.ones(m)
    w[SCAN_BLOCK] = 3.0
    state = (np.array(U.T, order="C"), w.copy(), U.T.astype(np.float32, order="C"),
             w.astype(np.float32), np.empty((d, 2)), np.empty((d, 2)), np.empty(2))
    refresh_boxes(state, np.ones(m, dtype=bool), m)
    _merge(state, np.zeros(d), 0, SCAN_BLOCK)
    merged = state[0][:, SCAN_BLOCK]
    np.testing.assert_array_equal(merged, [2.0, 0.5])  # (-4 + 3 * 4) / 4, (2 + 0) / 4
    np.testing.assert_array_equal(state[4][:, 1], [2.0, 0.0])  # box of block 1: low
    np.testing.assert_array_equal(state[5][:, 1], [4.0, 0.5])  # and high
    np.testing.assert_array_equal(state[2][:, SCAN_BLOCK], merged.astype(np.float32))
    assert state[1][SCAN_BLOCK] == state[3][SCAN_BLOCK] == 4.0
    assert state[0][0, 0] == state[2][0, 0] == np.inf  # slot 0 is dead


def test_a_chain_that_does_not_close_raises_instead_of_writing_past_it():
    """If searches were not exact (here: a scan copy that does not match the centroids), the
    chain can cycle; it must stop with an error, not write past its buffer (numba does not
    check bounds)."""
    rng = np.random.default_rng(0)
    m = 3 * SCAN_BLOCK
    U = rng.random((m, 2))
    state, centre, bound, scratch, work, lists = chain_inputs(U[np.lexsort(U.T[::-1])],
                                                              np.ones(m), np.float32)
    state[2][:] = rng.random(state[2].shape)
    with pytest.raises(RuntimeError, match="did not close"):
        _nn_chain_ward(state, centre, bound, scratch, work, NEVER, NEVER, lists, 0.25)


def test_float32_scan_near_ties_equal_scipy():
    U = near_tie_rows(5, 300, 4)
    Z = ward_linkage(U, np.ones(300, dtype=np.int64))
    Z_scipy = linkage(U, "ward")
    np.testing.assert_array_equal(Z[:, [0, 1, 3]], Z_scipy[:, [0, 1, 3]])
    # heights of ~1e-9 between coordinates of ~1 carry ~1e-16 of float64 cancellation
    np.testing.assert_allclose(Z[:, 2], Z_scipy[:, 2], rtol=HEIGHT_RTOL, atol=1e-14)


def test_scan_precision_falls_back_to_float64_and_refuses_the_unrepresentable():
    rng = np.random.default_rng(12)
    U = rng.random((40, 3)) * 1e25  # squared distances beyond float32's range
    w = np.ones(40)
    assert scan_precision(U, w)[0] is np.float64
    check_against_scipy(np.repeat(U, 2, axis=0))
    with pytest.raises(ValueError):
        ward_linkage(rng.random((5, 2)) * 1e300, np.ones(5))


def bound_stress_rows(kind: str, rng) -> np.ndarray:
    """Rows that stress the error bound: cancellation near coordinates of size C (the
    relative term), or a tight cluster at one end of a wide box (differences far below
    float32's grid at C: the ``kc`` term)."""
    if kind == "cancellation":
        return 1.0 + rng.normal(0, 1e-4, size=(500, 7))
    d = {"tight_1d": 1, "tight_3d": 3}[kind]
    return np.vstack([np.full((1, d), -1.0), 1.0 - 1e-3 * rng.random((499, d))])


@pytest.mark.parametrize("kind", ["cancellation", "tight_1d", "tight_3d"])
def test_error_bound_covers_float32_rounding(kind):
    """The bound used by the threshold holds on rows chosen to stress it (heavy weights),
    and the rows do stress it: float32 errors reach a tenth of the bound."""
    rng = np.random.default_rng(13)
    U = bound_stress_rows(kind, rng)
    w = rng.integers(1, 10**6, size=len(U)).astype(float)
    dtype, centre, (gamma, kc, ac) = scan_precision(U, w)
    assert dtype is np.float32
    S = (U - centre).astype(np.float32)
    x, wx = 1, w[1]
    p32 = (((S - S[x]) ** 2).sum(axis=1, dtype=np.float32) * np.float32(wx)
           * w.astype(np.float32) / (np.float32(wx) + w.astype(np.float32)))
    p64 = ((U - U[x]) ** 2).sum(axis=1) * wx * w / (wx + w)
    bound = gamma * p64 + (1 + gamma) * (kc * np.sqrt(wx * p64) + ac * wx)
    error = np.abs(p32.astype(np.float64) - p64)
    assert np.all(error <= bound)
    assert np.mean(error > 0) > 0.5  # float32 really differs
    assert np.max(np.delete(error / bound, x)) > 0.1  # and comes near the bound


def test_list_insert_keeps_proxy_then_position_order():
    slots, proxies = np.zeros(3, dtype=np.int64), np.zeros(3)
    pos_of = np.array([4, 0, 1, 2, 3])  # slot -> position (slot 0 sits last)
    length = 0
    for slot, proxy in ((1, 2.0), (0, 1.0), (3, 1.0)):
        length, dropped = list_insert(slots, proxies, length, slot, proxy, pos_of)
        assert dropped == np.inf
    assert list(slots) == [3, 0, 1] and list(proxies) == [1.0, 1.0, 2.0]  # tie: position 2 < 4
    assert list_insert(slots, proxies, length, 4, 5.0, pos_of) == (3, 5.0)  # not taken
    assert list_insert(slots, proxies, length, 2, 1.0, pos_of) == (3, 2.0)  # pushes out 2.0
    assert list(slots) == [2, 3, 0] and list(proxies) == [1.0, 1.0, 1.0]


@pytest.mark.parametrize("new_coord, expected", [(-2.0, [1, 3]), (-1.5, [1, 3]),
                                                 (-2.5, [3, 1]), (3.5, [3])])
def test_neighbour_list_follows_merges_exactly(new_coord, expected):
    """Slot 0 at 0 keeps neighbours [slot 3 at 2 (proxy 2), slot 2 at -3 (4.5)], floor 6;
    slots 2 and 1 merge into slot 1 at ``new_coord``: slot 2 leaves the list, slot 1 enters
    in (proxy, position) order when its proxy is below the floor."""
    centroids_t = np.array([[0.0, new_coord, np.inf, 2.0]])
    weights = np.array([1.0, 1.0, 1.0, 1.0])
    state = (centroids_t, weights, centroids_t.astype(np.float32), weights.astype(np.float32),
             np.zeros((1, 1)), np.zeros((1, 1)), np.zeros(1))
    lists = (np.array([0, -1]), np.array([[3, 2, 0], [0, 0, 0]]),
             np.array([[2.0, 4.5, 0.0], [0.0, 0.0, 0.0]]), np.array([2, 0]), np.array([6.0, 0]))
    lists_after_merge(lists, state, np.arange(4), 2, 1, np.empty(SCAN_BLOCK))
    assert list(lists[1][0][:lists[3][0]]) == expected
    assert lists[2][0][expected.index(1)] == 0.5 * new_coord**2 if 1 in expected else True
    lists_after_merge(lists, state, np.arange(4), 0, 3, np.empty(SCAN_BLOCK))
    assert lists[0][0] == -1  # slot 0 itself merged: its list is gone


def test_proven_lower_bound_holds():
    rng = np.random.default_rng(14)
    U = 1.0 + rng.normal(0, 1e-4, size=(500, 7))
    w = rng.integers(1, 10**6, size=500).astype(float)
    _, centre, bound = scan_precision(U, w)
    S = (U - centre).astype(np.float32)
    for x in (0, 1, 2):
        wx = w[x]
        p32 = (((S - S[x]) ** 2).sum(axis=1, dtype=np.float32) * np.float32(wx)
               * w.astype(np.float32) / (np.float32(wx) + w.astype(np.float32)))
        p64 = ((U - U[x]) ** 2).sum(axis=1) * wx * w / (wx + w)
        lower = np.array([proven_lower(float(v), wx, bound) for v in p32])
        assert np.all(lower <= p64)
        assert np.median(lower[p64 > 0] / p64[p64 > 0]) > 0.99  # and it is tight


def test_error_bound_covers_merged_centroids_beyond_the_rows_box():
    """A float64 weighted mean can leave the box of what it merges ((0.1 * 1 + 0.1 * 2) / 3
    > 0.1), and merges nest: C must cover every centroid the chain can compute, not just the
    rows. Merges at one corner of a tiny box far from 0, with the chain's formula."""
    assert (0.1 * 1 + 0.1 * 2) / 3 > 0.1
    rng = np.random.default_rng(15)
    m, d = 400, 3
    U = 1e6 + 0.1 + rng.choice([0.0, 4e-9], size=(m, d))  # rows on the corners of a tiny box
    w = rng.integers(1, 10**6, size=m).astype(float)
    dtype, centre, (_, kc, _) = scan_precision(U, w)
    assert dtype is np.float32
    C = kc / (4 * 2.0**-24 * np.sqrt(d))  # kc = 4 u C sqrt(d)
    corner = U[0]
    c, cw, farthest = corner.copy(), w[0], 0.0
    for wp in w[1:]:  # fastward's update, merged cluster kept in the second operand
        c = (corner * wp + c * cw) / (wp + cw)
        cw += wp
        farthest = max(farthest, float(np.max(np.abs(c - centre))))
    assert farthest > np.max(np.abs(U - centre))  # the box was left
    assert farthest <= C
