"""The choice rule can prefer a larger k when the data has it: five clear groups give k = 5
(metrics, bootstrap and the rule run end to end on synthetic rows made here)."""

import numpy as np

from analysis.clustering.distinct import Distinct
from analysis.clustering.kmeans import kmeans_over_k
from analysis.config import load_config
from analysis.evaluation.choice import choose
from analysis.evaluation.metrics import evaluate_solutions
from analysis.evaluation.stability import bootstrap_stability

CONFIG = load_config()


def _blobs(groups: int, seed: int = 4) -> np.ndarray:
    """``groups`` tight, well-separated groups of 60 points in [0, 1]^3, rounded so that rows
    repeat (the pipeline clusters distinct rows with their counts)."""
    rng = np.random.default_rng(seed)
    centres = rng.permutation(np.array([[a, b, c] for a in (0.1, 0.9) for b in (0.1, 0.9)
                                        for c in (0.1, 0.9)]))[:groups]
    points = np.repeat(centres, 60, axis=0) + rng.normal(0, 0.03, size=(groups * 60, 3))
    return np.round(points, 2)


def _choice_on(points: np.ndarray) -> dict:
    distinct = Distinct.of(points)
    kcfg = CONFIG.kmeans.model_copy(update={"k_min": 2, "k_max": 7})
    solutions = {("kmeans", k): s for k, s in kmeans_over_k(distinct, kcfg, np.ones(3)).items()}
    metrics = evaluate_solutions(distinct, solutions, CONFIG.selection.min_cluster_share)
    stab_cfg = CONFIG.stability.model_copy(update={"resamples": 6, "n_jobs": 1})
    boot = {(r["algorithm"], r["k"]): r for r in
            bootstrap_stability(distinct, solutions, kcfg, stab_cfg).rows}
    rows = [{**m, "stability_min": boot[(m["algorithm"], m["k"])]["min"],
             "tier_shares": {"inactive": 0.5, "moderate": 0.3, "active": 0.2}} for m in metrics]
    return choose(rows, CONFIG.selection, {}, {})


def test_five_clear_groups_give_k_5():
    chosen = _choice_on(_blobs(5))
    assert chosen["k"] == 5, chosen["reason"]


def test_three_clear_groups_give_k_3():
    assert _choice_on(_blobs(3))["k"] == 3
