"""Weighted metrics on distinct rows equal scikit-learn's on the expanded rows; the choice rule."""

import numpy as np
import pytest
from sklearn.cluster import KMeans
from sklearn.metrics import calinski_harabasz_score, davies_bouldin_score

from analysis.clustering.distinct import Distinct
from analysis.clustering.solution import Solution, weighted_centroids
from analysis.config import load_config
from analysis.evaluation.choice import choose
from analysis.evaluation.metrics import (
    calinski_harabasz,
    davies_bouldin,
    find_knee,
    internal_metrics,
)
from analysis.evaluation.stability import jaccard_best_match


@pytest.fixture
def duplicated():
    rng = np.random.default_rng(3)
    base = rng.normal(size=(40, 3))
    reps = rng.integers(1, 6, size=40)
    X = np.repeat(base, reps, axis=0)
    d = Distinct.of(X)
    labels = (d.rows[:, 0] > 0).astype(np.int64) + (d.rows[:, 1] > 0.5)
    return X, d, labels


def test_weighted_metrics_equal_sklearn_on_expanded_rows(duplicated):
    X, d, labels = duplicated
    full = labels[d.inverse]
    cent = weighted_centroids(d.rows, d.counts.astype(float), labels, 3)
    w = d.counts.astype(float)
    assert calinski_harabasz(d.rows, w, labels, cent) == pytest.approx(
        calinski_harabasz_score(X, full), rel=1e-10)
    assert davies_bouldin(d.rows, w, labels, cent) == pytest.approx(
        davies_bouldin_score(X, full), rel=1e-10)


def test_degenerate_solution_flagged(duplicated):
    _, d, labels = duplicated
    cent = weighted_centroids(d.rows, d.counts.astype(float), labels, 3)
    row = internal_metrics(d, Solution("kmeans", 3, labels, cent), 0.5, [0.5] * 3, 0.5)
    assert row["degenerate"] and "smallest cluster" in row["degenerate_reason"]
    assert sum(row["sizes"]) == len(d.inverse)


SEL = load_config().selection
STABLE, UNSTABLE = SEL.min_stability + 0.1, SEL.min_stability - 0.1
FAIR = {"inactive": 0.8, "moderate": 0.15, "active": 0.05}


def _row(algo, k, sil, *, stab=STABLE, share=0.05, ch=1000.0, db=1.0, per_cluster=None,
         tiers=None):
    return {"algorithm": algo, "k": k, "silhouette": sil, "calinski_harabasz": ch,
            "davies_bouldin": db, "stability_min": stab, "min_share": share,
            "silhouette_per_cluster": per_cluster or [sil] * k, "tier_shares": tiers or FAIR,
            "inertia": 1.0}


def test_choice_skips_small_k_degenerate_unstable_and_tiny_tiers_and_says_why():
    rows = [_row("kmeans", 2, 0.9), _row("kmeans", 3, 0.6, db=1.5),
            _row("kmeans", 4, 0.8, share=SEL.min_cluster_share / 2),
            _row("ward", 3, 0.7, stab=UNSTABLE),
            _row("kmeans", 6, 0.85, tiers={**FAIR, "active": SEL.min_tier_share / 2}),
            _row("ward", 5, 0.65, db=1.2)]
    chosen = choose(rows, SEL, {"kmeans": 6, "ward": 3}, {})
    assert (chosen["algorithm"], chosen["k"]) == ("ward", 5)
    assert chosen["eligible"] == 2 and not chosen["relaxed"]
    why = chosen["verdicts"]
    assert "fewer personas than the configured minimum" in why["kmeans_k2"][0]
    assert "smallest cluster" in why["kmeans_k4"][0]
    assert "Jaccard" in why["ward_k3"][0]
    assert "tier active" in why["kmeans_k6"][0]
    assert chosen["knee"].startswith("The elbow's knee is at k = 3; it is not taken because "
                                     "its least stable cluster")
    assert "highest silhouette of all (0.90)" in chosen["others"]["small_k"]


def test_rank_sum_beats_silhouette_alone():
    """A better silhouette does not win when the other criteria all prefer another k."""
    rows = [_row("kmeans", 3, 0.60, ch=900, db=1.0, stab=0.95),
            _row("kmeans", 4, 0.61, ch=500, db=2.0, stab=0.80)]
    chosen = choose(rows, SEL, {}, {})
    assert chosen["k"] == 3 and chosen["ranks"]["kmeans_k3"]["sum"] < \
        chosen["ranks"]["kmeans_k4"]["sum"]


def test_negative_silhouette_clusters_are_flagged_not_hidden():
    rows = [_row("kmeans", 3, 0.7, per_cluster=[0.8, 0.4, -0.02])]
    assert choose(rows, SEL, {}, {})["flags"] == [{"cluster": 2, "silhouette": -0.02}]


def test_choice_relaxes_stability_first_and_says_so():
    chosen = choose([_row("kmeans", 3, 0.6, stab=0.1), _row("ward", 3, 0.5, stab=0.2)], SEL,
                    {}, {})
    assert chosen["relaxed"] == "stability" and chosen["k"] == 3
    assert "was relaxed" in chosen["reason"]


def test_gap_statistic_finds_well_separated_groups_and_no_k_in_a_uniform_cloud():
    from analysis.evaluation.gap import gap_statistic
    from analysis.evaluation.metrics import within_sse

    rng = np.random.default_rng(0)
    blobs = np.vstack([rng.normal(c, 0.02, size=(300, 2)) for c in ((0, 0), (1, 1), (0, 1))])
    uniform = rng.random((900, 2))
    cfg = load_config().gap
    found = {}
    for name, X in (("blobs", blobs), ("uniform", uniform)):
        d = Distinct.of(X)
        inertia = {}
        for k in range(1, 7):
            labels = KMeans(n_clusters=k, n_init=4, random_state=0).fit_predict(d.rows)
            cent = weighted_centroids(d.rows, d.counts.astype(float), labels, k)
            inertia[k] = float(within_sse(d.rows, d.counts.astype(float), labels, cent).sum())
        found[name] = gap_statistic(d, inertia, cfg)["k_hat"]
    assert found["blobs"] == 3
    assert found["uniform"] in (None, 1)


def test_knee_of_elbow_curve():
    assert find_knee(list(range(2, 11)), [100, 40, 20, 15, 12, 10, 9, 8, 7.5]) in (3, 4)


def test_jaccard_identical_partition_is_one():
    labels = np.array([0, 0, 1, 1, 2])
    jac = jaccard_best_match(labels, (labels + 1) % 3, np.ones(5, bool), np.ones(5), 3, 3)
    assert np.allclose(jac, 1.0)


def test_large_data_is_resampled_a_bounded_number_of_users_at_a_time():
    from analysis.evaluation.stability import bootstrap_stability, resample_size, resample_weights

    rng = np.random.default_rng(3)
    X = np.repeat(rng.normal(size=(40, 2)), rng.integers(50, 150, 40), axis=0)
    distinct = Distinct.of(X)
    cfg = load_config().stability.model_copy(update={"resamples": 3, "n_jobs": 1,
                                                     "max_resample_users": 1_000})
    assert resample_size(distinct.n_users, cfg) == 1_000 < distinct.n_users
    assert resample_size(900, cfg) == 900  # small data: every user, as before
    seed = np.random.SeedSequence(0)
    assert resample_weights(distinct, seed, 1_000).sum() == 1_000
    assert resample_weights(distinct, seed, distinct.n_users).sum() == distinct.n_users
    km = load_config().kmeans
    labels = KMeans(3, n_init=1, random_state=0).fit_predict(distinct.rows)
    solution = Solution("kmeans", 3, labels,
                        weighted_centroids(distinct.rows, distinct.counts, labels, 3))
    boot = bootstrap_stability(distinct, {("kmeans", 3): solution}, km, cfg)
    assert boot.size == 1_000 and boot.n_users == distinct.n_users
    assert 0.0 <= boot.rows[0]["min"] <= boot.rows[0]["mean"] <= 1.0
