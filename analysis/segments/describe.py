"""Every solution described: user labels, tiers inside each cluster, model entries, profiles."""

from __future__ import annotations

from collections.abc import Iterator, Mapping
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
from analysis.segments.tiers import tier_counts
from analysis.vocabulary import TIERS, solution_key


class SameForAll(Mapping):
    """The same per-user array for every solution key (the tiers: one rule inside every
    cluster of every solution)."""

    def __init__(self, keys: list[tuple[str, int]], values: np.ndarray):
        self._keys, self._values = list(keys), values

    def __getitem__(self, key: tuple[str, int]) -> np.ndarray:
        if key not in self._keys:
            raise KeyError(key)
        return self._values

    def __iter__(self) -> Iterator[tuple[str, int]]:
        return iter(self._keys)

    def __len__(self) -> int:
        return len(self._keys)


class UserArrays(Mapping):
    """Per-solution arrays over users, made on access from arrays over the distinct rows:
    ``self[key] = rows[key][inverse]``. Kept for all solutions at once, the user-length arrays
    would hold 1.7 GB at 6 million users (18 solutions, labels and tiers); a gather costs a
    few milliseconds per million users."""

    def __init__(self, inverse: np.ndarray):
        self._inverse = inverse
        self._rows: dict[tuple[str, int], np.ndarray] = {}

    def put(self, key: tuple[str, int], rows: np.ndarray) -> None:
        """Add solution ``key``'s values on the distinct rows."""
        self._rows[key] = rows

    def __getitem__(self, key: tuple[str, int]) -> np.ndarray:
        return self._rows[key][self._inverse]

    def __iter__(self) -> Iterator[tuple[str, int]]:
        return iter(self._rows)

    def __len__(self) -> int:
        return len(self._rows)


@dataclass(frozen=True)
class Described:
    """Per-solution results: user labels and tiers (arrays over users, made on access), tier
    summaries, model entries and cluster profiles (JSON-ready lists)."""

    user_labels: Mapping[tuple[str, int], np.ndarray]
    tiers: Mapping[tuple[str, int], np.ndarray]
    summaries: list[dict[str, Any]]
    model_solutions: list[dict[str, Any]]
    cluster_profiles: list[dict[str, Any]]


def tiers_by_cluster(labels: np.ndarray, tiers: np.ndarray, k: int) -> list[dict[str, int]]:
    """Users of each tier inside each cluster: k dicts {tier: users} (``labels`` int[n],
    ``tiers`` object[n])."""
    codes = np.array([TIERS.index(t) for t in TIERS])
    tier_index = np.zeros(len(tiers), dtype=np.int64)
    for code, name in zip(codes, TIERS, strict=True):
        tier_index[tiers == name] = code
    table = np.bincount(labels.astype(np.int64) * len(TIERS) + tier_index,
                        minlength=k * len(TIERS)).reshape(k, len(TIERS))
    return [{t: int(table[c, j]) for j, t in enumerate(TIERS)} for c in range(k)]


def describe_solutions(users: pd.DataFrame, distinct: Distinct,
                       solutions: dict[tuple[str, int], Solution], tiers: np.ndarray,
                       weights: np.ndarray, top_n: int) -> Described:
    """Activity scores, sizes, tiers inside each cluster and raw-column profiles of every
    (algorithm, k).

    ``users`` n rows (typed raw table), ``distinct`` the same users' feature rows, ``tiers``
    object[n] every user's tier (the same rule inside every cluster), ``weights`` the activity
    weights float64[f] (they order cluster ids); profiles list the ``top_n`` countries and
    languages.
    """
    user_labels = UserArrays(distinct.inverse)
    out = Described(user_labels, SameForAll(sorted(solutions), tiers), [], [], [])
    sizes = tier_counts(tiers)
    for key in sorted(solutions):
        sol = solutions[key]
        scores = activity_scores(sol.centroids, weights)
        user_labels.put(key, sol.labels)
        labels = user_labels[key]
        inside = tiers_by_cluster(labels, tiers, sol.k)
        out.summaries.append({"algorithm": key[0], "k": key[1],
                              "activity_score": [round(float(s), 9) for s in scores],
                              "tiers_by_cluster": inside, "tier_sizes": sizes})
        out.model_solutions.append({
            "algorithm": key[0], "k": key[1], "centroids": sol.centroids.tolist(),
            "activity_score": [float(s) for s in scores],
            "sizes": cluster_sizes(distinct.counts.astype(float), sol.labels, sol.k)})
        profiles = group_profiles(users, labels, len(users), top_n)
        out.cluster_profiles.extend({
            "algorithm": key[0], "k": key[1], "cluster": c,
            "main_tier": max(TIERS, key=lambda t, c=c: (inside[c][t], -TIERS.index(t))),
            "tier_sizes": inside[c],
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
