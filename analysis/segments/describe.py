"""Every solution described: user labels, tiers, tier summaries, model entries, profiles."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import numpy as np
import pandas as pd

from analysis.clustering.distinct import Distinct
from analysis.clustering.solution import Solution
from analysis.evaluation.metrics import cluster_sizes
from analysis.features.activity import activity_scores
from analysis.intake.schema import ID_COLUMN
from analysis.segments.profiles import group_profiles
from analysis.segments.tiers import tier_counts, tiers_from_scores
from analysis.vocabulary import TIERS, solution_key


@dataclass(frozen=True)
class Described:
    """Per-solution results: user labels and tiers (arrays over users), tier summaries,
    model entries and cluster profiles (JSON-ready lists)."""

    user_labels: dict[tuple[str, int], np.ndarray]
    tiers: dict[tuple[str, int], np.ndarray]
    summaries: list[dict[str, Any]]
    model_solutions: list[dict[str, Any]]
    cluster_profiles: list[dict[str, Any]]


def describe_solutions(users: pd.DataFrame, distinct: Distinct,
                       solutions: dict[tuple[str, int], Solution], weights: np.ndarray,
                       top_n: int) -> Described:
    """Activity scores, tier map, sizes and raw-column profiles of every (algorithm, k).

    ``users`` n rows (typed raw table), ``distinct`` the same users' feature rows, ``weights``
    the activity weights float64[f]; profiles list the ``top_n`` countries and languages.
    """
    out = Described({}, {}, [], [], [])
    for key in sorted(solutions):
        sol = solutions[key]
        labels = sol.labels[distinct.inverse]
        scores = activity_scores(sol.centroids, weights)
        tier_map = tiers_from_scores(scores)
        out.user_labels[key] = labels
        out.tiers[key] = np.asarray(tier_map, dtype=object)[labels]
        out.summaries.append({"algorithm": key[0], "k": key[1],
                              "activity_score": [round(float(s), 9) for s in scores],
                              "tier_of_cluster": tier_map,
                              "tier_sizes": tier_counts(out.tiers[key])})
        out.model_solutions.append({
            "algorithm": key[0], "k": key[1], "centroids": sol.centroids.tolist(),
            "tier_of_cluster": tier_map, "activity_score": [float(s) for s in scores],
            "sizes": cluster_sizes(distinct.counts.astype(float), sol.labels, sol.k)})
        profiles = group_profiles(users, labels, len(users), top_n)
        out.cluster_profiles.extend({
            "algorithm": key[0], "k": key[1], "cluster": c, "tier": tier_map[c],
            "activity_score": round(float(scores[c]), 9),
            "centroid_scaled": [round(float(v), 9) for v in sol.centroids[c]],
            **profiles[c]} for c in range(sol.k))
    return out


def labels_table(users: pd.DataFrame, described: Described, baseline: np.ndarray,
                 best: tuple[str, int]) -> pd.DataFrame:
    """Per-user labels: identifierHash, a column per (algorithm, k), tier, baseline_tier."""
    frame = pd.DataFrame({ID_COLUMN: users[ID_COLUMN].to_numpy(np.int64)})
    for key, labels in sorted(described.user_labels.items()):
        frame[solution_key(*key)] = labels.astype(np.uint8)
    frame["tier"] = pd.Categorical(described.tiers[best], categories=list(TIERS))
    frame["baseline_tier"] = pd.Categorical(baseline, categories=list(TIERS))
    return frame
