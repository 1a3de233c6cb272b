"""How stable each segment is under the same bootstrap resamples as the clusters.

A user's segment follows from its type (role x recency band) and the tier rule
(:mod:`analysis.segments.types`); neither depends on the clusters, so what a resample can move
is the recent cut, re-estimated on the resampled users. Every (days, role) pair falls in a type and,
through the full fit's segment map, in a segment. A segment's score is its mean Jaccard with
the same-named segment over the resamples, on the users present in each resample
(clusterboot's convention). Segments are matched by name: no best-match search is needed.
"""

from __future__ import annotations

import numpy as np

from analysis.clustering.distinct import Distinct
from analysis.evaluation.stability import Bootstrap, resample_weights
from analysis.segments.types import TIER_OF_TYPE, TYPE_IDS, recent_cut_days, type_codes


def _type_segments(mapping: dict[str, dict[str, str]], names: list[str]) -> np.ndarray:
    """Segment index per type, int64[len(TYPE_IDS)] (-1: no such segment)."""
    lookup = np.full(len(TYPE_IDS), -1, dtype=np.int64)
    for j, type_id in enumerate(TYPE_IDS):
        name = mapping.get(TIER_OF_TYPE[type_id], {}).get(type_id)
        if name is not None:
            lookup[j] = names.index(name)
    return lookup


def segment_stability(days: np.ndarray, roles: np.ndarray, boot: Bootstrap,
                      censor_days: int | None, mapping: dict[str, dict[str, str]]
                      ) -> dict[str, float]:
    """Mean bootstrap Jaccard of every segment of the full fit's segment map ``mapping``.

    ``days`` int64[n] every user's censored days since login, ``roles`` int64[n] its role code.
    Users collapse to distinct (days, role) pairs; each resample draws ``boot.size`` users with
    replacement with ``boot``'s seeds (the same seeds as the clusters' resamples, drawn over
    these pairs instead of the feature rows, since recency is not a feature).
    """
    pairs = Distinct.of(np.column_stack([days, roles]).astype(np.float64))
    row_days = pairs.rows[:, 0].astype(np.int64)
    row_roles = pairs.rows[:, 1].astype(np.int64)
    names = sorted({name for by_type in mapping.values() for name in by_type.values()})
    lookup = _type_segments(mapping, names)
    counts = pairs.counts.astype(np.float64)
    cut = recent_cut_days(row_days, censor_days, counts)
    original = lookup[type_codes(row_roles, row_days, censor_days, cut)]
    totals = np.zeros(len(names))
    for seed in boot.seeds:
        boot_w = resample_weights(pairs, seed, boot.size)
        cut = recent_cut_days(row_days, censor_days, boot_w.astype(np.float64))
        again = lookup[type_codes(row_roles, row_days, censor_days, cut)]
        present = boot_w > 0
        o, b, w = original[present], again[present], counts[present]
        same = (o == b) & (o >= 0)
        inter = np.bincount(o[same], weights=w[same], minlength=len(names))
        size_o = np.bincount(o[o >= 0], weights=w[o >= 0], minlength=len(names))
        size_b = np.bincount(b[b >= 0], weights=w[b >= 0], minlength=len(names))
        union = size_o + size_b - inter
        totals += np.where(union > 0, inter / np.maximum(union, 1e-300), 0.0)
    return {name: float(totals[i] / len(boot.seeds)) for i, name in enumerate(names)}
