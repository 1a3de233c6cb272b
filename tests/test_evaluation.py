"""Weighted metrics on distinct rows equal scikit-learn's on the expanded rows; the choice rule."""

import numpy as np
import pytest
from sklearn.metrics import calinski_harabasz_score, davies_bouldin_score

from analysis.clustering.distinct import Distinct
from analysis.clustering.solution import Solution, weighted_centroids
from analysis.config import SelectionConfig
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


def _row(algo, k, sil, degenerate=False, stab=0.9):
    return {"algorithm": algo, "k": k, "silhouette": sil, "degenerate": degenerate,
            "stability_min": stab, "min_share": 0.05}


SEL = SelectionConfig(k_min_choice=3, min_cluster_share=0.005, min_stability=0.75)


def test_choice_skips_degenerate_unstable_and_small_k():
    rows = [_row("kmeans", 2, 0.9), _row("kmeans", 3, 0.6), _row("kmeans", 4, 0.8, True),
            _row("ward", 3, 0.7, stab=0.3), _row("ward", 5, 0.65)]
    chosen = choose(rows, SEL)
    assert (chosen["algorithm"], chosen["k"]) == ("ward", 5)
    assert "silhouette" in chosen["reason"] and not chosen["relaxed"]


def test_choice_relaxes_stability_when_nothing_is_stable():
    chosen = choose([_row("kmeans", 3, 0.6, stab=0.1), _row("ward", 3, 0.5, stab=0.2)], SEL)
    assert chosen["relaxed"] and chosen["k"] == 3


def test_knee_of_elbow_curve():
    assert find_knee(list(range(2, 11)), [100, 40, 20, 15, 12, 10, 9, 8, 7.5]) in (3, 4)


def test_jaccard_identical_partition_is_one():
    labels = np.array([0, 0, 1, 1, 2])
    jac = jaccard_best_match(labels, (labels + 1) % 3, np.ones(5, bool), np.ones(5), 3, 3)
    assert np.allclose(jac, 1.0)
