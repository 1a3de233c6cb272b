"""From clusters to activity tiers: natural breaks of the clusters' activity scores.

Tier rule (documented on the site): the activity score of a cluster is the weighted mean of its
centroid's scaled features (config ``[tiers].weights``; every feature is in [0, 1] and oriented
so that higher = more active). Clusters sorted by score are cut into inactive / moderate / active
by natural breaks (Jenks: least within-tier squared deviation of scores).
"""

from __future__ import annotations

import itertools

import numpy as np

from analysis.vocabulary import TIERS

TIER_RULE = (
    "Each cluster's activity score is the weighted mean of its centroid's scaled features "
    "(all in [0, 1], higher = more active; recency counts as 1 - scaled days since last login). "
    "Clusters sorted by score are split into inactive / moderate / active by natural breaks "
    "(the split that keeps each tier's scores closest to the tier's mean score), so the tiers "
    "follow the data's own breaks, never cluster numbers. With k = 2 there are only two tiers, "
    "inactive and active."
)

def tiers_from_scores(scores: np.ndarray) -> list[str]:
    """Tier per cluster by natural breaks of the activity scores (Jenks, exact for k <= 10).

    The sorted scores are cut into three contiguous groups (two when k = 2) so that the sum of
    squared deviations from each group's mean score is smallest; ties go to the earliest cuts.
    """
    k = len(scores)
    if k == 1:
        return ["moderate"]
    order = np.argsort(scores, kind="stable")
    ranked = np.asarray(scores, dtype=np.float64)[order]
    names = ["inactive", "active"] if k == 2 else list(TIERS)
    best_cuts, best_ss = None, np.inf
    for cuts in itertools.combinations(range(1, k), len(names) - 1):
        bounds = [0, *cuts, k]
        ss = sum(((g - g.mean()) ** 2).sum()
                 for g in (ranked[a:b] for a, b in itertools.pairwise(bounds)))
        if ss < best_ss - 1e-15:
            best_cuts, best_ss = bounds, ss
    tiers = np.empty(k, dtype=object)
    for name, (a, b) in zip(names, itertools.pairwise(best_cuts), strict=True):
        tiers[order[a:b]] = name
    return [str(t) for t in tiers]


def tier_counts(tiers: np.ndarray) -> dict[str, int]:
    """Users per tier, every tier present (0 when empty)."""
    values, counts = np.unique(np.asarray(tiers, dtype=str), return_counts=True)
    found = dict(zip(values.tolist(), counts.tolist(), strict=True))
    return {t: int(found.get(t, 0)) for t in TIERS}
